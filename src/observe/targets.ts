/**
 * Scan targets: IPv4/IPv6 addresses, CIDR ranges, a-b ranges, hostnames. Expanded lazily and in a fixed order
 * (input order, then ascending address), so a resumed scan walks the same sequence. Exclusions (addresses,
 * CIDRs, ranges) are never yielded. Parsing is pure; name resolution happens in the scanner.
 */
import { isIP } from "node:net";

export interface TargetSpec {
  /** The line as given, for messages. */
  text: string;
  kind: "range" | "hostname";
  /** For ranges: inclusive bounds as bigint, and the family. */
  family?: 4 | 6;
  first?: bigint;
  last?: bigint;
  hostname?: string;
  /** A single address or hostname given with its port (`192.0.2.1:8443`, `[2001:db8::1]:443`, `mail.example.org:443`,
   * as discovery tools report open ports): probed on that port only, not on the scan's `--ports`. */
  port?: number;
}

export interface Target {
  ip: string;
  hostname: string | null;
}

export class TargetError extends Error {
  override readonly name = "TargetError";
}

/** Largest range one line may expand to (a /8 for IPv4; IPv6 ranges wider than /104 are refused). */
export const MAX_RANGE_SIZE = 1n << 24n;

export function ipToBigInt(ip: string): { value: bigint; family: 4 | 6 } | undefined {
  const family = isIP(ip);
  if (family === 4) {
    const p = ip.split(".").map(Number);
    return { value: BigInt(((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!), family: 4 };
  }
  if (family === 6) {
    let addr = ip.toLowerCase();
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
    if (v4) {
      const n = ipToBigInt(v4[1]!)!.value;
      addr = addr.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = addr.split("::") as [string, string | undefined];
    const h = head ? head.split(":") : [];
    const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
    const groups = tail !== undefined ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
    let value = 0n;
    for (const g of groups) value = (value << 16n) + BigInt(parseInt(g || "0", 16));
    return { value, family: 6 };
  }
  return undefined;
}

export function bigIntToIp(value: bigint, family: 4 | 6): string {
  if (family === 4) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/i;

/** Parse one target line (no comments, trimmed). Throws TargetError naming the problem. */
export function parseTarget(text: string): TargetSpec {
  const s = text.trim();
  const withPort = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(s);
  if (withPort) {
    const port = Number(withPort[2]);
    if (port < 1 || port > 65535) throw new TargetError(`"${s}": port ${port} is not from 1 to 65535`);
    const base = parseTarget(withPort[1]!);
    if (base.kind === "range" && base.first !== base.last) throw new TargetError(`"${s}": a port goes with one address or hostname, not a range`);
    return { ...base, text: s, port };
  }
  const ip = ipToBigInt(s);
  if (ip) return { text: s, kind: "range", family: ip.family, first: ip.value, last: ip.value };
  const slash = s.indexOf("/");
  if (slash > 0 && isIP(s.slice(0, slash)) !== 0) {
    const base = ipToBigInt(s.slice(0, slash));
    const bitsText = s.slice(slash + 1);
    if (!base || !/^\d{1,3}$/.test(bitsText)) throw new TargetError(`"${s}" is not a valid CIDR range`);
    const width = base.family === 4 ? 32 : 128;
    const bits = Number(bitsText);
    if (bits > width) throw new TargetError(`"${s}": prefix length ${bits} is longer than ${width}`);
    const size = 1n << BigInt(width - bits);
    if (size > MAX_RANGE_SIZE) throw new TargetError(`"${s}" expands to ${size} addresses; split it (at most ${MAX_RANGE_SIZE} per line)`);
    const first = (base.value / size) * size;
    return { text: s, kind: "range", family: base.family, first, last: first + size - 1n };
  }
  const dash = s.indexOf("-");
  if (dash > 0 && (isIP(s.slice(0, dash)) !== 0)) {
    const from = ipToBigInt(s.slice(0, dash))!;
    const rest = s.slice(dash + 1);
    let to = ipToBigInt(rest);
    // Short form for IPv4: 10.0.0.1-20 means 10.0.0.1 to 10.0.0.20.
    if (!to && from.family === 4 && /^\d{1,3}$/.test(rest) && Number(rest) <= 255) {
      to = { value: (from.value & ~255n) + BigInt(rest), family: 4 };
    }
    if (!to || to.family !== from.family) throw new TargetError(`"${s}" is not a valid address range`);
    if (to.value < from.value) throw new TargetError(`"${s}": the range ends before it starts`);
    if (to.value - from.value + 1n > MAX_RANGE_SIZE) throw new TargetError(`"${s}" is more than ${MAX_RANGE_SIZE} addresses; split it`);
    return { text: s, kind: "range", family: from.family, first: from.value, last: to.value };
  }
  if (HOSTNAME.test(s) && !/^[\d.]+$/.test(s)) return { text: s, kind: "hostname", hostname: s.replace(/\.$/, "").toLowerCase() };
  throw new TargetError(`"${s.slice(0, 80)}" is not an address, CIDR range, a-b range or hostname`);
}

/** Strip comments and blanks from target-file lines. */
export function targetLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "");
}

/** A set of excluded ranges; membership is a linear scan over (usually few) ranges. */
export class Exclusions {
  private readonly ranges: Array<{ family: 4 | 6; first: bigint; last: bigint }> = [];
  readonly hostnames = new Set<string>();

  add(spec: TargetSpec): void {
    if (spec.kind === "hostname") this.hostnames.add(spec.hostname!);
    else this.ranges.push({ family: spec.family!, first: spec.first!, last: spec.last! });
  }

  hasIp(ip: string): boolean {
    const v = ipToBigInt(ip);
    return v !== undefined && this.has(v.value, v.family);
  }

  has(value: bigint, family: 4 | 6): boolean {
    for (const r of this.ranges) if (r.family === family && value >= r.first && value <= r.last) return true;
    return false;
  }

  get size(): number {
    return this.ranges.length + this.hostnames.size;
  }
}

/** Expand address specs in order; hostnames are yielded for the caller to resolve. */
export function* expandTargets(specs: readonly TargetSpec[], exclusions: Exclusions): Generator<{ ip?: string; hostname?: string; spec: TargetSpec }> {
  for (const spec of specs) {
    if (spec.kind === "hostname") {
      if (!exclusions.hostnames.has(spec.hostname!)) yield { hostname: spec.hostname!, spec };
      continue;
    }
    for (let v = spec.first!; v <= spec.last!; v++) {
      if (!exclusions.has(v, spec.family!)) yield { ip: bigIntToIp(v, spec.family!), spec };
    }
  }
}

/** Count the addresses specs expand to (hostnames count 1), for progress and ETA. */
export function countTargets(specs: readonly TargetSpec[]): bigint {
  let n = 0n;
  for (const s of specs) n += s.kind === "hostname" ? 1n : s.last! - s.first! + 1n;
  return n;
}

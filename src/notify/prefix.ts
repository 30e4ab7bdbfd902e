/**
 * Address prefixes for contact scopes: parse a CIDR or a single address (IPv4 or IPv6), and turn an address
 * range "a - b" (RPSL inetnum) into the smallest list of prefixes covering exactly that range.
 */
import { ipv4ToNumber, ipv6ToBigInt } from "../enrich/util.js";
import { bigIntToIp } from "../observe/targets.js";

export interface Prefix {
  family: 4 | 6;
  /** The network address as a number (host bits zero). */
  network: bigint;
  length: number;
}

export function parseAddress(text: string): { family: 4 | 6; value: bigint } | undefined {
  const t = text.trim();
  const v4 = ipv4ToNumber(t);
  if (v4 !== undefined) return { family: 4, value: BigInt(v4) };
  const v6 = ipv6ToBigInt(t);
  return v6 !== undefined ? { family: 6, value: v6 } : undefined;
}

const bits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** "192.0.2.0/24", "2001:db8::/32" or one address (a /32 or /128). Error message when it is not one. */
export function parsePrefix(text: string): Prefix | string {
  const t = text.trim();
  const slash = t.indexOf("/");
  const addr = parseAddress(slash < 0 ? t : t.slice(0, slash));
  if (!addr) return `not an address or CIDR prefix: ${JSON.stringify(t.slice(0, 80))}`;
  const width = bits(addr.family);
  let length = width;
  if (slash >= 0) {
    const l = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l) || Number(l) > width) return `bad prefix length in ${JSON.stringify(t.slice(0, 80))}`;
    length = Number(l);
  }
  const hostMask = (1n << BigInt(width - length)) - 1n;
  if ((addr.value & hostMask) !== 0n) {
    return `${JSON.stringify(t.slice(0, 80))} has host bits set (the network is ${formatAddress(addr.family, addr.value & ~hostMask)}/${length})`;
  }
  return { family: addr.family, network: addr.value, length };
}

/** An address in its usual text form (IPv6 compressed as RFC 5952 says). */
export const formatAddress = (family: 4 | 6, value: bigint): string => bigIntToIp(value, family);

export const formatPrefix = (p: Prefix): string => `${formatAddress(p.family, p.network)}/${p.length}`;

/** The prefixes covering exactly [start, end]; at most 2 × width of them. */
export function rangeToPrefixes(family: 4 | 6, start: bigint, end: bigint): Prefix[] {
  const width = bits(family);
  const out: Prefix[] = [];
  let cur = start;
  while (cur <= end) {
    let size = width;
    // Grow the block while it stays aligned and inside the range.
    while (size > 0) {
      const block = 1n << BigInt(width - size + 1);
      if ((cur & (block - 1n)) !== 0n || cur + block - 1n > end) break;
      size--;
    }
    out.push({ family, network: cur, length: size });
    cur += 1n << BigInt(width - size);
  }
  return out;
}

/** Does the prefix hold the address? */
export function prefixContains(p: Prefix, family: 4 | 6, value: bigint): boolean {
  if (p.family !== family) return false;
  const shift = BigInt(bits(family) - p.length);
  return value >> shift === p.network >> shift;
}

/** Small value checks shared by the enrichment readers. */
import { isIP } from "node:net";

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Normalise a country code to ISO 3166 alpha-2 upper case; null for anything else. */
export function isoCountry(v: unknown): string | null {
  return typeof v === "string" && /^[A-Za-z]{2}$/.test(v) ? v.toUpperCase() : null;
}

/** "AS3215", "3215", 3215 -> 3215. */
export function asnNumber(v: unknown): number | null {
  if (typeof v === "number") return Number.isInteger(v) && v > 0 && v < 2 ** 32 ? v : null;
  if (typeof v === "string") {
    const m = /^(?:AS)?(\d{1,10})$/i.exec(v.trim());
    if (m) return asnNumber(Number(m[1]));
  }
  return null;
}

/** IPv4 text -> unsigned 32-bit number; undefined when not IPv4. */
export function ipv4ToNumber(ip: string): number | undefined {
  const p = ip.split(".");
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x)) return undefined;
    const v = Number(x);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function numberToIpv4(n: number): string {
  return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/** IPv6 text -> 128-bit bigint; undefined when not IPv6. */
export function ipv6ToBigInt(ip: string): bigint | undefined {
  if (isIP(ip) !== 6) return undefined;
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipv4ToNumber(v4[1]!)!;
    s = s.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8) return undefined;
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

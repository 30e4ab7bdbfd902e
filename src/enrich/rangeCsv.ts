/**
 * CSV range tables, loaded whole into typed arrays (ip-location-db ships its ASN table this way: 400,000 IPv4
 * ranges take ~5 MB) and searched by bisection. Accepted layouts:
 *  - no header: start,end,value[,value2] with IPs as text or as integers (ip-location-db, DB-IP lite CSV)
 *  - a header naming the columns: network (CIDR) or start_ip/end_ip (also range_start/range_end, first/last),
 *    and asn/autonomous_system_number + org/name/as_name/autonomous_system_organization (GeoLite2-ASN-Blocks,
 *    IPinfo), or country/country_code/cc (IPinfo country).
 * GeoLite2's Country CSV (geoname ids in a second file) is not read: use its MMDB.
 */
import { readFileSync } from "node:fs";
import { parseCsvLine } from "../util/csv.js";
import type { AsnSource, CountrySource } from "./geo.js";
import { asnNumber, ipv4ToNumber, ipv6ToBigInt, isoCountry } from "./util.js";

export type RangeKind = "asn" | "country";

interface Layout {
  start: number;
  end: number;
  /** -1 when ranges are CIDR in `start` */
  cidr: boolean;
  value: number;
  org: number;
}

const START = ["start_ip", "range_start", "ip_start", "start", "first", "first_ip"];
const END = ["end_ip", "range_end", "ip_end", "end", "last", "last_ip"];
const NET = ["network", "cidr", "prefix", "range"];
const ASN = ["asn", "autonomous_system_number", "as_number"];
const ORG = ["org", "name", "as_name", "autonomous_system_organization", "as_org", "organization"];
const COUNTRY = ["country", "country_code", "cc", "country_iso_code"];

function layoutOf(fields: string[], kind: RangeKind): { layout: Layout; header: boolean } {
  const first = fields[0]?.trim() ?? "";
  if (ipv4ToNumber(first) !== undefined || ipv6ToBigInt(first) !== undefined || /^\d+$/.test(first) || /\//.test(first)) {
    const cidr = first.includes("/");
    return { header: false, layout: cidr ? { start: 0, end: 0, cidr, value: 1, org: 2 } : { start: 0, end: 1, cidr, value: 2, org: 3 } };
  }
  const names = fields.map((f) => f.trim().toLowerCase());
  const find = (cands: string[]) => names.findIndex((n) => cands.includes(n));
  const net = find(NET);
  const start = find(START);
  const end = find(END);
  const value = find(kind === "asn" ? ASN : COUNTRY);
  if (value < 0 || (net < 0 && (start < 0 || end < 0))) {
    throw new Error(
      `CSV header "${fields.join(",").slice(0, 120)}" names no ${kind === "asn" ? "asn" : "country"} column and network or start/end columns`,
    );
  }
  return { header: true, layout: net >= 0 ? { start: net, end: net, cidr: true, value, org: find(ORG) } : { start, end, cidr: false, value, org: find(ORG) } };
}

type Bound = { v4: true; n: number } | { v4: false; n: bigint };

function parseAddr(s: string): Bound | undefined {
  const t = s.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return n <= 0xffffffff ? { v4: true, n } : { v4: false, n: BigInt(t) };
  }
  const v4 = ipv4ToNumber(t);
  if (v4 !== undefined) return { v4: true, n: v4 };
  const v6 = ipv6ToBigInt(t);
  return v6 !== undefined ? { v4: false, n: v6 } : undefined;
}

function parseCidr(s: string): [Bound, Bound] | undefined {
  const [addr, lenText] = s.trim().split("/");
  const base = parseAddr(addr ?? "");
  const len = Number(lenText);
  if (!base || !Number.isInteger(len)) return undefined;
  if (base.v4) {
    if (len < 0 || len > 32) return undefined;
    const size = 2 ** (32 - len);
    const start = Math.floor(base.n / size) * size;
    return [{ v4: true, n: start }, { v4: true, n: start + size - 1 }];
  }
  if (len < 0 || len > 128) return undefined;
  const size = 1n << BigInt(128 - len);
  const start = (base.n / size) * size;
  return [{ v4: false, n: start }, { v4: false, n: start + size - 1n }];
}

/** A loaded table: values are ASNs (with an org string index) or country codes (as a string index). */
export class RangeTable {
  private v4s: number[] = [];
  private v4e: number[] = [];
  private v4v: number[] = [];
  private v4o: number[] = [];
  private v6s: bigint[] = [];
  private v6e: bigint[] = [];
  private v6v: number[] = [];
  private v6o: number[] = [];
  private s4 = new Uint32Array(0);
  private e4 = new Uint32Array(0);
  private val4 = new Uint32Array(0);
  private org4 = new Int32Array(0);
  readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();
  rows = 0;

  constructor(readonly kind: RangeKind) {}

  private intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  add(start: Bound, end: Bound, value: number, org: number): void {
    if (start.v4 && end.v4) {
      this.v4s.push(start.n);
      this.v4e.push(end.n);
      this.v4v.push(value);
      this.v4o.push(org);
    } else if (!start.v4 && !end.v4) {
      this.v6s.push(start.n);
      this.v6e.push(end.n);
      this.v6v.push(value);
      this.v6o.push(org);
    } else {
      throw new Error("range mixes IPv4 and IPv6");
    }
    this.rows++;
  }

  /** Sort (if needed) and freeze into typed arrays. */
  finish(): this {
    const sortBy = <T extends number | bigint>(s: T[], arrays: Array<Array<number | bigint>>): void => {
      let sorted = true;
      for (let i = 1; i < s.length && sorted; i++) if (s[i]! < s[i - 1]!) sorted = false;
      if (sorted) return;
      const idx = s.map((_, i) => i).sort((a, b) => (s[a]! < s[b]! ? -1 : s[a]! > s[b]! ? 1 : 0));
      for (const arr of [s as Array<number | bigint>, ...arrays]) {
        const copy = idx.map((i) => arr[i]!);
        for (let i = 0; i < copy.length; i++) arr[i] = copy[i]!;
      }
    };
    sortBy(this.v4s, [this.v4e, this.v4v, this.v4o]);
    sortBy(this.v6s, [this.v6e, this.v6v, this.v6o]);
    this.s4 = Uint32Array.from(this.v4s);
    this.e4 = Uint32Array.from(this.v4e);
    this.val4 = Uint32Array.from(this.v4v);
    this.org4 = Int32Array.from(this.v4o);
    this.v4s = [];
    this.v4e = [];
    this.v4v = [];
    this.v4o = [];
    return this;
  }

  /** Index of the range holding the address, or -1. */
  private find4(n: number): number {
    let lo = 0;
    let hi = this.s4.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.s4[mid]! <= n) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && this.e4[hi]! >= n ? hi : -1;
  }

  private find6(n: bigint): number {
    let lo = 0;
    let hi = this.v6s.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.v6s[mid]! <= n) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && this.v6e[hi]! >= n ? hi : -1;
  }

  get(ip: string): { value: number; org: number } | undefined {
    const n4 = ipv4ToNumber(ip);
    if (n4 !== undefined) {
      const i = this.find4(n4);
      return i >= 0 ? { value: this.val4[i]!, org: this.org4[i]! } : undefined;
    }
    const n6 = ipv6ToBigInt(ip);
    if (n6 === undefined) return undefined;
    const i = this.find6(n6);
    return i >= 0 ? { value: this.v6v[i]!, org: this.v6o[i]! } : undefined;
  }

  /** Load a CSV file; throws with the line number on the first unreadable row. */
  static load(file: string, kind: RangeKind, into?: RangeTable): RangeTable {
    const table = into ?? new RangeTable(kind);
    const text = readFileSync(file, "utf8");
    let pos = 0;
    let no = 0;
    let layout: Layout | undefined;
    while (pos < text.length) {
      let nl = text.indexOf("\n", pos);
      if (nl < 0) nl = text.length;
      let line = text.slice(pos, nl);
      pos = nl + 1;
      no++;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line.trim() === "" || line.startsWith("#")) continue;
      let fields: string[];
      try {
        fields = line.includes('"') ? parseCsvLine(line) : line.split(",");
      } catch (err) {
        throw new Error(`${file}:${no}: ${(err as Error).message}`);
      }
      if (!layout) {
        const l = layoutOf(fields, kind);
        layout = l.layout;
        if (l.header) continue;
      }
      const range = layout.cidr ? parseCidr(fields[layout.start] ?? "") : ([parseAddr(fields[layout.start] ?? ""), parseAddr(fields[layout.end] ?? "")] as const);
      if (!range || !range[0] || !range[1]) throw new Error(`${file}:${no}: not an address range: ${JSON.stringify(line.slice(0, 80))}`);
      const raw = fields[layout.value] ?? "";
      if (kind === "asn") {
        const asn = asnNumber(raw);
        if (asn === null) {
          if (raw.trim() === "" || raw.trim() === "0") continue; // unrouted ranges in some tables
          throw new Error(`${file}:${no}: not an AS number: ${JSON.stringify(raw.slice(0, 40))}`);
        }
        const org = layout.org >= 0 ? (fields[layout.org] ?? "").trim() : "";
        table.add(range[0], range[1], asn, org === "" ? -1 : table.intern(org));
      } else {
        const cc = isoCountry(raw.trim());
        if (cc === null) {
          if (raw.trim() === "") continue;
          throw new Error(`${file}:${no}: not an ISO 3166 alpha-2 country code: ${JSON.stringify(raw.slice(0, 40))}`);
        }
        table.add(range[0], range[1], table.intern(cc), -1);
      }
    }
    if (table.rows === 0) throw new Error(`${file}: no ranges`);
    return table;
  }

  asAsnSource(): AsnSource {
    return {
      asn: (ip) => {
        const r = this.get(ip);
        return r ? { asn: r.value, org: r.org >= 0 ? this.strings[r.org]! : null } : null;
      },
    };
  }

  asCountrySource(): CountrySource {
    return {
      country: (ip) => {
        const r = this.get(ip);
        return r ? this.strings[r.value]! : null;
      },
    };
  }
}

/**
 * Owner reports: one CSV per network owner (an ASN, or a constituency from a ranges file), in the column
 * layout of Shadowserver's Vulnerable Exchange Server report as IntelMQ's Shadowserver parser maps it
 * (timestamp, ip, port, hostname, tag, asn, geo, region, city, naics, sic, sector, version, servername, url),
 * followed by Vigie's columns (product, cu, build, precision, first_seen, last_seen, vulnerable_cves,
 * end_of_support, out_of_support, and one column per CVE with its verdict). Plus index.csv. Rows are streamed; writes are buffered and bounded.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ipv4ToNumber, ipv6ToBigInt } from "../enrich/util.js";
import type { OwnerRow } from "../store/store.js";
import type { SupportState } from "../assess/support.js";
import { csvRow, parseCsvLine } from "../util/csv.js";

export const SHADOWSERVER_EXCHANGE_FIELDS = [
  "timestamp", "ip", "port", "hostname", "tag", "asn", "geo", "region", "city", "naics", "sic", "sector", "version", "servername", "url",
] as const;
/** end_of_support: the product's last day of support; out_of_support: on the snapshot's date (true/false, empty: not known). */
export const VIGIE_FIELDS = ["product", "cu", "build", "precision", "first_seen", "last_seen", "vulnerable_cves", "end_of_support", "out_of_support"] as const;

export const cveColumn = (id: string): string => id.toLowerCase().replace(/-/g, "_");

export interface Constituency {
  name: string;
  contact: string;
}

interface Range {
  v4: boolean;
  start: bigint;
  end: bigint;
  c: Constituency;
}

function addrValue(s: string): { v4: boolean; n: bigint } | undefined {
  const v4 = ipv4ToNumber(s);
  if (v4 !== undefined) return { v4: true, n: BigInt(v4) };
  const v6 = ipv6ToBigInt(s);
  return v6 !== undefined ? { v4: false, n: v6 } : undefined;
}

/** ranges.csv: `range,constituency[,contact]`, range as CIDR, start-end or one address; a header line is allowed. */
export class Constituencies {
  private readonly ranges: Range[] = [];

  static parse(text: string, file = "ranges.csv"): Constituencies {
    const c = new Constituencies();
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "" || line.startsWith("#")) return;
      const f = parseCsvLine(line).map((x) => x.trim());
      const r = f[0] ?? "";
      if (i === 0 && !/[\d:]/.test(r.charAt(0))) return; // header
      const name = f[1] ?? "";
      if (name === "") throw new Error(`${file}:${i + 1}: no constituency name`);
      let start: { v4: boolean; n: bigint } | undefined;
      let end: { v4: boolean; n: bigint } | undefined;
      if (r.includes("/")) {
        const [a, l] = r.split("/");
        start = addrValue(a ?? "");
        const len = Number(l);
        const bits = start?.v4 ? 32 : 128;
        if (start && Number.isInteger(len) && len >= 0 && len <= bits) {
          const size = 1n << BigInt(bits - len);
          start = { v4: start.v4, n: (start.n / size) * size };
          end = { v4: start.v4, n: start.n + size - 1n };
        } else start = undefined;
      } else if (r.includes("-")) {
        const [a, b] = r.split("-");
        start = addrValue((a ?? "").trim());
        end = addrValue((b ?? "").trim());
      } else {
        start = end = addrValue(r);
      }
      if (!start || !end || start.v4 !== end.v4 || end.n < start.n) throw new Error(`${file}:${i + 1}: not an address range: ${JSON.stringify(r.slice(0, 80))}`);
      c.ranges.push({ v4: start.v4, start: start.n, end: end.n, c: { name, contact: f[2] ?? "" } });
    });
    c.ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return c;
  }

  /** The most specific range holding the address (nested ranges: the smallest wins). */
  find(ip: string): Constituency | undefined {
    const a = addrValue(ip);
    if (!a) return undefined;
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]!.start <= a.n) lo = mid + 1;
      else hi = mid - 1;
    }
    let best: Range | undefined;
    for (let i = hi, seen = 0; i >= 0 && seen < 256; i--, seen++) {
      const r = this.ranges[i]!;
      if (r.v4 === a.v4 && r.end >= a.n && (!best || r.end - r.start < best.end - best.start)) best = r;
    }
    return best?.c;
  }
}

function shadowTimestamp(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

export function ownerCsvHeader(cveIds: readonly string[]): string {
  return csvRow([...SHADOWSERVER_EXCHANGE_FIELDS, ...VIGIE_FIELDS, ...cveIds.map(cveColumn)]);
}

/** One server's row; `support`: its product's support on the snapshot's date (src/assess/support.ts). */
export function ownerCsvLine(r: OwnerRow, cveIds: readonly string[], support: SupportState): { line: string; vulnerable: boolean } {
  const cves = r.cves;
  const obs = r.observation;
  const status = new Map(cves.map((c) => [c.id, c.status]));
  const vulnerable = cves.filter((c) => c.status === "vulnerable").map((c) => c.id);
  const scheme = obs.tls ? "https" : "http";
  const host = r.ip.includes(":") ? `[${r.ip}]` : r.ip;
  const line = csvRow([
    shadowTimestamp(r.observed_at),
    r.ip,
    r.port,
    r.hostname ?? "",
    ["exchange", ...vulnerable.map((id) => id.toLowerCase())].join(";"),
    r.asn ?? "",
    r.country ?? "",
    "", // region: Vigie's databases are country-level
    "", // city
    "", // naics
    "", // sic
    "", // sector
    r.build ?? "",
    obs.ntlm?.netbiosComputer ?? "",
    `${scheme}://${host}:${r.port}/`,
    r.product ?? "",
    r.cu ?? "",
    r.build ?? "",
    r.precision,
    r.first_seen,
    r.last_seen,
    vulnerable.join(";"),
    support.endOfSupport ?? "",
    support.outOfSupport === null ? "" : String(support.outOfSupport),
    ...cveIds.map((id) => status.get(id) ?? ""),
  ]);
  return { line, vulnerable: vulnerable.length > 0 };
}

export interface OwnerIndexEntry {
  owner: string;
  name: string;
  contact: string;
  file: string;
  servers: number;
  vulnerable: number;
}

/** Writes per-owner files with bounded buffering; returns the index entries. */
export class OwnerFiles {
  private readonly buffers = new Map<string, string[]>();
  private buffered = 0;
  private readonly entries = new Map<string, OwnerIndexEntry>();
  private readonly used = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly header: string,
    private readonly maxBuffered = 8 * 1024 * 1024,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private fileFor(owner: string): string {
    let base = owner.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 100) || "owner";
    if (base.toLowerCase() === "index") base = "index_owner";
    let name = `${base}.csv`;
    for (let i = 2; this.used.has(name.toLowerCase()); i++) name = `${base}-${i}.csv`;
    this.used.add(name.toLowerCase());
    writeFileSync(path.join(this.dir, name), this.header + "\n");
    return name;
  }

  add(owner: string, name: string, contact: string, line: string, vulnerable: boolean): void {
    let e = this.entries.get(owner);
    if (!e) {
      e = { owner, name, contact, file: this.fileFor(owner), servers: 0, vulnerable: 0 };
      this.entries.set(owner, e);
    }
    e.servers++;
    if (vulnerable) e.vulnerable++;
    let b = this.buffers.get(e.file);
    if (!b) this.buffers.set(e.file, (b = []));
    b.push(line);
    this.buffered += line.length + 1;
    if (this.buffered > this.maxBuffered) this.flush();
  }

  flush(): void {
    for (const [file, lines] of this.buffers) appendFileSync(path.join(this.dir, file), lines.join("\n") + "\n");
    this.buffers.clear();
    this.buffered = 0;
  }

  finish(meta: { snapshot: string; by: string }): OwnerIndexEntry[] {
    this.flush();
    const list = [...this.entries.values()].sort((a, b) => b.vulnerable - a.vulnerable || b.servers - a.servers || (a.owner < b.owner ? -1 : 1));
    const lines = [csvRow(["owner", "name", "contact", "file", "servers", "vulnerable_servers", "snapshot", "by"])];
    for (const e of list) lines.push(csvRow([e.owner, e.name, e.contact, e.file, e.servers, e.vulnerable, meta.snapshot, meta.by]));
    writeFileSync(path.join(this.dir, "index.csv"), lines.join("\n") + "\n");
    return list;
  }
}

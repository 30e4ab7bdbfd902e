/**
 * Discovery output as scan targets (`vigie scan -f`): the open ports masscan or zmap found become
 * `address:port` target lines, so Vigie fingerprints exactly what answered. The format is recognised from the
 * file itself; anything else is read as a plain target list (addresses, ranges, hostnames, one per line).
 *
 *   masscan -oL   "#masscan" then "open tcp 443 192.0.2.1 1614556800" lines, "# end"   (masscan src/out-text.c)
 *   masscan -oJ   "[" then { "ip": …, "timestamp": …, "ports": [{ "port", "proto", "status" … }] } records, "]"
 *                 (src/out-json.c)
 *   masscan -oG   "# Masscan <version> scan initiated …" then
 *                 "Timestamp: 1614556800\tHost: 192.0.2.1 ()\tPorts: 443/open/tcp//https//" lines  (src/out-grepable.c)
 *   zmap CSV      `-O csv --output-fields saddr,sport[,…]`: a header naming the fields ("saddr, sport", written
 *                 only with more than one field), then one comma-separated row per answer; with a `success`
 *                 field, rows with success 0 are not open ports  (zmap src/output_modules/module_csv.c).
 *                 zmap's default output (one address per line, no header) is a plain target list.
 *
 * masscan records go through the importer's own parser (src/import/masscan.ts): one parser per format.
 * Only TCP ports that were open are kept; banner records add nothing (their port is also reported open).
 */
import { isIP } from "node:net";
import { recordParser } from "./parser.js";

export type TargetFileFormat = "targets" | "masscan-list" | "masscan-json" | "masscan-grepable" | "zmap-csv";

export interface TargetFile {
  format: TargetFileFormat;
  /** Target lines: as written for a plain list, `address:port` (IPv6 `[address]:port`) for discovery output. */
  lines: string[];
  /** Records that could not be read (discovery output only), with their line numbers. */
  skipped: Array<{ no: number; error: string }>;
}

const firstLines = (text: string, n: number): string[] => text.split(/\r?\n/, 64).map((l) => l.trim()).filter((l) => l !== "").slice(0, n);

export function detectTargetFile(text: string): TargetFileFormat {
  const lines = firstLines(text, 8);
  const first = lines[0] ?? "";
  if (first === "#masscan") return "masscan-list";
  if (/^# Masscan /i.test(first)) return "masscan-grepable";
  const data = lines.find((l) => !l.startsWith("#")) ?? "";
  if (data.startsWith("[") || data.startsWith("{")) return "masscan-json";
  if (/^(open|closed)\s+(tcp|udp|sctp)\s+\d+\s/.test(data)) return "masscan-list";
  if (/^(Timestamp:\s*\d+\s+)?Host:\s/.test(data)) return "masscan-grepable";
  if (zmapHeader(first) !== undefined) return "zmap-csv";
  return "targets";
}

/** Column positions of a zmap CSV header, or undefined when the line is not one (it must name saddr). */
function zmapHeader(line: string): { saddr: number; sport?: number; success?: number } | undefined {
  if (!line.includes(",")) return undefined;
  const names = line.split(",").map((f) => f.trim().toLowerCase());
  if (!names.every((n) => /^[a-z][a-z0-9_]*$/.test(n))) return undefined;
  const saddr = names.indexOf("saddr");
  if (saddr < 0) return undefined;
  const sport = names.indexOf("sport");
  const success = names.indexOf("success");
  return { saddr, ...(sport >= 0 ? { sport } : {}), ...(success >= 0 ? { success } : {}) };
}

const targetOf = (ip: string, port: number | undefined): string => (port === undefined ? ip : isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`);

/** One CSV row's fields (zmap quotes a string field that holds a comma). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

function readZmapCsv(text: string): Pick<TargetFile, "lines" | "skipped"> {
  const rows = text.split(/\r?\n/);
  const header = zmapHeader(rows[0]!.trim())!;
  const lines: string[] = [];
  const skipped: TargetFile["skipped"] = [];
  rows.slice(1).forEach((row, i) => {
    const no = i + 2;
    if (row.trim() === "") return;
    const f = csvFields(row);
    const ip = f[header.saddr] ?? "";
    if (isIP(ip) === 0) {
      skipped.push({ no, error: `saddr ${JSON.stringify(ip.slice(0, 60))} is not an IP address` });
      return;
    }
    if (header.success !== undefined && f[header.success] === "0") return;
    let port: number | undefined;
    if (header.sport !== undefined) {
      const p = f[header.sport] ?? "";
      port = /^\d{1,5}$/.test(p) ? Number(p) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        skipped.push({ no, error: `sport ${JSON.stringify(p.slice(0, 20))} is not a port` });
        return;
      }
    }
    lines.push(targetOf(ip, port));
  });
  return { lines, skipped };
}

function readMasscan(text: string, format: TargetFileFormat): Pick<TargetFile, "lines" | "skipped"> {
  const parser = recordParser({ format: "masscan", defaultObservedAt: new Date(0).toISOString() });
  const lines: string[] = [];
  const skipped: TargetFile["skipped"] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    // Not open ports: banner records (their port has its own "open" record) and closed ports (--show closed).
    if (format === "masscan-list" && /^(banner|closed)\s/.test(line)) return;
    for (const r of parser.line(raw, i + 1)) {
      if ("error" in r) skipped.push({ no: r.no, error: r.error });
      else for (const o of r.observations) lines.push(targetOf(o.ip, o.port));
    }
  });
  return { lines, skipped };
}

/** Read a targets file: discovery output (recognised) or a plain list. Duplicate targets are kept once. */
export function readTargetFile(text: string, plainLines: (text: string) => string[]): TargetFile {
  const format = detectTargetFile(text);
  if (format === "targets") return { format, lines: plainLines(text), skipped: [] };
  const read = format === "zmap-csv" ? readZmapCsv(text) : readMasscan(text, format);
  return { format, lines: [...new Set(read.lines)], skipped: read.skipped };
}

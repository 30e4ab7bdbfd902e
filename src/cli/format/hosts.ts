/** Host results for people (table), for programs (JSON Lines) and for spreadsheets (CSV). */
import type { SupportState } from "../../assess/support.js";
import type { CveStatus } from "../../pipeline/vocabulary.js";
import { hostJson } from "../../pipeline/assessObservation.js";
import type { HostRecord, HostTriage } from "../../store/store.js";
import { csvRow } from "../../util/csv.js";
import { renderTable } from "./terminal.js";
import { ipToBigInt } from "../../observe/targets.js";

export type HostFormat = "table" | "json" | "csv";

const count = (h: HostRecord, s: CveStatus): number => h.cves.filter((c) => c.status === s).length;

export const HOST_CSV_HEADER = csvRow([
  "ip", "port", "hostname", "product", "cu", "build", "precision", "vulnerable", "unknown", "patched", "vulnerable_cves", "scanned_at", "confidence", "confidence_reason", "end_of_support", "out_of_support",
]);

/** Support of a host's product on its snapshot's date (src/assess/support.ts). */
export type HostSupport = (h: HostRecord) => SupportState;

/** "true" / "false", empty when not known (product not told). */
const yesNo = (b: boolean | null): string => (b === null ? "" : String(b));

export function hostCsv(h: HostRecord, support: HostSupport): string {
  const s = h.isExchange ? support(h) : { endOfSupport: null, outOfSupport: null };
  return csvRow([
    h.ip,
    h.port,
    h.hostname,
    h.isExchange ? h.product : null,
    h.cu,
    h.build,
    h.precision,
    count(h, "vulnerable"),
    count(h, "unknown"),
    count(h, "patched"),
    h.cves.filter((c) => c.status === "vulnerable").map((c) => c.id).join(" "),
    h.observedAt,
    h.isExchange ? h.identification.confidence : null,
    h.identification.confidenceReason ?? h.identification.note ?? null,
    s.endOfSupport,
    yesNo(s.outOfSupport),
  ]);
}

/**
 * One JSON line with "endOfSupport" (the product's last day of support, or null) and "outOfSupport" (on the
 * snapshot's date; null when not known); with `triage`, the host's newest attached triage report (null when
 * none) is added as "triage".
 */
export function hostJsonLine(h: HostRecord, support: HostSupport, triage?: ReadonlyMap<string, HostTriage>): string {
  const s = h.isExchange ? support(h) : { endOfSupport: null, outOfSupport: null };
  const base = { ...hostJson(h), endOfSupport: s.endOfSupport, outOfSupport: s.outOfSupport };
  return JSON.stringify(triage ? { ...base, triage: triageJson(triage.get(h.ip)) } : base);
}

/** A host's triage as shown to programs: verdict, report id, when, how many findings. */
export function triageJson(t: HostTriage | undefined): Record<string, unknown> | null {
  return t ? { verdict: t.verdict, report: t.reportId, at: t.createdAt, findings: t.findings, bundle: t.name, hostname: t.hostname } : null;
}

/** Exchange first, then by address (numerically) and port. */
export function compareHosts(a: HostRecord, b: HostRecord): number {
  if (a.isExchange !== b.isExchange) return a.isExchange ? -1 : 1;
  const x = ipToBigInt(a.ip)?.value ?? 0n;
  const y = ipToBigInt(b.ip)?.value ?? 0n;
  return x < y ? -1 : x > y ? 1 : a.port - b.port;
}

export function hostTable(hosts: readonly HostRecord[]): string {
  return renderTable(hosts, [
    { header: "HOST", value: (h) => `${h.ip}:${h.port}` },
    { header: "NAME", value: (h) => h.hostname ?? h.observation.ntlm?.dnsComputer ?? "", max: 30 },
    { header: "PRODUCT", value: (h) => (h.isExchange ? `${h.product ?? "Exchange"}${h.cu ? ` ${h.cu}` : ""}` : h.observation.title ? `not Exchange (${h.observation.title})` : "not Exchange"), max: 40 },
    { header: "BUILD", value: (h) => h.build ?? "-" },
    { header: "PRECISION", value: (h) => (h.isExchange ? h.precision : "-") },
    { header: "VULN", value: (h) => (h.isExchange ? String(count(h, "vulnerable")) : "-") },
    { header: "UNKNOWN", value: (h) => (h.isExchange ? String(count(h, "unknown")) : "-") },
    { header: "VULNERABLE TO", value: (h) => h.cves.filter((c) => c.status === "vulnerable").map((c) => c.id).join(" "), max: 70 },
  ]);
}

/**
 * Keeping a triage report in the store, attached to the server it names: every host record with one of the
 * report's IP addresses then carries its verdict (host pages, `vigie hosts --json`, census `triage` counts).
 * Used by `vigie triage --db` and by dashboard uploads. Goes through the Store interface only.
 */
import { randomBytes } from "node:crypto";
import { toJson } from "./report/json.js";
import type { TriageOutput } from "./scan.js";
import { sortTimeline } from "./verdict.js";
import type { Store } from "../store/store.js";

export interface AttachOptions {
  source: "cli" | "upload";
  user: string;
  /** What the report is called (the bundle's file name). */
  name: string;
  /** Keep only the addresses this accepts (a constituency-limited uploader attaches only inside it). */
  allow?: (ip: string) => boolean;
}

export interface Attached {
  id: string;
  /** Addresses the report is attached to. */
  addresses: string[];
  /** Of those, the ones with a host record in the newest snapshot. */
  known: string[];
  /** The newest snapshot, if any. */
  snapshot: string | null;
  /** The stored JSON report. */
  report: object;
}

/** Host records of `ip` in a snapshot (any port). */
async function hasHost(store: Store, snapshot: string, ip: string): Promise<boolean> {
  const page = await store.hostList.page({ snapshot, ip, sort: "ip", order: "asc", limit: 50, offset: 0 });
  return page.some((h) => h.ip === ip);
}

export async function attachTriageReport(store: Store, result: TriageOutput, o: AttachOptions): Promise<Attached> {
  const addresses = (result.server?.addresses ?? []).filter((ip) => (o.allow ? o.allow(ip) : true));
  const report = toJson({ ...result, findings: sortTimeline(result.findings) });
  const id = randomBytes(8).toString("hex");
  await store.triageReports.add({
    id,
    user: o.user,
    name: o.name,
    createdAt: new Date().toISOString(),
    verdict: result.verdict,
    findings: result.findings.length,
    report: JSON.stringify(report),
    source: o.source,
    hostname: result.server?.hostname ?? null,
    fqdn: result.server?.fqdn ?? null,
    addresses,
  });
  const latest = await store.latestSnapshot();
  const known: string[] = [];
  if (latest) for (const ip of addresses) if (await hasHost(store, latest.id, ip)) known.push(ip);
  return { id, addresses, known, snapshot: latest?.id ?? null, report };
}

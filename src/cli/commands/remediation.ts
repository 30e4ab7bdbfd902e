/**
 * `vigie remediation`: what became of every notified (server, CVE) — remediated, still vulnerable, unknown or
 * gone in the newest snapshot covering the server — per organisation, country or ASN, with the days from
 * notice to fix; `--overdue N`: the servers still vulnerable N days or more after their notice.
 */
import { Option, type Command } from "commander";
import { REMEDIATION_BY, overdueRow, remediationReport, type RemediationBy } from "../../notify/remediation.js";
import { UsageError } from "../errors.js";
import { renderTable } from "../format/terminal.js";
import { addDbOption, openStore } from "../storeOption.js";

const days = (n: number | null): string => (n === null ? "-" : String(Math.round(n * 10) / 10));

export function registerRemediation(program: Command): void {
  const cmd = program
    .command("remediation")
    .description("per notified (server, CVE): remediated / still vulnerable / unknown / gone in the newest snapshot covering it, and days from notice to fix")
    .addOption(new Option("--by <group>", "group by organisation, country or ASN").choices([...REMEDIATION_BY]).default("org"))
    .option("--cve <id...>", "only these CVEs")
    .option("--json", 'one JSON object {"by","groups":[{"key","notified","remediated","stillVulnerable","unknown","gone","medianDaysToFix","p90DaysToFix"}]} (with --overdue: {"overdueDays","servers":[…]})')
    .option("--overdue <days>", "list the servers still vulnerable this many days or more after their notice (the escalation list)")
    .option("--at <ISO time>", "the time overdue is measured at (default now)");
  addDbOption(cmd).action(async (o: { by: RemediationBy; cve?: string[]; json?: boolean; overdue?: string; at?: string; db?: string }) => {
    const cves = o.cve?.map((c) => c.toUpperCase());
    for (const c of cves ?? []) if (!/^CVE-\d{4}-\d{4,7}$/.test(c)) throw new UsageError(`--cve ${c}: a CVE id like CVE-2021-26855`);
    const overdue = o.overdue !== undefined ? Number(o.overdue) : undefined;
    if (overdue !== undefined && (!Number.isInteger(overdue) || overdue < 0)) throw new UsageError(`--overdue ${o.overdue}: a whole number of days`);
    const at = o.at !== undefined ? new Date(o.at) : new Date();
    if (Number.isNaN(at.getTime())) throw new UsageError(`--at ${o.at}: an ISO time`);
    const store = await openStore(o.db);
    try {
      const r = await remediationReport(store.notices, { by: o.by, at, ...(cves ? { cves: new Set(cves) } : {}), ...(overdue !== undefined ? { overdueDays: overdue } : {}) });
      if (r.items.length === 0) {
        if (o.json) process.stdout.write(JSON.stringify(overdue !== undefined ? { overdueDays: overdue, servers: [] } : { by: r.by, groups: [] }) + "\n");
        process.stderr.write(`vigie remediation: no delivered notice in ${store.label}${cves ? " for these CVEs" : ""} (vigie notify sends them)\n`);
        process.exitCode = 1;
        return;
      }
      if (overdue !== undefined) {
        const servers = r.overdue.map(overdueRow);
        if (o.json) {
          process.stdout.write(JSON.stringify({ overdueDays: overdue, servers }) + "\n");
          return;
        }
        process.stdout.write(
          (servers.length > 0
            ? renderTable(servers, [
                { header: "ORGANISATION", value: (s) => s.organisation, max: 40 },
                { header: "SERVER", value: (s) => `${s.ip}:${s.port}` },
                { header: "NAME", value: (s) => s.hostname ?? "", max: 40 },
                { header: "CVE", value: (s) => s.cve },
                { header: "NOTIFIED", value: (s) => s.notifiedAt.slice(0, 10) },
                { header: "DAYS", value: (s) => String(s.daysSinceNotice) },
                { header: "STILL VULNERABLE IN", value: (s) => `${s.snapshot} (${s.snapshotDate})`, max: 60 },
              ]) + "\n"
            : "") + `${servers.length} (server, CVE) still vulnerable ${overdue} days or more after their notice\n`,
        );
        return;
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ by: r.by, groups: r.groups }) + "\n");
        return;
      }
      process.stdout.write(
        renderTable(r.groups, [
          { header: o.by.toUpperCase(), value: (g) => g.key, max: 50 },
          { header: "NOTIFIED", value: (g) => String(g.notified) },
          { header: "REMEDIATED", value: (g) => String(g.remediated) },
          { header: "STILL VULNERABLE", value: (g) => String(g.stillVulnerable) },
          { header: "UNKNOWN", value: (g) => String(g.unknown) },
          { header: "GONE", value: (g) => String(g.gone) },
          { header: "MEDIAN DAYS TO FIX", value: (g) => days(g.medianDaysToFix) },
          { header: "P90 DAYS TO FIX", value: (g) => days(g.p90DaysToFix) },
        ]) + `\n(counts are of notified (server, CVE) pairs; state from the newest snapshot covering each server)\n`,
      );
    } finally {
      await store.close();
    }
  });
}

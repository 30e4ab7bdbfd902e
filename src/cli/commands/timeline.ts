/**
 * `vigie timeline`: the sourced events of each Exchange campaign (knowledge/timeline), the window of exposure
 * (days from first report and from first exploitation to the patch), and with `--fixes` the measured time from
 * the patch's release to each server's fix, per country or ASN, across the store's snapshots.
 */
import type { Command } from "commander";
import { TimeToFixCounter, type FixStatus, type TimeToFix } from "../../census/timeToFix.js";
import { exposureWindows, filterEvents, loadTimeline, patchDateOf, type ExposureWindow, type TimelineEvent } from "../../knowledge/timeline.js";
import { csvRow } from "../../util/csv.js";
import { UsageError } from "../errors.js";
import { renderTable, safe } from "../format/terminal.js";
import { addDbOption, openStore } from "../storeOption.js";

const CVE_ID = /^CVE-\d{4}-\d{4,7}$/;

interface Options {
  cve?: string[];
  campaign?: string;
  json?: boolean;
  csv?: boolean;
  fixes?: boolean;
  by?: string;
  db?: string;
}

function cvesOf(o: Options): string[] {
  return (o.cve ?? []).map((c) => {
    const id = c.toUpperCase();
    if (!CVE_ID.test(id)) throw new UsageError(`--cve ${c}: a CVE id like CVE-2021-26855`);
    return id;
  });
}

function countText(e: TimelineEvent): string {
  if (!e.count) return "";
  const n = e.count.low !== undefined && e.count.high !== undefined && e.count.low !== e.count.high ? `${e.count.low}–${e.count.high}` : String(e.count.value);
  return `${n} ${e.count.unit === "organisations" ? "organisations " : ""}${e.count.what}`;
}

function printEvents(events: TimelineEvent[], windows: ExposureWindow[], sourceUrl: (id: string) => string): void {
  const rows = renderTable(events, [
    { header: "DATE", value: (e) => `${e.date}${e.endDate ? `…${e.endDate.slice(5)}` : ""}${e.dateApproximate ? " ~" : ""}`, max: 20 },
    { header: "CAMPAIGN", value: (e) => e.campaign, max: 16 },
    { header: "KIND", value: (e) => e.kind, max: 12 },
    { header: "WHERE", value: (e) => e.country ?? "", max: 5 },
    { header: "COUNT", value: countText, max: 36 },
    { header: "EVENT", value: (e) => e.title, max: 90 },
  ]);
  const win = renderTable(windows, [
    { header: "CAMPAIGN", value: (w) => w.campaign, max: 16 },
    { header: "FIRST REPORT", value: (w) => w.firstReport ?? "-" },
    { header: "FIRST EXPLOITATION SEEN", value: (w) => w.firstExploitation ?? "-" },
    { header: "PATCH", value: (w) => w.patch ?? "-" },
    { header: "DAYS REPORT→PATCH", value: (w) => (w.daysReportToPatch === null ? "-" : String(w.daysReportToPatch)) },
    { header: "DAYS EXPLOITED BEFORE PATCH", value: (w) => (w.daysExploitedBeforePatch === null ? "-" : String(w.daysExploitedBeforePatch)) },
  ]);
  const cited = [...new Set(events.flatMap((e) => e.sources))];
  process.stdout.write(
    `${rows}\n\n(~ the sources give only the week or month)\n\nWindow of exposure\n${win}\n\nSources\n` +
      cited.map((id) => `  ${id}: ${safe(sourceUrl(id), 300)}`).join("\n") +
      "\n",
  );
}

const fixStatus = (s: string | undefined): FixStatus | null =>
  s === "vulnerable" ? "vulnerable" : s === "patched" || s === "not_affected" ? "fixed" : s === "unknown" ? "unknown" : null;

async function timeToFix(db: string | undefined, cve: string, patchReleased: string, by: "country" | "asn"): Promise<TimeToFix> {
  const store = await openStore(db);
  try {
    const snapshots = await store.listSnapshots();
    if (snapshots.length === 0) throw new UsageError(`${db ?? "the store"} holds no snapshot yet`);
    const counter = new TimeToFixCounter(cve, patchReleased);
    const ordered = [...snapshots].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.createdAt < b.createdAt ? -1 : 1));
    for (const s of ordered) {
      for await (const h of store.hosts({ snapshotId: s.id, exchangeOnly: true })) {
        const status = fixStatus(h.cves.find((v) => v.id === cve)?.status);
        if (status === null) continue;
        const group = by === "country" ? (h.country ?? "unknown") : h.asn !== null ? `AS${h.asn}` : "unknown";
        counter.add({ date: s.date, server: `${h.ip}|${h.port}`, group, status });
      }
    }
    return counter.result(by);
  } finally {
    await store.close();
  }
}

export function registerTimeline(program: Command): void {
  const cmd = program
    .command("timeline")
    .description(
      "the sourced timeline of each Exchange campaign (reports, exploitation, patches, national counts) and its window of exposure;\n" +
        "with --fixes, the days from the patch's release to each server's fix, per country or ASN, from the store's snapshots",
    )
    .option("--cve <id...>", "only events of these CVEs (with --fixes: the one CVE to measure)")
    .option("--campaign <name>", "only this campaign: ProxyLogon, ProxyShell, ProxyNotShell")
    .option("--fixes", "measure the days from patch release to fix across the store's snapshots (needs one --cve)")
    .option("--by <field>", "with --fixes: country (default) or asn", "country")
    .option("--csv", "the events as CSV")
    .option("--json", 'JSON: {"events":[…],"windows":[…],"sources":{…}}; with --fixes {"cve","patchReleased","by","groups":[…]}');
  addDbOption(cmd).action(async (o: Options) => {
    const cves = cvesOf(o);
    const timeline = loadTimeline();
    if (o.fixes) {
      if (cves.length !== 1) throw new UsageError("--fixes needs exactly one --cve");
      if (o.by !== "country" && o.by !== "asn") throw new UsageError(`--by ${o.by}: country or asn`);
      const cve = cves[0]!;
      const released = patchDateOf(timeline.events, cve);
      if (released === null) throw new UsageError(`--cve ${cve}: the timeline has no patch event for it (known: ${[...new Set(timeline.events.filter((e) => e.kind === "patch").flatMap((e) => e.cves))].sort().join(", ")})`);
      const r = await timeToFix(o.db, cve, released, o.by);
      if (o.json) {
        process.stdout.write(JSON.stringify(r) + "\n");
        return;
      }
      const measured = r.groups.reduce((n, g) => n + g.seenVulnerable, 0);
      process.stdout.write(
        `${cve}: patch released ${released}; ${measured} servers seen vulnerable in the store's snapshots, by ${r.by}\n` +
          "(days from the release to the first snapshot showing the server fixed; servers first seen already patched are not measured)\n\n" +
          renderTable(r.groups, [
            { header: r.by.toUpperCase(), value: (g) => g.key, max: 20 },
            { header: "SEEN VULNERABLE", value: (g) => String(g.seenVulnerable) },
            { header: "FIXED", value: (g) => String(g.fixed) },
            { header: "STILL VULNERABLE", value: (g) => String(g.stillVulnerable) },
            { header: "UNKNOWN", value: (g) => String(g.unknown) },
            { header: "GONE", value: (g) => String(g.gone) },
            { header: "MEDIAN DAYS", value: (g) => (g.medianDaysToFix === null ? "-" : String(g.medianDaysToFix)) },
            { header: "P90 DAYS", value: (g) => (g.p90DaysToFix === null ? "-" : String(g.p90DaysToFix)) },
            { header: "PATCHED WHEN FIRST SEEN", value: (g) => String(g.patchedWhenFirstSeen) },
          ]) +
          "\n",
      );
      return;
    }
    const events = filterEvents(timeline.events, { cves, ...(o.campaign !== undefined ? { campaign: o.campaign } : {}) });
    if (events.length === 0) throw new UsageError(`no timeline event matches${cves.length ? ` --cve ${cves.join(" ")}` : ""}${o.campaign ? ` --campaign ${o.campaign}` : ""}`);
    const windows = exposureWindows(events);
    const sourceUrl = (id: string): string => timeline.sources.get(id)?.url ?? id;
    if (o.csv) {
      process.stdout.write(timelineCsv(events));
      return;
    }
    if (o.json) {
      const sources = Object.fromEntries([...new Set(events.flatMap((e) => e.sources))].map((id) => [id, timeline.sources.get(id)]));
      process.stdout.write(JSON.stringify({ events, windows, sources }) + "\n");
      return;
    }
    printEvents(events, windows, sourceUrl);
  });
}

/** CSV of the events (for a spreadsheet or a slide). */
function timelineCsv(events: readonly TimelineEvent[]): string {
  const out = [csvRow(["date", "end_date", "approximate", "campaign", "kind", "country", "count", "title", "cves", "sources"])];
  for (const e of events) {
    out.push(csvRow([e.date, e.endDate ?? "", e.dateApproximate ? "yes" : "", e.campaign, e.kind, e.country ?? "", countText(e), e.title, e.cves.join(" "), e.sources.join(" ")]));
  }
  return out.join("\n") + "\n";
}

/**
 * `vigie census …`: how many Exchange servers are exposed, and vulnerable / patched / unknown per CVE, by
 * country, ASN, product, CU or CVE; `diff` between two snapshots, `trend` over all, `map` a world choropleth.
 */
import { Option, type Command } from "commander";
import { buildCensus, withConfidence, withTriage, CENSUS_BY, headlineCve, percent, totalOf, type Census, type CensusBy } from "../../census/census.js";
import { buildDiff, type CensusDiff } from "../../census/diff.js";
import { withStoreEndOfSupport } from "../../census/endOfSupport.js";
import { trendPoint, type Trend } from "../../census/trend.js";
import { eventsForTrend, loadTimeline } from "../../knowledge/timeline.js";
import { pictureFormat } from "../../report/picture.js";
import { CONFIDENCES, type Confidence } from "../../pipeline/vocabulary.js";
import type { CensusFilter, GroupColumn, Store } from "../../store/store.js";
import { csvRow } from "../../util/csv.js";
import { UsageError } from "../errors.js";
import { renderTable, safe } from "../format/terminal.js";
import { addDbOption, openStore, resolveSnapshot } from "../storeOption.js";
import { openKnowledgeBase } from "./kb.js";

interface Common {
  db?: string;
  country?: string;
  cve?: string;
  json?: boolean;
  csv?: boolean;
  chart?: string;
  top?: string;
  minConfidence?: Confidence;
}

const minConfidenceOption = () =>
  new Option("--min-confidence <level>", "count only servers identified at least this surely (low: every server, the default; medium leaves out single-answer OWA logon pages)").choices([...CONFIDENCES]);

/** The store filter of --country and --min-confidence. */
function filterOf(f: { country?: string }, o: Common): CensusFilter {
  return { ...(f.country !== undefined ? { country: f.country } : {}), ...(o.minConfidence !== undefined ? { minConfidence: o.minConfidence } : {}) };
}

/** Groups shown in the terminal table (JSON and CSV always hold every group). */
function topOf(o: Common): number {
  const n = Number(o.top ?? 30);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--top ${o.top}: a positive whole number`);
  return n;
}

const CVE_ID = /^CVE-\d{4}-\d{4,7}$/;

function checkCommon(o: Common): { country?: string; cve?: string } {
  if (o.json && o.csv) throw new UsageError("--json and --csv: choose one");
  if (o.chart !== undefined && !pictureFormat(o.chart)) throw new UsageError(`--chart ${o.chart}: the file must end in .svg or .png`);
  const out: { country?: string; cve?: string } = {};
  if (o.country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(o.country)) throw new UsageError(`--country ${o.country}: an ISO 3166 alpha-2 code like FR`);
    out.country = o.country.toUpperCase();
  }
  if (o.cve !== undefined) {
    if (!CVE_ID.test(o.cve.toUpperCase())) throw new UsageError(`--cve ${o.cve}: a CVE id like CVE-2021-26855`);
    out.cve = o.cve.toUpperCase();
  }
  return out;
}

const column = (by: CensusBy): GroupColumn => (by === "cve" ? "none" : by);

async function withStore<T>(db: string | undefined, f: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

function requireCve(known: Iterable<string>, cve: string | undefined): void {
  if (cve === undefined) return;
  const ids = new Set(known);
  if (ids.size > 0 && !ids.has(cve)) throw new UsageError(`--cve ${cve}: not in this data (known: ${[...ids].sort().join(", ")})`);
}

function printCensus(c: Census, o: Common, labels: Map<number, string>): void {
  if (o.json) {
    process.stdout.write(JSON.stringify({ snapshot: c.snapshot, by: c.by, groups: c.groups }) + "\n");
    return;
  }
  const shown = o.csv ? c.groups : c.groups.slice(0, topOf(o));
  const rows = shown.flatMap((g) =>
    Object.entries(g.cves).map(([id, v], i) => ({ g, first: i === 0, id, v })),
  );
  if (o.csv) {
    const out = [
      csvRow(["group", "exposed", "cve", "vulnerable", "vulnerable_pct", "patched", "patched_pct", "unknown", "unknown_pct", "confidence_high", "confidence_medium", "confidence_low", "out_of_support", "out_of_support_pct"]),
    ];
    for (const r of rows) {
      const eos = r.g.endOfSupport?.outOfSupport ?? 0;
      out.push(
        csvRow([
          r.g.key, r.g.exposed, r.id, r.v.vulnerable, percent(r.v.vulnerable, r.g.exposed), r.v.patched, percent(r.v.patched, r.g.exposed), r.v.unknown, percent(r.v.unknown, r.g.exposed),
          r.g.confidence.high, r.g.confidence.medium, r.g.confidence.low, eos, percent(eos, r.g.exposed),
        ]),
      );
    }
    process.stdout.write(out.join("\n") + "\n");
    return;
  }
  const t = totalOf(c);
  const triaged = t.triage.compromised + t.triage.suspicious + t.triage.clean > 0;
  // The confidence column only once a server of the table is identified less than surely.
  const unsure = t.confidence.medium + t.confidence.low > 0;
  const label = (k: string) => (c.by === "asn" && k.startsWith("AS") && labels.has(Number(k.slice(2))) ? `${k} ${labels.get(Number(k.slice(2)))}` : k);
  const cell = (n: number, of: number) => `${n} (${percent(n, of)}%)`;
  process.stdout.write(
    `Snapshot ${safe(c.snapshot, 200)}: ${t.exposed} Exchange servers exposed${o.country ? ` in ${o.country}` : ""}, ${c.groups.length} groups by ${c.by}\n` +
      "(per CVE: servers the CVE does not affect are in none of its three counts; percentages are of exposed)\n" +
      `(out of support: servers whose product's end of support (knowledge/lifecycle.json) is before the snapshot's date: ${t.endOfSupport?.outOfSupport ?? 0} of ${t.exposed}${t.endOfSupport?.unknown ? `, ${t.endOfSupport.unknown} of unknown product` : ""})\n\n` +
      renderTable(rows, [
        { header: c.by.toUpperCase(), value: (r) => (r.first ? label(r.g.key) : ""), max: 50 },
        { header: "EXPOSED", value: (r) => (r.first ? String(r.g.exposed) : "") },
        { header: "OUT OF SUPPORT", value: (r) => (r.first ? cell(r.g.endOfSupport?.outOfSupport ?? 0, r.g.exposed) : "") },
        { header: "CVE", value: (r) => r.id },
        { header: "VULNERABLE", value: (r) => cell(r.v.vulnerable, r.g.exposed) },
        { header: "PATCHED", value: (r) => cell(r.v.patched, r.g.exposed) },
        { header: "UNKNOWN", value: (r) => cell(r.v.unknown, r.g.exposed) },
        ...(unsure ? [{ header: "HIGH/MED/LOW", value: (r: (typeof rows)[number]) => (r.first ? `${r.g.confidence.high}/${r.g.confidence.medium}/${r.g.confidence.low}` : "") }] : []),
        // Triage columns only once a triage report is attached to a server of the snapshot.
        ...(triaged
          ? [
              { header: "COMPROMISED", value: (r: (typeof rows)[number]) => (r.first ? String(r.g.triage.compromised) : "") },
              { header: "SUSPICIOUS", value: (r: (typeof rows)[number]) => (r.first ? String(r.g.triage.suspicious) : "") },
              { header: "CLEAN", value: (r: (typeof rows)[number]) => (r.first ? String(r.g.triage.clean) : "") },
            ]
          : []),
      ]) +
      "\n" +
      (unsure
        ? `(identification confidence: ${t.confidence.high} high, ${t.confidence.medium} medium, ${t.confidence.low} low — low includes single answers such as an OWA logon page only; --min-confidence medium leaves them out)\n`
        : "") +
      (triaged ? `(triage: servers by the verdict of the newest triage report attached to their IP; ${t.triage.compromised} compromised, ${t.triage.suspicious} suspicious, ${t.triage.clean} clean)\n` : "") +
      (shown.length < c.groups.length ? `(${shown.length} of ${c.groups.length} groups shown, most exposed first: --top N for more, --csv or --json for all)\n` : ""),
  );
}

function printDiff(d: CensusDiff, o: Common): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(d) + "\n");
    return;
  }
  const groups = o.csv ? d.groups : d.groups.slice(0, topOf(o));
  const rows = groups.flatMap((g) => {
    const cves = Object.entries(g.cves);
    return cves.length === 0 ? [{ g, first: true, id: "-", v: { newlyPatched: 0, newlyVulnerable: 0 } }] : cves.map(([id, v], i) => ({ g, first: i === 0, id, v }));
  });
  if (o.csv) {
    const out = [csvRow(["group", "before", "after", "appeared", "disappeared", "cve", "newly_patched", "newly_vulnerable"])];
    for (const r of rows) out.push(csvRow([r.g.key, r.g.before, r.g.after, r.g.appeared, r.g.disappeared, r.id, r.v.newlyPatched, r.v.newlyVulnerable]));
    process.stdout.write(out.join("\n") + "\n");
    return;
  }
  const blank = (r: { first: boolean }, v: number) => (r.first ? String(v) : "");
  process.stdout.write(
    `From ${safe(d.from, 200)} to ${safe(d.to, 200)}, by ${d.by}\n\n` +
      renderTable(rows, [
        { header: d.by.toUpperCase(), value: (r) => (r.first ? r.g.key : ""), max: 50 },
        { header: "BEFORE", value: (r) => blank(r, r.g.before) },
        { header: "AFTER", value: (r) => blank(r, r.g.after) },
        { header: "APPEARED", value: (r) => blank(r, r.g.appeared) },
        { header: "DISAPPEARED", value: (r) => blank(r, r.g.disappeared) },
        { header: "CVE", value: (r) => r.id },
        { header: "NEWLY PATCHED", value: (r) => String(r.v.newlyPatched) },
        { header: "NEWLY VULNERABLE", value: (r) => String(r.v.newlyVulnerable) },
      ]) +
      "\n" +
      (groups.length < d.groups.length ? `(${groups.length} of ${d.groups.length} groups shown: --top N for more, --csv or --json for all)\n` : ""),
  );
}

function printTrend(t: Trend, o: Common): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(t) + "\n");
    return;
  }
  const rows = t.points.flatMap((p) => Object.entries(p.cves).map(([id, v], i) => ({ p, first: i === 0, id, v })));
  if (o.csv) {
    const out = [csvRow(["snapshot", "date", "exposed", "cve", "vulnerable", "patched", "unknown"])];
    for (const r of rows) out.push(csvRow([r.p.snapshot, r.p.date, r.p.exposed, r.id, r.v.vulnerable, r.v.patched, r.v.unknown]));
    process.stdout.write(out.join("\n") + "\n");
    return;
  }
  process.stdout.write(
    `Trend over ${t.points.length} snapshots${t.country ? `, country ${t.country}` : ""}${t.cve ? `, ${t.cve}` : ""}\n\n` +
      renderTable(rows, [
        { header: "DATE", value: (r) => (r.first ? r.p.date : "") },
        { header: "SNAPSHOT", value: (r) => (r.first ? r.p.snapshot : ""), max: 50 },
        { header: "EXPOSED", value: (r) => (r.first ? String(r.p.exposed) : "") },
        { header: "CVE", value: (r) => r.id },
        { header: "VULNERABLE", value: (r) => `${r.v.vulnerable} (${percent(r.v.vulnerable, r.p.exposed)}%)` },
        { header: "PATCHED", value: (r) => String(r.v.patched) },
        { header: "UNKNOWN", value: (r) => String(r.v.unknown) },
      ]) +
      "\n",
  );
}

/** The charting libraries are loaded only when a picture is asked for (they weigh ~100 MB of memory). */
const pictures = async () => ({ ...(await import("../../report/charts.js")), ...(await import("../../report/render.js")) });

async function chartDone(file: string): Promise<void> {
  process.stderr.write(`vigie census: chart written to ${safe(file, 300)}\n`);
}

/**
 * The subcommands repeat the options they use for their help text; commander gives options written after a
 * subcommand to the parent `census` when it has them too, so the subcommands read them with optsWithGlobals.
 */
export function registerCensus(program: Command): void {
  const byOption = () => new Option("--by <group>", "group by").choices([...CENSUS_BY]).default("country");
  const census = program
    .command("census")
    .description("count exposed Exchange servers and per CVE vulnerable / patched / unknown, by group (one server per IP)")
    .option("--snapshot <name>", "snapshot (default: the newest)")
    .addOption(byOption())
    .option("--country <CC>", "only servers in this country (ISO 3166 alpha-2)")
    .option("--cve <id>", "only this CVE")
    .option("--json", 'one JSON object {"snapshot","by","groups":[{"key","exposed","cves":{…},"triage":{"compromised","suspicious","clean"},"confidence":{"high","medium","low"},"endOfSupport":{"outOfSupport","supported","unknown"}}]}')
    .option("--csv", "CSV, one line per group and CVE (with the group's confidence_high, _medium, _low and out_of_support)")
    .option("--top <n>", "groups shown in the table (default 30)")
    .addOption(minConfidenceOption())
    .option("--chart <file>", "also draw stacked bars per group to an .svg or .png file");
  addDbOption(census).action(async (o: Common & { snapshot?: string; by: CensusBy }) => {
    const f = checkCommon(o);
    await withStore(o.db, async (store) => {
      const snapshot = await resolveSnapshot(store, o.snapshot);
      const filter = filterOf(f, o);
      const rows = await store.census.counts(snapshot, column(o.by), filter);
      const all = buildCensus(snapshot, o.by, rows);
      requireCve(Object.keys(totalOf(all).cves), f.cve);
      const triageRows = await store.census.triageCounts(snapshot, column(o.by), filter);
      const confidenceRows = await store.census.confidenceCounts(snapshot, column(o.by), filter);
      const counted = withConfidence(withTriage(f.cve !== undefined ? buildCensus(snapshot, o.by, rows, f.cve) : all, triageRows), confidenceRows);
      const c = await withStoreEndOfSupport(store, openKnowledgeBase(), counted, filter);
      printCensus(c, { ...o, ...f }, o.by === "asn" && !o.json && !o.csv ? await store.census.asnNames(snapshot) : new Map());
      if (o.chart) {
        const cve = f.cve ?? headlineCve(all) ?? "none";
        const { renderPicture, censusBarSpec } = await pictures();
        await renderPicture(censusBarSpec(c.by === "cve" ? c : buildCensus(snapshot, o.by, rows, cve), cve), o.chart);
        await chartDone(o.chart);
      }
    });
  });

  const diff = census
    .command("diff")
    .description("what changed between two snapshots: appeared, disappeared, newly patched, newly vulnerable, per group")
    .argument("<from>", "earlier snapshot")
    .argument("<to>", "later snapshot")
    .addOption(byOption())
    .option("--country <CC>", "only servers in this country")
    .option("--cve <id>", "only this CVE")
    .option("--json", 'one JSON object {"from","to","by","groups":[{"key","before","after","appeared","disappeared","cves":{…}}]}')
    .option("--csv", "CSV")
    .option("--top <n>", "groups shown in the table (default 30)")
    .addOption(minConfidenceOption());
  addDbOption(diff).action(async (from: string, to: string, _local: unknown, cmd: Command) => {
    const o = cmd.optsWithGlobals<Common & { by: CensusBy }>();
    const f = checkCommon(o);
    await withStore(o.db, async (store) => {
      await resolveSnapshot(store, from);
      await resolveSnapshot(store, to);
      const rows = await store.census.diff(from, to, column(o.by), filterOf(f, o));
      printDiff(buildDiff(from, to, o.by, rows, f.cve), { ...o, ...f });
    });
  });

  const trend = census
    .command("trend")
    .description("exposed and per-CVE counts for every snapshot, oldest first")
    .option("--cve <id>", "only this CVE")
    .option("--country <CC>", "only servers in this country")
    .option("--json", 'one JSON object {"cve","country","points":[{"snapshot","date","exposed","cves":{…}}]}')
    .option("--csv", "CSV")
    .option("--chart <file>", "also draw lines over time to an .svg or .png file")
    .addOption(minConfidenceOption())
    .option("--no-events", "with --chart: do not mark the campaign's timeline events (knowledge/timeline) on the curve");
  addDbOption(trend).action(async (_local: unknown, cmd: Command) => {
    const o = cmd.optsWithGlobals<Common & { events: boolean }>();
    const f = checkCommon(o);
    await withStore(o.db, async (store) => {
      const snapshots = await store.listSnapshots();
      if (snapshots.length === 0) throw new UsageError(`${store.label} holds no snapshot yet`);
      const t: Trend = { cve: f.cve ?? null, country: f.country ?? null, points: [] };
      for (const s of snapshots) {
        const rows = await store.census.counts(s.id, "none", filterOf(f, o));
        t.points.push(trendPoint(s.id, s.date, rows, f.cve));
      }
      printTrend(t, { ...o, ...f });
      if (o.chart) {
        const last = t.points[t.points.length - 1]!;
        const cves = f.cve !== undefined
          ? [f.cve]
          : Object.entries(last.cves).sort((a, b) => b[1].vulnerable - a[1].vulnerable).slice(0, 4).map(([id]) => id);
        const { renderPicture, trendLineSpec } = await pictures();
        const marks = o.events ? eventsForTrend(loadTimeline().events, cves, t.points[0]!.date, last.date) : [];
        await renderPicture(trendLineSpec(t, cves, marks), o.chart);
        await chartDone(o.chart);
      }
    });
  });

  const map = census
    .command("map")
    .description("world map of vulnerable Exchange servers per country, with a legend (.svg or .png)")
    .argument("<out>", "picture file: .svg or .png")
    .option("--snapshot <name>", "snapshot (default: the newest)")
    .option("--cve <id>", "vulnerable to this CVE (default: the CVE with the most vulnerable servers)");
  addDbOption(map).action(async (out: string, _local: unknown, cmd: Command) => {
    const o = cmd.optsWithGlobals<Common & { snapshot?: string }>();
    const f = checkCommon({ ...o, chart: out });
    await withStore(o.db, async (store) => {
      const snapshot = await resolveSnapshot(store, o.snapshot);
      const rows = await store.census.counts(snapshot, "country");
      const all = buildCensus(snapshot, "country", rows);
      requireCve(Object.keys(totalOf(all).cves), f.cve);
      const cve = f.cve ?? headlineCve(all) ?? "none";
      const per = all.groups.map((g) => ({ country: g.key, vulnerable: g.cves[cve]?.vulnerable ?? 0 }));
      const total = per.reduce((s, r) => s + r.vulnerable, 0);
      const unplaced = per.find((r) => r.country === "unknown")?.vulnerable ?? 0;
      const { renderPicture, worldMapSpec } = await pictures();
      await renderPicture(
        worldMapSpec(per, `Exchange servers vulnerable to ${cve}, per country`, `snapshot ${snapshot}: ${total} vulnerable${unplaced ? ` (${unplaced} with no known country, not on the map)` : ""}`),
        out,
      );
      process.stdout.write(`map written to ${safe(out, 300)} (${cve}, ${total} vulnerable servers)\n`);
    });
  });
}

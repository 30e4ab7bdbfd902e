// The campaign timeline as data: validation, window of exposure, time from patch release to fix across three real
// snapshots of a SQLite file, and the census trend chart with the events marked. Expected values are worked out by
// hand from the dates below, not from Vigie's code.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { median, percentile, TimeToFixCounter } from "../../src/census/timeToFix.js";
import { KnowledgeError } from "../../src/knowledge/load.js";
import { eventsForTrend, exposureWindows, filterEvents, loadTimeline, patchDateOf } from "../../src/knowledge/timeline.js";
import { trendLineSpec } from "../../src/report/charts.js";
import { cli, tmp } from "../import/helpers.js";

const CVE = "CVE-2021-26855";

describe("knowledge/timeline", () => {
  const t = loadTimeline();

  it("loads the shipped events, every one sourced, in date order, for the three campaigns", () => {
    expect(t.events.length).toBeGreaterThanOrEqual(20);
    for (const e of t.events) for (const s of e.sources) expect(t.sources.get(s), `${e.id} cites ${s}`).toBeDefined();
    const dates = t.events.map((e) => e.date);
    expect(dates).toEqual([...dates].sort());
    expect(new Set(t.events.map((e) => e.campaign))).toEqual(new Set(["ProxyLogon", "ProxyShell", "ProxyNotShell"]));
  });

  it("holds the ProxyLogon dates and national counts of the record", () => {
    const pl = filterEvents(t.events, { campaign: "proxylogon" });
    const on = (date: string) => pl.filter((e) => e.date === date).map((e) => e.kind);
    expect(on("2021-01-05")).toContain("report");
    expect(on("2021-01-06")).toContain("exploitation");
    expect(on("2021-01-27")).toContain("report");
    expect(on("2021-01-29")).toContain("exploitation");
    expect(on("2021-02-02")).toContain("report");
    expect(on("2021-02-18")).toEqual(["other"]);
    expect(pl.find((e) => e.date === "2021-02-26")?.endDate).toBe("2021-02-27");
    expect(on("2021-03-02")).toContain("patch");
    const count = (cc: string) => pl.find((e) => e.kind === "count" && e.country === cc)?.count;
    expect(count("FR")).toMatchObject({ what: "exposed", value: 15000 });
    expect(count("GB")).toMatchObject({ low: 7000, high: 8000 });
    expect(count("DE")).toMatchObject({ low: 60000, high: 65000 });
    expect(count("US")).toMatchObject({ value: 30000, unit: "organisations" });
  });

  it("computes the window of exposure: 56 days from DEVCORE's report to the patch, 55 exploited before it", () => {
    const w = exposureWindows(t.events);
    // 5 Jan -> 2 Mar 2021: 26 days left in January, 28 in February, 2 in March.
    expect(w.find((x) => x.campaign === "ProxyLogon")).toMatchObject({ firstReport: "2021-01-05", patch: "2021-03-02", daysReportToPatch: 56, daysExploitedBeforePatch: 55 });
    // GTSC saw attacks in early August 2022; the fix came on 8 November 2022.
    expect(w.find((x) => x.campaign === "ProxyNotShell")).toMatchObject({ patch: "2022-11-08", daysExploitedBeforePatch: 99 });
    expect(patchDateOf(t.events, "CVE-2021-31207")).toBe("2021-05-11");
    expect(patchDateOf(t.events, "CVE-2020-0688")).toBeNull();
  });

  it("refuses a bad timeline file whole, naming the file and the field", () => {
    const dir = tmp("timeline-bad");
    const good = { sources: [{ id: "s", title: "t", url: "u" }], events: [{ id: "e", date: "2021-03-02", campaign: "X", cves: [CVE], kind: "patch", title: "p", sources: ["s"] }] };
    writeFileSync(path.join(dir, "a.json"), JSON.stringify({ ...good, events: [{ ...good.events[0], sources: ["nope"] }] }));
    expect(() => loadTimeline(dir)).toThrow(KnowledgeError);
    expect(() => loadTimeline(dir)).toThrow(/a\.json: events\[0\]\.sources\[0\]: unknown source id nope/);
    writeFileSync(path.join(dir, "a.json"), JSON.stringify({ ...good, events: [{ ...good.events[0], kind: "count" }] }));
    expect(() => loadTimeline(dir)).toThrow(/count event needs `count`/);
    writeFileSync(path.join(dir, "a.json"), JSON.stringify(good));
    expect(loadTimeline(dir).events).toHaveLength(1);
  });

  it("picks the events to mark on a trend: the CVE's, from a week before the first snapshot, counts left out", () => {
    const marks = eventsForTrend(t.events, [CVE], "2021-03-01", "2021-03-31");
    expect(marks.map((m) => m.date)).toEqual(["2021-02-26", "2021-03-02", "2021-03-03"]);
    expect(marks[1]!.label).toMatch(/^03-02 Microsoft ships/);
    const spec = trendLineSpec({ cve: CVE, country: null, points: [{ snapshot: "a", date: "2021-03-02", exposed: 1, cves: {} }] }, [CVE], marks) as unknown as { layer: unknown[] };
    expect(spec.layer).toHaveLength(3);
    const plain = trendLineSpec({ cve: CVE, country: null, points: [] }, [CVE]) as unknown as { layer: unknown[] };
    expect(plain.layer).toHaveLength(1);
  });
});

describe("time to fix (pure)", () => {
  it("median and nearest-rank p90", () => {
    expect(median([])).toBeNull();
    expect(median([3])).toBe(3);
    expect(median([7, 14])).toBe(10.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([7, 14], 0.9)).toBe(14);
  });

  it("a fix that does not hold (vulnerable again) is not a fix; out-of-order sightings are refused", () => {
    const c = new TimeToFixCounter(CVE, "2021-03-02");
    c.add({ date: "2021-03-02", server: "a", group: "FR", status: "vulnerable" });
    c.add({ date: "2021-03-09", server: "a", group: "FR", status: "fixed" });
    c.add({ date: "2021-03-16", server: "a", group: "FR", status: "vulnerable" });
    expect(c.result("country").groups[0]).toMatchObject({ seenVulnerable: 1, fixed: 0, stillVulnerable: 1 });
    expect(() => c.add({ date: "2021-03-01", server: "b", group: "FR", status: "fixed" })).toThrow(/out of date order/);
  });
});

function zgrab(ip: string, build: string): string {
  const headers = { server: ["Microsoft-IIS/10.0"], unknown: [{ key: "x_feserver", value: ["EXCH01"] }, { key: "x_owa_version", value: [build] }] };
  return JSON.stringify({ ip, data: { http: { status: "success", result: { response: { status_code: 200, headers, body: "", request: { url: { scheme: "https", host: `${ip}:443`, path: "/owa/" } } } } } } });
}

describe("vigie timeline and the trend chart, on a real store", () => {
  const VULN = "15.1.2176.2"; // 2016 CU19 before the March 2021 SU
  const FIXED = "15.1.2176.9"; // 2016 CU19 Mar21SU
  const FR1 = "193.51.224.1";
  const FR2 = "212.27.48.10";
  const DE1 = "81.169.145.1";
  const DE2 = "217.160.0.1";
  const GB1 = "194.60.1.1";
  const US1 = "8.8.8.8";
  const US2 = "8.8.4.4";
  const SNAPSHOTS: Array<[string, string, string[]]> = [
    ["a", "2021-03-02", [zgrab(FR1, VULN), zgrab(FR2, VULN), zgrab(DE1, VULN), zgrab(DE2, FIXED), zgrab(GB1, VULN), zgrab(US2, VULN)]],
    ["b", "2021-03-09", [zgrab(FR1, FIXED), zgrab(FR2, VULN), zgrab(DE2, FIXED), zgrab(GB1, VULN), zgrab(US1, VULN)]],
    ["c", "2021-03-16", [zgrab(FR1, FIXED), zgrab(FR2, FIXED), zgrab(DE1, FIXED), zgrab(DE2, FIXED), zgrab(GB1, FIXED), zgrab(US1, VULN)]],
  ];
  const dir = tmp("timeline");
  const db = path.join(dir, "v.db");
  const run = (args: string[]) => cli(dir, [...args, "--db", db]);

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    for (const [id, date, lines] of SNAPSHOTS) {
      const f = path.join(dir, `${id}.jsonl`);
      writeFileSync(f, lines.join("\n") + "\n");
      const r = await run(["import", f, "--format", "zgrab2", "--snapshot", id, "--date", date]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);

  it("--fixes: per country, days from the 2 March release to the first snapshot showing each server fixed", async () => {
    const r = await run(["timeline", "--fixes", "--cve", CVE, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { cve: string; patchReleased: string; groups: unknown[] };
    expect(out.patchReleased).toBe("2021-03-02");
    // FR1 fixed on 9 Mar (7 days), FR2 on 16 Mar (14); DE1 missing on 9 Mar, fixed on 16 Mar (14), DE2 patched when
    // first seen; GB1 fixed on 16 Mar (14); US1 still vulnerable; US2 seen once, vulnerable, then gone.
    expect(out.groups).toEqual([
      { key: "FR", seenVulnerable: 2, fixed: 2, stillVulnerable: 0, unknown: 0, gone: 0, patchedWhenFirstSeen: 0, medianDaysToFix: 10.5, p90DaysToFix: 14 },
      { key: "US", seenVulnerable: 2, fixed: 0, stillVulnerable: 1, unknown: 0, gone: 1, patchedWhenFirstSeen: 0, medianDaysToFix: null, p90DaysToFix: null },
      { key: "DE", seenVulnerable: 1, fixed: 1, stillVulnerable: 0, unknown: 0, gone: 0, patchedWhenFirstSeen: 1, medianDaysToFix: 14, p90DaysToFix: 14 },
      { key: "GB", seenVulnerable: 1, fixed: 1, stillVulnerable: 0, unknown: 0, gone: 0, patchedWhenFirstSeen: 0, medianDaysToFix: 14, p90DaysToFix: 14 },
    ]);
    const table = (await run(["timeline", "--fixes", "--cve", CVE, "--by", "asn"])).stdout;
    expect(table).toMatch(/patch released 2021-03-02; 6 servers seen vulnerable/);
  });

  it("prints the timeline, filters by CVE, writes CSV; usage errors exit 2", async () => {
    const text = await run(["timeline", "--cve", "CVE-2022-41082"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/2022-09-28\s+ProxyNotShell\s+disclosure/);
    expect(text.stdout).not.toMatch(/ProxyLogon/);
    const csv = (await run(["timeline", "--campaign", "ProxyShell", "--csv"])).stdout.trim().split("\n");
    expect(csv[0]).toBe("date,end_date,approximate,campaign,kind,country,count,title,cves,sources");
    expect(csv.slice(1).every((l) => l.includes(",ProxyShell,"))).toBe(true);
    expect((await run(["timeline", "--fixes"])).code).toBe(2);
    expect((await run(["timeline", "--fixes", "--cve", "CVE-2020-0688"])).stderr).toMatch(/no patch event/);
    expect((await run(["timeline", "--cve", "nope"])).code).toBe(2);
    expect((await run(["timeline", "--campaign", "Nothing"])).code).toBe(2);
  });

  it("census trend --chart marks the events on the curve (PNG and SVG)", async () => {
    const svgFile = path.join(dir, "trend.svg");
    const r = await run(["census", "trend", "--cve", CVE, "--chart", svgFile]);
    expect(r.code, r.stderr).toBe(0);
    const svg = readFileSync(svgFile, "utf8");
    expect(svg).toMatch(/Microsoft ships out-of-band/);
    expect(svg).toMatch(/ANSSI/);
    const png = path.join(dir, "trend.png");
    expect((await run(["census", "trend", "--cve", CVE, "--chart", png])).code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
    const bare = path.join(dir, "bare.svg");
    expect((await run(["census", "trend", "--cve", CVE, "--chart", bare, "--no-events"])).code).toBe(0);
    expect(readFileSync(bare, "utf8")).not.toMatch(/Microsoft ships/);
  });
});

// `vigie kb update`: imports into a private overlay folder, with the shipped knowledge/ data as the base.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { updateBuilds, updateKev } from "../../src/knowledge/update.js";

const builtinDir = path.resolve("test/fixtures/kb-mini");
let overlayDir: string;
let work: string;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), "vigie-kbupdate-"));
  overlayDir = path.join(work, "overlay");
});

function kevFeed(entries: Array<Record<string, string>>, count = entries.length): string {
  return JSON.stringify({
    title: "CISA Catalog of Known Exploited Vulnerabilities",
    catalogVersion: "2026.11.20",
    dateReleased: "2026-11-20T16:00:00.000Z",
    count,
    vulnerabilities: entries,
  });
}

function kevEntry(cveID: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    cveID,
    vendorProject: "Microsoft",
    product: "Exchange Server",
    vulnerabilityName: `Microsoft Exchange Server issue ${cveID}`,
    dateAdded: "2021-11-03",
    shortDescription: "test",
    requiredAction: "Apply updates per vendor instructions.",
    dueDate: "2021-04-16",
    knownRansomwareCampaignUse: "Known",
    notes: "",
    ...extra,
  };
}

describe("kb update --kev", () => {
  it("reports added, changed and kept; adds KEV-only CVEs judged unknown", () => {
    const file = path.join(work, "kev.json");
    writeFileSync(
      file,
      kevFeed([
        kevEntry("CVE-2021-26855"), // unchanged
        kevEntry("CVE-2020-0688", { dueDate: "2022-05-03", knownRansomwareCampaignUse: "Unknown" }), // changed
        kevEntry("CVE-2021-34473"), // kev was null in the fixture: added
        kevEntry("CVE-2099-12345"), // new Exchange CVE, no fix data
        { ...kevEntry("CVE-2021-44228"), vendorProject: "Apache", product: "Log4j2" }, // not Exchange
      ]),
    );
    const report = updateKev(file, { builtinDir, overlayDir });
    expect(report.added.sort()).toEqual(["CVE-2021-34473", "CVE-2099-12345"]);
    expect(report.changed).toEqual(["CVE-2020-0688"]);
    expect(report.unchanged).toBe(1);
    expect(report.removed).toEqual([]);
    const kb = loadKnowledgeBase({ builtinDir, overlayDir });
    expect(kb.advisories.find((a) => a.id === "CVE-2020-0688")!.kev!.knownRansomwareCampaignUse).toBe("Unknown");
    const fresh = new BuildExplainer(kb).explain("15.1.2176.12").cves.find((c) => c.id === "CVE-2099-12345")!;
    expect(fresh.status).toBe("unknown");
    expect(fresh.reason).toMatch(/no fix data/);
  });

  it("keeps CVEs missing from the feed unless removals are allowed", () => {
    const file = path.join(work, "kev.json");
    writeFileSync(file, kevFeed([kevEntry("CVE-2021-26855")]));
    const kept = updateKev(file, { builtinDir, overlayDir });
    expect(kept.kept).toEqual(["CVE-2020-0688"]);
    expect(loadKnowledgeBase({ builtinDir, overlayDir }).advisories.find((a) => a.id === "CVE-2020-0688")!.kev).not.toBeNull();
    const removed = updateKev(file, { builtinDir, overlayDir, allowRemovals: true });
    expect(removed.removed).toEqual(["CVE-2020-0688"]);
    expect(loadKnowledgeBase({ builtinDir, overlayDir }).advisories.find((a) => a.id === "CVE-2020-0688")!.kev).toBeNull();
  });

  it.each([
    ["not JSON", "{ nope", /not valid JSON/],
    ["wrong shape", JSON.stringify({ hello: 1 }), /not a CISA KEV feed: catalogVersion/],
    ["truncated", kevFeed([kevEntry("CVE-2021-26855")], 1200), /count 1200 but holds 1/],
    ["bad entry", kevFeed([{ ...kevEntry("CVE-2021-26855"), dateAdded: "yesterday" }]), /vulnerabilities\[0\]\.dateAdded/],
  ])("refuses a %s file and keeps the knowledge base intact", (_name, content, message) => {
    const good = path.join(work, "good.json");
    writeFileSync(good, kevFeed([kevEntry("CVE-2021-26855"), kevEntry("CVE-2020-0688"), kevEntry("CVE-2021-34473")]));
    updateKev(good, { builtinDir, overlayDir });
    const before = readFileSync(path.join(overlayDir, "kev.json"), "utf8");
    const bad = path.join(work, "bad.json");
    writeFileSync(bad, content);
    expect(() => updateKev(bad, { builtinDir, overlayDir })).toThrow(message);
    expect(readFileSync(path.join(overlayDir, "kev.json"), "utf8")).toBe(before);
  });

  it("dry run writes nothing", () => {
    const file = path.join(work, "kev.json");
    writeFileSync(file, kevFeed([kevEntry("CVE-2021-26855")]));
    const r = updateKev(file, { builtinDir, overlayDir, dryRun: true });
    expect(r.written).toBe(false);
    expect(existsSync(path.join(overlayDir, "kev.json"))).toBe(false);
  });
});

describe("kb update --builds", () => {
  it("imports a CSV: new builds are known afterwards; a known build described differently is a conflict, kept", () => {
    const file = path.join(work, "builds.csv");
    writeFileSync(
      file,
      [
        "product,build,line,update,kind,releaseDate,kb",
        "2016,15.1.2176.14,CU19,May21SU,su,2021-05-11,KB5003435",
        "Exchange Server 2016,15.1.2176.12,CU19,Apr21SU,su,2021-04-13,KB5001780",
        "2016,15.1.2176.9,CU19,Mar21SU,su,2021-03-02,KB5000871",
      ].join("\n"),
    );
    const r = updateBuilds(file, { builtinDir, overlayDir });
    expect(r.added).toEqual(["15.1.2176.14 (2016 CU19 May21SU)"]);
    // kb-mini's 15.1.2176.12 has KB5001779 (its source "t"); the file offers KB5001780.
    expect(r.conflicts).toEqual([
      { build: "15.1.2176.12", product: "2016", field: "kb", current: "KB5001779", currentSources: ["t"], offered: "KB5001780", accepted: false },
    ]);
    expect(r.changed).toEqual([]);
    expect(r.unchanged).toBe(1);
    expect(r.removed).toEqual([]);
    const kb = loadKnowledgeBase({ builtinDir, overlayDir });
    const e = new BuildExplainer(kb).explain("15.1.2176.14");
    expect(e.update).toBe("May21SU");
    expect(e.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe("patched");
    expect(kb.byBuild.get("15.1.2176.12")!.kb).toBe("KB5001779");
    expect(kb.byBuild.get("15.1.2176.12")!.sources.map((s) => s.id)).toEqual(["t"]);
    expect(kb.byBuild.get("15.1.2176.14")!.sources[0]!.url).toContain("builds.csv");
  });

  it("--accept-changes: the file's value replaces the conflicting field, the rest of the record stays", () => {
    const file = path.join(work, "builds.json");
    // No kb given: not an offer to remove it. The date differs: a conflict, accepted.
    writeFileSync(file, JSON.stringify([{ product: "2016", build: "15.1.2176.12", line: "CU19", update: "Apr21SU", kind: "su", releaseDate: "2021-04-14" }]));
    const r = updateBuilds(file, { builtinDir, overlayDir, acceptChanges: true });
    expect(r.conflicts).toEqual([
      { build: "15.1.2176.12", product: "2016", field: "releaseDate", current: "2021-04-13", currentSources: ["t"], offered: "2021-04-14", accepted: true },
    ]);
    expect(r.changed).toEqual(["15.1.2176.12 (2016 releaseDate 2021-04-13 -> 2021-04-14)"]);
    const b = loadKnowledgeBase({ builtinDir, overlayDir }).byBuild.get("15.1.2176.12")!;
    expect(b.releaseDate).toBe("2021-04-14");
    expect(b.kb).toBe("KB5001779");
    expect(b.sources.map((s) => s.url)).toEqual([`file://${file}`]);
    expect(b.note).toMatch(/releaseDate was 2021-04-13 \(sources: t\)/);
  });

  it("imports a JSON array of rows", () => {
    const file = path.join(work, "builds.json");
    writeFileSync(file, JSON.stringify([{ product: "2016", build: "15.1.2242.8", line: "CU20", update: "Apr21SU", kind: "su", releaseDate: "2021-04-13" }]));
    expect(updateBuilds(file, { builtinDir, overlayDir }).added).toHaveLength(1);
    expect(loadKnowledgeBase({ builtinDir, overlayDir }).byBuild.has("15.1.2242.8")).toBe(true);
  });

  it("refuses a file with bad rows, naming each line, and writes nothing", () => {
    const file = path.join(work, "bad.csv");
    writeFileSync(
      file,
      [
        "product,build,line,update,kind,releaseDate",
        "2016,15.1.2176.14,CU19,May21SU,su,2021-05-11",
        "2016,15.1.2176,CU19,May21SU,su,2021-05-11",
        "2031,15.9.1.1,CU1,CU1,cu,2031-01-01",
        "2016,15.2.1.1,CU1,CU1,cu,2021-01-01",
        '2016,"15.1.2176.15,CU19,x,su,2021-05-11',
      ].join("\n"),
    );
    let message = "";
    try {
      updateBuilds(file, { builtinDir, overlayDir });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/4 invalid row/);
    expect(message).toMatch(/bad\.csv:3: build/);
    expect(message).toMatch(/bad\.csv:4: product "2031"/);
    expect(message).toMatch(/bad\.csv:5: build 15\.2\.1\.1 is not a 2016 build/);
    expect(message).toMatch(/bad\.csv:6: unterminated/);
    expect(existsSync(overlayDir)).toBe(false);
  });

  it("refuses a file missing required columns", () => {
    const file = path.join(work, "cols.csv");
    writeFileSync(file, "build,date\n15.1.1.1,2020-01-01\n");
    expect(() => updateBuilds(file, { builtinDir, overlayDir })).toThrow(/lacks column\(s\) product, line, update, kind, releaseDate/);
  });

  it("keeps the shipped data: an overlay never removes a build", () => {
    const dir = path.join(work, "kb");
    cpSync(builtinDir, dir, { recursive: true });
    const file = path.join(work, "one.csv");
    writeFileSync(file, "product,build,line,update,kind,releaseDate\n2016,15.1.2242.10,CU20,May21SU,su,2021-05-11\n");
    const r = updateBuilds(file, { builtinDir: dir, overlayDir });
    expect(r.kept.length).toBe(loadKnowledgeBase({ builtinDir: dir, overlayDir: null }).builds.length);
    expect(loadKnowledgeBase({ builtinDir: dir, overlayDir }).builds.length).toBe(r.kept.length + 1);
  });
});

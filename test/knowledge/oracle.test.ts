// An oracle independent of the code under test: verdicts derived by hand from Microsoft's build pages and
// advisories (test/fixtures/oracle/verdicts.csv, every row with its sources), checked against the shipped
// knowledge base through the same path `vigie kb explain` takes. Nothing here reads knowledge/ to decide
// what the answer should be.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { parseCsvLine } from "../../src/util/csv.js";
import { FLEET_ORACLE_CVES, loadFleetOracle } from "../helpers/fleetOracle.js";

const kb = loadKnowledgeBase({ overlayDir: null });
const explainer = new BuildExplainer(kb);
const SOURCE_KEYS = new Set(["MSBN", "GEBN", "CSSBV", "CSSMS", "CVE", "CVE26857", "KB4490060", "EP", "EPLEARN", "LC", "I396"]);

interface OracleRow {
  build: string;
  cve: string;
  expected: string;
  why: string;
  sources: string[];
  reasonContains: string;
  line: number;
}

const lines = readFileSync("test/fixtures/oracle/verdicts.csv", "utf8").trim().split("\n");
const header = parseCsvLine(lines[0]!);
const rows: OracleRow[] = lines.slice(1).map((text, i) => {
  const cells = parseCsvLine(text);
  const get = (name: string): string => cells[header.indexOf(name)] ?? "";
  return {
    build: get("build"),
    cve: get("cve"),
    expected: get("expected"),
    why: get("why"),
    sources: get("sources").split(";").filter(Boolean),
    reasonContains: get("reason_contains"),
    line: i + 2,
  };
});

describe("hand-derived verdict oracle", () => {
  it("is well formed: every row has a known verdict, a reason and sources", () => {
    expect(rows.length).toBeGreaterThan(150);
    const seen = new Set<string>();
    for (const r of rows) {
      expect(["vulnerable", "patched", "not_affected", "unknown"], `line ${r.line}`).toContain(r.expected);
      expect(r.why.length, `line ${r.line}`).toBeGreaterThan(10);
      expect(r.sources.length, `line ${r.line}`).toBeGreaterThan(0);
      for (const s of r.sources) expect(SOURCE_KEYS.has(s), `line ${r.line}: source ${s}`).toBe(true);
      const k = `${r.build} ${r.cve}`;
      expect(seen.has(k), `line ${r.line}: ${k} twice`).toBe(false);
      seen.add(k);
    }
  });

  it("covers the cases the issue names", () => {
    const has = (build: string, cve: string, expected: string): boolean =>
      rows.some((r) => r.build === build && r.cve === cve && r.expected === expected);
    expect(has("15.2.858.2", "CVE-2021-26855", "patched")).toBe(true);
    expect(has("15.2.858.2", "CVE-2021-34473", "vulnerable")).toBe(true);
    expect(has("14.3.513.0", "CVE-2022-41040", "unknown")).toBe(true);
    expect(has("15.1.1847.3", "CVE-2024-21410", "vulnerable")).toBe(true);
    expect(has("15.1.1979.8", "CVE-2020-0688", "patched")).toBe(true);
    expect(has("15.2.858", "CVE-2021-26855", "patched")).toBe(true);
    for (const cve of ["CVE-2021-26855", "CVE-2021-34473", "CVE-2022-41040", "CVE-2020-0688", "CVE-2024-21410"]) {
      const statuses = new Set(rows.filter((r) => r.cve === cve).map((r) => r.expected));
      expect(statuses.has("vulnerable") && statuses.has("patched"), cve).toBe(true);
    }
  });

  it.each(rows.map((r) => [`${r.build} ${r.cve}`, r] as const))("%s", (_name, r) => {
    const v = explainer.explain(r.build).cves.find((c) => c.id === r.cve);
    expect(v, `${r.cve} is judged`).toBeDefined();
    expect(v!.status, `line ${r.line}: ${r.why} (${r.sources.join(", ")}); Vigie says: ${v!.reason}`).toBe(r.expected);
    if (r.reasonContains) expect(v!.reason).toContain(r.reasonContains);
  });
});

// Identity facts, written by hand from Microsoft's ExchangeBuildNumbers.csv and build-numbers page
// (test/fixtures/oracle/builds.csv; keys in its README): product, CU, update, release date and KB of each build,
// explained from the form given in `input` (long format included). The per-build tests of shippedData.test.ts
// check consistency with knowledge/; these check knowledge/ itself.
const BUILD_SOURCES = new Set(["GEBN", "MSBN19"]);
const buildLines = readFileSync("test/fixtures/oracle/builds.csv", "utf8").trim().split("\n");
const buildHeader = parseCsvLine(buildLines[0]!);
const buildRows = buildLines.slice(1).map((text, i) => {
  const cells = parseCsvLine(text);
  const get = (name: string): string => cells[buildHeader.indexOf(name)] ?? "";
  return {
    build: get("build"),
    input: get("input"),
    product: get("product"),
    cu: get("cu"),
    update: get("update"),
    releaseDate: get("release_date"),
    kb: get("kb") || null,
    sources: get("sources").split(";").filter(Boolean),
    line: i + 2,
  };
});

describe("hand-derived build identity oracle", () => {
  it("is well formed and spans every product and kind of update", () => {
    expect(buildRows.length).toBeGreaterThan(30);
    for (const r of buildRows) for (const s of r.sources) expect(BUILD_SOURCES.has(s), `line ${r.line}: ${s}`).toBe(true);
    expect(new Set(buildRows.map((r) => r.product)).size).toBe(5);
    for (const kind of [/SU$/, /SUv2$/, /HU$/, /^RU\d+$/, /^RU\d+v2$/, /^CU\d+$/, /^SP\d$/, /^RTM$/]) {
      expect(buildRows.some((r) => kind.test(r.update)), String(kind)).toBe(true);
    }
  });

  it.each(buildRows.map((r) => [r.input, r] as const))("%s", (_input, r) => {
    const e = explainer.explain(r.input);
    expect({ build: e.build, precision: e.precision, product: e.product, cu: e.cu, update: e.update, releaseDate: e.releaseDate }, `line ${r.line} (${r.sources.join(", ")})`).toEqual({
      build: r.build,
      precision: "exact",
      product: r.product,
      cu: r.cu,
      update: r.update,
      releaseDate: r.releaseDate,
    });
    expect(kb.byBuild.get(r.build)?.kb ?? null, `line ${r.line}: KB`).toBe(r.kb);
  });
});

// The verdict table of the scan test's fleet (test/fixtures/oracle/fleet.csv, one row per build, ten CVEs each),
// checked here against `vigie kb explain`'s path as well, update name included (host records carry no update).
const fleetRows = loadFleetOracle();

describe("hand-derived verdicts of the emulated fleet's builds", () => {
  it("spans every product and every verdict", () => {
    expect(fleetRows.length).toBeGreaterThan(30);
    expect(new Set(fleetRows.map((r) => r.product)).size).toBe(5);
    expect(new Set(fleetRows.map((r) => r.build)).size).toBe(fleetRows.length);
    const statuses = new Set(fleetRows.flatMap((r) => Object.values(r.verdicts)));
    expect([...statuses].sort()).toEqual(["not_affected", "patched", "unknown", "vulnerable"]);
  });

  it.each(fleetRows.map((r) => [r.build, r] as const))("%s", (_build, r) => {
    const e = explainer.explain(r.build);
    const where = `fleet.csv line ${r.line}: ${r.why} (${r.sources.join(", ")})`;
    expect({ precision: e.precision, product: e.product, cu: e.cu, update: e.update }, where).toEqual({ precision: "exact", product: r.product, cu: r.cu, update: r.update });
    const got = Object.fromEntries(FLEET_ORACLE_CVES.map((cve) => [cve, e.cves.find((c) => c.id === cve)?.status ?? "not judged"]));
    expect(got, where).toEqual(r.verdicts);
  });
});

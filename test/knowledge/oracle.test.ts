// An oracle independent of the code under test: verdicts derived by hand from Microsoft's build pages and
// advisories (test/fixtures/oracle/verdicts.csv, every row with its sources), checked against the shipped
// knowledge base through the same path `vigie kb explain` takes. Nothing here reads knowledge/ to decide
// what the answer should be.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { parseCsvLine } from "../../src/util/csv.js";

const explainer = new BuildExplainer(loadKnowledgeBase({ overlayDir: null }));
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

// The hand-derived verdict table of the builds the scan test's emulated fleet serves
// (test/fixtures/oracle/fleet.csv; columns and source keys in test/fixtures/oracle/README.md).
// Written from Microsoft's build list and advisories, never from knowledge/ or Vigie's code.
import { readFileSync } from "node:fs";
import { parseCsvLine } from "../../src/util/csv.js";

export const FLEET_ORACLE_CVES = [
  "CVE-2021-26855",
  "CVE-2021-26857",
  "CVE-2021-26858",
  "CVE-2021-27065",
  "CVE-2021-34473",
  "CVE-2021-34523",
  "CVE-2021-31207",
  "CVE-2022-41040",
  "CVE-2022-41082",
  "CVE-2020-0688",
] as const;
export const FLEET_ORACLE_SOURCES = new Set(["GEBN", "CSSBV", "CSSCVE", "CSSMS", "CVE", "CVE26857", "LC"]);
const STATUSES = new Set(["vulnerable", "patched", "not_affected", "unknown"]);

export interface FleetOracleRow {
  build: string;
  product: string;
  cu: string;
  update: string;
  /** Expected status per CVE of FLEET_ORACLE_CVES. */
  verdicts: Record<string, string>;
  why: string;
  sources: string[];
  line: number;
}

/** Reads and checks the table: every CVE column filled with a known status, a reason, known source keys. */
export function loadFleetOracle(file = "test/fixtures/oracle/fleet.csv"): FleetOracleRow[] {
  const lines = readFileSync(file, "utf8").trim().split("\n");
  const header = parseCsvLine(lines[0]!);
  for (const cve of FLEET_ORACLE_CVES) if (!header.includes(cve)) throw new Error(`${file}: no column ${cve}`);
  return lines.slice(1).map((text, i) => {
    const cells = parseCsvLine(text);
    const line = i + 2;
    const get = (name: string): string => cells[header.indexOf(name)] ?? "";
    const verdicts: Record<string, string> = {};
    for (const cve of FLEET_ORACLE_CVES) {
      const v = get(cve);
      if (!STATUSES.has(v)) throw new Error(`${file}:${line}: ${cve} "${v}" is not a verdict`);
      verdicts[cve] = v;
    }
    const sources = get("sources").split(";").filter(Boolean);
    const unknown = sources.filter((s) => !FLEET_ORACLE_SOURCES.has(s));
    if (sources.length === 0 || unknown.length > 0) throw new Error(`${file}:${line}: sources "${get("sources")}"`);
    if (get("why").length < 20) throw new Error(`${file}:${line}: no reasoning`);
    return { build: get("build"), product: get("product"), cu: get("cu"), update: get("update"), verdicts, why: get("why"), sources, line };
  });
}

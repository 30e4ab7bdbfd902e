// Page-only evidence (issue 9 item 1): an internet-scan record of an Exchange 2010 OWA logon page without any
// Exchange header is counted, with its confidence; a phishing copy and a portal linking another host's /owa/,
// Roundcube, an IIS default page and a honeypot (2016 page on IIS 7.5) are not; a 2016 server on Windows Server
// 2012 (IIS 8.0) with X-OWA-Version and X-FEServer is. Real `vigie import` + `vigie census --json` processes on
// a real SQLite file, and the same on PostgreSQL. Fixtures: test/fixtures/pages/README.md. Expected numbers
// are written by hand from the fixture's README table, not computed by Vigie.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, tmp } from "../import/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { jsonLines } from "../helpers/cli.js";
import { openStore } from "../../src/store/open.js";
import { censusJson } from "../../src/serve/query.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";

const kb = loadKnowledgeBase({ overlayDir: null });

const FILE = path.resolve("test/fixtures/pages/page-only.jsonl");
const CVE = "CVE-2021-26855";

interface Group {
  key: string;
  exposed: number;
  cves: Record<string, { vulnerable: number; patched: number; unknown: number }>;
  confidence: { high: number; medium: number; low: number };
}

async function censusOf(dir: string, db: string, extra: string[] = []): Promise<Group[]> {
  const r = await cli(dir, ["census", "--snapshot", "s", "--by", "country", "--cve", CVE, "--json", "--db", db, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { groups: Group[] }).groups;
}

// FR: 193.51.224.1 (2010 SP3 page only, IIS 7.5: low) and 212.27.48.10 (2016 CU19 Mar21SU on IIS 8.0 with
// X-OWA-Version: medium, patched for ProxyLogon); DE: 81.169.145.1 (2010 page only, IIS 8.5: low).
// Exchange 2010 is not affected by CVE-2021-26855, so it is in none of that CVE's three counts.
const ALL: Group[] = [
  { key: "FR", exposed: 2, cves: { [CVE]: { vulnerable: 0, patched: 1, unknown: 0 } }, confidence: { high: 0, medium: 1, low: 1 } },
  { key: "DE", exposed: 1, cves: { [CVE]: { vulnerable: 0, patched: 0, unknown: 0 } }, confidence: { high: 0, medium: 0, low: 1 } },
];
const SURE: Group[] = [{ key: "FR", exposed: 1, cves: { [CVE]: { vulnerable: 0, patched: 1, unknown: 0 } }, confidence: { high: 0, medium: 1, low: 0 } }];

function checks(engine: string, dbOf: () => string, dir: string): void {
  describe(`page-only Exchange in the census (${engine})`, () => {
    beforeAll(async () => {
      const r = await cli(dir, ["import", FILE, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "s", "--db", dbOf()]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/records 8, observations 8, Exchange 3\b/);
    }, 120_000);

    it("counts the two Exchange 2010 logon pages (low) and the 2016 server on IIS 8.0 (medium), nothing else", async () => {
      const groups = await censusOf(dir, dbOf());
      expect(groups.map(({ key, exposed, cves, confidence }) => ({ key, exposed, cves, confidence }))).toEqual(ALL);
    });

    it("--min-confidence medium leaves the page-only servers out; high leaves everything out", async () => {
      expect((await censusOf(dir, dbOf(), ["--min-confidence", "medium"])).map(({ key, exposed, cves, confidence }) => ({ key, exposed, cves, confidence }))).toEqual(SURE);
      expect(await censusOf(dir, dbOf(), ["--min-confidence", "high"])).toEqual([]);
      const bad = await cli(dir, ["census", "--min-confidence", "sure", "--db", dbOf()]);
      expect(bad.code).toBe(2);
    });

    it("the CSV and the table carry the confidence split", async () => {
      const csv = (await cli(dir, ["census", "--snapshot", "s", "--by", "country", "--cve", CVE, "--csv", "--db", dbOf()])).stdout.trim().split("\n");
      expect(csv[0]).toMatch(/,confidence_high,confidence_medium,confidence_low,out_of_support,out_of_support_pct$/);
      // Exchange 2010 (end of support 2020-10-13) in a 2021-03-09 snapshot: out of support; 2016: supported.
      expect(csv.slice(1)).toEqual([`FR,2,${CVE},0,0,1,50,0,0,0,1,1,1,50`, `DE,1,${CVE},0,0,0,0,0,0,0,0,1,1,100`]);
      const table = (await cli(dir, ["census", "--snapshot", "s", "--by", "country", "--cve", CVE, "--db", dbOf()])).stdout;
      expect(table).toMatch(/FR\s+2\s+1 \(50%\)\s+CVE-2021-26855.*0\/1\/1/);
      expect(table).toContain("identification confidence: 0 high, 1 medium, 2 low");
    });

    it("the API's census (GET /api/census?min_confidence=) and host list carry the same counts and confidences", async () => {
      const store = await openStore(dbOf());
      try {
        const all = (await censusJson(store, kb, undefined, "s", "country", undefined, CVE)) as { groups: Array<Group & { endOfSupport: unknown }> };
        expect(all.groups.map(({ key, exposed, cves, confidence }) => ({ key, exposed, cves, confidence }))).toEqual(ALL);
        // The two Exchange 2010 logon pages are out of support on 2021-03-09; the 2016 server is supported.
        expect(all.groups.map((g) => [g.key, g.endOfSupport])).toEqual([
          ["FR", { outOfSupport: 1, supported: 1, unknown: 0 }],
          ["DE", { outOfSupport: 1, supported: 0, unknown: 0 }],
        ]);
        const sure = (await censusJson(store, kb, undefined, "s", "country", undefined, CVE, "medium")) as { groups: Group[] };
        expect(sure.groups.map(({ key, exposed, cves, confidence }) => ({ key, exposed, cves, confidence }))).toEqual(SURE);
        const rows = await store.hostList.page({ snapshot: "s", sort: "ip", order: "asc", limit: 20, offset: 0 });
        expect(Object.fromEntries(rows.map((r) => [r.ip, r.confidence]))).toEqual({
          "193.51.224.1": "low",
          "81.169.145.1": "low",
          "212.27.48.10": "medium",
          "203.0.113.10": null,
          "203.0.113.11": null,
          "203.0.113.12": null,
          "203.0.113.13": null,
          "203.0.113.14": null,
        });
      } finally {
        await store.close();
      }
    });

    it("vigie hosts --json and --csv say how sure each identification is and why", async () => {
      const hosts = jsonLines<{ ip: string; product: string | null; build: string | null; confidence: string | null; confidenceReason: string | null }>(
        (await cli(dir, ["hosts", "--snapshot", "s", "--json", "--db", dbOf()])).stdout,
      );
      const by = new Map(hosts.map((h) => [h.ip, h]));
      expect(by.get("193.51.224.1")).toMatchObject({ product: "Exchange Server 2010", build: "14.3.123.3", confidence: "low" });
      expect(by.get("193.51.224.1")!.confidenceReason).toMatch(/^single answer: OWA logon page only \(build path 14\.3\.123\.3 of Exchange Server 2010, IIS 7\.5, logon form\)/);
      expect(by.get("212.27.48.10")).toMatchObject({ product: "Exchange Server 2016", build: "15.1.2176.9", confidence: "medium" });
      expect(by.get("203.0.113.10")).toMatchObject({ product: null, confidence: null });
      expect(by.get("203.0.113.10")!.confidenceReason).toContain("OWA resources on another host (webmail.ntu.edu.sg)");
      expect(by.get("203.0.113.11")!.confidenceReason).toContain("another host (mail.other.example)");
      expect(by.get("203.0.113.12")!.confidenceReason).toContain("another webmail (Roundcube)");
      expect(by.get("203.0.113.13")).toMatchObject({ product: null, confidence: null });
      expect(by.get("203.0.113.14")!.confidenceReason).toContain("answers as IIS 7.5: an imitation");
      const csv = (await cli(dir, ["hosts", "--snapshot", "s", "--csv", "--exchange", "--db", dbOf()])).stdout.trim().split("\n");
      expect(csv[0]).toMatch(/,confidence,confidence_reason,end_of_support,out_of_support$/);
      expect(csv.find((l) => l.startsWith("193.51.224.1,"))).toMatch(/,low,"single answer: OWA logon page only \(build path 14\.3\.123\.3 of Exchange Server 2010, IIS 7\.5, logon form\); nothing from Exchange.s own endpoints",2020-10-13,true$/);
    });
  });
}

const sqliteDir = tmp("pageonly");
checks("SQLite", () => path.join(sqliteDir, "v.db"), sqliteDir);

let pg: TestDatabase | undefined;
const pgDir = tmp("pageonly-pg");
beforeAll(async () => {
  pg = await createTestDatabase("pageonly");
}, 60_000);
afterAll(async () => {
  await pg?.drop();
});
checks("PostgreSQL", () => pg!.url, pgDir);

// Issue 12's done-when: the same two imports into SQLite and into PostgreSQL give byte-identical
// `vigie census --json` (by country, asn, cve) and `vigie census diff --json`. Real zgrab2 files
// (test/fixtures/import/zgrab2, two days), the built CLI, a real SQLite file and a real PostgreSQL database.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { cli, tmp } from "../import/helpers.js";

const DAYS = [
  { snapshot: "d1", date: "2021-03-09", file: path.resolve("test/fixtures/import/zgrab2/2021-03-09.jsonl.gz") },
  { snapshot: "d2", date: "2021-04-13", file: path.resolve("test/fixtures/import/zgrab2/2021-04-13.jsonl.gz") },
];

describe("census on SQLite and PostgreSQL", () => {
  let dir: string;
  let pgdb: TestDatabase;
  let stores: string[];

  beforeAll(async () => {
    dir = tmp("engines");
    pgdb = await createTestDatabase("census");
    stores = [path.join(dir, "vigie.db"), pgdb.url];
    for (const db of stores) {
      for (const d of DAYS) {
        const r = await cli(dir, ["import", d.file, "--format", "zgrab2", "--date", d.date, "--snapshot", d.snapshot, "--db", db]);
        expect(r.code, r.stderr).toBe(0);
      }
    }
  }, 240_000);

  afterAll(async () => {
    await pgdb?.drop();
  });

  const both = async (args: string[]): Promise<[string, string]> => {
    const [a, b] = await Promise.all(stores.map((db) => cli(dir, [...args, "--db", db])));
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);
    return [a!.stdout, b!.stdout];
  };

  for (const by of ["country", "asn", "cve"]) {
    for (const snapshot of ["d1", "d2"]) {
      it(`census --by ${by} --json, snapshot ${snapshot}: the same bytes`, async () => {
        const [lite, pg] = await both(["census", "--snapshot", snapshot, "--by", by, "--json"]);
        const c = JSON.parse(lite) as { groups: Array<{ exposed: number }> };
        expect(c.groups.length).toBeGreaterThan(1);
        expect(c.groups.reduce((n, g) => n + g.exposed, 0)).toBeGreaterThan(100);
        expect(pg).toBe(lite);
      });
    }
    it(`census diff d1 d2 --by ${by} --json: the same bytes, with servers appeared, disappeared and newly patched`, async () => {
      const [lite, pg] = await both(["census", "diff", "d1", "d2", "--by", by, "--json"]);
      const d = JSON.parse(lite) as { groups: Array<{ appeared: number; disappeared: number }> };
      expect(d.groups.reduce((n, g) => n + g.appeared, 0)).toBeGreaterThan(0);
      expect(d.groups.reduce((n, g) => n + g.disappeared, 0)).toBeGreaterThan(0);
      expect(lite).toMatch(/"newlyPatched":[1-9]/);
      expect(pg).toBe(lite);
    });
  }

  it("census --by country --country DE --cve CVE-2021-26855 --json and census trend --json: the same bytes", async () => {
    const [a, b] = await both(["census", "--by", "country", "--country", "DE", "--cve", "CVE-2021-26855", "--json"]);
    expect(b).toBe(a);
    const [ta, tb] = await both(["census", "trend", "--json"]);
    expect(JSON.parse(ta)).toBeTruthy();
    expect(tb).toBe(ta);
  });
});

// `vigie import` on real files and a real SQLite file: ground truth, corrupted lines, re-import, gzip, stdin.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cli, generate, tmp } from "./helpers.js";

interface CensusJson {
  snapshot: string;
  by: string;
  groups: Array<{ key: string; exposed: number; cves: Record<string, { vulnerable: number; patched: number; unknown: number }> }>;
}

const censusJson = (stdout: string): CensusJson => JSON.parse(stdout) as CensusJson;

describe("vigie import zgrab2 (generated file with ground truth)", () => {
  const dir = tmp("imp");
  const db = path.join(dir, "v.db");
  const { file, truth } = generate(dir, 1500, ["--seed", "7"]);

  it("imports, and census per country and per CVE equals the generator's ground truth", async () => {
    const r = await cli(dir, ["import", file, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "s1", "--db", db, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ snapshot: "s1", lines: 1500, records: 1500, malformed: 0, reimport: false });

    const byCountry = await cli(dir, ["census", "--snapshot", "s1", "--by", "country", "--json", "--db", db]);
    expect(byCountry.code, byCountry.stderr).toBe(0);
    const c = censusJson(byCountry.stdout);
    expect(Object.keys(c)).toEqual(["snapshot", "by", "groups"]);
    // The shape, with the triage counts beside them (no report attached here: all zero).
    expect(Object.keys(c.groups[0]!)).toEqual(["key", "exposed", "cves", "triage", "confidence", "endOfSupport"]);
    expect(c.groups.every((g) => JSON.stringify((g as { triage?: unknown }).triage) === '{"compromised":0,"suspicious":0,"clean":0}')).toBe(true);
    const got = Object.fromEntries(c.groups.map((g) => [g.key, g]));
    expect(Object.keys(got).sort()).toEqual(Object.keys(truth.byCountry).sort());
    for (const [cc, want] of Object.entries(truth.byCountry)) {
      expect(got[cc]!.exposed, cc).toBe(want.exposed);
      expect(got[cc]!.cves, cc).toEqual(want.cves);
    }
    for (const k of Object.keys(got)) expect(k).toMatch(/^[A-Z]{2}$/);

    const byCve = censusJson((await cli(dir, ["census", "--snapshot", "s1", "--by", "cve", "--json", "--db", db])).stdout);
    for (const g of byCve.groups) {
      expect(g.exposed).toBe(truth.exchangeServers);
      expect(g.cves[g.key]).toEqual(truth.byCve[g.key] ?? { vulnerable: 0, patched: 0, unknown: 0 });
    }
  });

  it("re-importing the same file into the same snapshot does not double-count", async () => {
    const before = (await cli(dir, ["census", "--snapshot", "s1", "--by", "asn", "--json", "--db", db])).stdout;
    const r = await cli(dir, ["import", file, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "s1", "--db", db, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ reimport: true, records: 1500 });
    const after = (await cli(dir, ["census", "--snapshot", "s1", "--by", "asn", "--json", "--db", db])).stdout;
    expect(after).toBe(before);
    const asn = censusJson(after);
    expect(asn.groups.reduce((n, g) => n + g.exposed, 0)).toBe(truth.exchangeServers);
    for (const g of asn.groups) expect(g.key).toMatch(/^(AS\d+|unknown)$/);
  });

  it("reads gzip and stdin, giving the same census", async () => {
    const gz = path.join(dir, "copy.jsonl.gz");
    writeFileSync(gz, gzipSync(readFileSync(file)));
    const a = await cli(dir, ["import", gz, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "gz", "--db", db, "--json"]);
    expect(a.code, a.stderr).toBe(0);
    const b = await cli(dir, ["import", "-", "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "stdin", "--db", db, "--json"], readFileSync(file, "utf8"));
    expect(b.code, b.stderr).toBe(0);
    const census = async (s: string) => censusJson((await cli(dir, ["census", "--snapshot", s, "--by", "country", "--json", "--db", db])).stdout).groups;
    const want = await census("s1");
    expect(await census("gz")).toEqual(want);
    expect(await census("stdin")).toEqual(want);
  });
});

describe("vigie import: corrupted lines", () => {
  it("keeps every valid record, names every bad line with its number and reason, counts them", async () => {
    const dir = tmp("corrupt");
    const db = path.join(dir, "v.db");
    const { file, truth } = generate(dir, 800, ["--seed", "3", "--corrupt", "0.03"]);
    // Add more kinds of damage: binary garbage, a non-object, a record with a bad IP.
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
    const extraBad = new Map<number, RegExp>();
    lines.splice(10, 0, "\u0000\u0001garbage");
    lines.splice(20, 0, "[1,2,3]");
    lines.splice(30, 0, JSON.stringify({ ip: "300.1.1.1", data: {} }));
    const corrupted = new Set(truth.malformedLines.map((n) => n + (n > 10 ? 1 : 0) + (n > 19 ? 1 : 0) + (n > 28 ? 1 : 0)));
    extraBad.set(11, /not JSON/).set(21, /not a JSON object/).set(31, /not an IP address/);
    for (const n of extraBad.keys()) corrupted.add(n);
    const damaged = path.join(dir, "damaged.jsonl");
    writeFileSync(damaged, lines.join("\n") + "\n");
    expect(truth.malformedLines.length).toBeGreaterThan(5);

    const r = await cli(dir, ["import", damaged, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "d", "--db", db, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { lines: number; records: number; malformed: number };
    expect(summary.lines).toBe(lines.length);
    expect(summary.malformed).toBe(corrupted.size);
    expect(summary.records).toBe(lines.length - corrupted.size);
    const named = [...r.stderr.matchAll(/damaged\.jsonl:(\d+): skipped: (.*)/g)].map((m) => [Number(m[1]), m[2]!] as const);
    expect(new Set(named.map(([n]) => n))).toEqual(corrupted);
    for (const [n, re] of extraBad) expect(named.find(([x]) => x === n)![1]).toMatch(re);

    // Every valid record is kept: the hosts saved equal the good lines' observations.
    const clean = path.join(dir, "clean.jsonl");
    writeFileSync(clean, lines.filter((_, i) => !corrupted.has(i + 1)).join("\n") + "\n");
    const ok = await cli(dir, ["import", clean, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "clean", "--db", db, "--json"]);
    const census = async (s: string) => (await cli(dir, ["census", "--snapshot", s, "--by", "country", "--json", "--db", db])).stdout.replace(`"snapshot":"${s}"`, "");
    expect(JSON.parse(ok.stdout).records).toBe(summary.records);
    expect(await census("d")).toBe(await census("clean"));
  });

  it("usage errors exit 2: unknown format, missing file, bad date", async () => {
    const dir = tmp("usage");
    expect((await cli(dir, ["import", "x.jsonl", "--format", "csv"])).code).toBe(2);
    expect((await cli(dir, ["import", path.join(dir, "missing.jsonl"), "--format", "zgrab2"])).code).toBe(2);
    const f = path.join(dir, "e.jsonl");
    writeFileSync(f, "");
    const r = await cli(dir, ["import", f, "--format", "zgrab2", "--date", "9 March"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--date/);
  });
});

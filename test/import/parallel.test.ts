// `vigie import` with parser threads against the same import on the main thread only (--workers 0): the same
// stored results, byte for byte, on a real SQLite file and a real PostgreSQL database; damaged records in the middle
// (cut records, garbage, a 17 MB line, CRLF endings) are named with their line numbers and their neighbours are kept. The
// ground truth comes from the generator, not from the code under test.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { cli, generate, tmp } from "./helpers.js";

const dir = tmp("parallel");
const { file: generated, truth } = generate(dir, 2500, ["--seed", "11"]);
// Damage inserted between the generated records, so that every generated record is still there and the census must
// equal the generator's truth: a record cut in half (a truncated transfer), garbage, a non-object, a bad address, a
// line over the 16 MiB limit (read across many chunks), and CRLF line endings on some records.
const records = readFileSync(generated, "utf8").split("\n").filter((l) => l !== "");
const inserted: Array<[number, string]> = [
  [3, records[0]!.slice(0, 700)],
  [400, "\u0000\u0001garbage"],
  [1200, `{"ip":"192.0.2.1","data":"${"x".repeat(17 * 1024 * 1024)}"}`],
  [1201, "[1,2,3]"],
  [1900, JSON.stringify({ ip: "300.1.1.1", data: {} })],
  [2500, records[9]!.slice(0, 5000)],
];
const lines = [...records];
for (const [at, text] of inserted) lines.splice(at - 1, 0, text);
const expectedBad = new Set(inserted.map(([at]) => at));
const LONG_AT = 1200;
const crlf = new Set([5, 600, 1800, 2400]);
const file = path.join(dir, "damaged.jsonl");
writeFileSync(file, lines.map((l, i) => (crlf.has(i + 1) ? `${l}\r` : l)).join("\n") + "\n");

interface Summary {
  lines: number;
  records: number;
  observations: number;
  exchange: number;
  malformed: number;
  parserThreads: number;
}

async function importInto(db: string, workers: number): Promise<{ summary: Summary; named: string[] }> {
  const r = await cli(dir, ["import", file, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "s", "--db", db, "--json", "--workers", String(workers)]);
  expect(r.code, r.stderr).toBe(0);
  const named = r.stderr.split("\n").filter((l) => l.includes(": skipped: "));
  return { summary: JSON.parse(r.stdout) as Summary, named };
}

async function stored(db: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const by of ["country", "asn", "cve", "product", "cu"]) {
    const r = await cli(dir, ["census", "--snapshot", "s", "--by", by, "--json", "--db", db]);
    expect(r.code, r.stderr).toBe(0);
    out[by] = r.stdout;
  }
  const h = await cli(dir, ["hosts", "--snapshot", "s", "--json", "--db", db]);
  expect(h.code, h.stderr).toBe(0);
  out.hosts = h.stdout;
  return out;
}

const lineNumbers = (named: string[]): number[] => named.map((l) => Number(/damaged\.jsonl:(\d+): skipped/.exec(l)![1]));

describe("parallel import = single-threaded import", () => {
  let pgDb: TestDatabase;
  let serial: { summary: Summary; named: string[] };
  let serialStored: Record<string, string>;

  beforeAll(async () => {
    pgDb = await createTestDatabase("parimp");
    serial = await importInto(path.join(dir, "serial.db"), 0);
    serialStored = await stored(path.join(dir, "serial.db"));
  }, 240_000);
  afterAll(async () => {
    await pgDb?.drop();
  });

  it("the main-thread import names exactly the damaged lines and keeps every other record (generator's truth)", () => {
    expect(serial.summary.parserThreads).toBe(0);
    expect(serial.summary.lines).toBe(lines.length);
    expect(new Set(lineNumbers(serial.named))).toEqual(expectedBad);
    expect(serial.summary.malformed).toBe(expectedBad.size);
    expect(serial.summary.records).toBe(lines.length - expectedBad.size);
    expect(serial.named.find((l) => l.includes(`:${LONG_AT}: `))).toMatch(/line of 1782\d{4} bytes is longer than the limit/);
    expect(serial.named.find((l) => l.includes(":1201: "))).toMatch(/not a JSON object/);
    expect(serial.named.find((l) => l.includes(":1900: "))).toMatch(/not an IP address/);
    const byCountry = JSON.parse(serialStored.country!) as { groups: Array<{ key: string; exposed: number; cves: unknown }> };
    expect(Object.fromEntries(byCountry.groups.map((g) => [g.key, { exposed: g.exposed, cves: g.cves }]))).toEqual(truth.byCountry);
  });

  it("SQLite: two parser threads store byte-identical results, report the same lines in the same order", async () => {
    const db = path.join(dir, "parallel.db");
    const par = await importInto(db, 2);
    expect(par.summary.parserThreads).toBe(2);
    const counts = ({ lines, records, observations, exchange, malformed }: Summary) => ({ lines, records, observations, exchange, malformed });
    expect(counts(par.summary)).toEqual(counts(serial.summary));
    expect(par.named).toEqual(serial.named);
    const got = await stored(db);
    for (const k of Object.keys(serialStored)) expect(got[k], k).toBe(serialStored[k]);
  }, 120_000);

  it("PostgreSQL: two parser threads store what one thread stores, and the census equals SQLite's byte for byte", async () => {
    const par = await importInto(pgDb.url, 2);
    expect(par.summary.parserThreads).toBe(2);
    expect(par.named).toEqual(serial.named);
    const got = await stored(pgDb.url);
    for (const by of ["country", "asn", "cve", "product", "cu"]) expect(got[by], by).toBe(serialStored[by]);
    // Host ids follow each engine's insert order: compare the host records as sets of lines.
    const sorted = (t: string) => t.split("\n").filter(Boolean).sort();
    expect(sorted(got.hosts!)).toEqual(sorted(serialStored.hosts!));
  }, 120_000);
});

/**
 * Import bench, side by side in one run: DuckDB's pass over a gzip zgrab2 file (bench/import/duckdb.ts: regex
 * for the OWA build, GROUP BY build), then Vigie's whole import of the same file (parse, fingerprint, assess,
 * enrich, store) into SQLite and into PostgreSQL. Each runs as its own process under GNU time (wall seconds, CPU
 * seconds, peak RSS of that process and its threads). Checks that both engines give the same census and that it
 * equals the generator's ground truth.
 *
 *   flock /tmp/vigie-heavy.lock node dist/bench/import/run.js [--records 400000] [--pg postgres://…] [--workers N]
 *
 * The file (bench/census/generate.ts --gzip: real national allocations, March-2021 build mix, 4–24 KB OWA pages)
 * is generated once into bench/out/import/ and reused. PostgreSQL: --pg or $VIGIE_BENCH_PG (default the local
 * socket); a database of its own is created and dropped. Needs /usr/bin/time (Debian package `time`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
};
const records = Number(arg("--records", "400000"));
const pgBase = arg("--pg", process.env.VIGIE_BENCH_PG ?? "postgres://postgres@localhost/postgres?host=/var/run/postgresql");
const workers = process.argv.includes("--workers") ? ["--workers", arg("--workers", "2")] : [];
const out = path.join(root, "bench/out/import");
mkdirSync(out, { recursive: true });
const file = path.join(out, `zgrab2-${records}.jsonl.gz`);
const truthFile = path.join(out, `zgrab2-${records}.truth.json`);

if (!existsSync("/usr/bin/time")) throw new Error("needs GNU time: apt-get install time");
if (!existsSync(file) || !existsSync(truthFile)) {
  process.stderr.write(`generating ${records} records -> ${file}\n`);
  execFileSync(process.execPath, [path.join(root, "dist/bench/census/generate.js"), "--records", String(records), "--gzip", "--out", file, "--truth", truthFile], { stdio: "inherit" });
}
const gzBytes = statSync(file).size;

interface Run {
  name: string;
  seconds: number;
  cpu: number;
  rssMb: number;
  stdout: string;
}

/** One process under GNU time: wall, user+sys, max RSS (kB). */
function timed(name: string, cmd: string[], env: NodeJS.ProcessEnv = {}): Run {
  const timeFile = path.join(out, `.time-${process.pid}`);
  const r = spawnSync("/usr/bin/time", ["-o", timeFile, "-f", "%e %U %S %M", ...cmd], { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  const [e, u, s, m] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  rmSync(timeFile, { force: true });
  return { name, seconds: e!, cpu: u! + s!, rssMb: m! / 1024, stdout: r.stdout };
}

const cliPath = path.join(root, "dist/src/cli/main.js");
const env = { VIGIE_DATA_DIR: path.join(out, "data-empty"), VIGIE_KB_DIR: path.join(out, "kb-empty") };
const vigie = (args: string[]): string[] => [process.execPath, cliPath, ...args];
const importArgs = (db: string): string[] => vigie(["import", file, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "bench", "--db", db, "--json", "--quiet", ...workers]);
const census = (db: string, by: string): string => execFileSync(process.execPath, [cliPath, "census", "--snapshot", "bench", "--by", by, "--json", "--db", db], { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 });

// The page cache holds the file for every contender alike.
readFileSync(file);

const duck = timed("DuckDB regex + GROUP BY build", [process.execPath, path.join(root, "dist/bench/import/duckdb.js"), file]);
const duckOut = JSON.parse(duck.stdout) as { records: number; groups: number; top: Array<[string, number]> };

const sqliteDb = path.join(out, `bench-${records}.db`);
for (const f of [sqliteDb, `${sqliteDb}-wal`, `${sqliteDb}-shm`]) rmSync(f, { force: true });
const sqlite = timed("vigie import -> SQLite", importArgs(sqliteDb), env);

const dbName = `vigie_bench_import_${process.pid}`;
const admin = new pg.Client({ connectionString: pgBase });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const pgUrl = (() => {
  const u = new URL(pgBase);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
let postgres: Run | undefined;
let same = true;
let truthOk = true;
try {
  postgres = timed("vigie import -> PostgreSQL", importArgs(pgUrl), env);
  for (const by of ["country", "asn", "cve"]) same &&= census(sqliteDb, by) === census(pgUrl, by);
  const truth = JSON.parse(readFileSync(truthFile, "utf8")) as { byCountry: Record<string, { exposed: number; cves: unknown }> };
  const c = JSON.parse(census(sqliteDb, "country")) as { groups: Array<{ key: string; exposed: number; cves: unknown }> };
  truthOk =
    c.groups.length === Object.keys(truth.byCountry).length &&
    c.groups.every((g) => truth.byCountry[g.key]?.exposed === g.exposed && JSON.stringify(truth.byCountry[g.key]?.cves) === JSON.stringify(g.cves));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}

const summary = (r: Run): { records: number; exchange: number; parserThreads: number } => JSON.parse(r.stdout) as { records: number; exchange: number; parserThreads: number };
if (!postgres) throw new Error("no PostgreSQL run");
const rows = [duck, sqlite, postgres];
const head = ["", "seconds", "x DuckDB", "CPU s", "records/s", "peak RSS MB"];
const cells = rows.map((r) => [r.name, r.seconds.toFixed(1), (r.seconds / duck.seconds).toFixed(2), r.cpu.toFixed(1), Math.round(records / r.seconds).toLocaleString("en"), r.rssMb.toFixed(0)]);
const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]): string => "| " + c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(" | ") + " |";
console.log(`file: ${records.toLocaleString("en")} zgrab2 records, ${(gzBytes / 1e6).toFixed(0)} MB gzip; machine: ${(await import("node:os")).availableParallelism()} cores; load average before: ${(await import("node:os")).loadavg()[0]!.toFixed(2)}`);
console.log(line(head));
console.log("| " + w.map((x, i) => (i === 0 ? "-".repeat(x) : "-".repeat(x - 1) + ":")).join(" | ") + " |");
for (const c of cells) console.log(line(c));
console.log(`DuckDB: ${duckOut.records.toLocaleString("en")} records, ${duckOut.groups} build groups (largest: ${duckOut.top.map(([b, n]) => `${b || "(no build)"} ${n}`).join(", ")})`);
for (const r of [sqlite, postgres]) {
  const s = summary(r);
  console.log(`${r.name}: ${s.records.toLocaleString("en")} records, ${s.exchange.toLocaleString("en")} Exchange, ${s.parserThreads} parser threads`);
}
for (const r of [sqlite, postgres]) {
  const ratio = r.seconds / duck.seconds;
  console.log(`${r.name}: ${ratio.toFixed(2)}x DuckDB's time (goal <= 2: ${ratio <= 2 ? "met" : "NOT met"}), peak RSS ${r.rssMb.toFixed(0)} MB (goal < 300: ${r.rssMb < 300 ? "met" : "NOT met"})`);
}
console.log(`census by country, ASN and CVE: SQLite ${same ? "=" : "!="} PostgreSQL; SQLite census ${truthOk ? "equals" : "DIFFERS FROM"} the generator's ground truth`);
if (!same || !truthOk) process.exitCode = 1;

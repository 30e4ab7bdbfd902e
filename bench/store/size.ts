/**
 * Store size bench: bytes per host record, indexes included, on SQLite and PostgreSQL, for the same import.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/store/size.js [--records 20000] [--pg postgres://…]
 *
 * Generates the census bench's synthetic zgrab2 file (bench/census/generate.ts), imports it with the CLI into a
 * new SQLite file and a new PostgreSQL database (dropped afterwards), builds the census, then measures:
 * SQLite with dbstat (every page of every table and index, after a WAL checkpoint), PostgreSQL with
 * pg_total_relation_size of every table (heap, TOAST and indexes) after VACUUM. Goal: <= 1.5 KB per host.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}
const records = Number(arg("records", "20000"));
const pgBase = arg("pg", process.env.VIGIE_TEST_PG || "postgres://postgres@localhost/postgres?host=/var/run/postgresql");
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
// --cli: another build's CLI (e.g. main's, for a before/after figure).
const cli = arg("cli", path.join(root, "dist/src/cli/main.js"));
const out = path.join(root, "bench/out/store");
mkdirSync(out, { recursive: true });
const env = { ...process.env, VIGIE_DATA_DIR: path.join(out, "data-empty"), VIGIE_KB_DIR: path.join(out, "kb-empty") };
const scan = path.join(out, `scan-${records}.jsonl`);
if (!existsSync(scan)) execFileSync(process.execPath, [path.join(root, "dist/bench/census/generate.js"), "--records", String(records), "--out", scan], { stdio: "inherit" });
const vigie = (...a: string[]) => execFileSync(process.execPath, [cli, ...a], { env, stdio: ["ignore", "ignore", "inherit"] });

const dbName = `vigie_size_${process.pid}`;
const pgUrl = (() => {
  const u = new URL(pgBase);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const admin = new pg.Client({ connectionString: pgBase });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
await admin.query(`CREATE DATABASE ${dbName}`);

interface Part {
  name: string;
  bytes: number;
}
const file = path.join(out, `size-${records}.db`);
for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
try {
  for (const db of [file, pgUrl]) {
    // The snapshot gets its default name (import-<date>-<file>): its id is repeated in every index entry.
    vigie("import", scan, "--format", "zgrab2", "--date", "2021-03-09", "--db", db);
    vigie("census", "--json", "--db", db);
  }
  const lite = new Database(file);
  lite.pragma("wal_checkpoint(TRUNCATE)");
  const hostsLite = (lite.prepare("SELECT COUNT(*) AS n FROM hosts").get() as { n: number }).n;
  const partsLite = lite.prepare("SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY 2 DESC").all() as Part[];
  const totalLite = (lite.pragma("page_count", { simple: true }) as number) * (lite.pragma("page_size", { simple: true }) as number);
  lite.close();

  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query("VACUUM ANALYZE");
  const hostsPg = Number((await c.query<{ n: string }>("SELECT COUNT(*) AS n FROM hosts")).rows[0]!.n);
  const partsPg = (
    await c.query<{ name: string; bytes: string }>(
      "SELECT relname AS name, pg_total_relation_size(oid) AS bytes FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC",
    )
  ).rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) }));
  const totalPg = partsPg.reduce((n, p) => n + p.bytes, 0);
  const indexesPg = (
    await c.query<{ name: string; bytes: string }>(
      "SELECT relname AS name, pg_relation_size(oid) AS bytes FROM pg_class WHERE relkind = 'i' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC",
    )
  ).rows.map((r) => ({ name: r.name, bytes: Number(r.bytes) }));

  const per = (b: number, n: number) => (b / n).toFixed(0);
  console.log(`${records} zgrab2 records -> ${hostsLite} host records (SQLite), ${hostsPg} (PostgreSQL)`);
  console.log("| engine | store bytes | bytes per host (indexes included) | goal <= 1536 |");
  console.log("|---|---:|---:|---|");
  console.log(`| SQLite (page_count x page_size) | ${totalLite} | ${per(totalLite, hostsLite)} | ${totalLite / hostsLite <= 1536 ? "met" : "NOT met"} |`);
  console.log(`| PostgreSQL (sum of pg_total_relation_size) | ${totalPg} | ${per(totalPg, hostsPg)} | ${totalPg / hostsPg <= 1536 ? "met" : "NOT met"} |`);
  console.log("\nSQLite by table/index (dbstat), bytes per host:");
  for (const p of partsLite.filter((x) => x.bytes > 8192)) console.log(`  ${p.name.padEnd(34)} ${per(p.bytes, hostsLite)}`);
  console.log("PostgreSQL by table (heap + TOAST + its indexes), bytes per host:");
  for (const p of partsPg.filter((x) => x.bytes > 65536)) console.log(`  ${p.name.padEnd(34)} ${per(p.bytes, hostsPg)}`);
  console.log("PostgreSQL indexes (included above), bytes per host:");
  for (const p of indexesPg.filter((x) => x.bytes > 65536)) console.log(`  ${p.name.padEnd(34)} ${per(p.bytes, hostsPg)}`);
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}

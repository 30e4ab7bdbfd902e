/**
 * The peer's pass for the import bench: DuckDB (@duckdb/node-api) reads the same gzip zgrab2 file and counts
 * records per OWA build extracted with one regular expression — the least a user would do by hand:
 *
 *   SELECT regexp_extract(json::VARCHAR, '/owa/(?:auth/)?(\d+\.\d+\.\d+(?:\.\d+)?)/', 1) AS build, count(*)
 *   FROM read_ndjson_objects('<file>') GROUP BY build
 *
 *   node dist/bench/import/duckdb.js <file.jsonl.gz>     prints {"seconds", "records", "groups", "top": [...]}
 */

/** The part of @duckdb/node-api used here (a dev dependency: loaded at run time, so type-checks pass without it). */
interface DuckDbApi {
  DuckDBInstance: {
    create(path: string): Promise<{ connect(): Promise<{ runAndReadAll(sql: string): Promise<{ getRowObjects(): unknown[] }> }> }>;
  };
}

async function loadDuckDb(): Promise<DuckDbApi> {
  const name = "@duckdb/node-api";
  try {
    return (await import(name)) as DuckDbApi;
  } catch (err) {
    throw new Error(`${name} is not installed (npm install, it is a dev dependency): ${(err as Error).message}`);
  }
}

export const DUCKDB_SQL = (file: string): string =>
  `SELECT regexp_extract(json::VARCHAR, '/owa/(?:auth/)?(\\d+\\.\\d+\\.\\d+(?:\\.\\d+)?)/', 1) AS build, count(*) AS n
   FROM read_ndjson_objects('${file.replace(/'/g, "''")}') GROUP BY build ORDER BY n DESC, build`;

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error("usage: duckdb.js <file.jsonl.gz>");
  const started = process.hrtime.bigint();
  const { DuckDBInstance } = await loadDuckDb();
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  const rows = (await c.runAndReadAll(DUCKDB_SQL(file))).getRowObjects() as Array<{ build: string; n: bigint }>;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const records = rows.reduce((s, r) => s + Number(r.n), 0);
  process.stdout.write(JSON.stringify({ seconds, records, groups: rows.length, top: rows.slice(0, 5).map((r) => [r.build, Number(r.n)]) }) + "\n");
}

await main();

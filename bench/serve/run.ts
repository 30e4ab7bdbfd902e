/**
 * API bench: p50/p99 latency and requests/s of `vigie serve` on loopback, measured with autocannon against the
 * census and host-list endpoints of a store of N hosts (the census bench's synthetic zgrab2 file, imported), on
 * SQLite and on PostgreSQL side by side (same file, same requests, an admin-like viewer and a constituency user).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/serve/run.js [--records 400000] [--duration 10] [--connections 10]
 *        [--engines sqlite,postgres] [--pg postgres://…]   (default: $VIGIE_TEST_PG or the local socket)
 *
 * Stores are built once per size: bench/out/serve/bench-N.db, and the PostgreSQL database vigie_bench_serve_N
 * (kept for the next run; drop it with `dropdb`), reused as cold as new (census fresh marks and constituency host
 * sets emptied before the server starts). The server runs in its own process, as `vigie serve` does; the
 * first (cold) request of each endpoint is timed separately, then each endpoint is loaded for --duration seconds.
 * Goals (issue 12): census p99 < 100 ms, host pages p99 < 50 ms, constituency-limited users included.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import pg from "pg";
import { openStore } from "../../src/store/open.js";
import { SqlStore } from "../../src/store/sqlStore.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: a positive number`);
  return v;
}
function text(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

const records = arg("records", 20_000);
const duration = arg("duration", 10);
const connections = arg("connections", 10);
const engines = text("engines", "sqlite,postgres").split(",") as Array<"sqlite" | "postgres">;
const pgBase = text("pg", process.env.VIGIE_TEST_PG || "postgres://postgres@localhost/postgres?host=/var/run/postgresql");
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
const cliJs = path.join(root, "dist/src/cli/main.js");
const out = path.join(root, "bench/out/serve");
mkdirSync(out, { recursive: true });
const env = { ...process.env, VIGIE_DATA_DIR: path.join(out, "data-empty"), VIGIE_KB_DIR: path.join(out, "kb-empty") };
// The census bench's generator output (a .jsonl.gz of the same records is used when it is there).
const scan = existsSync(path.join(out, `scan-${records}.jsonl.gz`)) ? path.join(out, `scan-${records}.jsonl.gz`) : path.join(out, `scan-${records}.jsonl`);

async function pgStore(): Promise<{ url: string; fresh: boolean }> {
  const name = `vigie_bench_serve_${records}`;
  const u = new URL(pgBase);
  u.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: pgBase });
  await admin.connect();
  try {
    const exists = (await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
    if (exists) {
      // A database left by an interrupted build holds no finished snapshot: start it again.
      const c = new pg.Client({ connectionString: u.toString() });
      await c.connect();
      const done = await c.query("SELECT 1 FROM snapshots WHERE id = 'bench' AND status = 'done'").catch(() => ({ rowCount: 0 }));
      await c.end();
      if (done.rowCount === 1) return { url: u.toString(), fresh: false };
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    }
    await admin.query(`CREATE DATABASE ${name}`);
    return { url: u.toString(), fresh: true };
  } finally {
    await admin.end();
  }
}

async function storeFor(engine: "sqlite" | "postgres"): Promise<string> {
  let spec: string;
  let fresh: boolean;
  if (engine === "sqlite") {
    spec = path.join(out, `bench-${records}.db`);
    fresh = !existsSync(spec);
  } else {
    ({ url: spec, fresh } = await pgStore());
  }
  if (fresh) {
    if (!existsSync(scan)) execFileSync(process.execPath, [path.join(root, "dist/bench/census/generate.js"), "--records", String(records), "--out", scan], { stdio: "inherit" });
    execFileSync(process.execPath, [cliJs, "import", scan, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "bench", "--no-progress", "--db", spec], { stdio: "inherit", env });
    if (engine === "postgres") {
      const c = new pg.Client({ connectionString: spec });
      await c.connect();
      await c.query("VACUUM ANALYZE");
      await c.end();
    }
  }
  return spec;
}

interface Row {
  name: string;
  goal: number;
  cold: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

async function benchEngine(engine: "sqlite" | "postgres"): Promise<{ hosts: number; rows: Row[] }> {
  const db = await storeFor(engine);
  const store = await openStore(db);
  const accounts = store.accounts;
  if (!(await accounts.getUser("bench"))) await accounts.addUser({ name: "bench", role: "viewer", constituency: [], password: null });
  if (!(await accounts.getUser("bench-de"))) await accounts.addUser({ name: "bench-de", role: "viewer", constituency: ["AS3320", "AS3209", "AS6805", "81.169.0.0/16"], password: null });
  const token = (await accounts.createToken("bench")).token;
  const limitedToken = (await accounts.createToken("bench-de")).token;
  const hosts = await store.countHosts({ snapshotId: "bench" });
  // A reused store starts as cold as a new one: no census rows marked fresh, no constituency host sets.
  if (store instanceof SqlStore) for (const t of ["census_fresh", "scope_hosts", "scope_sets"]) await store.engine.run(`DELETE FROM ${t}`);
  await store.close();

  const server = spawn(process.execPath, [cliJs, "serve", "--port", "0", "--db", db], { env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    server.stdout.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const m = /vigie serve: (http:\/\/127\.0\.0\.1:\d+)\//.exec(buf);
      if (m) resolve(m[1]!);
    });
    server.once("exit", (code) => reject(new Error(`vigie serve exited (${code})`)));
  });

  interface Case {
    name: string;
    path: string;
    token?: string;
    /** p99 goal, ms. */
    goal: number;
    /** Varying paths (pages): one is picked per request. */
    paths?: string[];
  }
  const pages = Array.from({ length: 200 }, (_, i) => `/api/hosts?limit=50&offset=${Math.floor((i * 7919) % Math.max(1, hosts - 50))}`);
  // Cursors are opaque (sealed by the server): one per spot, taken from a one-host page at that offset.
  const cursors: string[] = [];
  for (let i = 0; i < 200; i++) {
    const at = Math.floor(((i * 7919) % 200) * (Math.max(1, hosts - 50) / 200));
    const r = await fetch(`${url}/api/hosts?limit=1&offset=${at}`, { headers: { Authorization: `Bearer ${token}` } });
    const next = ((await r.json()) as { next: string | null }).next;
    if (next) cursors.push(`/api/hosts?limit=50&after=${next}`);
  }
  const cases: Case[] = [
    { name: "census by country", path: "/api/census?by=country", goal: 100 },
    { name: "census by asn", path: "/api/census?by=asn", goal: 100 },
    { name: "census by cve, country DE", path: "/api/census?by=cve&country=DE", goal: 100 },
    { name: "hosts, first page (50)", path: "/api/hosts?limit=50", goal: 50 },
    { name: "hosts, 200 pages anywhere by offset (50)", path: pages[0]!, paths: pages, goal: 50 },
    { name: "hosts, 200 pages anywhere by cursor (50)", path: cursors[0]!, paths: cursors, goal: 50 },
    { name: "hosts, DE vulnerable to CVE-2021-26855", path: "/api/hosts?limit=50&country=DE&cve=CVE-2021-26855&status=vulnerable", goal: 50 },
    { name: "hosts sorted by country desc", path: "/api/hosts?limit=50&sort=country&order=desc", goal: 50 },
    { name: "census by country, constituency user", path: "/api/census?by=country", token: limitedToken, goal: 100 },
    { name: "census by cve, constituency user", path: "/api/census?by=cve", token: limitedToken, goal: 100 },
    { name: "hosts, constituency user", path: "/api/hosts?limit=50", token: limitedToken, goal: 50 },
    { name: "hosts, constituency user, vulnerable to CVE-2021-26855", path: "/api/hosts?limit=50&cve=CVE-2021-26855&status=vulnerable", token: limitedToken, goal: 50 },
    { name: "hosts, constituency user, sorted by build desc", path: "/api/hosts?limit=50&sort=build&order=desc", token: limitedToken, goal: 50 },
  ];

  const rows: Row[] = [];
  for (const c of cases) {
    // As a browser does: the API gzips large cached answers (census by ASN is megabytes of JSON).
    const auth = { Authorization: `Bearer ${c.token ?? token}`, "Accept-Encoding": "gzip" };
    const t0 = performance.now();
    const first = await fetch(url + c.path, { headers: auth });
    await first.arrayBuffer();
    const cold = performance.now() - t0;
    if (first.status !== 200) throw new Error(`${c.path}: HTTP ${first.status}`);
    let k = 0;
    const result = await autocannon({
      url: url + c.path,
      connections,
      duration,
      headers: auth,
      ...(c.paths ? { requests: [{ method: "GET" as const, setupRequest: (req: autocannon.Request) => ({ ...req, path: c.paths![k++ % c.paths!.length]! }) }] } : {}),
    });
    rows.push({ name: c.name, goal: c.goal, cold, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, errors: result.errors, non2xx: result.non2xx });
    process.stderr.write(`${c.name}: done\n`);
  }

  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  return { hosts, rows };
}

const results = new Map<string, { hosts: number; rows: Row[] }>();
for (const e of engines) {
  process.stderr.write(`${e}: building the store and loading\n`);
  results.set(e, await benchEngine(e));
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const first = [...results.values()][0]!;
const names = { sqlite: "SQLite", postgres: "PostgreSQL" } as const;
const cols = engines.flatMap((e) => [`${names[e]} p50 ms`, `${names[e]} p99 ms`, `${names[e]} req/s`, `${names[e]} cold ms`]);
const table = [
  `vigie serve on loopback, ${first.hosts} host records (snapshot "bench"), autocannon ${connections} connections x ${duration} s per endpoint`,
  "",
  `| endpoint | goal p99 ms | ${cols.join(" | ")} | goal met |`,
  `|---|---:|${cols.map(() => "---:").join("|")}|---|`,
  ...first.rows.map((r, i) => {
    const per = engines.map((e) => results.get(e)!.rows[i]!);
    const bad = per.some((x) => x.errors > 0 || x.non2xx > 0);
    const met = per.every((x) => x.p99 < r.goal) && !bad;
    return `| ${r.name} | ${r.goal} | ${per.flatMap((x) => [fmt(x.p50), fmt(x.p99), fmt(x.rps), fmt(x.cold)]).join(" | ")} | ${met ? "yes" : bad ? "NO (errors)" : "NO"} |`;
  }),
].join("\n");
process.stdout.write(table + "\n");
writeFileSync(path.join(out, `bench-${records}.md`), table + "\n");

/**
 * API bench: p50/p99 latency and requests/s of `vigie serve` on loopback, measured with autocannon against the
 * census and host-list endpoints of a store of N hosts (the census bench's synthetic zgrab2 file, imported).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/serve/run.js [--records 400000] [--duration 10] [--connections 10]
 *
 * The store is built once per size under bench/out/serve/ (400,000 hosts: about a minute to generate and import).
 * The server runs in its own process, as `vigie serve` does; the first (cold) request of each endpoint is timed
 * separately, then each endpoint is loaded for --duration seconds.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import autocannon from "autocannon";
import { openSqliteStore } from "../../src/store/sqliteStore.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: a positive number`);
  return v;
}

const records = arg("records", 20_000);
const duration = arg("duration", 10);
const connections = arg("connections", 10);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
const cliJs = path.join(root, "dist/src/cli/main.js");
const out = path.join(root, "bench/out/serve");
mkdirSync(out, { recursive: true });
const db = path.join(out, `bench-${records}.db`);
const env = { ...process.env, VIGIE_DATA_DIR: path.join(out, "data-empty"), VIGIE_KB_DIR: path.join(out, "kb-empty") };

if (!existsSync(db)) {
  const scan = path.join(out, `scan-${records}.jsonl`);
  if (!existsSync(scan)) execFileSync(process.execPath, [path.join(root, "dist/bench/census/generate.js"), "--records", String(records), "--out", scan], { stdio: "inherit" });
  execFileSync(process.execPath, [cliJs, "import", scan, "--format", "zgrab2", "--date", "2021-03-09", "--snapshot", "bench", "--db", db], { stdio: "inherit", env });
}

const store = await openSqliteStore(db);
const accounts = store.accounts;
if (!(await accounts.getUser("bench"))) await accounts.addUser({ name: "bench", role: "viewer", constituency: [], password: null });
if (!(await accounts.getUser("bench-de"))) await accounts.addUser({ name: "bench-de", role: "viewer", constituency: ["AS3320", "AS3209", "AS6805", "81.169.0.0/16"], password: null });
const token = (await accounts.createToken("bench")).token;
const limitedToken = (await accounts.createToken("bench-de")).token;
const hosts = await store.countHosts({ snapshotId: "bench" });
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
  { name: "census by country", path: "/api/census?by=country" },
  { name: "census by asn", path: "/api/census?by=asn" },
  { name: "census by cve, country DE", path: "/api/census?by=cve&country=DE" },
  { name: "hosts, first page (50)", path: "/api/hosts?limit=50" },
  { name: "hosts, 200 pages anywhere by offset (50)", path: pages[0]!, paths: pages },
  { name: "hosts, 200 pages anywhere by cursor (50)", path: cursors[0]!, paths: cursors },
  { name: "hosts, DE vulnerable to CVE-2021-26855", path: "/api/hosts?limit=50&country=DE&cve=CVE-2021-26855&status=vulnerable" },
  { name: "hosts sorted by country desc", path: "/api/hosts?limit=50&sort=country&order=desc" },
  { name: "census by country, constituency user", path: "/api/census?by=country", token: limitedToken },
  { name: "hosts, constituency user", path: "/api/hosts?limit=50", token: limitedToken },
];

interface Row {
  name: string;
  cold: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}
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
  rows.push({ name: c.name, cold, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, errors: result.errors, non2xx: result.non2xx });
  process.stderr.write(`${c.name}: done\n`);
}
server.kill("SIGTERM");

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const table = [
  `vigie serve on loopback, ${hosts} host records (snapshot "bench"), autocannon ${connections} connections x ${duration} s per endpoint`,
  "",
  "| endpoint | cold first request ms | req/s | p50 ms | p99 ms | max ms | errors | non-2xx |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => `| ${r.name} | ${fmt(r.cold)} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.errors} | ${r.non2xx} |`),
].join("\n");
process.stdout.write(table + "\n");
writeFileSync(path.join(out, `bench-${records}.md`), table + "\n");

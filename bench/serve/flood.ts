/**
 * Log-in flood bench: while 32 clients flood POST /api/session with a new user name on each try, how fast do
 * GET /api/health and an authenticated host page answer? Side by side with the same probes unflooded.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/serve/flood.js [--duration 5] [--clients 32] [--hosts 2000]
 *
 * Each scenario starts a fresh `vigie serve` (startServer, in its own process, with the scenario's log-in
 * policy) over a small synthetic SQLite store under bench/out/serve/. The flood runs on a worker thread, the
 * probes on this thread: one request at a time, health and host page in turn, for --duration seconds (at most
 * 5,000 of each). Scenarios: no flood; the flood from one address (127.0.0.1); from 32 addresses (127.0.1.x, so
 * the per-address budget does not stop it, the overall one does); from 32 addresses with every budget lifted
 * (each try hashes a password: the cap on concurrent checks and scrypt on the thread pool are all that keep
 * the server responsive). Bounded: (4 scenarios x --duration) plus start-up, ~30 s at the defaults.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import path from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import type { Observation } from "../../src/pipeline/vocabulary.js";
import { assessObservation } from "../../src/pipeline/assessObservation.js";
import type { LoginPolicy } from "../../src/serve/auth/login.js";
import { startServer } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";

function arg(name: string, def: number, max: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0 || v > max) throw new Error(`--${name}: a number in (0, ${max}]`);
  return v;
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../..");
const out = path.join(root, "bench/out/serve");

interface FloodJob {
  url: string;
  clients: number;
  addresses: string[];
  durationMs: number;
}

interface FloodResult {
  attempts: number;
  byStatus: Record<string, number>;
  seconds: number;
}

/** One keep-alive connection per client, from its address; each try a new user name. */
async function flood(job: FloodJob, stop: { done: boolean }): Promise<FloodResult> {
  const byStatus: Record<string, number> = {};
  let attempts = 0;
  const t0 = performance.now();
  const client = async (c: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const localAddress = job.addresses[c % job.addresses.length]!;
    for (let n = 0; !stop.done; n++) {
      const body = JSON.stringify({ user: `spray-${c}-${n}`, password: "Winter2026!" });
      const status = await new Promise<string>((resolve) => {
        const req = request(job.url + "/api/session", { method: "POST", agent, localAddress, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.statusCode)));
        });
        req.on("error", () => resolve("error"));
        req.end(body);
      });
      attempts++;
      byStatus[status] = (byStatus[status] ?? 0) + 1;
    }
    agent.destroy();
  };
  await Promise.all(Array.from({ length: job.clients }, (_, c) => client(c)));
  return { attempts, byStatus, seconds: (performance.now() - t0) / 1000 };
}

function obs(ip: string, build: string): Observation {
  return {
    ip,
    port: 443,
    hostname: `mail.${ip.replace(/\./g, "-")}.test`,
    source: "scan",
    observedAt: "2021-03-09T10:00:00.000Z",
    responded: true,
    tls: true,
    title: "Outlook",
    evidence: [
      { probe: "owa", kind: "exchange-header", field: "GET /owa/ -> header X-FEServer", value: "EXCH01" },
      { probe: "owa", kind: "owa-version-header", field: "GET /owa/ -> header X-OWA-Version", value: build, build },
    ],
    errors: [],
  };
}

async function buildStore(db: string, hosts: number): Promise<{ token: string; hostPath: string }> {
  const store = await openStore(db);
  if (!(await store.getSnapshot("flood"))) {
    const explainer = new BuildExplainer(loadKnowledgeBase({ overlayDir: null }));
    await store.createSnapshot({ id: "flood", kind: "import", date: "2021-03-09", spec: {}, status: "done" });
    const builds = ["15.1.2176.2", "15.1.2176.9", "15.2.792.3", "15.0.1497.2"];
    const records = Array.from({ length: hosts }, (_, i) =>
      assessObservation(explainer, "flood", obs(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, builds[i % builds.length]!), { country: "FR", asn: 64500 + (i % 7), asOrg: "Example" }),
    );
    await store.saveBatch("flood", records, []);
  }
  if (!(await store.accounts.getUser("bench-viewer"))) await store.accounts.addUser({ name: "bench-viewer", role: "viewer", constituency: ["AS64500", "AS64501", "AS64502"], password: null });
  const token = (await store.accounts.createToken("bench-viewer")).token;
  await store.close();
  return { token, hostPath: "/api/hosts/10.0.0.7/443" };
}

interface Scenario {
  name: string;
  addresses: string[] | null;
  policy: Partial<LoginPolicy>;
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

async function probe(url: string, token: string, hostPath: string, durationMs: number): Promise<{ health: number[]; host: number[]; bad: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const health: number[] = [];
  const host: number[] = [];
  let bad = 0;
  const one = (p: string, headers: Record<string, string>): Promise<number> =>
    new Promise((resolve) => {
      const t = performance.now();
      const req = request(url + p, { agent, headers }, (res) => {
        if (res.statusCode !== 200) bad++;
        res.resume();
        res.on("end", () => resolve(performance.now() - t));
      });
      req.on("error", () => {
        bad++;
        resolve(performance.now() - t);
      });
      req.end();
    });
  const end = performance.now() + durationMs;
  while (performance.now() < end && host.length < 5000) {
    health.push(await one("/api/health", {}));
    host.push(await one(hostPath, { Authorization: `Bearer ${token}` }));
  }
  agent.destroy();
  return { health, host, bad };
}

async function main(): Promise<void> {
  const duration = arg("duration", 5, 30);
  const clients = arg("clients", 32, 256);
  const hosts = arg("hosts", 2000, 100_000);
  mkdirSync(out, { recursive: true });
  const db = path.join(out, `flood-${hosts}.db`);
  const { token, hostPath } = await buildStore(db, hosts);
  const script = new URL(import.meta.url).pathname;
  const many = Array.from({ length: clients }, (_, i) => `127.0.1.${i + 1}`);
  const lifted: Partial<LoginPolicy> = { perAddress: { burst: 1e9, refillMs: 1 }, overall: { burst: 1e9, refillMs: 1 } };
  const scenarios: Scenario[] = [
    { name: "no flood (baseline)", addresses: null, policy: {} },
    { name: `flood, ${clients} clients from 127.0.0.1`, addresses: ["127.0.0.1"], policy: {} },
    { name: `flood, ${clients} clients from ${clients} addresses`, addresses: many, policy: {} },
    { name: `flood, ${clients} addresses, budgets lifted (every try hashed)`, addresses: many, policy: lifted },
  ];
  if (!existsSync(script)) throw new Error(`${script}: build first (npx tsc -p tsconfig.json)`);
  const rows: string[] = [];
  for (const s of scenarios) {
    const child = spawn(process.execPath, [script, "--serve", db, JSON.stringify(s.policy)], { stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        buf += d;
        const m = /^(http:\/\/\S+)\n/.exec(buf);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
    });
    // Warm up: the host page's first answer opens the knowledge base's explanation caches.
    await probe(url, token, hostPath, 200);
    const worker = s.addresses ? new Worker(script, { workerData: { url, clients, addresses: s.addresses, durationMs: duration * 1000 + 500 } satisfies FloodJob }) : undefined;
    const flooded = worker ? new Promise<FloodResult>((resolve, reject) => worker.once("message", resolve).once("error", reject)) : undefined;
    if (worker) await new Promise((r) => setTimeout(r, 250)); // the flood is under way
    const p = await probe(url, token, hostPath, duration * 1000);
    const f = flooded ? await flooded : undefined;
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    const statuses = f ? Object.entries(f.byStatus).sort().map(([k, v]) => `${k}: ${v}`).join(", ") : "";
    const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
    rows.push(
      `| ${s.name} | ${f ? fmt(f.attempts / f.seconds) : "-"} | ${statuses || "-"} | ${p.health.length} | ${fmt(pct(p.health, 50))} | ${fmt(pct(p.health, 99))} | ${fmt(Math.max(...p.health))} | ${fmt(pct(p.host, 50))} | ${fmt(pct(p.host, 99))} | ${fmt(Math.max(...p.host))} | ${p.bad} |`,
    );
    process.stderr.write(`${s.name}: done\n`);
  }
  const table = [
    `vigie serve on loopback, ${hosts} hosts; log-in flood: ${clients} keep-alive clients, a new user name each try, ${duration} s per scenario; probes: health and host page in turn, one at a time`,
    "",
    "| scenario | log-in tries/s | answers to the flood | probes | health p50 ms | health p99 ms | health max ms | host page p50 ms | host page p99 ms | host page max ms | probe errors |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
  process.stdout.write(table + "\n");
  writeFileSync(path.join(out, `flood-${hosts}.md`), table + "\n");
}

// Dispatch last: everything above is initialised by now.
if (!isMainThread) {
  const job = workerData as FloodJob;
  const stop = { done: false };
  setTimeout(() => (stop.done = true), job.durationMs);
  parentPort!.postMessage(await flood(job, stop));
} else if (process.argv[2] === "--serve") {
  // The server process of one scenario.
  const policy = JSON.parse(process.argv[4]!) as Partial<LoginPolicy>;
  const store = await openStore(process.argv[3]!);
  const srv = await startServer({ store, kb: loadKnowledgeBase({ overlayDir: null }), port: 0, loginPolicy: policy, webDir: path.join(out, "no-web") });
  process.stdout.write(`${srv.url}\n`);
  process.once("SIGTERM", () => void srv.close().then(() => process.exit(0)));
} else {
  await main();
}

// The scan's exclusions and request rate hold across all workers (one limit in Redis, not one per worker), and a
// worker stopped with SIGTERM finishes what is in flight, hands its shard back and exits 0.
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openStore } from "../../src/cli/storeOption.js";
import { dropPrefix, inFlight, REDIS_URL, startCli, testPrefix, waitFor, type Proc } from "./helpers.js";

const HOSTS = 50;
const ip = (i: number) => `127.61.1.${i}`;
const EXCLUDED = new Set([ip(3), ip(10), ip(11), ip(12), ip(33)]);
const RATE = 15;
const prefix = testPrefix("limits");
/** Connections per port: 8443 for the rate scan, 8444 for the stop-and-hand-back scan. */
const connections: Record<number, Array<{ ip: string; at: number }>> = { 8443: [], 8444: [] };
const servers: net.Server[] = [];
const procs: Proc[] = [];

beforeAll(async () => {
  for (let i = 1; i <= HOSTS; i++) {
    for (const port of [8443, 8444]) {
      // Answers every connection with a reset: the probe ends at once, each request counted.
      const server = net.createServer((s) => {
        connections[port]!.push({ ip: ip(i), at: performance.now() });
        s.resetAndDestroy();
      });
      await new Promise<void>((r) => server.listen(port, ip(i), r));
      servers.push(server);
    }
  }
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  for (const s of servers) s.close();
  await dropPrefix(prefix);
});

it("two workers share one request rate and the exclusions; SIGTERM hands the shard back", async () => {
  const db = path.join(mkdtempSync(path.join(tmpdir(), "vigie-queue-limits-")), "q.db");
  const queue = ["--queue", REDIS_URL, "--queue-prefix", prefix];
  const queueScan = async (port: number, rate: number): Promise<string> => {
    const scan = startCli([
      "scan", `${ip(1)}-${ip(HOSTS)}`, "--ports", String(port), "--exclude", `${ip(3)},${ip(10)}-${ip(12)},${ip(33)}/32`,
      "--rate", String(rate), "--db", db, ...queue, "--shard-size", "6", "--detach",
    ]);
    procs.push(scan);
    expect((await scan.exit).code, scan.stderr()).toBe(0);
    return scan.stdout().trim();
  };
  // One target at a time per shard: a shard in flight has targets not yet started, to hand back.
  const worker = (): Proc => {
    const p = startCli(["worker", "--db", db, ...queue, "--concurrency", "2", "--lock-ms", "2000"]);
    procs.push(p);
    return p;
  };
  const expected = Array.from({ length: HOSTS }, (_, i) => ip(i + 1)).filter((a) => !EXCLUDED.has(a));
  const store = await openStore(db);
  const finishedAll = async (id: string, port: number): Promise<void> => {
    expect((await store.getSnapshot(id))?.status).toBe("done");
    expect([...(await store.finishedTargets(id))].sort()).toEqual(expected.map((a) => `${a}|${port}`).sort());
  };
  const w1 = worker();
  const w2 = worker();
  try {
    // 1. The rate: both workers all along.
    const a = await queueScan(8443, RATE);
    await waitFor("the rate-limited scan", () => (w1.stderr() + w2.stderr()).includes(`scan ${a}: all shards done`), 60_000);
    await finishedAll(a, 8443);
    expect(w1.stderr()).toMatch(new RegExp(`shard ${a}#\\d+: done`));
    expect(w2.stderr()).toMatch(new RegExp(`shard ${a}#\\d+: done`));
    // N requests took at least (N-1)/RATE seconds: one rate for both (each worker with a rate of its own would have
    // gone twice as fast: 0.5 here). 0.8 because the first request may start late on a busy machine.
    const times = connections[8443]!.map((c) => c.at).sort((x, y) => x - y);
    expect(times.length).toBeGreaterThanOrEqual(expected.length);
    expect(times.at(-1)! - times[0]!, `${times.length} requests`).toBeGreaterThanOrEqual((0.8 * 1000 * (times.length - 1)) / RATE);

    // 2. SIGTERM half-way: in-flight work finished, the rest handed back, exit 0; the other worker finishes.
    const b = await queueScan(8444, 10);
    await waitFor("both workers to hold a shard", () => inFlight(w1.stderr()) > 0 && inFlight(w2.stderr()) > 0 && connections[8444]!.length >= 4);
    w1.child.kill("SIGTERM");
    const stop = await w1.exit;
    expect(stop.code, w1.stderr()).toBe(0);
    expect(inFlight(w1.stderr()), w1.stderr()).toBe(0);
    if (!/stopped: \d+ shards done, [1-9]\d* handed back/.test(w1.stderr())) throw new Error(`no shard handed back:\n${w1.stderr()}`);
    await waitFor("the other worker to finish", () => w2.stderr().includes(`scan ${b}: all shards done`), 60_000);
    await finishedAll(b, 8444);
  } finally {
    await store.close();
  }
  // Excluded addresses were never contacted, by either worker.
  expect([...connections[8443]!, ...connections[8444]!].filter((c) => EXCLUDED.has(c.ip))).toEqual([]);
  w2.child.kill("SIGTERM");
  expect((await w2.exit).code).toBe(0);
}, 150_000);

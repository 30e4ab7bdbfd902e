// The scan's exclusions and request rate hold across all workers (one limit in Redis, not one per worker), and a
// worker stopped with SIGTERM finishes what is in flight, hands its shard back and exits 0.
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openStore } from "../../src/cli/storeOption.js";
import { dropPrefix, inFlight, REDIS_URL, startCli, testPrefix, waitFor, type Proc } from "./helpers.js";

const HOSTS = 40;
const ip = (i: number) => `127.61.1.${i}`;
const EXCLUDED = new Set([ip(3), ip(10), ip(11), ip(12), ip(33)]);
const RATE = 10;
const prefix = testPrefix("limits");
const connections: Array<{ ip: string; at: number }> = [];
const servers: net.Server[] = [];
const procs: Proc[] = [];

beforeAll(async () => {
  for (let i = 1; i <= HOSTS; i++) {
    // Answers every connection with a reset: one request per target, each one counted.
    const server = net.createServer((s) => {
      connections.push({ ip: ip(i), at: performance.now() });
      s.resetAndDestroy();
    });
    await new Promise<void>((r) => server.listen(8443, ip(i), r));
    servers.push(server);
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
  const scan = startCli([
    "scan", `${ip(1)}-${ip(HOSTS)}`, "--ports", "8443", "--exclude", `${ip(3)},${ip(10)}-${ip(12)},${ip(33)}/32`,
    "--rate", String(RATE), "--db", db, ...queue, "--shard-size", "6", "--detach",
  ]);
  procs.push(scan);
  expect((await scan.exit).code, scan.stderr()).toBe(0);
  const id = scan.stdout().trim();
  expect(id).toMatch(/^scan-/);
  // One target at a time per shard: a shard in flight has targets not yet started, to hand back.
  const worker = (): Proc => {
    const p = startCli(["worker", "--db", db, ...queue, "--concurrency", "2", "--lock-ms", "2000"]);
    procs.push(p);
    return p;
  };
  const w1 = worker();
  const w2 = worker();
  await waitFor("both workers to hold a shard", () => inFlight(w1.stderr()) > 0 && inFlight(w2.stderr()) > 0 && connections.length >= 24);
  w1.child.kill("SIGTERM");
  const stop = await w1.exit;
  expect(stop.code, w1.stderr()).toBe(0);
  // Every shard it started ended: finished, or handed back with what it had stored.
  expect(inFlight(w1.stderr())).toBe(0);
  expect(w1.stderr()).toMatch(/stopped: \d+ shards done, [1-9]\d* handed back/);

  const store = openStore(db);
  try {
    await waitFor("the scan to finish", () => w2.stderr().includes("all shards done"), 60_000);
    expect((await store.getSnapshot(id))?.status).toBe("done");
    const finished = await store.finishedTargets(id);
    const expected = Array.from({ length: HOSTS }, (_, i) => ip(i + 1)).filter((a) => !EXCLUDED.has(a)).map((a) => `${a}|8443`);
    expect([...finished].sort()).toEqual(expected.sort());
  } finally {
    await store.close();
  }
  // Excluded addresses were never contacted, by either worker.
  expect(connections.filter((c) => EXCLUDED.has(c.ip))).toEqual([]);
  // One rate for both workers: N requests took at least (N-1)/RATE seconds. (Each worker with a rate of its own would
  // have gone twice as fast while both ran, two thirds of the scan.) A busy machine only makes it slower.
  const times = connections.map((c) => c.at).sort((a, b) => a - b);
  expect(times.length).toBeGreaterThanOrEqual(HOSTS - EXCLUDED.size);
  expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual((0.9 * 1000 * (times.length - 1)) / RATE);
  w2.child.kill("SIGTERM");
  expect((await w2.exit).code).toBe(0);
}, 120_000);

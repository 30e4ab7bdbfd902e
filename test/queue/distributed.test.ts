// Issue 12 item 2, done-when: `vigie scan --queue` with two workers, one killed with -9 half-way and a replacement
// started, stores every target exactly once and gives the verdicts of a single-process scan of the same fleet.
// Real processes, real Redis (VIGIE_TEST_REDIS), a real PostgreSQL database shared by the workers (VIGIE_TEST_PG;
// a database of the test's own, dropped afterwards), a real SIGKILL. The single-process reference scan goes to a
// SQLite file. (test/queue/shared-limits.test.ts runs its workers on one SQLite file.)
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFleet, type Fleet } from "../../emulator/fleet.js";
import { openStore } from "../../src/cli/storeOption.js";
import { jsonLines, runCli } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { dropPrefix, inFlight, REDIS_URL, startCli, testPrefix, waitFor, type Proc } from "./helpers.js";

const BASE = "127.61.0.1";
const HOSTS = 30;
const RANGE = `${BASE}-127.61.0.${HOSTS}`;
// Generous: the fleet never stalls on purpose (no hostile hosts), so a verdict never depends on a busy machine.
const TIMEOUTS = ["--connect-timeout", "10000", "--read-timeout", "10000", "--request-timeout", "20000", "--host-timeout", "60000"];
const prefix = testPrefix("dist");
const dir = mkdtempSync(path.join(tmpdir(), "vigie-queue-"));
let fleet: Fleet;
let pgdb: TestDatabase;
const procs: Proc[] = [];

beforeAll(async () => {
  fleet = await startFleet({ hosts: HOSTS, seed: 12, baseAddress: BASE, mix: { hostile: 0 } });
  pgdb = await createTestDatabase("queue");
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await fleet?.close();
  await dropPrefix(prefix);
  await pgdb?.drop();
});

type HostLine = { ip: string; port: number; product: string | null; build: string | null; precision: string; cves: Array<{ id: string; status: string }> };
const verdicts = (lines: HostLine[]) =>
  new Map(lines.map((h) => [`${h.ip}:${h.port}`, JSON.stringify({ product: h.product, build: h.build, precision: h.precision, cves: h.cves })]));

it("two workers, one killed with -9 half-way and replaced: every target stored once, the single-process verdicts", async () => {
  const single = path.join(dir, "single.db");
  const r = await runCli(["scan", RANGE, "--db", single, "--json", "--active-checks", "--concurrency", "8", ...TIMEOUTS], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  const expected = verdicts(jsonLines<HostLine>(r.stdout));
  expect(expected.size).toBe(HOSTS * 2);

  const db = pgdb.url;
  const queue = ["--queue", REDIS_URL, "--queue-prefix", prefix];
  const worker = (): Proc => {
    const p = startCli(["worker", "--db", db, ...queue, "--concurrency", "4", "--lock-ms", "2000"]);
    procs.push(p);
    return p;
  };
  // Rate-limited (shared by the workers) so that the kill lands half-way.
  const coordinator = startCli(["scan", RANGE, "--db", db, ...queue, "--shard-size", "3", "--rate", "40", "--json", "--active-checks", ...TIMEOUTS]);
  procs.push(coordinator);
  await waitFor("the scan to be queued", () => /scan (scan-\S+): \d+ host:ports in \d+ shards queued/.test(coordinator.stderr()));
  const id = /scan (scan-\S+): /.exec(coordinator.stderr())![1]!;
  const w1 = worker();
  const w2 = worker();

  const store = await openStore(db);
  const stored = async (): Promise<number> => (await store.finishedTargets(id)).size;
  const deadline = Date.now() + 120_000;
  // Half-way, with a shard in the victim's hands.
  while (Date.now() < deadline && !((await stored()) >= 15 && inFlight(w1.stderr()) > 0)) await new Promise((res) => setTimeout(res, 100));
  const atKill = await stored();
  w1.child.kill("SIGKILL");
  expect((await w1.exit).signal).toBe("SIGKILL");
  expect(atKill).toBeGreaterThanOrEqual(15);
  expect(atKill).toBeLessThan(HOSTS * 2);
  const w3 = worker();

  const end = await coordinator.exit;
  expect(end.code, coordinator.stderr()).toBe(0);
  const queued = jsonLines<HostLine>(coordinator.stdout());
  const keys = queued.map((h) => `${h.ip}:${h.port}`);
  expect(new Set(keys).size).toBe(keys.length); // nothing doubled
  expect(verdicts(queued)).toEqual(expected); // every target, the same verdicts

  // The killed worker's shard was taken over and finished by another worker, skipping what it had stored.
  expect(w2.stderr() + w3.stderr()).toMatch(/started \(\d+ host:ports, retry: \d+ already stored\)/);
  expect(await stored()).toBe(HOSTS * 2);
  expect((await store.getSnapshot(id))?.status).toBe("done");
  expect(await store.countHosts({ snapshotId: id })).toBe(HOSTS * 2);
  await store.close();

  const status = await runCli(["scan", "--status", id, "--db", db, ...queue, "--json"]);
  expect(JSON.parse(status.stdout)).toMatchObject({ status: "done", done: HOSTS * 2, total: HOSTS * 2, queue: { completed: HOSTS / 3, shards: HOSTS / 3, failed: [] } });

  // Graceful stop of the survivors.
  w2.child.kill("SIGTERM");
  w3.child.kill("SIGTERM");
  expect((await w2.exit).code).toBe(0);
  expect((await w3.exit).code).toBe(0);
  expect(w2.stderr()).toMatch(/stopped: \d+ shards done/);
}, 240_000);

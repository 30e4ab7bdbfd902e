// --resume for queued scans: a scan whose worker was killed and whose queue was lost (Redis emptied) is put back on
// the queue with only its unfinished shards, and finished by a new worker; every target stored exactly once.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFleet, type Fleet } from "../../emulator/fleet.js";
import { openStore } from "../../src/cli/storeOption.js";
import { jsonLines, runCli } from "../helpers/cli.js";
import { dropPrefix, REDIS_URL, startCli, testPrefix, type Proc } from "./helpers.js";

const BASE = "127.61.2.1";
const HOSTS = 20;
const prefix = testPrefix("resume");
let fleet: Fleet;
const procs: Proc[] = [];

beforeAll(async () => {
  fleet = await startFleet({ hosts: HOSTS, seed: 3, baseAddress: BASE, mix: { hostile: 0 } });
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await fleet?.close();
  await dropPrefix(prefix);
});

it("a queued scan that lost its worker and its queue is resumed: only unfinished shards requeued, each target once", async () => {
  const db = path.join(mkdtempSync(path.join(tmpdir(), "vigie-queue-resume-")), "r.db");
  const queue = ["--queue", REDIS_URL, "--queue-prefix", prefix];
  const scan = await runCli(["scan", `${BASE}-127.61.2.${HOSTS}`, "--db", db, ...queue, "--shard-size", "2", "--rate", "30", "--detach"]);
  expect(scan.code, scan.stderr).toBe(0);
  const id = scan.stdout.trim();
  const w1 = startCli(["worker", "--db", db, ...queue, "--concurrency", "2", "--lock-ms", "2000"]);
  procs.push(w1);
  const store = await openStore(db);
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await store.finishedTargets(id)).size < 12) await new Promise((r) => setTimeout(r, 100));
    w1.child.kill("SIGKILL");
    await w1.exit;
    const before = (await store.finishedTargets(id)).size;
    expect(before).toBeGreaterThanOrEqual(12);
    expect(before).toBeLessThan(HOSTS * 2);
    await dropPrefix(prefix); // the queue is lost: only the store knows how far the scan got

    const status = await runCli(["scan", "--status", id, "--db", db, ...queue]);
    expect(status.stdout).toMatch(/: running/);
    expect(status.stdout).toMatch(/queue: nothing about this scan/);

    const w2 = startCli(["worker", "--db", db, ...queue, "--concurrency", "8", "--lock-ms", "2000"]);
    procs.push(w2);
    const resumed = await runCli(["scan", "--resume", id, "--db", db, ...queue, "--json"], { timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const m = /(\d+) of (\d+) shards back on the queue/.exec(resumed.stderr)!;
    expect(Number(m[2])).toBe(HOSTS / 2);
    expect(Number(m[1])).toBeLessThan(HOSTS / 2); // finished shards stay finished
    const keys = jsonLines<{ ip: string; port: number }>(resumed.stdout).map((h) => `${h.ip}:${h.port}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(fleet.hosts.flatMap((h) => h.ports.map((p) => `${h.ip}:${p}`)).sort());
    expect((await store.finishedTargets(id)).size).toBe(HOSTS * 2);
    expect((await store.getSnapshot(id))?.status).toBe("done");
    w2.child.kill("SIGTERM");
    expect((await w2.exit).code).toBe(0);
  } finally {
    await store.close();
  }
}, 150_000);

// kill -9 in the middle of a scan, then --resume: every target is stored exactly once.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startFleet, type Fleet } from "../../emulator/fleet.js";
import { CLI, jsonLines, runCli } from "../helpers/cli.js";

const BASE = "127.32.0.1";
const HOSTS = 40;
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ hosts: HOSTS, seed: 5, baseAddress: BASE, mix: { hostile: 0 } });
});
afterAll(async () => fleet?.close());

function count(db: string, sql: string): number {
  let d: Database.Database | undefined;
  try {
    d = new Database(db, { readonly: true, fileMustExist: true });
    return (d.prepare(sql).get() as { n: number }).n;
  } catch {
    return 0; // not created yet
  } finally {
    d?.close();
  }
}

it("a scan killed with SIGKILL and resumed reports every host:port exactly once", async () => {
  const db = path.join(mkdtempSync(path.join(tmpdir(), "vigie-resume-")), "v.db");
  const range = `${BASE}-127.32.0.${HOSTS}`;
  // Slow on purpose (rate limit) so the kill lands in the middle.
  const child = spawn(process.execPath, [CLI, "scan", range, "--db", db, "--json", "--rate", "25", "--concurrency", "4"], { stdio: "ignore" });
  const deadline = Date.now() + 60_000;
  let done = 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    done = count(db, "SELECT COUNT(*) AS n FROM scan_done");
    if (done >= 10) break;
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.on("close", r));
  const total = HOSTS * 2;
  const afterKill = count(db, "SELECT COUNT(*) AS n FROM scan_done");
  expect(afterKill).toBeGreaterThanOrEqual(10);
  expect(afterKill).toBeLessThan(total);
  const id = (new Database(db, { readonly: true }).prepare("SELECT id, status FROM snapshots").get() as { id: string; status: string });
  expect(id.status).toBe("running"); // killed: never marked done

  const resumed = await runCli(["scan", "--resume", id.id, "--db", db, "--json", "--concurrency", "32"], { timeoutMs: 90_000 });
  expect(resumed.code).toBe(0);
  const resumedLines = jsonLines(resumed.stdout);
  expect(resumedLines.length).toBe(total - afterKill); // only what was left

  const hosts = await runCli(["hosts", "--db", db, "--snapshot", id.id, "--json"]);
  const keys = jsonLines(hosts.stdout).map((h) => `${h.ip}:${h.port}`);
  expect(new Set(keys).size).toBe(keys.length);
  const expected = fleet.hosts.flatMap((h) => h.ports.map((p) => `${h.ip}:${p}`));
  expect(keys.sort()).toEqual(expected.sort());
  expect(count(db, "SELECT COUNT(*) AS n FROM snapshots WHERE status = 'done'")).toBe(1);
}, 150_000);

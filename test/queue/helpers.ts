// Real Redis and real processes for the queue tests: a key prefix of the test's own, deleted afterwards.
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { CLI } from "../helpers/cli.js";

export const REDIS_URL = process.env.VIGIE_TEST_REDIS ?? "redis://127.0.0.1:6379";

export function testPrefix(name: string): string {
  return `vigie-test-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Delete every key under the prefix (BullMQ's and Vigie's). */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/** A CLI process whose stderr is kept line by line (workers log there). */
export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

export async function waitFor(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Shards a worker started and has not finished or handed back, from its log. */
export function inFlight(log: string): number {
  const started = (log.match(/: started \(/g) ?? []).length;
  const ended = (log.match(/: (done|handed back) \(/g) ?? []).length;
  return started - ended;
}

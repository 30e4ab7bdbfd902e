/**
 * The scan queue in Redis (BullMQ): one job per shard of a scan, on the queue `scan-shards`, and a few keys of
 * Vigie's own beside BullMQ's, all under one key prefix (default `vigie`):
 *
 *   <prefix>:scan:<id>            hash   shards, total (host:ports)
 *   <prefix>:scan:<id>:progress   hash   shard number -> "done answered exchange" (set, not added: a retried
 *                                        shard overwrites its own count, so nothing is counted twice)
 *   <prefix>:scan:<id>:completed  set    finished shard numbers
 *   <prefix>:scan:<id>:failed     hash   shard number -> error, for shards that used up their attempts
 *   <prefix>:scan:<id>:rate       string next free request slot of the shared rate limit
 *
 * The store stays the source of truth: a shard's results and its finished targets are written together, so a
 * shard retried anywhere skips what is stored and writes the rest (idempotent by snapshot, address, port).
 */
import { Queue, type Job } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";

export const SHARD_QUEUE = "scan-shards";
export const DEFAULT_QUEUE_PREFIX = "vigie";
/** Attempts of a shard that fails with an error (a worker killed or stuck does not use one up: that is a stall). */
export const SHARD_ATTEMPTS = 5;

export class QueueSetupError extends Error {
  override readonly name = "QueueSetupError";
}

/** `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS). */
export function parseQueueUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueSetupError(`--queue: "${url.slice(0, 200)}" is not a URL (redis://host:6379[/n])`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new QueueSetupError(`--queue: "${u.protocol}" is not redis: or rediss: (redis://host:6379[/n])`);
  if (!u.hostname) throw new QueueSetupError("--queue: the URL names no host (redis://host:6379[/n])");
  if (u.pathname !== "" && u.pathname !== "/" && !/^\/\d{1,2}$/.test(u.pathname)) throw new QueueSetupError(`--queue: "${u.pathname}" is not a database number (/0 … /15)`);
  return u;
}

/** Shown in messages: the URL without a password. */
export function safeQueueUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(bad URL)";
  }
}

/** A connection BullMQ can use (it retries commands until Redis is back); fails fast when Redis cannot be reached at first. */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  parseQueueUrl(url);
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, connectTimeout: timeoutMs });
  redis.on("error", () => undefined); // reported through the failing command; BullMQ reconnects
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), timeoutMs))),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new QueueSetupError(`--queue ${safeQueueUrl(url)}: cannot reach Redis (${(err as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

export const shardJobSchema = z
  .object({
    snapshotId: z.string().min(1).max(200),
    shard: z.number().int().min(0),
    lines: z.array(z.string().max(1024)).max(100_000),
    /** Skip targets the store already holds (set on resume; a retried or stalled job checks anyway). */
    checkFinished: z.boolean(),
  })
  .strict();
export type ShardJob = z.infer<typeof shardJobSchema>;

export const shardJobId = (snapshotId: string, shard: number): string => `${snapshotId}.s${shard}`;

export interface ShardCount {
  done: number;
  responded: number;
  exchange: number;
}

export interface QueuedScanState {
  shards: number;
  total: number;
  completed: number;
  failed: Array<{ shard: number; error: string }>;
  /** Sum over the shards' last reported counts. */
  done: number;
  responded: number;
  exchange: number;
}

/** Vigie's side of the queue: the BullMQ queue of shards and the per-scan keys. */
export class ScanQueue {
  readonly queue: Queue<ShardJob>;

  constructor(
    readonly redis: Redis,
    readonly prefix: string = DEFAULT_QUEUE_PREFIX,
  ) {
    this.queue = new Queue<ShardJob>(SHARD_QUEUE, { connection: redis, prefix });
  }

  key(id: string, part?: "progress" | "completed" | "failed" | "rate"): string {
    return `${this.prefix}:scan:${id}${part ? `:${part}` : ""}`;
  }

  /** Start (or restart, on resume) the scan's bookkeeping: shard count, total, and shards already complete. */
  async begin(id: string, shards: number, total: number, complete: ReadonlyMap<number, ShardCount> = new Map()): Promise<void> {
    const multi = this.redis.multi();
    multi.del(this.key(id, "progress"), this.key(id, "completed"), this.key(id, "failed"));
    multi.hset(this.key(id), { shards: String(shards), total: String(total) });
    multi.persist(this.key(id));
    for (const [no, c] of complete) {
      multi.sadd(this.key(id, "completed"), String(no));
      multi.hset(this.key(id, "progress"), String(no), `${c.done} ${c.responded} ${c.exchange}`);
    }
    await multi.exec();
  }

  /** Put shards on the queue. A shard whose job is still queued or running is left as it is (same job id). */
  async enqueue(jobs: readonly ShardJob[], replaceFinishedJobs = false): Promise<void> {
    for (let i = 0; i < jobs.length; i += 500) {
      const chunk = jobs.slice(i, i + 500);
      if (replaceFinishedJobs) {
        for (const j of chunk) {
          const old = await this.queue.getJob(shardJobId(j.snapshotId, j.shard));
          if (old && ((await old.isCompleted()) || (await old.isFailed()))) await old.remove();
        }
      }
      await this.queue.addBulk(
        chunk.map((data) => ({
          name: "shard",
          data,
          opts: {
            jobId: shardJobId(data.snapshotId, data.shard),
            attempts: SHARD_ATTEMPTS,
            backoff: { type: "exponential", delay: 1000 },
            removeOnComplete: true,
            removeOnFail: false,
          },
        })),
      );
    }
  }

  async reportShard(id: string, shard: number, c: ShardCount): Promise<void> {
    await this.redis.hset(this.key(id, "progress"), String(shard), `${c.done} ${c.responded} ${c.exchange}`);
  }

  /** Record a finished shard; true when it was the last one. */
  async completeShard(id: string, shard: number): Promise<boolean> {
    await this.redis.sadd(this.key(id, "completed"), String(shard));
    const state = await this.state(id);
    return state !== undefined && state.completed >= state.shards;
  }

  async failShard(id: string, shard: number, error: string): Promise<void> {
    await this.redis.hset(this.key(id, "failed"), String(shard), error.slice(0, 500));
  }

  /** Keep a finished scan's keys for a week (for --status), then let Redis drop them. */
  async expire(id: string, seconds = 7 * 24 * 3600): Promise<void> {
    const multi = this.redis.multi();
    for (const k of [this.key(id), this.key(id, "progress"), this.key(id, "completed"), this.key(id, "failed")]) multi.expire(k, seconds);
    await multi.exec();
  }

  /** undefined when Redis knows nothing of this scan. */
  async state(id: string): Promise<QueuedScanState | undefined> {
    const [meta, progress, completed, failed] = await Promise.all([
      this.redis.hgetall(this.key(id)),
      this.redis.hvals(this.key(id, "progress")),
      this.redis.scard(this.key(id, "completed")),
      this.redis.hgetall(this.key(id, "failed")),
    ]);
    if (meta.shards === undefined) return undefined;
    const s: QueuedScanState = {
      shards: Number(meta.shards),
      total: Number(meta.total),
      completed,
      failed: Object.entries(failed).map(([shard, error]) => ({ shard: Number(shard), error })),
      done: 0,
      responded: 0,
      exchange: 0,
    };
    for (const v of progress) {
      const [d, r, x] = v.split(" ").map(Number);
      s.done += d ?? 0;
      s.responded += r ?? 0;
      s.exchange += x ?? 0;
    }
    return s;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export type ShardJobHandle = Job<ShardJob>;

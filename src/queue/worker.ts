/**
 * `vigie worker`: takes shards of queued scans off the queue and scans them into the store, until stopped.
 *
 * - A shard holds a BullMQ lock while it is worked; the worker renews it. A worker that dies (kill -9, a lost
 *   machine) stops renewing: after `lockMs` another worker's stalled-job check puts the shard back on the queue,
 *   and whoever takes it skips the targets the store already holds (results and finished targets are written in
 *   one transaction) and scans the rest. Writes are by (snapshot, address, port): nothing is stored twice.
 * - stop() (SIGTERM): no new target is started; the probes in flight finish and are stored; an unfinished shard
 *   is handed back to the queue at once for another worker.
 * - The scan's settings (ports, timeouts, exclusions, rate) come from the snapshot in the store, so they are the
 *   same on every worker; the request rate is one limit shared by all workers in Redis.
 */
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { BuildExplainer } from "../assess/explainBuild.js";
import type { GeoLookup } from "../enrich/geo.js";
import { Exclusions, expandTargets } from "../observe/targets.js";
import { countHostPorts, parseTargetLines, scanSpecs, type ScanProgress, type ScanSettings } from "../pipeline/scan.js";
import type { Snapshot, Store } from "../store/store.js";
import { targetKey } from "../store/store.js";
import { finishIfComplete } from "./coordinator.js";
import { redisRateLimiter } from "./rateLimit.js";
import { SHARD_QUEUE, ScanQueue, shardJobSchema, type ShardJob } from "./scanQueue.js";

export interface WorkerOptions {
  /** Host:ports probed at once by this worker (over the shards it works on). */
  concurrency: number;
  /** How long a shard stays claimed by a worker that stopped renewing its lock. */
  lockMs: number;
  geo?: Pick<GeoLookup, "lookup">;
  log?: (line: string) => void;
}

export interface WorkerTotals {
  shards: number;
  handedBack: number;
  scanned: number;
}

export interface RunningWorker {
  totals: WorkerTotals;
  /** Stop taking work; finish what is in flight, hand back unfinished shards. */
  stop(): Promise<void>;
  /** Resolves once the worker is connected and listening. */
  ready: Promise<void>;
}

export const DEFAULT_LOCK_MS = 30_000;

/** At most n probes at once; the others wait their turn in order. */
function semaphore(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  let free = n;
  const waiting: Array<() => void> = [];
  return async (work) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

export function startWorker(store: Store, explainer: BuildExplainer, redis: Redis, prefix: string, opts: WorkerOptions): RunningWorker {
  const log = opts.log ?? (() => undefined);
  const queue = new ScanQueue(redis, prefix);
  const stopping = new AbortController();
  const totals: WorkerTotals = { shards: 0, handedBack: 0, scanned: 0 };
  const snapshots = new Map<string, Promise<Snapshot | undefined>>();
  const limiters = new Map<string, () => Promise<void>>();
  // Several shards at once share the worker's probe slots, so one shard's slow tail never idles the worker.
  const shardsAtOnce = Math.min(8, opts.concurrency);
  const gate = semaphore(opts.concurrency);

  const processShard = async (job: Job<ShardJob>, token?: string): Promise<void> => {
    const parsed = shardJobSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job ${job.id} is not a Vigie shard: ${parsed.error.issues[0]?.message ?? "bad data"}`);
    const data = parsed.data;
    const id = data.snapshotId;
    if (!snapshots.has(id)) snapshots.set(id, store.getSnapshot(id));
    const snapshot = await snapshots.get(id);
    if (!snapshot || snapshot.kind !== "scan") {
      snapshots.delete(id);
      throw new Error(`no scan "${id}" in this worker's store (is it pointed at the scan's --db?)`);
    }
    const settings = snapshot.spec.settings as ScanSettings;
    const specs = parseTargetLines(data.lines, `shard ${data.shard} target`);
    const retry = data.checkFinished || job.attemptsStarted > 1;
    const finished = new Set<string>();
    let already = 0;
    if (retry) {
      // The store knows what an earlier attempt (or the interrupted scan) finished: keep this shard's part.
      const all = await store.finishedTargets(id);
      const exclusions = new Exclusions();
      for (const s of parseTargetLines(settings.exclude, "exclusion")) exclusions.add(s);
      for (const t of expandTargets(specs, exclusions)) {
        if (t.ip === undefined) continue;
        for (const port of t.spec.port !== undefined ? [t.spec.port] : settings.ports) {
          const key = targetKey(t.ip, port);
          if (all.has(key)) {
            finished.add(key);
            already++;
          }
        }
      }
      // Hostnames resolve at scan time: their finished addresses are skipped by key.
      if (specs.some((s) => s.kind === "hostname")) for (const k of all) finished.add(k);
    }
    const total = countHostPorts(specs, settings.ports);
    log(`shard ${id}#${data.shard}: started (${total} host:ports${retry ? `, retry: ${already} already stored` : ""})`);
    if (!limiters.has(id)) limiters.set(id, redisRateLimiter(redis, queue.key(id, "rate"), settings.rate));
    const progress: ScanProgress = { done: already, total, responded: 0, exchange: 0, startedAt: Date.now() };
    let reporting: Promise<void> = Promise.resolve();
    const { complete } = await scanSpecs(store, explainer, id, specs, settings, {
      finished,
      throttle: limiters.get(id)!,
      concurrency: opts.concurrency,
      gate,
      progress,
      callbacks: {
        signal: stopping.signal,
        ...(opts.geo ? { geo: opts.geo } : {}),
        onSaved: () => {
          const counts = { done: progress.done, responded: progress.responded, exchange: progress.exchange };
          reporting = reporting.then(() => queue.reportShard(id, data.shard, counts)).catch(() => undefined);
        },
      },
    });
    await reporting;
    totals.scanned += progress.done - already;
    if (!complete) {
      // Stopped half-way: what is stored stays; the rest goes back to the queue for another worker now.
      totals.handedBack++;
      log(`shard ${id}#${data.shard}: handed back (${progress.done}/${total} stored)`);
      await job.moveToWait(token);
      throw new WaitingError();
    }
    await queue.reportShard(id, data.shard, { done: progress.done, responded: progress.responded, exchange: progress.exchange });
    totals.shards++;
    log(`shard ${id}#${data.shard}: done (${progress.done}/${total}, ${progress.responded} answered, ${progress.exchange} Exchange)`);
    if (await queue.completeShard(id, data.shard)) {
      await finishIfComplete(store, queue, id);
      log(`scan ${id}: all shards done`);
    }
  };

  const worker = new Worker<ShardJob>(SHARD_QUEUE, processShard, {
    connection: redis,
    prefix,
    concurrency: shardsAtOnce,
    lockDuration: opts.lockMs,
    stalledInterval: Math.max(250, Math.floor(opts.lockMs / 2)),
    // A shard whose worker died is not at fault: let it be taken over many times before giving up.
    maxStalledCount: 20,
    autorun: true,
  });
  worker.on("error", (err) => log(`queue error: ${err.message}`));
  worker.on("stalled", (jobId) => log(`job ${jobId}: its worker stopped answering; back on the queue`));
  worker.on("failed", (job, err) => {
    if (!job) return;
    const data = job.data;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    log(`shard ${data.snapshotId}#${data.shard}: failed (attempt ${job.attemptsMade}${final ? ", giving up" : ""}): ${err.message}`);
    if (final) void queue.failShard(data.snapshotId, data.shard, err.message).catch(() => undefined);
  });

  return {
    totals,
    ready: worker.waitUntilReady().then(() => undefined),
    async stop() {
      stopping.abort();
      await worker.close();
      await queue.close();
    },
  };
}

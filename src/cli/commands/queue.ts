/**
 * Distributed scanning on a BullMQ queue (Redis): `vigie scan --queue …` (queue the shards, watch, --detach,
 * --status, --resume) and `vigie worker` (work shards until SIGTERM). See docs/scan.md.
 */
import type { Command } from "commander";
import { BuildExplainer } from "../../assess/explainBuild.js";
import { openGeo } from "../../enrich/load.js";
import { lazyPublicGeo } from "../../enrich/publicAddress.js";
import { countHostPorts, parseTargetLines, ScanSetupError, type ScanProgress, type ScanSettings } from "../../pipeline/scan.js";
import { DEFAULT_SHARD_SIZE } from "../../pipeline/shards.js";
import { resumeQueuedScan, startQueuedScan, watchQueuedScan } from "../../queue/coordinator.js";
import { connectRedis, DEFAULT_QUEUE_PREFIX, QueueSetupError, safeQueueUrl, ScanQueue, type QueuedScanState } from "../../queue/scanQueue.js";
import { DEFAULT_LOCK_MS, startWorker } from "../../queue/worker.js";
import type { HostRecord, Store } from "../../store/store.js";
import { UsageError } from "../errors.js";
import { compareHosts, HOST_CSV_HEADER, hostCsv, hostJsonLine, hostTable, type HostFormat, type HostSupport } from "../format/hosts.js";
import { progressLine } from "../format/progress.js";
import { addDbOption, openStore, snapshotSupport } from "../storeOption.js";
import { openKnowledgeBase } from "./kb.js";
import { scanSettings, scanTargetLines, type ScanOptions } from "./scan.js";

export interface QueueScanOptions {
  queue?: string;
  queuePrefix: string;
  shardSize: number;
  detach?: boolean;
  status?: string;
}

function positiveInt(name: string, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name}: "${v}" is not a whole number from 1 to ${max}`);
    return n;
  };
}

function prefixOption(v: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(v)) throw new UsageError(`--queue-prefix: "${v.slice(0, 80)}" is not 1-64 letters, digits, "_", "." or "-"`);
  return v;
}

export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option("--queue <url>", "distribute the scan over `vigie worker`s through this Redis (redis://host:6379[/n])")
    .option("--queue-prefix <prefix>", "Redis key prefix of the queue (the workers' must match)", prefixOption, DEFAULT_QUEUE_PREFIX)
    .option("--shard-size <n>", "with --queue: addresses or hostnames per shard", positiveInt("--shard-size", 1_000_000), DEFAULT_SHARD_SIZE)
    .option("--detach", "with --queue: queue the scan and return at once (follow it with --status)")
    .option("--status <scan-id>", "show how far a scan is (with --queue: its shards too)");
}

async function withQueue<T>(url: string, prefix: string, work: (q: ScanQueue) => Promise<T>): Promise<T> {
  let redis;
  try {
    redis = await connectRedis(url);
  } catch (err) {
    if (err instanceof QueueSetupError) throw new UsageError(err.message);
    throw err;
  }
  const queue = new ScanQueue(redis, prefix);
  try {
    return await work(queue);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

async function allHosts(store: Store, snapshotId: string): Promise<HostRecord[]> {
  const rows: HostRecord[] = [];
  for await (const h of store.hosts({ snapshotId })) rows.push(h);
  return rows;
}

function printHosts(rows: HostRecord[], format: HostFormat, support: HostSupport): void {
  if (format === "json") for (const h of rows) process.stdout.write(`${hostJsonLine(h, support)}\n`);
  else if (format === "csv") process.stdout.write(`${HOST_CSV_HEADER}\n${rows.map((h) => `${hostCsv(h, support)}\n`).join("")}`);
  else process.stdout.write(rows.length > 0 ? `${hostTable([...rows].sort(compareHosts))}\n` : "no host answered\n");
}

/** `vigie scan … --queue`, `vigie scan --resume … --queue`, `vigie scan --status …`. */
export async function queuedScanCommand(targets: string[], opts: ScanOptions & QueueScanOptions, format: HostFormat): Promise<void> {
  if (opts.status !== undefined) {
    if (targets.length > 0 || opts.targetsFile || opts.resume !== undefined) throw new UsageError("--status takes a scan id and nothing to scan");
    await scanStatus(opts.status, opts);
    return;
  }
  const url = opts.queue!;
  const store = await openStore(opts.db);
  try {
    await withQueue(url, opts.queuePrefix, async (queue) => {
      let id: string;
      const startedAt = Date.now();
      try {
        if (opts.resume !== undefined) {
          if (targets.length > 0 || opts.targetsFile) throw new UsageError("--resume takes no targets: it finishes the scan's own");
          id = opts.resume;
          const r = await resumeQueuedScan(store, queue, id, opts.shardSize);
          process.stderr.write(`vigie: scan ${id}: ${r.requeued} of ${r.shards} shards back on the queue\n`);
        } else {
          const started = await startQueuedScan(store, queue, await scanTargetLines(targets, opts), scanSettings(opts), opts.shardSize);
          id = started.id;
          process.stderr.write(`vigie: scan ${id}: ${started.total} host:ports in ${started.shards} shards queued on ${safeQueueUrl(url)}\n`);
        }
      } catch (err) {
        if (err instanceof ScanSetupError) throw new UsageError(err.message);
        throw err;
      }
      const again = `--db ${store.label} --queue ${safeQueueUrl(url)}${opts.queuePrefix !== DEFAULT_QUEUE_PREFIX ? ` --queue-prefix ${opts.queuePrefix}` : ""}`;
      if (opts.detach) {
        process.stdout.write(`${id}\n`);
        process.stderr.write(`vigie: workers scan it (vigie worker ${again}); follow it with: vigie scan --status ${id} ${again}\n`);
        return;
      }
      // Ctrl-C stops watching only: the workers go on.
      const controller = new AbortController();
      const onSignal = (): void => controller.abort();
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      const showProgress = opts.progress !== false && process.stderr.isTTY === true;
      let state: QueuedScanState;
      try {
        state = await watchQueuedScan(store, queue, id, {
          signal: controller.signal,
          startedAt,
          onProgress: showProgress ? (p: ScanProgress) => process.stderr.write(`\r${progressLine(p)}`) : undefined,
        });
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        if (showProgress) process.stderr.write("\n");
      }
      if (state.completed < state.shards) {
        if (state.failed.length > 0) {
          for (const f of state.failed.slice(0, 10)) process.stderr.write(`vigie: shard ${f.shard} failed: ${f.error}\n`);
          process.stderr.write(`vigie: scan ${id}: ${state.failed.length} of ${state.shards} shards failed; after fixing the cause: vigie scan --resume ${id} ${again}\n`);
          process.exitCode = 1;
        } else {
          process.stderr.write(`vigie: stopped watching; the workers go on. Follow with: vigie scan --status ${id} ${again}\n`);
        }
        return;
      }
      const rows = await allHosts(store, id);
      printHosts(rows, format, await snapshotSupport(store, id, opts));
      const seconds = (Date.now() - startedAt) / 1000;
      process.stderr.write(
        `vigie: scan ${id}: ${state.done}/${state.total} host:ports in ${seconds.toFixed(1)} s over the queue, ${rows.length} answered, ` +
          `${rows.filter((h) => h.isExchange).length} Exchange; stored in ${store.label}\n`,
      );
    });
  } finally {
    await store.close();
  }
}

async function scanStatus(id: string, opts: ScanOptions & QueueScanOptions): Promise<void> {
  const store = await openStore(opts.db);
  try {
    const snapshot = await store.getSnapshot(id);
    if (!snapshot || snapshot.kind !== "scan") throw new UsageError(`--status: no scan "${id}" in ${store.label}`);
    const settings = snapshot.spec.settings as ScanSettings;
    const total = countHostPorts(parseTargetLines(await store.scanInputs(id), "target"), settings.ports);
    const done = (await store.finishedTargets(id)).size;
    const answered = await store.countHosts({ snapshotId: id });
    const exchange = await store.countHosts({ snapshotId: id, exchangeOnly: true });
    const queueState = opts.queue !== undefined ? await withQueue(opts.queue, opts.queuePrefix, (q) => q.state(id)) : undefined;
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({
          id,
          status: snapshot.status,
          createdAt: snapshot.createdAt,
          finishedAt: snapshot.finishedAt,
          done,
          total,
          answered,
          exchange,
          ...(queueState ? { queue: { shards: queueState.shards, completed: queueState.completed, failed: queueState.failed } } : {}),
        })}\n`,
      );
      return;
    }
    const lines = [
      `scan ${id}: ${snapshot.status}, started ${snapshot.createdAt}${snapshot.finishedAt ? `, ended ${snapshot.finishedAt}` : ""}`,
      `  host:ports: ${done}/${total} done, ${answered} answered, ${exchange} Exchange`,
    ];
    if (opts.queue !== undefined) {
      lines.push(
        queueState
          ? `  queue: ${queueState.completed}/${queueState.shards} shards done${queueState.failed.length > 0 ? `, ${queueState.failed.length} failed (${queueState.failed.slice(0, 3).map((f) => `#${f.shard}: ${f.error}`).join("; ")})` : ""}`
          : "  queue: nothing about this scan (finished over a week ago, never queued, or another prefix)",
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    await store.close();
  }
}

export function registerWorker(program: Command): void {
  const cmd = program
    .command("worker")
    .description("scan shards of queued scans (vigie scan --queue) until stopped; SIGTERM finishes what is in flight and hands the rest back")
    .requiredOption("--queue <url>", "Redis of the queue (redis://host:6379[/n])")
    .option("--queue-prefix <prefix>", "Redis key prefix of the queue", prefixOption, DEFAULT_QUEUE_PREFIX)
    .option("-c, --concurrency <n>", "host:ports this worker probes at once", positiveInt("--concurrency", 10000), 200)
    .option("--lock-ms <ms>", "how long a shard of a worker that died stays claimed before another worker takes it over", positiveInt("--lock-ms", 3_600_000), DEFAULT_LOCK_MS)
    .option("--kb-dir <dir>", "folder of imported knowledge-base updates");
  addDbOption(cmd);
  cmd.action(async (opts: { queue: string; queuePrefix: string; concurrency: number; lockMs: number; kbDir?: string; db?: string }) => {
    if (opts.lockMs < 1000) throw new UsageError("--lock-ms: at least 1000");
    const explainer = new BuildExplainer(openKnowledgeBase(opts));
    const store = await openStore(opts.db);
    let redis;
    try {
      redis = await connectRedis(opts.queue);
    } catch (err) {
      await store.close();
      if (err instanceof QueueSetupError) throw new UsageError(err.message);
      throw err;
    }
    const log = (line: string): void => void process.stderr.write(`vigie worker: ${line}\n`);
    const worker = startWorker(store, explainer, redis, opts.queuePrefix, {
      concurrency: opts.concurrency,
      lockMs: opts.lockMs,
      geo: lazyPublicGeo(() => openGeo()),
      log,
    });
    await worker.ready;
    log(`ready on ${safeQueueUrl(opts.queue)} (prefix ${opts.queuePrefix}), ${opts.concurrency} host:ports at once, store ${store.label}`);
    await new Promise<void>((resolve) => {
      let stopping = false;
      const onSignal = (): void => {
        if (stopping) {
          log("stopping now; unfinished shards go back to the queue when their lock runs out");
          process.exit(130);
        }
        stopping = true;
        log("stopping: finishing the host:ports in flight, handing the rest back (signal again to quit now)");
        worker.stop().then(resolve, (err: unknown) => {
          log(`error while stopping: ${(err as Error).message}`);
          resolve();
        });
      };
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    });
    log(`stopped: ${worker.totals.shards} shards done, ${worker.totals.handedBack} handed back, ${worker.totals.scanned} host:ports scanned`);
    redis.disconnect();
    await store.close();
  });
}

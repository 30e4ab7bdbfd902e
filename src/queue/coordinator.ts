/**
 * A queued scan, the coordinator's side: create the snapshot and its targets in the store, cut the targets into
 * shards and put them on the queue; on resume, put back only the shards that still have unfinished targets;
 * watch progress until every shard is finished. The work itself is done by `vigie worker` (src/queue/worker.ts).
 */
import { Exclusions, expandTargets } from "../observe/targets.js";
import { countHostPorts, newScanId, parseTargetLines, ScanSetupError, type ScanProgress, type ScanSettings } from "../pipeline/scan.js";
import { DEFAULT_SHARD_SIZE, shardSpecs } from "../pipeline/shards.js";
import type { Store } from "../store/store.js";
import { targetKey } from "../store/store.js";
import type { ScanQueue} from "./scanQueue.js";
import { type QueuedScanState, type ShardCount, type ShardJob } from "./scanQueue.js";

export interface QueuedScanSpec {
  /** Addresses or hostnames per shard. */
  shardSize: number;
}

/** Create a scan snapshot and queue its shards. */
export async function startQueuedScan(
  store: Store,
  queue: ScanQueue,
  targets: readonly string[],
  settings: ScanSettings,
  shardSize = DEFAULT_SHARD_SIZE,
  id = newScanId(),
): Promise<{ id: string; shards: number; total: number }> {
  const specs = parseTargetLines(targets, "target");
  parseTargetLines(settings.exclude, "exclusion");
  const queued: QueuedScanSpec = { shardSize };
  await store.createSnapshot({
    id,
    kind: "scan",
    date: new Date().toISOString().slice(0, 10),
    spec: { settings, targetCount: targets.length, queue: queued },
  });
  await store.addScanInputs(id, targets);
  const shards = [...shardSpecs(specs, shardSize)];
  const total = countHostPorts(specs, settings.ports);
  await queue.begin(id, shards.length, total);
  await queue.enqueue(shards.map((s): ShardJob => ({ snapshotId: id, shard: s.no, lines: s.lines, checkFinished: false })));
  return { id, shards: shards.length, total };
}

/**
 * Put an interrupted scan back on the queue (a scan started with or without --queue): the shards that still have
 * unfinished targets, which workers finish skipping what the store already holds.
 */
export async function resumeQueuedScan(store: Store, queue: ScanQueue, id: string, shardSizeIfNew = DEFAULT_SHARD_SIZE): Promise<{ shards: number; requeued: number; total: number }> {
  const snapshot = await store.getSnapshot(id);
  if (!snapshot || snapshot.kind !== "scan") throw new ScanSetupError(`no scan "${id}" in the store`);
  const settings = snapshot.spec.settings as ScanSettings;
  const shardSize = (snapshot.spec.queue as QueuedScanSpec | undefined)?.shardSize ?? shardSizeIfNew;
  const specs = parseTargetLines(await store.scanInputs(id), "target");
  const exclusions = new Exclusions();
  for (const s of parseTargetLines(settings.exclude, "exclusion")) exclusions.add(s);
  const finished = await store.finishedTargets(id);
  const complete = new Map<number, ShardCount>();
  const jobs: ShardJob[] = [];
  let shards = 0;
  for (const shard of shardSpecs(specs, shardSize)) {
    shards++;
    let done = 0;
    let open = false;
    for (const t of expandTargets(parseTargetLines(shard.lines, "target"), exclusions)) {
      if (t.ip === undefined) {
        open = true; // a hostname: its addresses are known once resolved, by the worker
        continue;
      }
      for (const port of t.spec.port !== undefined ? [t.spec.port] : settings.ports) {
        if (finished.has(targetKey(t.ip, port))) done++;
        else open = true;
      }
    }
    if (open) jobs.push({ snapshotId: id, shard: shard.no, lines: shard.lines, checkFinished: true });
    else complete.set(shard.no, { done, responded: 0, exchange: 0 });
  }
  const total = countHostPorts(specs, settings.ports);
  await store.setSnapshotStatus(id, "running");
  await queue.begin(id, shards, total, complete);
  await queue.enqueue(jobs, true);
  if (jobs.length === 0) await finishIfComplete(store, queue, id);
  return { shards, requeued: jobs.length, total };
}

/** Mark the snapshot done once every shard is finished (by whichever worker or watcher sees it first). */
export async function finishIfComplete(store: Store, queue: ScanQueue, id: string): Promise<boolean> {
  const state = await queue.state(id);
  if (!state || state.completed < state.shards) return false;
  const snapshot = await store.getSnapshot(id);
  if (snapshot && snapshot.status !== "done") await store.setSnapshotStatus(id, "done");
  await queue.expire(id);
  return true;
}

export function progressOf(state: QueuedScanState, startedAt: number): ScanProgress {
  return { done: state.done, total: state.total, responded: state.responded, exchange: state.exchange, startedAt };
}

/**
 * Poll the queue until every shard is finished (or some used up their attempts, or the signal aborts).
 * Returns the last state.
 */
export async function watchQueuedScan(
  store: Store,
  queue: ScanQueue,
  id: string,
  opts: { onProgress?: (p: ScanProgress) => void; signal?: AbortSignal; intervalMs?: number; startedAt?: number } = {},
): Promise<QueuedScanState> {
  const startedAt = opts.startedAt ?? Date.now();
  for (;;) {
    const state = await queue.state(id);
    if (!state) throw new ScanSetupError(`the queue holds nothing about scan "${id}" (another Redis, database number or --queue-prefix?)`);
    opts.onProgress?.(progressOf(state, startedAt));
    if (state.completed >= state.shards) {
      await finishIfComplete(store, queue, id);
      return state;
    }
    if (state.failed.length > 0 && state.completed + state.failed.length >= state.shards) return state;
    if (opts.signal?.aborted) return state;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, opts.intervalMs ?? 500);
      opts.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

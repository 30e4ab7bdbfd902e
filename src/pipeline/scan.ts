/**
 * A live scan: targets -> probes (Observation) -> identification and assessment -> store, streaming.
 * Results are saved in batches (one transaction each) together with the targets they finish, so a scan killed
 * at any point (kill -9 included) resumes with `resumeScan`: finished targets are skipped, every target is
 * scanned and stored exactly once.
 */
import { lookup } from "node:dns/promises";
import type { BuildExplainer } from "../assess/explainBuild.js";
import { threePartPrefix } from "../knowledge/buildNumber.js";
import { DEFAULT_MAX_REQUESTS, DEFAULT_PROBE_CONTEXT, probeTarget, type ProbeContext } from "../observe/probes/probeHost.js";
import type { HttpLimits } from "../observe/http/hostClient.js";
import type { Observation } from "./vocabulary.js";
import type { GeoLookup } from "../enrich/geo.js";
import { rateLimiter } from "../observe/rateLimiter.js";
import { countTargets, Exclusions, expandTargets, parseTarget, TargetError, type TargetSpec } from "../observe/targets.js";
import type { HostRecord, Store, TargetKey } from "../store/store.js";
import { targetKey } from "../store/store.js";
import { assessObservation } from "./assessObservation.js";

export interface ScanSettings {
  ports: number[];
  concurrency: number;
  /** Requests per second over the whole scan; 0 for no limit. */
  rate: number;
  limits: HttpLimits;
  activeChecks: boolean;
  exclude: string[];
  /** Longest a single host:port may take, all probes together. */
  hostTimeoutMs: number;
  /** Most HTTP requests per host:port, every probe counted (ProbeContext.maxRequests); absent in snapshots
   * stored before the option existed: DEFAULT_MAX_REQUESTS. */
  maxRequests?: number;
}

export interface ScanProgress {
  done: number;
  total: number;
  responded: number;
  exchange: number;
  startedAt: number;
}

export interface ScanCallbacks {
  /** Country/ASN of each address (offline databases); none when absent. */
  geo?: Pick<GeoLookup, "lookup">;
  /** Called with each batch of stored hosts (responding host:port only), in the order they were stored. */
  onHosts?: (hosts: readonly HostRecord[]) => void;
  onProgress?: (p: ScanProgress) => void;
  /** Called after each saved batch: how many targets it finished, and its stored hosts. */
  onSaved?: (finished: number, hosts: readonly HostRecord[]) => void;
  /** Aborting stops scheduling new targets; in-flight ones finish and are stored. */
  signal?: AbortSignal;
}

export class ScanSetupError extends Error {
  override readonly name = "ScanSetupError";
}

/** Parse target and exclusion lines up front: a bad line stops the scan before any traffic, naming it. */
export function parseTargetLines(lines: readonly string[], what: string): TargetSpec[] {
  const errors: string[] = [];
  const specs: TargetSpec[] = [];
  lines.forEach((line, i) => {
    try {
      specs.push(parseTarget(line));
    } catch (err) {
      errors.push(`${what} #${i + 1}: ${err instanceof TargetError ? err.message : String(err)}`);
    }
  });
  if (errors.length > 0) throw new ScanSetupError(errors.slice(0, 20).join("\n"));
  return specs;
}

export function newScanId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return `scan-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Start a new scan snapshot and run it. */
export async function startScan(
  store: Store,
  explainer: BuildExplainer,
  targets: readonly string[],
  settings: ScanSettings,
  callbacks: ScanCallbacks = {},
  id = newScanId(),
): Promise<{ id: string; progress: ScanProgress }> {
  parseTargetLines(targets, "target");
  parseTargetLines(settings.exclude, "exclusion");
  const now = new Date();
  await store.createSnapshot({ id, kind: "scan", date: now.toISOString().slice(0, 10), spec: { settings, targetCount: targets.length } });
  await store.addScanInputs(id, targets);
  return { id, progress: await runScan(store, explainer, id, settings, callbacks) };
}

/** Finish an interrupted scan: same targets and settings, finished targets skipped. */
export async function resumeScan(store: Store, explainer: BuildExplainer, id: string, callbacks: ScanCallbacks = {}): Promise<ScanProgress> {
  const snapshot = await store.getSnapshot(id);
  if (!snapshot || snapshot.kind !== "scan") throw new ScanSetupError(`no scan "${id}" in the store`);
  const settings = snapshot.spec.settings as ScanSettings;
  await store.setSnapshotStatus(id, "running");
  return runScan(store, explainer, id, settings, callbacks);
}

async function runScan(store: Store, explainer: BuildExplainer, id: string, settings: ScanSettings, callbacks: ScanCallbacks): Promise<ScanProgress> {
  const specs = parseTargetLines(await store.scanInputs(id), "target");
  const finished = await store.finishedTargets(id);
  const progress: ScanProgress = {
    done: finished.size,
    total: countHostPorts(specs, settings.ports),
    responded: 0,
    exchange: 0,
    startedAt: Date.now(),
  };
  const progressTimer = setInterval(() => callbacks.onProgress?.(progress), 200);
  try {
    await scanSpecs(store, explainer, id, specs, settings, {
      finished,
      throttle: rateLimiter(settings.rate),
      concurrency: settings.concurrency,
      progress,
      callbacks,
    });
  } finally {
    clearInterval(progressTimer);
    callbacks.onProgress?.(progress);
    await store.setSnapshotStatus(id, callbacks.signal?.aborted ? "interrupted" : "done");
  }
  return progress;
}

/** Host:ports the specs expand to: a line with its own port (`192.0.2.1:8443`) counts once, others once per port. */
export function countHostPorts(specs: readonly TargetSpec[], ports: readonly number[]): number {
  let n = 0;
  for (const s of specs) n += Number(countTargets([s])) * (s.port !== undefined ? 1 : ports.length);
  return n;
}

export interface ScanRun {
  /** "ip|port" keys already stored: skipped (counted in progress.done by the caller). */
  finished: ReadonlySet<string>;
  /** Awaited before every request: the scan's request rate (in-process, or shared by all workers in Redis). */
  throttle: () => Promise<void>;
  /** Host:ports probed at once. */
  concurrency: number;
  progress: ScanProgress;
  callbacks: ScanCallbacks;
  /** Runs each probe: a worker shares its probe slots between the shards it works on at once. */
  gate?: <T>(probe: () => Promise<T>) => Promise<T>;
}

/**
 * Probe, judge and store the targets of some specs: the core shared by the one-process scan and the queue
 * workers (one shard at a time). Exclusions come from the settings. Results are saved in batches of up to 500
 * together with the targets they finish; the last batch is saved before it returns, also when aborted.
 */
export async function scanSpecs(
  store: Store,
  explainer: BuildExplainer,
  id: string,
  specs: readonly TargetSpec[],
  settings: ScanSettings,
  run: ScanRun,
): Promise<{ complete: boolean }> {
  const { finished, progress, callbacks } = run;
  const exclusions = new Exclusions();
  for (const s of parseTargetLines(settings.exclude, "exclusion")) exclusions.add(s);
  const ctx: ProbeContext = {
    ...DEFAULT_PROBE_CONTEXT,
    limits: settings.limits,
    activeChecks: settings.activeChecks,
    maxRequests: settings.maxRequests ?? DEFAULT_MAX_REQUESTS,
    throttle: run.throttle,
    candidates: (prefix) => [...(explainer.kb.byPrefix.get(threePartPrefix(prefix)) ?? [])].reverse().map((b) => b.build),
  };
  let pendingHosts: HostRecord[] = [];
  let pendingDone: TargetKey[] = [];
  let saving: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    // Batches are saved one after the other, in order.
    saving = saving.then(async () => {
      if (pendingDone.length === 0) return;
      const hosts = pendingHosts;
      const done = pendingDone;
      pendingHosts = [];
      pendingDone = [];
      await store.saveBatch(id, hosts, done);
      if (hosts.length > 0) callbacks.onHosts?.(hosts);
      callbacks.onSaved?.(done.length, hosts);
    });
    return saving;
  };
  const flushTimer = setInterval(() => void flush().catch(() => undefined), 250);

  const iterator = expandTargets(specs, exclusions);
  const seen = new Set<string>();
  let cut = false;
  const next = (): { ip?: string; hostname?: string; spec: TargetSpec } | undefined => {
    const r = iterator.next();
    if (r.done) return undefined;
    if (callbacks.signal?.aborted) {
      cut = true;
      return undefined;
    }
    return r.value;
  };

  const scanOne = async (ip: string, hostname: string | null, ports: readonly number[]): Promise<void> => {
    for (const port of ports) {
      const key = targetKey(ip, port);
      if (finished.has(key) || seen.has(key)) continue;
      seen.add(key);
      const probe = () => withDeadline(probeTarget({ ip, port, hostname }, ctx), settings.hostTimeoutMs, ip, port, hostname);
      const observation = await (run.gate ? run.gate(probe) : probe());
      if (observation.responded) {
        const record = assessObservation(explainer, id, observation, callbacks.geo?.lookup(ip));
        pendingHosts.push(record);
        progress.responded++;
        if (record.isExchange) progress.exchange++;
      }
      pendingDone.push({ ip, port });
      progress.done++;
      if (pendingDone.length >= 500) await flush();
    }
  };

  const worker = async (): Promise<void> => {
    for (let t = next(); t !== undefined; t = next()) {
      const ports = t.spec.port !== undefined ? [t.spec.port] : settings.ports;
      if (t.ip !== undefined) {
        await scanOne(t.ip, null, ports);
        continue;
      }
      let addresses: string[] = [];
      try {
        addresses = (await lookup(t.hostname!, { all: true })).map((a) => a.address);
      } catch {
        progress.done += ports.length;
        continue;
      }
      for (const ip of [...new Set(addresses)]) if (!exclusions.hasIp(ip)) await scanOne(ip, t.hostname!, ports);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, run.concurrency) }, () => worker()));
  } finally {
    clearInterval(flushTimer);
    await flush();
  }
  return { complete: !cut };
}

/** A host:port that takes longer than the deadline is recorded with what is known, and the scan moves on. */
async function withDeadline(work: Promise<Observation>, ms: number, ip: string, port: number, hostname: string | null): Promise<Observation> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Observation>((resolve) => {
    timer = setTimeout(() => {
      resolve({
        ip,
        port,
        hostname,
        source: "scan",
        observedAt: new Date().toISOString(),
        responded: true,
        tls: false,
        evidence: [],
        errors: [`host took longer than ${ms} ms; probes stopped`],
      });
    }, ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

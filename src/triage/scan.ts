/**
 * `vigie triage` end to end: read the bundle entry by entry, route each to its scanner, then judge.
 * This is the I/O edge; the scanners, matcher and verdict are pure.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { readBundle, detectBundle } from "./bundle/index.js";
import { DIR_CHUNK_BYTES } from "./bundle/dir.js";
import { type BundleLimits, DEFAULT_LIMITS, entryLimitMessage, totalLimitMessage } from "./bundle/types.js";
import { classifyEntry, serverPathOf } from "./classify.js";
import { loadTriageRules } from "./load.js";
import { type ChannelSpan, EventXmlScanner, EvtxScanner, mainChannel } from "./logs/eventlog.js";
import { ListingScanner } from "./logs/listing.js";
import { LogFileScanner } from "./logs/scanner.js";
import { LogMatcher, matchFileRules } from "./match.js";
import type { RuleMeta, RuleSet } from "./rules.js";
import type { ChannelCoverage, FamilyCoverage, Finding, LogCoverage, LogType, TriageProblem, TriageResult } from "./types.js";
import { LOG_TYPES } from "./types.js";
import { corroborate, sortTimeline, verdictOf } from "./verdict.js";
import { ScanPool } from "./pool.js";
import type { WorkerResult } from "./worker.js";
import { buildYara, type YaraEngine } from "./yara.js";
import { isManifestPath, MAX_MANIFEST_BYTES, parseManifest, type TriageServer, withHostOption } from "./server.js";

export interface TriageOptions {
  /** Extra rule files or folders (--rules): .json log/file rules, .yar/.yara YARA rules. */
  rules?: string[];
  /** Run YARA over the files in the bundle (default true). */
  yara?: boolean;
  limits?: Partial<BundleLimits>;
  /** Files larger than this are hashed and name-checked but not YARA-scanned. */
  maxYaraBytes?: number;
  /**
   * Worker threads scanning the log files of directory bundles (default: one per core, at most 4, when there are
   * 2 or more cores, else none; 0 scans everything on the main thread). Results are merged in bundle order, so the output is the
   * same as a sequential run.
   */
  workers?: number;
  /** The compiled worker module (default: worker.js next to this module; without it, the scan is sequential). */
  workerScript?: URL;
  /** Log files smaller than this stay on the main thread (default 256 KiB: a worker round trip is not worth it). */
  workerMinBytes?: number;
  /** The server's IP addresses (--host), for bundles whose manifest does not name them; listed first. */
  hosts?: string[];
}

const WORKER_MIN_BYTES = 256 * 1024;
/** Each worker costs about 80 MB of RSS at full speed: more than this many only when asked for. */
const MAX_DEFAULT_WORKERS = 4;

function defaultWorkerScript(): URL | null {
  const url = new URL("./worker.js", import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

export interface TriageOutput extends TriageResult {
  /** The server the bundle comes from (collector manifest and/or --host); null when nothing names it. */
  server: TriageServer | null;
  /** Metadata of every rule that produced a finding. */
  rules: Map<string, RuleMeta>;
}

class CoverageAcc {
  files = 0;
  lines = 0;
  bytes = 0;
  first: string | null = null;
  last: string | null = null;
  add(lines: number, bytes: number, first: string | null, last: string | null): void {
    this.files++;
    this.lines += lines;
    this.bytes += bytes;
    if (first && (this.first === null || first < this.first)) this.first = first;
    if (last && (this.last === null || last > this.last)) this.last = last;
    if (first && (this.last === null || first > this.last)) this.last = first;
  }
  /** Event logs: a file counts for the channel most of its records name; records and times for every channel seen. */
  readonly channels = new Map<string, { files: number; records: number; first: string | null; last: string | null }>();
  addChannels(spans: ReadonlyMap<string, ChannelSpan>): void {
    const main = mainChannel(spans);
    for (const [name, sp] of spans) {
      let c = this.channels.get(name);
      if (!c) {
        c = { files: 0, records: 0, first: null, last: null };
        this.channels.set(name, c);
      }
      if (name === main) c.files++;
      c.records += sp.records;
      if (sp.first && (c.first === null || sp.first < c.first)) c.first = sp.first;
      if (sp.last && (c.last === null || sp.last > c.last)) c.last = sp.last;
    }
  }
}

/**
 * The log family of a bundle path: HttpProxy logs by protocol folder ("httpproxy/Ecp"), as Test-ProxyLogon reports
 * log age per HttpProxy folder; other logs by type.
 */
export function familyOf(bundlePath: string, logType: LogType): string {
  if (logType !== "httpproxy") return logType;
  const m = /(?:^|\/)httpproxy\/([^/]+)\//i.exec(bundlePath);
  return m ? `httpproxy/${m[1]}` : "httpproxy";
}

/** Exchange and IIS web folders: where a signature-grade web shell match is a compromise on its own. */
export function isWebFolder(serverPath: string): boolean {
  return /(^|\/)(inetpub\/wwwroot|frontend\/httpproxy|clientaccess)\//.test(serverPath);
}

function spanDays(first: string | null, last: string | null): number | null {
  return first && last ? Math.round(((Date.parse(last) - Date.parse(first)) / 86_400_000) * 10) / 10 : null;
}

export async function triage(input: string, options: TriageOptions = {}): Promise<TriageOutput> {
  const { rules, yaraFiles } = loadTriageRules(options.rules ?? []);
  const yara: YaraEngine | null = options.yara === false ? null : buildYara(yaraFiles);
  const limits: BundleLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxYaraBytes = options.maxYaraBytes ?? 16 * 1024 * 1024;
  const kind = await detectBundle(input);

  const matchers = new Map<LogType, LogMatcher>();
  const matcherFor = (t: LogType): LogMatcher => {
    let m = matchers.get(t);
    if (!m) {
      m = new LogMatcher(rules, t, t === "eventlog" ? [] : ["#Fields:"]);
      matchers.set(t, m);
    }
    return m;
  };
  const coverage = new Map<LogType, CoverageAcc>(LOG_TYPES.map((t) => [t, new CoverageAcc()]));
  const families = new Map<string, { logType: LogType; acc: CoverageAcc }>();
  const addFamily = (file: string, logType: LogType, lines: number, bytes: number, first: string | null, last: string | null): void => {
    const key = familyOf(file, logType);
    let f = families.get(key);
    if (!f) {
      f = { logType, acc: new CoverageAcc() };
      families.set(key, f);
    }
    f.acc.add(lines, bytes, first, last);
  };
  /** The first few entry paths, to name what was looked at when nothing could be examined. */
  const seen: string[] = [];
  /** The manifest's server once read (false: read, names nobody). */
  let manifest: TriageServer | false | null = null;
  const findings: Finding[] = [];
  const problems: TriageProblem[] = [];
  const stats = { files: 0, bytes: 0, yaraFiles: 0, listedFiles: 0 };
  /**
   * Effects on findings, problems, coverage and stats, applied in bundle order. Entries scanned by a worker leave a
   * promise of their effect at their place, so the merged result does not depend on which worker finished first.
   */
  const effects: Array<(() => void) | Promise<() => void>> = [];
  const problem = (file: string, message: string): void => {
    effects.push(() => {
      if (problems.length < 10000) problems.push({ file, message });
    });
  };

  const cores = availableParallelism();
  const nWorkers = options.workers ?? (cores > 1 ? Math.min(cores, MAX_DEFAULT_WORKERS) : 0);
  const script = nWorkers > 0 ? (options.workerScript ?? defaultWorkerScript()) : null;
  let pool: ScanPool | null = null;
  let jobId = 0;
  const workerMinBytes = options.workerMinBytes ?? WORKER_MIN_BYTES;

  try {
    await readBundle(
      input,
      kind,
      limits,
      async (entry, chunks) => {
        stats.files++;
        if (seen.length < 5) seen.push(entry.path);
        if (isManifestPath(entry.path) && manifest === null) {
          // The collector's manifest: who the server is. Read whole (it is small), never matched as evidence.
          const keep: Buffer[] = [];
          let n = 0;
          for await (const c of chunks) {
            n += c.length;
            if (n <= MAX_MANIFEST_BYTES + 1) keep.push(c);
          }
          stats.bytes += n;
          const m = parseManifest(Buffer.concat(keep));
          manifest = m.server ?? false;
          if (m.problem) problem(entry.path, m.problem);
          return;
        }
        const k = classifyEntry(entry.path);
        if (k.kind === "log") {
          const local = entry.local;
          const size = entry.size ?? 0;
          // Handed to a worker only when far from every limit, so limit behaviour stays the sequential one.
          if (
            script &&
            local &&
            size >= workerMinBytes &&
            size * 2 < limits.maxEntryBytes &&
            local.budget.total + size * 2 < limits.maxTotalBytes
          ) {
            pool ??= new ScanPool(script, nWorkers, { logRules: rules.logRules });
            const w = await pool.acquire();
            const allowance = limits.maxTotalBytes - local.budget.total;
            // Counted at once (corrected when the worker answers), so files read meanwhile see the bytes in flight.
            local.budget.total += size;
            const logType = k.logType;
            const job = pool.run(w, {
              id: ++jobId,
              path: local.path,
              file: entry.path,
              logType,
              chunkBytes: DIR_CHUNK_BYTES,
              maxEntryBytes: limits.maxEntryBytes,
              entryLimit: entryLimitMessage(limits.maxEntryBytes),
              maxBytes: allowance,
              totalLimit: totalLimitMessage(limits.maxTotalBytes),
            });
            effects.push(
              job.then((r) => {
                local.budget.total += r.metered - size;
                return () => applyLog(entry.path, logType, r);
              }),
            );
            return;
          }
          const sc = new LogFileScanner(entry.path, matcherFor(k.logType));
          try {
            for await (const c of chunks) sc.push(c);
          } finally {
            sc.end();
            const logType = k.logType;
            effects.push(() => applyLog(entry.path, logType, { findings: sc.findings, suppressed: [...sc.suppressed], overlongLines: sc.overlongLines, lines: sc.lines, bytes: sc.bytes, first: sc.first, last: sc.last }));
          }
          return;
        }
        if (k.kind === "evtx" || k.kind === "eventxml") {
          const sc = k.kind === "evtx" ? new EvtxScanner(entry.path, matcherFor("eventlog")) : new EventXmlScanner(entry.path, matcherFor("eventlog"));
          try {
            for await (const c of chunks) sc.push(c);
          } finally {
            sc.end();
            stats.bytes += sc.bytes;
            const found = sc.findings;
            effects.push(() => findings.push(...found));
            const cov = coverage.get("eventlog")!;
            cov.add(sc.records, sc.bytes, sc.first, sc.last);
            cov.addChannels(sc.channels);
            addFamily(entry.path, "eventlog", sc.records, sc.bytes, sc.first, sc.last);
            for (const p of sc.problems) problem(entry.path, p);
            if (sc.records === 0 && sc.bytes > 0 && !sc.problems.length) problem(entry.path, "no event records in this file");
          }
          return;
        }
        if (k.kind === "listing") {
          const sc = new ListingScanner(entry.path, rules.fileRules);
          try {
            for await (const c of chunks) sc.push(c);
          } finally {
            sc.end();
            stats.bytes += sc.bytes;
            stats.listedFiles += sc.rows;
            const found = sc.findings;
            effects.push(() => findings.push(...found));
            for (const p of sc.problems) problem(entry.path, p);
          }
          return;
        }
        // A plain file: hash it, check its name and path, YARA-scan it if small enough.
        const hash = createHash("sha256");
        const keep: Buffer[] = [];
        let kept = 0;
        let size = 0;
        for await (const c of chunks) {
          hash.update(c);
          size += c.length;
          if (yara && size <= maxYaraBytes) {
            keep.push(c);
            kept += c.length;
          } else if (keep.length) {
            keep.length = 0;
            kept = 0;
          }
        }
        stats.bytes += size;
        const sha = hash.digest("hex");
        const sp = serverPathOf(entry.path);
        const found = matchFileRules(rules.fileRules, { serverPath: sp, displayPath: entry.path, sha256: sha, lastWrite: null, size }, { file: entry.path, line: null });
        if (yara && size <= maxYaraBytes && kept === size) {
          stats.yaraFiles++;
          found.push(...yara.scan(Buffer.concat(keep, kept), entry.path, isWebFolder(sp)));
        }
        effects.push(() => findings.push(...found));
      },
      problem,
    );
    for (const e of effects) (await e)();
  } finally {
    if (pool) await (pool as ScanPool).close();
  }

  function applyLog(file: string, logType: LogType, r: Pick<WorkerResult, "findings" | "suppressed" | "overlongLines" | "lines" | "bytes" | "first" | "last"> & Partial<Pick<WorkerResult, "limit" | "errorCode">>): void {
    stats.bytes += r.bytes;
    findings.push(...r.findings);
    coverage.get(logType)!.add(r.lines, r.bytes, r.first, r.last);
    addFamily(file, logType, r.lines, r.bytes, r.first, r.last);
    const add = (message: string): void => {
      if (problems.length < 10000) problems.push({ file, message });
    };
    for (const [rule, n] of r.suppressed) add(`${n} more hits of ${rule} not listed (cap per rule and file)`);
    if (r.overlongLines) add(`${r.overlongLines} line(s) longer than 1 MiB, checked in pieces`);
    // Same messages as the directory reader gives when reading fails on the main thread.
    if (r.limit) add(r.limit);
    else if (r.errorCode) add(`cannot read (${r.errorCode})`);
  }

  const logRuleIds = new Set(rules.logRules.map((r) => r.id));
  const split = corroborate(findings, (f) => logRuleIds.has(f.rule));
  const judged = sortTimeline(split.findings);
  const setAside = sortTimeline(split.setAside);
  const usedMeta = new Map<string, RuleMeta>();
  for (const f of [...judged, ...setAside]) {
    const m = rules.meta.get(f.rule) ?? yara?.meta.get(f.rule);
    if (m) usedMeta.set(f.rule, m);
  }
  const cov: LogCoverage[] = LOG_TYPES.map((t) => {
    const c = coverage.get(t)!;
    const out: LogCoverage = { logType: t, files: c.files, lines: c.lines, bytes: c.bytes, first: c.first, last: c.last, days: spanDays(c.first, c.last) };
    if (t === "eventlog") {
      out.channels = [...c.channels]
        .map(([channel, x]): ChannelCoverage => ({ channel, files: x.files, records: x.records, first: x.first, last: x.last, days: spanDays(x.first, x.last) }))
        .sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
    }
    return out;
  });
  const fam: FamilyCoverage[] = [...families]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([family, { logType, acc }]) => ({ family, logType, files: acc.files, lines: acc.lines, first: acc.first, last: acc.last, days: spanDays(acc.first, acc.last) }));
  // Examined: at least one log line or event record was read. Otherwise "no indicators" would mean nothing.
  const examined = cov.some((c) => c.lines > 0);
  const verdict = verdictOf(judged, examined);
  let notExamined: string | null = null;
  if (verdict === "not-examined") {
    const what = stats.files
      ? `${stats.files} file(s) read (${seen.map((s) => JSON.stringify(s)).join(", ")}${stats.files > seen.length ? ", ..." : ""}), none an HttpProxy, ECP server, OAB generator, IIS or event log with content`
      : "no file could be read from the bundle";
    notExamined = `no log the rules can read: ${what}${problems.length ? `; ${problems.length} problem(s), first: ${problems[0]!.file}: ${problems[0]!.message}` : ""}`;
  }
  const server = withHostOption(manifest || null, options.hosts ?? []);
  return { bundle: input, server, verdict, findings: judged, coverage: cov, families: fam, problems, setAside, notExamined, stats, rules: usedMeta };
}

export type { RuleSet };

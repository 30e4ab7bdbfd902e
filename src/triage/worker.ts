/**
 * Worker thread of `vigie triage` for directory bundles: scans whole log files, one job at a time, with the same
 * LogFileScanner the main thread uses, reading the file in chunks of the same size as the directory reader does,
 * so findings, line numbers and overlong-line pieces are identical to a sequential run. Receives paths, never
 * file contents; memory per worker stays one chunk plus one line.
 * Imports only the pure scanner modules (rules arrive compiled, in workerData).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { LogFileScanner } from "./logs/scanner.js";
import { LogMatcher } from "./match.js";
import type { CompiledLogRule } from "./rules.js";
import type { Finding, LogType } from "./types.js";

export interface WorkerInit {
  logRules: CompiledLogRule[];
}

export interface WorkerJob {
  id: number;
  /** File on disk. */
  path: string;
  /** Entry path relative to the bundle root (as findings report it). */
  file: string;
  logType: LogType;
  chunkBytes: number;
  /** Bytes after which the entry limit stops reading (message `entryLimit`). */
  maxEntryBytes: number;
  entryLimit: string;
  /** Bytes this file may use of the bundle's total budget (message `totalLimit`). */
  maxBytes: number;
  totalLimit: string;
}

export interface WorkerResult {
  id: number;
  findings: Finding[];
  suppressed: Array<[string, number]>;
  overlongLines: number;
  lines: number;
  bytes: number;
  /** Bytes counted against the bundle budget (includes a chunk refused by a limit, as Budget.meter counts it). */
  metered: number;
  first: string | null;
  last: string | null;
  /** Why reading stopped early: a limit message, or an error code. */
  limit: string | null;
  errorCode: string | null;
}

export function scanFileJob(job: WorkerJob, matcher: LogMatcher): WorkerResult {
  const sc = new LogFileScanner(job.file, matcher);
  let metered = 0;
  let limit: string | null = null;
  let errorCode: string | null = null;
  let fd: number | null = null;
  try {
    fd = openSync(job.path, "r");
    const buf = Buffer.allocUnsafe(job.chunkBytes);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      metered += n;
      if (metered > job.maxEntryBytes) {
        limit = job.entryLimit;
        break;
      }
      if (metered > job.maxBytes) {
        limit = job.totalLimit;
        break;
      }
      // The scanner copies what it keeps (the unfinished line), so the read buffer can be reused.
      sc.push(buf.subarray(0, n));
    }
  } catch (err) {
    errorCode = err && typeof err === "object" && "code" in err && typeof err.code === "string" ? err.code : err instanceof Error ? err.message : String(err);
  } finally {
    if (fd !== null) closeSync(fd);
  }
  sc.end();
  return {
    id: job.id,
    findings: sc.findings,
    suppressed: [...sc.suppressed],
    overlongLines: sc.overlongLines,
    lines: sc.lines,
    bytes: sc.bytes,
    metered,
    first: sc.first,
    last: sc.last,
    limit,
    errorCode,
  };
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as WorkerInit;
  const matchers = new Map<LogType, LogMatcher>();
  port.on("message", (job: WorkerJob) => {
    let m = matchers.get(job.logType);
    if (!m) {
      m = new LogMatcher({ logRules: init.logRules }, job.logType, job.logType === "eventlog" ? [] : ["#Fields:"]);
      matchers.set(job.logType, m);
    }
    port.postMessage(scanFileJob(job, m));
  });
}

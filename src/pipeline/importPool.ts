/**
 * The import's parser threads (importWorker.ts): a piece goes to the thread with the fewest pieces in flight and
 * its result comes back as a promise; the driver awaits results in input order, so which thread finishes first
 * never changes what is stored. A thread that dies or fails rejects every piece it held (the import stops with
 * that error: no record is silently lost).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { PieceResult } from "./importPiece.js";
import type { ImportWorkerInit, PieceAnswer, PieceJob } from "./importWorker.js";

/**
 * A thread holds a few pieces (1 MiB each, or one line of up to 16 MiB) and their records: a bounded heap makes V8
 * collect early instead of growing, which keeps the import's peak RSS low. A thread that runs out fails the import
 * visibly (never a silent loss).
 */
const THREAD_HEAP = { maxOldGenerationSizeMb: 160, maxYoungGenerationSizeMb: 8 };

interface Pending {
  resolve: (r: PieceResult) => void;
  reject: (e: Error) => void;
}

/** The compiled worker next to this module; null when running from sources (tests under vitest). */
export function defaultImportWorkerScript(): URL | null {
  const url = new URL("./importWorker.js", import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

export class ImportPool {
  private readonly threads: Array<{ w: Worker; pending: Map<number, Pending> }> = [];
  private failure: Error | null = null;

  constructor(script: URL, size: number, init: ImportWorkerInit) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { workerData: init, resourceLimits: THREAD_HEAP });
      const t = { w, pending: new Map<number, Pending>() };
      w.on("message", (a: PieceAnswer) => {
        const p = t.pending.get(a.seq);
        if (!p) return;
        t.pending.delete(a.seq);
        if ("fatal" in a) p.reject(new Error(`import parser thread: ${a.fatal}`));
        else p.resolve(a.result);
      });
      const fail = (e: Error): void => {
        this.failure ??= e;
        for (const p of t.pending.values()) p.reject(e);
        t.pending.clear();
      };
      w.on("error", fail);
      w.on("exit", (code) => {
        if (code !== 0 || t.pending.size > 0) fail(new Error(`import parser thread exited (code ${code})`));
      });
      this.threads.push(t);
    }
  }

  /** Parse one piece; its buffer is transferred (the caller must not use it afterwards). */
  run(seq: number, buf: Buffer): Promise<PieceResult> {
    if (this.failure) return Promise.reject(this.failure);
    let t = this.threads[0]!;
    for (const x of this.threads) if (x.pending.size < t.pending.size) t = x;
    const target = t;
    return new Promise<PieceResult>((resolve, reject) => {
      target.pending.set(seq, { resolve, reject });
      const job: PieceJob = { seq, buf };
      // A piece from readPieces owns its whole ArrayBuffer (allocUnsafeSlow): transfer it, no copy.
      const own = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
      target.w.postMessage(job, own ? [buf.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.w.terminate()));
  }
}

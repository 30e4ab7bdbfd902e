/**
 * A small pool of scan workers (see worker.ts) for directory bundles. `acquire` waits for a free worker, so at most
 * `size` files are in flight; a worker that dies answers its job with an error instead of hanging the scan.
 */
import { Worker } from "node:worker_threads";
import type { WorkerInit, WorkerJob, WorkerResult } from "./worker.js";

const WORKER_HEAP = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 4 };

export class ScanPool {
  private readonly all: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiters: Array<(w: Worker) => void> = [];
  private readonly jobs = new Map<Worker, { id: number; done: (r: WorkerResult) => void }>();

  constructor(
    private readonly script: URL,
    readonly size: number,
    private readonly init: WorkerInit,
  ) {}

  /** A free worker (spawned on first need), waiting while all are busy. */
  acquire(): Promise<Worker> {
    const w = this.idle.pop();
    if (w) return Promise.resolve(w);
    if (this.all.length < this.size) return Promise.resolve(this.spawn());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Run one job on a worker obtained from `acquire`; never rejects. */
  run(w: Worker, job: WorkerJob): Promise<WorkerResult> {
    return new Promise((done) => {
      this.jobs.set(w, { id: job.id, done });
      w.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private spawn(): Worker {
    // A worker holds one chunk, one line and its file's capped findings: a small heap keeps garbage (1 MiB strings per
    // chunk) collected early, so peak RSS stays low. Running out of it fails that file visibly ("cannot read").
    const w = new Worker(this.script, { workerData: this.init, resourceLimits: WORKER_HEAP });
    this.all.push(w);
    w.on("message", (r: WorkerResult) => {
      const j = this.jobs.get(w);
      this.jobs.delete(w);
      this.release(w);
      j?.done(r);
    });
    const fail = (message: string): void => {
      const j = this.jobs.get(w);
      this.jobs.delete(w);
      const i = this.all.indexOf(w);
      if (i !== -1) this.all.splice(i, 1);
      if (j) j.done(failedResult(j.id, message));
      // A waiter for a worker gets a fresh one in place of the dead one.
      const next = this.waiters.shift();
      if (next) next(this.spawn());
    };
    w.on("error", (err) => fail(`scan worker failed: ${err.message}`));
    w.on("exit", (code) => {
      if (this.jobs.has(w)) fail(`scan worker exited (${code})`);
    });
    return w;
  }

  private release(w: Worker): void {
    const next = this.waiters.shift();
    if (next) next(w);
    else this.idle.push(w);
  }
}

function failedResult(id: number, message: string): WorkerResult {
  return { id, findings: [], suppressed: [], overlongLines: 0, lines: 0, bytes: 0, metered: 0, first: null, last: null, limit: null, errorCode: message };
}

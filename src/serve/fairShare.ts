/**
 * Fair share of the expensive work of `vigie serve` between users (docs/serve.md, "Fair share"):
 * - triage uploads: `uploadsTotal` at once on the server, `uploadsPerUser` per user (503 when the server's
 *   slots are taken, 429 when the caller already holds theirs), and a body that must keep arriving at
 *   `minUploadBytesPerSecond` over every `uploadWindowMs` (408 and the connection closed otherwise);
 * - full CSV exports (`exports`) and uncached computations — census, diff, trend, pictures, host counts —
 *   (`computations`): token buckets per user; answers from the cache cost nothing. 429 with Retry-After.
 */
import { HttpError } from "./http.js";
import { TokenBuckets, tooMany, type BucketSpec, type Clock } from "./limits.js";

export interface FairSharePolicy {
  uploadsTotal: number;
  uploadsPerUser: number;
  minUploadBytesPerSecond: number;
  uploadWindowMs: number;
  exports: BucketSpec;
  computations: BucketSpec;
}

export const DEFAULT_FAIR_SHARE: FairSharePolicy = {
  uploadsTotal: 2,
  uploadsPerUser: 1,
  minUploadBytesPerSecond: 64 * 1024,
  uploadWindowMs: 10_000,
  exports: { burst: 3, refillMs: 60_000 },
  computations: { burst: 30, refillMs: 2_000 },
};

export type ExpensiveWork = "export" | "computation";

export class FairShare {
  private uploads = 0;
  private readonly uploadsByUser = new Map<string, number>();
  private readonly buckets: Record<ExpensiveWork, TokenBuckets>;

  constructor(
    readonly policy: FairSharePolicy,
    clock: Clock,
  ) {
    this.buckets = { export: new TokenBuckets(policy.exports, clock), computation: new TokenBuckets(policy.computations, clock) };
  }

  /** An upload slot for this user, or 429/503; call the returned function when done. */
  uploadSlot(user: string): () => void {
    const mine = this.uploadsByUser.get(user) ?? 0;
    if (mine >= this.policy.uploadsPerUser) throw tooMany(`you already have ${mine} upload${mine > 1 ? "s" : ""} in progress; wait for ${mine > 1 ? "them" : "it"} to finish`, 5);
    if (this.uploads >= this.policy.uploadsTotal) throw new HttpError(503, "other bundles are being checked; try again in a moment", { retryAfter: 5 });
    this.uploads++;
    this.uploadsByUser.set(user, mine + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.uploads--;
      const n = (this.uploadsByUser.get(user) ?? 1) - 1;
      if (n <= 0) this.uploadsByUser.delete(user);
      else this.uploadsByUser.set(user, n);
    };
  }

  /** Charge one unit of expensive work to the user, or throw 429. */
  charge(kind: ExpensiveWork, user: string): void {
    const t = this.buckets[kind].take(user);
    if (!t.ok) throw tooMany(kind === "export" ? `too many full exports; try again in ${t.retryAfter} s` : `too many uncached queries; try again in ${t.retryAfter} s`, t.retryAfter);
  }
}

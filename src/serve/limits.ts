/**
 * Budgets for `vigie serve`: token buckets per key (an address, a user name, a user's expensive route) and a
 * counting semaphore with a bounded queue. In memory, per server process; every map is bounded (the oldest keys
 * go first), so a flood of new keys costs a fixed amount of memory.
 */
import { HttpError } from "./http.js";

export type Clock = () => number;

export interface BucketSpec {
  /** Tokens a fresh key starts with (the burst). */
  burst: number;
  /** One token comes back every this many milliseconds, up to `burst`. */
  refillMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly spec: BucketSpec,
    private readonly clock: Clock,
    private readonly maxKeys = 50_000,
  ) {}

  private bucket(key: string): Bucket {
    const now = this.clock();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.spec.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    } else {
      const back = Math.floor((now - b.at) / this.spec.refillMs);
      if (back > 0) {
        b.tokens = Math.min(this.spec.burst, b.tokens + back);
        b.at = b.tokens === this.spec.burst ? now : b.at + back * this.spec.refillMs;
      }
      this.buckets.delete(key); // re-inserted below: the map's order is least recently used first
    }
    this.buckets.set(key, b);
    return b;
  }

  /** Takes a token if there is one; otherwise says in how many seconds the next one comes. */
  take(key: string): { ok: true } | { ok: false; retryAfter: number } {
    const b = this.bucket(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfter: Math.max(1, Math.ceil((b.at + this.spec.refillMs - this.clock()) / 1000)) };
  }

  /** Gives back a token taken in advance (e.g. a log-in that turned out right). */
  refund(key: string): void {
    const b = this.bucket(key);
    b.tokens = Math.min(this.spec.burst, b.tokens + 1);
  }

  available(key: string): number {
    return this.bucket(key).tokens;
  }
}

/** 429 with Retry-After. */
export const tooMany = (message: string, retryAfter: number): HttpError => new HttpError(429, message, { retryAfter });

/** At most `max` holders at once; at most `queue` waiters, each for at most `waitMs` (else 503). */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<{ go: () => void; timer: NodeJS.Timeout }> = [];

  constructor(
    readonly max: number,
    readonly queue: number,
    readonly waitMs: number,
  ) {}

  get holders(): number {
    return this.active;
  }

  async acquire(busyMessage: string): Promise<() => void> {
    if (this.active < this.max) {
      this.active++;
      return this.releaser();
    }
    if (this.waiters.length >= this.queue) throw new Busy(busyMessage);
    await new Promise<void>((resolve, reject) => {
      const w = {
        go: () => {
          clearTimeout(w.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new Busy(busyMessage));
        }, this.waitMs),
      };
      this.waiters.push(w);
    });
    // The releaser handed its slot over: `active` is unchanged.
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) next.go();
      else this.active--;
    };
  }
}

/** 503 with Retry-After: 1 (the server is busy with this kind of work, not refusing the caller). */
export class Busy extends HttpError {
  constructor(message: string) {
    super(503, message, { retryAfter: 1 });
  }
}

/**
 * The budget key of a client address: IPv4 as is, IPv6 by its /64 (one site or host usually holds a whole /64),
 * IPv4-mapped IPv6 as the IPv4 address.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return "?";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t] : h;
  return groups.slice(0, 4).map((g) => (g || "0").toLowerCase().replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

/**
 * The log-in policy of `vigie serve` (docs/serve.md, "Log-in budgets"). Every POST /api/session is checked, in
 * this order, before any password is hashed:
 *
 * 1. the source address's budget (IPv6 by /64): `perAddress.burst` failures, then one more every
 *    `perAddress.refillMs`; an address out of budget gets 429, other addresses are not affected;
 * 2. the server's overall budget of failures (`overall`): password spraying from many addresses slows down to
 *    its refill rate; 429 when it is empty;
 * 3. the user name's back-off: after `nameFreeFailures` failures in a row, the name is locked for
 *    `nameBaseLockMs`, doubling with each further failure, never more than `nameMaxLockMs`; attempts while
 *    locked are refused (429, Retry-After) without being counted, so the lock ends at most `nameMaxLockMs` after
 *    the last counted failure; the failures are forgotten after `nameForgetMs` without one, or at a success;
 * 4. an address from which this user name logged in successfully in the last `trustMs` is exempt from 2 and 3:
 *    a stranger guessing a name locks neither its owner's usual address nor everyone else's logins out;
 * 5. at most `concurrent` passwords are hashed at once (scrypt on the thread pool, off the event loop), with at
 *    most `queue` waiting, each at most `queueWaitMs` (503 beyond).
 *
 * Budgets are charged when an attempt starts and given back when it succeeds, so concurrent attempts cannot
 * overdraw them. All state is in memory (a restart forgets it) and bounded.
 */
import type { User } from "../../store/auth.js";
import { HttpError } from "../http.js";
import { addressKey, Semaphore, TokenBuckets, tooMany, type BucketSpec, type Clock } from "../limits.js";

export interface LoginPolicy {
  perAddress: BucketSpec;
  overall: BucketSpec;
  nameFreeFailures: number;
  nameBaseLockMs: number;
  nameMaxLockMs: number;
  nameForgetMs: number;
  trustMs: number;
  concurrent: number;
  queue: number;
  queueWaitMs: number;
}

export const DEFAULT_LOGIN_POLICY: LoginPolicy = {
  perAddress: { burst: 10, refillMs: 6_000 },
  overall: { burst: 100, refillMs: 500 },
  nameFreeFailures: 5,
  nameBaseLockMs: 1_000,
  nameMaxLockMs: 15 * 60_000,
  nameForgetMs: 24 * 3600_000,
  trustMs: 30 * 24 * 3600_000,
  concurrent: 1,
  queue: 8,
  queueWaitMs: 2_000,
};

interface NameState {
  failures: number;
  last: number;
  lockedUntil: number;
}

const MAX_NAMES = 50_000;

export class LoginGuard {
  private readonly addresses: TokenBuckets;
  private readonly overall: TokenBuckets;
  private readonly names = new Map<string, NameState>();
  private readonly trusted = new Map<string, number>();
  private readonly hashing: Semaphore;

  constructor(
    readonly policy: LoginPolicy,
    private readonly clock: Clock,
  ) {
    this.addresses = new TokenBuckets(policy.perAddress, clock);
    this.overall = new TokenBuckets(policy.overall, clock, 1);
    this.hashing = new Semaphore(policy.concurrent, policy.queue, policy.queueWaitMs);
  }

  /** Runs `check` (the password check) if the budgets allow; throws 429/503/401, or returns the user. */
  async attempt(name: string, address: string | undefined, check: () => Promise<User | undefined>): Promise<User> {
    const now = this.clock();
    const addr = addressKey(address);
    const pair = `${name}\n${addr}`;
    const trustedAt = this.trusted.get(pair);
    const trusted = trustedAt !== undefined && now - trustedAt < this.policy.trustMs;

    const a = this.addresses.take(addr);
    if (!a.ok) throw tooMany(`too many failed log-ins from your address; try again in ${a.retryAfter} s`, a.retryAfter);
    const refund: Array<() => void> = [() => this.addresses.refund(addr)];
    const giveBack = (): void => refund.forEach((f) => f());
    if (!trusted) {
      const o = this.overall.take("*");
      if (!o.ok) {
        giveBack();
        throw tooMany(`too many failed log-ins on this server just now; try again in ${o.retryAfter} s`, o.retryAfter);
      }
      refund.push(() => this.overall.refund("*"));
      const st = this.nameState(name, now);
      if (st && st.lockedUntil > now) {
        giveBack();
        const s = Math.max(1, Math.ceil((st.lockedUntil - now) / 1000));
        throw tooMany(`too many failed log-ins for this user name; try again in ${s} s`, s);
      }
    }

    let release: () => void;
    try {
      release = await this.hashing.acquire("other log-ins are being checked; try again in a moment");
    } catch (err) {
      giveBack();
      throw err;
    }
    let user: User | undefined;
    try {
      user = await check();
    } finally {
      release();
    }
    if (user) {
      giveBack();
      this.names.delete(name);
      this.trusted.delete(pair);
      if (this.trusted.size >= MAX_NAMES) this.trusted.delete(this.trusted.keys().next().value as string);
      this.trusted.set(pair, this.clock());
      return user;
    }
    if (!trusted) this.fail(name);
    throw new HttpError(401, "wrong user name or password");
  }

  private nameState(name: string, now: number): NameState | undefined {
    const st = this.names.get(name);
    if (st && now - st.last > this.policy.nameForgetMs) {
      this.names.delete(name);
      return undefined;
    }
    return st;
  }

  private fail(name: string): void {
    const now = this.clock();
    const st = this.nameState(name, now) ?? { failures: 0, last: now, lockedUntil: 0 };
    st.failures++;
    st.last = now;
    const over = st.failures - this.policy.nameFreeFailures;
    if (over >= 0) st.lockedUntil = now + Math.min(this.policy.nameMaxLockMs, this.policy.nameBaseLockMs * 2 ** Math.min(over, 40));
    this.names.delete(name);
    if (this.names.size >= MAX_NAMES) this.names.delete(this.names.keys().next().value as string);
    this.names.set(name, st);
  }
}

// Log-in budgets of vigie serve (src/serve/auth/login.ts) over real HTTP on loopback and a real SQLite store:
// scrypt off the event loop, a cap on concurrent checks, budgets per address and overall, a per-name back-off
// that doubles up to a cap, and the owner's usual address exempt from it. Callers on different machines are
// stood for by source addresses 127.13.0.x; time is a clock the test moves (no timed assertions).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer, type StartOptions } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { call, login } from "./client.js";
import { buildFixture, type Fixture } from "./fixture.js";

let fx: Fixture;
let srv: RunningServer | undefined;
let store: Store | undefined;
let now = 1_700_000_000_000;

beforeAll(async () => {
  fx = await buildFixture();
}, 60_000);
afterEach(async () => {
  await srv?.close();
  await store?.close();
  srv = undefined;
  store = undefined;
});
afterAll(async () => {
  await fx?.cleanup();
});

const LOOSE = { burst: 1000, refillMs: 1 };
async function start(o: Partial<StartOptions> = {}): Promise<string> {
  srv = await startServer({ store: (store = await openStore(fx.db)), kb: fx.kb, port: 0, clock: () => now, ...o });
  return srv.url;
}
const from = (i: number) => `127.13.0.${i}`;

describe("log-in", () => {
  it("hashes off the event loop: /api/health answers while log-ins are still being checked", async () => {
    const url = await start({ loginPolicy: { perAddress: LOOSE, overall: LOOSE, concurrent: 1, queue: 16 } });
    const order: string[] = [];
    const logins = Array.from({ length: 6 }, (_, i) => login(url, `ghost${i}`, "wrong-password").then((r) => order.push(`login ${r.status}`)));
    await new Promise((r) => setTimeout(r, 20)); // the log-ins have reached the server
    const health = call(url, "/api/health").then((r) => order.push(`health ${r.status}`));
    await Promise.all([...logins, health]);
    expect(order).toContain("health 200");
    expect(order.filter((x) => x === "login 401").length).toBe(6);
    // Six scrypt runs, one at a time: health came back before the last of them.
    expect(order.indexOf("health 200")).toBeLessThan(order.length - 1);
  });

  it("caps concurrent password checks: beyond the queue, 503 with Retry-After, nothing hashed", async () => {
    const url = await start({ loginPolicy: { perAddress: LOOSE, overall: LOOSE, concurrent: 1, queue: 1 } });
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => login(url, `ghost${i}`, "wrong-password")));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    expect(statuses).toContain(503);
    expect(answers.find((a) => a.status === 503)?.headers["retry-after"]).toBe("1");
    // Once the queue has drained, the right password works at once.
    expect((await login(url, "viewer", "viewer-password")).status).toBe(200);
  });

  it("budgets failures per source address: one address spraying new names is stopped, another is not", async () => {
    const url = await start({ loginPolicy: { perAddress: { burst: 3, refillMs: 60_000 }, overall: LOOSE } });
    for (let i = 0; i < 3; i++) expect((await login(url, `spray${i}`, "Winter2026!", from(1))).status).toBe(401);
    const refused = await login(url, "spray3", "Winter2026!", from(1));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.body).toMatch(/your address/);
    // Even the right password waits: the address is out of budget.
    expect((await login(url, "viewer", "viewer-password", from(1))).status).toBe(429);
    // Another address is not punished.
    expect((await login(url, "spray4", "Winter2026!", from(2))).status).toBe(401);
    expect((await login(url, "viewer", "viewer-password", from(3))).status).toBe(200);
    // The budget comes back with time: one token a minute.
    now += 60_000;
    expect((await login(url, "spray5", "Winter2026!", from(1))).status).toBe(401);
    expect((await login(url, "spray6", "Winter2026!", from(1))).status).toBe(429);
  });

  it("budgets failures overall: spraying from many addresses slows down too", async () => {
    const url = await start({ loginPolicy: { perAddress: LOOSE, overall: { burst: 4, refillMs: 10_000 } } });
    for (let i = 1; i <= 4; i++) expect((await login(url, `spray${i}`, "Winter2026!", from(10 + i))).status).toBe(401);
    const r = await login(url, "spray5", "Winter2026!", from(20));
    expect(r.status).toBe(429);
    expect(r.body).toMatch(/on this server/);
    now += 10_000;
    expect((await login(url, "spray6", "Winter2026!", from(21))).status).toBe(401);
    expect((await login(url, "spray7", "Winter2026!", from(22))).status).toBe(429);
  });

  it("locks a name with a doubling back-off, capped, and never counts attempts made while locked", async () => {
    const url = await start({ loginPolicy: { perAddress: LOOSE, overall: LOOSE, nameFreeFailures: 2, nameBaseLockMs: 1_000, nameMaxLockMs: 8_000 } });
    const attacker = from(30);
    expect((await login(url, "analyst", "guess-1", attacker)).status).toBe(401);
    expect((await login(url, "analyst", "guess-2", attacker)).status).toBe(401); // 2nd failure: locked 1 s
    const waits: number[] = [];
    for (let k = 0; k < 6; k++) {
      const locked = await login(url, "analyst", "guess-x", attacker);
      expect(locked.status).toBe(429);
      const s = Number(locked.headers["retry-after"]);
      waits.push(s);
      // Hammering while locked changes nothing.
      for (let j = 0; j < 3; j++) expect(Number((await login(url, "analyst", "guess-y", attacker)).headers["retry-after"])).toBe(s);
      now += s * 1000;
      expect((await login(url, "analyst", `guess-${k + 3}`, attacker)).status).toBe(401);
    }
    expect(waits).toEqual([1, 2, 4, 8, 8, 8]);
    // Locked names are per name: other users are not affected.
    expect((await login(url, "viewer", "viewer-password", from(31))).status).toBe(200);
    // The owner gets in once the (at most 8 s) lock is over, and the failures are forgotten.
    now += 8_000;
    expect((await login(url, "analyst", "analyst-password", from(32))).status).toBe(200);
    expect((await login(url, "analyst", "guess-z", attacker)).status).toBe(401);
  });

  it("an address the owner logged in from is exempt from the name's lock and the overall budget", async () => {
    const url = await start({ loginPolicy: { perAddress: LOOSE, overall: { burst: 3, refillMs: 3_600_000 }, nameFreeFailures: 1, nameBaseLockMs: 600_000, nameMaxLockMs: 600_000 } });
    const owner = from(40);
    expect((await login(url, "admin", "admin-password", owner)).status).toBe(200); // uses no budget
    expect((await login(url, "admin", "guess-1", from(41))).status).toBe(401); // locks the name for 10 minutes
    expect((await login(url, "admin", "guess-2", from(41))).status).toBe(429);
    expect((await login(url, "ghost", "guess-3", from(42))).status).toBe(401);
    expect((await login(url, "ghost2", "guess-4", from(43))).status).toBe(401); // overall budget now empty
    expect((await login(url, "viewer", "viewer-password", from(44))).status).toBe(429);
    const r = await login(url, "admin", "admin-password", owner);
    expect(r.status).toBe(200);
    expect(r.headers["set-cookie"]).toBeDefined();
  });
});

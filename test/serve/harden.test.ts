// What a hostile Internet sends to vigie serve, over real HTTP on loopback and a real SQLite store: malformed
// paths (400 and one log line), plain HTTP off loopback refused, constituencies applied per snapshot (host
// history, diff pairs), opaque scoped cursors, and fair shares of uploads, exports and uncached queries.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { assessObservation } from "../../src/pipeline/assessObservation.js";
import { checkListen, InsecureListenError, startServer, type RunningServer } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";
import { call } from "./client.js";
import { buildFixture, CVE, FIXED, obs, VULN, type Fixture } from "./fixture.js";

let fx: Fixture;
let srv: RunningServer;
const logged: string[] = [];
const opened: Store[] = [];
/** A store connection for one server (closed at the end). */
async function storeOf(): Promise<Store> {
  const s = await openStore(fx.db);
  opened.push(s);
  return s;
}

beforeAll(async () => {
  fx = await buildFixture();
  // Snapshot c: 81.169.145.1 (AS6724, outside fr's constituency in a and b) moves into AS12322 (inside) and is
  // patched; 212.27.48.10 (AS12322, inside in a and b) moves out to AS6724.
  const store = await openStore(fx.db);
  const explainer = new BuildExplainer(fx.kb);
  await store.createSnapshot({ id: "c", kind: "import", date: "2021-03-16", spec: {}, status: "done" });
  await store.saveBatch(
    "c",
    [
      assessObservation(explainer, "c", obs("81.169.145.1", FIXED), { country: "DE", asn: 12322, asOrg: "Free SAS" }),
      assessObservation(explainer, "c", obs("212.27.48.10", VULN), { country: "FR", asn: 6724, asOrg: "Strato AG" }),
      assessObservation(explainer, "c", obs("193.51.224.1", VULN), { country: "FR", asn: 2200, asOrg: "Renater" }),
    ],
    [],
  );
  await store.close();
  srv = await startServer({ store: await storeOf(), kb: fx.kb, port: 0, log: (l) => logged.push(l), fairShare: { exports: { burst: 2, refillMs: 3_600_000 } } });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  for (const s of opened) await s.close();
  await fx?.cleanup();
});

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
async function json<T>(p: string, token: string): Promise<T> {
  const r = await call(srv.url, p, { headers: auth(token) });
  expect(r.status, `${p}: ${r.body}`).toBe(200);
  return JSON.parse(r.body) as T;
}

describe("malformed requests", () => {
  it("a bad percent-encoding answers 400 and logs one line without a stack trace, on every route", async () => {
    logged.length = 0;
    const r = await call(srv.url, "/api/hosts/%E0/443", { headers: auth(fx.tokens.viewer) });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({ error: "malformed percent-encoding in the path" });
    // Before the log-in check too, and for the dashboard's pages.
    expect((await call(srv.url, "/api/hosts/%E0%80/443")).status).toBe(400);
    expect((await call(srv.url, "/assets/%E0.js")).status).toBe(400);
    expect(logged.length).toBe(3);
    expect(logged[0]).toMatch(/^vigie serve: 400 GET "\/api\/hosts\/%E0\/443" from 127\.0\.0\.1: malformed percent-encoding/);
    for (const l of logged) {
      expect(l).not.toContain("\n");
      expect(l).not.toMatch(/\bat \S+ \(/);
    }
    // A well-formed encoding still works.
    expect((await call(srv.url, "/api/hosts/193%2E51.224.1/443?snapshot=b", { headers: auth(fx.tokens.viewer) })).status).toBe(200);
  });
});

describe("transport", () => {
  it("refuses plain HTTP on a non-loopback address unless allowed", async () => {
    await expect(startServer({ store: await storeOf(), kb: fx.kb, host: "0.0.0.0", port: 0 })).rejects.toThrow(InsecureListenError);
    await expect(startServer({ store: await storeOf(), kb: fx.kb, host: "::", port: 0 })).rejects.toThrow(/refusing to serve plain HTTP on ::/);
    expect(() => checkListen("0.0.0.0", false, true)).not.toThrow();
    expect(() => checkListen("192.0.2.10", true, false)).not.toThrow();
    for (const h of ["127.0.0.1", "127.13.0.9", "::1", "[::1]", "localhost"]) expect(() => checkListen(h, false, false), h).not.toThrow();
    for (const h of ["0.0.0.0", "10.0.0.1", "::", "mail.example.org", "128.0.0.1"]) expect(() => checkListen(h, false, false), h).toThrow(/--insecure-http/);
  });

  it("vigie serve --host 0.0.0.0 exits non-zero with a clear message", async () => {
    const r = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--db", fx.db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to serve plain HTTP on 0\.0\.0\.0/);
    expect(r.stderr).toMatch(/--tls-cert/);
    expect(r.stderr).toMatch(/--insecure-http/);
  });

  it("sends no HSTS over plain HTTP (TLS: test/serve/tls.test.ts)", async () => {
    expect((await call(srv.url, "/api/health")).headers["strict-transport-security"]).toBeUndefined();
  });
});

type Host = { host: { asn: number; build: string }; history: Array<{ snapshot: string; build: string | null; vulnerable: string[] }> };
type Diff = { groups: Array<{ key: string; before: number; after: number; appeared: number; disappeared: number; cves: Record<string, { newlyPatched: number; newlyVulnerable: number }> }> };

describe("constituencies, snapshot by snapshot", () => {
  it("a host's history shows only the snapshots in which the address was inside the constituency", async () => {
    // 81.169.145.1 is fr's in c only (by its ASN then): nothing of a and b.
    const moved = await json<Host>("/api/hosts/81.169.145.1/443?snapshot=c", fx.tokens.fr);
    expect(moved.history.map((h) => h.snapshot)).toEqual(["c"]);
    expect(JSON.stringify(moved.history)).not.toContain(VULN);
    expect((await call(srv.url, "/api/hosts/81.169.145.1/443?snapshot=b", { headers: auth(fx.tokens.fr) })).status).toBe(403);
    // 212.27.48.10 was fr's in a and b, not in c.
    const left = await json<Host>("/api/hosts/212.27.48.10/443?snapshot=b", fx.tokens.fr);
    expect(left.history.map((h) => h.snapshot)).toEqual(["b", "a"]);
    expect((await call(srv.url, "/api/hosts/212.27.48.10/443?snapshot=c", { headers: auth(fx.tokens.fr) })).status).toBe(403);
    // Everyone else sees all of it.
    expect((await json<Host>("/api/hosts/81.169.145.1/443?snapshot=c", fx.tokens.viewer)).history.map((h) => h.snapshot)).toEqual(["c", "b", "a"]);
  });

  it("a diff pairs an address only where it was inside on both sides: otherwise appeared or disappeared", async () => {
    const d = await json<Diff>("/api/census/diff?from=b&to=c&by=country", fx.tokens.fr);
    const de = d.groups.find((g) => g.key === "DE")!;
    // Its state in b (vulnerable, outside fr's constituency) is not used: it appeared, it was not "newly patched".
    expect(de).toMatchObject({ before: 0, after: 1, appeared: 1, disappeared: 0 });
    expect(de.cves[CVE]).toEqual({ newlyPatched: 0, newlyVulnerable: 0 });
    const fr = d.groups.find((g) => g.key === "FR")!;
    expect(fr).toMatchObject({ before: 3, after: 1, disappeared: 2 }); // 212.27.48.10 left; 193.51.224.2 is not in c
    const everyone = await json<Diff>("/api/census/diff?from=b&to=c&by=country", fx.tokens.viewer);
    expect(everyone.groups.find((g) => g.key === "DE")?.cves[CVE]?.newlyPatched).toBe(1);
    // The trend counts each snapshot with that snapshot's enrichment.
    const t = await json<{ points: Array<{ snapshot: string; exposed: number }> }>("/api/census/trend", fx.tokens.fr);
    expect(t.points.map((p) => [p.snapshot, p.exposed])).toEqual([
      ["a", 3],
      ["b", 3],
      ["c", 2],
    ]);
  });
});

type Page = { next: string | null; total: number; hosts: Array<{ ip: string; build: string | null }> };

describe("paging cursors", () => {
  async function walk(q: string, token: string, limit: number): Promise<{ ips: string[]; cursors: string[] }> {
    const ips: string[] = [];
    const cursors: string[] = [];
    let after: string | null | undefined;
    for (let i = 0; i < 50 && after !== null; i++) {
      const page = await json<Page>(`/api/hosts?${q}&limit=${limit}${after ? `&after=${after}` : ""}`, token);
      ips.push(...page.hosts.map((h) => h.ip));
      after = page.next;
      if (after) cursors.push(after);
    }
    return { ips, cursors };
  }

  it("walk every host once, in the order of the full list, for every sort (NULLs included)", async () => {
    for (const sort of ["id", "ip", "build", "product", "country", "asn", "observed"]) {
      for (const order of ["asc", "desc"]) {
        const q = `snapshot=b&sort=${sort}&order=${order}`;
        const all = await json<Page>(`/api/hosts?${q}&limit=500`, fx.tokens.viewer);
        const { ips } = await walk(q, fx.tokens.viewer, 3);
        expect(ips, q).toEqual(all.hosts.map((h) => h.ip));
      }
    }
  });

  it("carry no row id and say nothing: opaque, sealed, bound to the user, the filters and the order", async () => {
    const { ips, cursors } = await walk("snapshot=b", fx.tokens.fr, 1);
    expect(new Set(ips)).toEqual(new Set(["193.51.224.1", "193.51.224.2", "212.27.48.10"]));
    for (const c of cursors) {
      expect(c).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const raw = Buffer.from(c, "base64url").toString("latin1");
      expect(raw).not.toMatch(/193\.51|212\.27|"p"|snapshot/);
    }
    const c = cursors[0]!;
    // The same cursor twice gives the same page; the cursors differ each time they are issued (random IV).
    expect((await json<Page>(`/api/hosts?snapshot=b&limit=1&after=${c}`, fx.tokens.fr)).hosts[0]?.ip).toBe(ips[1]);
    expect((await walk("snapshot=b", fx.tokens.fr, 1)).cursors[0]).not.toBe(c);
    // Another user, another filter, another order or snapshot, a changed byte: 400.
    for (const [p, token] of [
      [`/api/hosts?snapshot=b&limit=1&after=${c}`, fx.tokens.viewer],
      [`/api/hosts?snapshot=b&limit=1&country=FR&after=${c}`, fx.tokens.fr],
      [`/api/hosts?snapshot=b&limit=1&order=desc&after=${c}`, fx.tokens.fr],
      [`/api/hosts?snapshot=a&limit=1&after=${c}`, fx.tokens.fr],
      [`/api/hosts?snapshot=b&limit=1&after=${c.slice(0, 30)}${c[30] === "A" ? "B" : "A"}${c.slice(31)}`, fx.tokens.fr],
      ["/api/hosts?snapshot=b&limit=1&after=12345", fx.tokens.fr],
    ] as const) {
      const r = await call(srv.url, p, { headers: auth(token) });
      expect(r.status, p).toBe(400);
      expect(r.body).toMatch(/after/);
    }
  });
});

describe("fair share", () => {
  it("budgets full CSV exports per user", async () => {
    const csv = (token: string) => call(srv.url, "/api/hosts.csv?snapshot=b", { headers: auth(token) });
    expect((await csv(fx.tokens.analyst)).status).toBe(200);
    expect((await csv(fx.tokens.analyst)).status).toBe(200);
    const third = await csv(fx.tokens.analyst);
    expect(third.status).toBe(429);
    expect(Number(third.headers["retry-after"])).toBeGreaterThan(0);
    expect((await csv(fx.tokens.admin)).status).toBe(200); // another user's budget
  });
});

describe("fair share of uploads", () => {
  let up: RunningServer;
  beforeAll(async () => {
    up = await startServer({ store: await storeOf(), kb: fx.kb, port: 0, log: () => undefined, fairShare: { uploadsTotal: 2, uploadsPerUser: 1, minUploadBytesPerSecond: 10_000, uploadWindowMs: 1_500 } });
  });
  afterAll(async () => {
    await up?.close();
  });

  /** Sends the headers and 100 bytes of a 1 MB body, then nothing: resolves with the server's answer. */
  function slowUpload(token: string): { answer: Promise<{ status: number; body: string }>; started: Promise<void> } {
    let started!: () => void;
    const s = new Promise<void>((r) => (started = r));
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(up.url + "/api/triage", { method: "POST", headers: { ...auth(token), "Content-Length": "1000000" }, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.write(Buffer.alloc(100, 0x50), () => setTimeout(started, 100));
    });
    return { answer, started: s };
  }

  it("one slot per user, and a body that stops arriving is cut off (408)", async () => {
    const { makeZip } = await import("../triage/archive.js");
    const zip = makeZip([{ name: "Logging/HttpProxy/Owa/HttpProxy_2021030100-1.LOG", data: Buffer.from("#Fields: DateTime\n") }]);
    const slow = slowUpload(fx.tokens.analyst);
    await slow.started;
    const second = await call(up.url, "/api/triage", { method: "POST", headers: auth(fx.tokens.analyst), body: zip });
    expect(second.status).toBe(429);
    expect(second.body).toMatch(/already have 1 upload in progress/);
    // Another user has their own slot.
    const other = await call(up.url, "/api/triage", { method: "POST", headers: auth(fx.tokens.admin), body: zip });
    expect(other.status, other.body).toBe(201);
    const cut = await slow.answer;
    expect(cut.status).toBe(408);
    expect(cut.body).toMatch(/slower than 10000 bytes\/s/);
    // The slot is free again.
    expect((await call(up.url, "/api/triage", { method: "POST", headers: auth(fx.tokens.analyst), body: zip })).status).toBe(201);
  }, 30_000);
});

describe("fair share of uncached queries", () => {
  it("budgets computations per user; cached answers are free", async () => {
    const q = await startServer({ store: await storeOf(), kb: fx.kb, port: 0, fairShare: { computations: { burst: 2, refillMs: 3_600_000 } } });
    try {
      const get = (p: string, token: string) => call(q.url, p, { headers: auth(token) });
      expect((await get("/api/census?by=country", fx.tokens.viewer)).status).toBe(200);
      expect((await get("/api/census?by=asn", fx.tokens.viewer)).status).toBe(200);
      const third = await get("/api/census?by=product", fx.tokens.viewer);
      expect(third.status).toBe(429);
      expect(third.body).toMatch(/uncached/);
      for (let i = 0; i < 5; i++) expect((await get("/api/census?by=country", fx.tokens.viewer)).status).toBe(200);
      expect((await get("/api/census/diff?from=a&to=b", fx.tokens.viewer)).status).toBe(429);
      expect((await get("/api/census?by=product", fx.tokens.analyst)).status).toBe(200);
    } finally {
      await q.close();
    }
  });
});

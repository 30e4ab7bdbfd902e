// Constituencies and roles through every endpoint: a user limited to 193.51.224.0/24 + AS12322 sees, counts and
// exports nothing outside them (403 for a host, empty or smaller answers elsewhere); roles gate uploads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES, startServer, type RunningServer } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { CENSUS_BY } from "../../src/census/census.js";
import { buildFixture, CVE, type Fixture } from "./fixture.js";

let fx: Fixture;
let srv: RunningServer;
let store: Store | undefined;
const INSIDE = new Set(["193.51.224.1", "193.51.224.2", "212.27.48.10"]);

beforeAll(async () => {
  fx = await buildFixture();
  srv = await startServer({ store: (store = await openStore(fx.db)), kb: fx.kb, port: 0 });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  await store?.close();
  await fx?.cleanup();
});

const get = (p: string, token: string) => fetch(srv.url + p, { headers: { Authorization: `Bearer ${token}` } });
async function json<T>(p: string, token: string): Promise<T> {
  const r = await get(p, token);
  expect(r.status, p).toBe(200);
  return (await r.json()) as T;
}
type Census = { groups: Array<{ key: string; exposed: number; cves: Record<string, { vulnerable: number }> }> };
const exposed = (c: Census) => c.groups.reduce((s, g) => s + g.exposed, 0);

describe("a constituency-limited user", () => {
  it("lists only hosts inside its ranges and ASNs, whatever the filters and pages", async () => {
    for (const snapshot of ["a", "b"]) {
      const all = await json<{ total: number; hosts: Array<{ ip: string }> }>(`/api/hosts?snapshot=${snapshot}&limit=500`, fx.tokens.fr);
      expect(all.total).toBe(3);
      expect(new Set(all.hosts.map((h) => h.ip))).toEqual(INSIDE);
    }
    expect((await json<{ total: number; hosts: unknown[] }>("/api/hosts?country=US", fx.tokens.fr)).hosts).toEqual([]);
    expect((await json<{ total: number }>("/api/hosts?ip=8.8.", fx.tokens.fr)).total).toBe(0);
    expect((await json<{ total: number }>("/api/hosts?asn=15169", fx.tokens.fr)).total).toBe(0);
    const vuln = await json<{ hosts: Array<{ ip: string }> }>(`/api/hosts?cve=${CVE}&status=vulnerable&sort=country&order=desc`, fx.tokens.fr);
    expect(vuln.hosts.every((h) => INSIDE.has(h.ip))).toBe(true);
    const paged = await json<{ hosts: Array<{ ip: string }> }>("/api/hosts?offset=2&limit=10", fx.tokens.fr);
    expect(paged.hosts.length).toBe(1);
  });

  it("exports only hosts inside its constituency", async () => {
    const csv = await (await get("/api/hosts.csv?snapshot=b", fx.tokens.fr)).text();
    const ips = csv.trim().split("\n").slice(1).map((l) => l.split(",")[0]);
    expect(new Set(ips)).toEqual(INSIDE);
    expect((await (await get("/api/hosts.csv?snapshot=b&country=US", fx.tokens.fr)).text()).trim().split("\n").length).toBe(1);
  });

  it("gets 403 for a host page outside (even one that does not exist), 200 inside", async () => {
    expect((await get("/api/hosts/8.8.8.8/443", fx.tokens.fr)).status).toBe(403);
    expect((await get("/api/hosts/81.169.145.1/443?snapshot=a", fx.tokens.fr)).status).toBe(403);
    expect((await get("/api/hosts/203.0.113.66/443", fx.tokens.fr)).status).toBe(403);
    expect((await get("/api/hosts/192.0.2.1/443", fx.tokens.fr)).status).toBe(403);
    expect((await get("/api/hosts/193.51.224.1/443", fx.tokens.fr)).status).toBe(200);
    expect((await get("/api/hosts/212.27.48.10/443", fx.tokens.fr)).status).toBe(200); // by its ASN
    expect((await get("/api/hosts/8.8.8.8/443", fx.tokens.viewer)).status).toBe(200);
  });

  it("gets censuses, diffs and trends computed over its hosts only", async () => {
    for (const by of CENSUS_BY) {
      const mine = await json<Census>(`/api/census?by=${by}&snapshot=b`, fx.tokens.fr);
      const everyone = await json<Census>(`/api/census?by=${by}&snapshot=b`, fx.tokens.viewer);
      if (by === "cve") expect(mine.groups[0]?.exposed).toBe(3);
      else expect(exposed(mine)).toBe(3);
      expect(everyone.groups.length).toBeGreaterThan(0);
      if (by === "country") expect(mine.groups.map((g) => g.key)).toEqual(["FR"]);
      if (by === "asn") expect(new Set(mine.groups.map((g) => g.key))).toEqual(new Set(["AS2200", "AS12322"]));
    }
    expect((await json<Census>("/api/census?country=US", fx.tokens.fr)).groups).toEqual([]);
    const diff = await json<{ groups: Array<{ key: string; before: number; after: number }> }>("/api/census/diff?from=a&to=b", fx.tokens.fr);
    expect(diff.groups.map((g) => g.key)).toEqual(["FR"]);
    expect(diff.groups[0]).toMatchObject({ before: 3, after: 3 });
    const trend = await json<{ points: Array<{ exposed: number }> }>(`/api/census/trend?cve=${CVE}`, fx.tokens.fr);
    expect(trend.points.map((p) => p.exposed)).toEqual([3, 3]);
    const trendAll = await json<{ points: Array<{ exposed: number }> }>(`/api/census/trend?cve=${CVE}`, fx.tokens.viewer);
    expect(trendAll.points.map((p) => p.exposed)).toEqual([7, 7]);
  });

  it("gets pictures drawn from its hosts only", async () => {
    const mine = await (await get(`/api/census/map.svg?snapshot=b&cve=${CVE}`, fx.tokens.fr)).text();
    const everyone = await (await get(`/api/census/map.svg?snapshot=b&cve=${CVE}`, fx.tokens.viewer)).text();
    expect(mine).toMatch(/<svg/);
    expect(mine).toMatch(/snapshot b: 2 vulnerable/);
    expect(everyone).toMatch(/snapshot b: 5 vulnerable/);
    expect((await get("/api/census/trend.svg", fx.tokens.fr)).status).toBe(200);
  }, 60_000);

  it("sees only its own triage reports", async () => {
    const { makeZip } = await import("../triage/archive.js");
    const zip = makeZip([{ name: "Logging/HttpProxy/Owa/HttpProxy_2021030100-1.LOG", data: Buffer.from("#Fields: DateTime\n") }]);
    const up = await fetch(srv.url + "/api/triage", { method: "POST", headers: { Authorization: `Bearer ${fx.tokens.analyst}` }, body: new Uint8Array(zip) });
    expect(up.status, await up.clone().text()).toBe(201);
    const { id } = (await up.json()) as { id: string };
    expect((await json<{ reports: unknown[] }>("/api/triage", fx.tokens.fr)).reports).toEqual([]);
    expect((await get(`/api/triage/${id}`, fx.tokens.fr)).status).toBe(403);
    expect((await get(`/api/triage/${id}`, fx.tokens.viewer)).status).toBe(200);
    // A viewer, limited or not, may not upload.
    expect((await fetch(srv.url + "/api/triage", { method: "POST", headers: { Authorization: `Bearer ${fx.tokens.fr}` }, body: new Uint8Array(zip) })).status).toBe(403);
  }, 60_000);

  it("admin-only routes refuse everyone else", async () => {
    expect((await get("/api/users", fx.tokens.fr)).status).toBe(403);
    expect((await get("/api/users", fx.tokens.viewer)).status).toBe(403);
    expect((await get("/api/users", fx.tokens.analyst)).status).toBe(403);
    const users = await json<{ users: Array<{ name: string; constituency: string[]; tokens: Array<{ id: string }> }> }>("/api/users", fx.tokens.admin);
    expect(users.users.find((u) => u.name === "fr")?.constituency).toEqual(["193.51.224.0/24", "AS12322"]);
    expect(JSON.stringify(users)).not.toContain(fx.tokens.fr);
  });

  it("every data route is covered by a scope check above (a new route must be added here)", () => {
    const covered = new Set([
      "/^\\/api\\/health$/",
      "/^\\/api\\/session$/",
      "/^\\/api\\/snapshots$/",
      "/^\\/api\\/census$/",
      "/^\\/api\\/census\\/diff$/",
      "/^\\/api\\/census\\/trend$/",
      "/^\\/api\\/census\\/map\\.svg$/",
      "/^\\/api\\/census\\/trend\\.svg$/",
      "/^\\/api\\/hosts$/",
      "/^\\/api\\/hosts\\.csv$/",
      "/^\\/api\\/hosts\\/([^/]{1,100})\\/(\\d{1,5})$/",
      "/^\\/api\\/kb\\/cves$/",
      "/^\\/api\\/kb\\/explain$/",
      "/^\\/api\\/triage$/",
      "/^\\/api\\/triage\\/([0-9a-f]{16})$/",
      "/^\\/api\\/users$/",
      // Remediation and notices: constituency checks in test/serve/remediation.test.ts.
      "/^\\/api\\/remediation$/",
      "/^\\/api\\/remediation\\/overdue$/",
      "/^\\/api\\/remediation\\/series$/",
      "/^\\/api\\/remediation\\/series\\.svg$/",
      "/^\\/api\\/notices$/",
      "/^\\/api\\/notices\\/([0-9a-f-]{36})\\/raw$/",
      "/^\\/api\\/notices\\/dry-run$/",
      "/^\\/api\\/openapi\\.json$/",
    ]);
    for (const r of ROUTES) expect(covered.has(String(r.path)), String(r.path)).toBe(true);
  });
});

// vigie serve's API over real HTTP on loopback: authentication, the census JSON of the CLI, hosts, host page,
// knowledge base, triage uploads (bounded), sessions with CSRF, security headers.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { CENSUS_BY } from "../../src/census/census.js";
import { runCli } from "../helpers/cli.js";
import { buildBundle } from "../triage/bundleFixture.js";
import { buildFixture, CVE, type Fixture, VULN } from "./fixture.js";

let fx: Fixture;
let srv: RunningServer;
let store: Store | undefined;

beforeAll(async () => {
  fx = await buildFixture();
  srv = await startServer({ store: (store = await openStore(fx.db)), kb: fx.kb, port: 0, maxUploadBytes: 4 * 1024 * 1024 });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  await store?.close();
  await fx?.cleanup();
});

const api = (p: string, token: string | undefined, init: RequestInit = {}): Promise<Response> =>
  fetch(srv.url + p, { ...init, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) } });
const json = async <T = Record<string, unknown>>(p: string, token: string): Promise<T> => {
  const r = await api(p, token);
  expect(r.status, `${p}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
};
const cli = (args: string[]) => runCli([...args, "--db", fx.db], { env: { VIGIE_KB_DIR: path.join(fx.dir, "kb"), VIGIE_DATA_DIR: path.join(fx.dir, "data") } });

describe("authentication", () => {
  it("answers /api/health anonymously and nothing else", async () => {
    expect((await api("/api/health", undefined)).status).toBe(200);
    for (const p of ["/api/census?by=country", "/api/snapshots", "/api/hosts", "/api/hosts/8.8.8.8/443", "/api/kb/cves", "/api/triage", "/api/openapi.json", "/api/census/map.svg"]) {
      const r = await api(p, undefined);
      expect(r.status, p).toBe(401);
      expect(r.headers.get("www-authenticate")).toMatch(/Bearer/);
    }
    expect((await api("/api/census", "vigie_not-a-real-token")).status).toBe(401);
    expect((await api("/api/census", undefined, { headers: { Authorization: "Basic YWRtaW46YWRtaW4=" } })).status).toBe(401);
  });

  it("token create prints {token}; a revoked token stops working", async () => {
    const r = await cli(["token", "create", "--user", "viewer", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const { token, id } = JSON.parse(r.stdout) as { token: string; id: string };
    expect((await api("/api/census", token)).status).toBe(200);
    const stored = await fx.storedText();
    expect(stored.includes(token)).toBe(false); // only its hash is stored
    expect((await cli(["token", "revoke", id])).code).toBe(0);
    expect((await api("/api/census", token)).status).toBe(401);
  });

  it("user add/list/remove from the CLI; bad roles and constituencies are usage errors", async () => {
    expect((await runCli(["user", "add", "carol", "--role", "analyst", "--password-stdin", "--db", fx.db], { input: "carol-password\n" })).code).toBe(0);
    const list = JSON.parse((await cli(["user", "list", "--json"])).stdout) as Array<{ name: string; role: string }>;
    expect(list.find((u) => u.name === "carol")?.role).toBe("analyst");
    expect((await cli(["user", "add", "dave", "--role", "root", "--no-password"])).code).toBe(2);
    expect((await cli(["user", "add", "dave", "--role", "viewer", "--constituency", "not-a-range", "--no-password"])).code).toBe(2);
    expect((await cli(["user", "remove", "carol"])).code).toBe(0);
    expect((await cli(["user", "remove", "carol"])).code).toBe(2);
  });
});

describe("census", () => {
  it("GET /api/census?by=country answers the same JSON as vigie census --json", async () => {
    const r = await cli(["census", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const res = await api("/api/census?by=country", fx.tokens.viewer);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(r.stdout.trim());
  });

  it("every grouping, a snapshot, a country and a CVE, diff and trend match the CLI", async () => {
    for (const by of CENSUS_BY) {
      const r = await cli(["census", "--json", "--by", by, "--snapshot", "a", "--cve", CVE]);
      expect(await json(`/api/census?by=${by}&snapshot=a&cve=${CVE}`, fx.tokens.viewer)).toEqual(JSON.parse(r.stdout));
    }
    const c = await cli(["census", "--json", "--country", "FR"]);
    expect(await json("/api/census?country=fr", fx.tokens.viewer)).toEqual(JSON.parse(c.stdout));
    const d = await cli(["census", "diff", "a", "b", "--json", "--by", "country"]);
    expect(await json("/api/census/diff?from=a&to=b&by=country", fx.tokens.viewer)).toEqual(JSON.parse(d.stdout));
    const t = await cli(["census", "trend", "--json", "--cve", CVE]);
    expect(await json(`/api/census/trend?cve=${CVE}`, fx.tokens.viewer)).toEqual(JSON.parse(t.stdout));
  });

  it("refuses bad parameters with 400 and unknown snapshots with 404", async () => {
    expect((await api("/api/census?by=planet", fx.tokens.viewer)).status).toBe(400);
    expect((await api("/api/census?country=France", fx.tokens.viewer)).status).toBe(400);
    expect((await api("/api/census?cve=CVE-1999-0001", fx.tokens.viewer)).status).toBe(400);
    expect((await api("/api/census?snapshot=zzz", fx.tokens.viewer)).status).toBe(404);
    expect((await api("/api/census?junk=1", fx.tokens.viewer)).status).toBe(400);
  });

  it("sees a new import: the cache empties when another process writes the store", async () => {
    const before = (await json<{ snapshots: unknown[] }>("/api/snapshots", fx.tokens.viewer)).snapshots.length;
    const c1 = await json<{ snapshot: string }>("/api/census", fx.tokens.viewer);
    expect(c1.snapshot).toBe("b");
    const file = path.join(fx.dir, "c.jsonl");
    const zgrab = { ip: "81.169.145.9", data: { http: { status: "success", result: { response: { status_code: 200, headers: { unknown: [{ key: "x_owa_version", value: [VULN] }, { key: "x_feserver", value: ["E"] }] }, body: "", request: { url: { scheme: "https", host: "81.169.145.9:443", path: "/owa/" } } } } } } };
    (await import("node:fs")).writeFileSync(file, JSON.stringify(zgrab) + "\n");
    const imp = await cli(["import", file, "--format", "zgrab2", "--snapshot", "c", "--date", "2021-03-16"]);
    expect(imp.code, imp.stderr).toBe(0);
    expect((await json<{ snapshots: unknown[] }>("/api/snapshots", fx.tokens.viewer)).snapshots.length).toBe(before + 1);
    const c2 = await json<{ snapshot: string; groups: Array<{ exposed: number }> }>("/api/census", fx.tokens.viewer);
    expect(c2.snapshot).toBe("c");
    expect(c2.groups.reduce((s, g) => s + g.exposed, 0)).toBe(1);
  });
});

describe("hosts", () => {
  it("lists with filters, sorting and pages", async () => {
    const all = await json<{ total: number; hosts: Array<{ ip: string; endOfSupport: string | null; outOfSupport: boolean | null }> }>("/api/hosts?snapshot=b&limit=500", fx.tokens.viewer);
    expect(all.total).toBe(8);
    // Each host's product support on the snapshot's date: Exchange 2016 in 2021 supported; not Exchange: not known.
    const support = Object.fromEntries(all.hosts.map((h) => [h.ip, [h.endOfSupport, h.outOfSupport]]));
    expect(support["8.8.8.8"]).toEqual(["2025-10-14", false]);
    expect(support["198.51.100.7"]).toEqual([null, null]);
    const p1 = await json<{ hosts: Array<{ ip: string }> }>("/api/hosts?snapshot=b&limit=3&offset=0&sort=ip", fx.tokens.viewer);
    const p2 = await json<{ hosts: Array<{ ip: string }> }>("/api/hosts?snapshot=b&limit=3&offset=3&sort=ip", fx.tokens.viewer);
    const ips = [...p1.hosts, ...p2.hosts].map((h) => h.ip);
    expect(new Set(ips).size).toBe(6);
    expect(ips).toEqual([...ips].sort());
    const desc = await json<{ hosts: Array<{ ip: string }> }>("/api/hosts?snapshot=b&sort=ip&order=desc", fx.tokens.viewer);
    expect(desc.hosts.map((h) => h.ip)).toEqual(all.hosts.map((h) => h.ip).sort().reverse());
    const fr = await json<{ total: number; hosts: Array<{ country: string }> }>("/api/hosts?snapshot=b&country=FR", fx.tokens.viewer);
    expect(fr.total).toBe(3);
    const vuln = await json<{ total: number; hosts: Array<{ ip: string; vulnerable: string[] }> }>(`/api/hosts?snapshot=b&cve=${CVE}&status=vulnerable`, fx.tokens.viewer);
    expect(vuln.hosts.every((h) => h.vulnerable.includes(CVE))).toBe(true);
    expect(vuln.total).toBe(5); // with the hostile host, on the same vulnerable build
    expect((await json<{ total: number }>("/api/hosts?snapshot=b&asn=AS2200", fx.tokens.viewer)).total).toBe(2);
    expect((await json<{ total: number }>("/api/hosts?snapshot=b&exchange=false", fx.tokens.viewer)).total).toBe(1);
    expect((await json<{ total: number }>("/api/hosts?snapshot=b&ip=193.51.", fx.tokens.viewer)).total).toBe(2);
    expect((await api("/api/hosts?limit=100000", fx.tokens.viewer)).status).toBe(400);
    expect((await api("/api/hosts?sort=hostname;drop", fx.tokens.viewer)).status).toBe(400);
  });

  it("exports the filtered list as CSV, with strings from servers unable to become spreadsheet formulas", async () => {
    const r = await api("/api/hosts.csv?snapshot=b&sort=ip", fx.tokens.viewer);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = (await r.text()).trim().split("\n");
    expect(lines[0]).toMatch(/^ip,port,hostname,title.*,end_of_support,out_of_support$/);
    expect(lines.find((l) => l.startsWith("8.8.8.8,"))).toMatch(/,2025-10-14,false$/);
    expect(lines.length).toBe(9);
    const hostile = lines.find((l) => l.startsWith("203.0.113.66,"))!;
    expect(hostile).toContain(`"'=HYPERLINK(""http://evil.example/"",""click"")"`);
    expect((await api("/api/hosts.csv?snapshot=b&country=FR", fx.tokens.viewer)).ok).toBe(true);
  });

  it("pages with a keyset cursor (after=next) through every host once", async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    for (let i = 0; i < 10 && after !== null; i++) {
      const page = await json<{ next: string | null; total: number; hosts: Array<{ ip: string }> }>(`/api/hosts?snapshot=b&limit=3${after !== undefined ? `&after=${after}` : ""}`, fx.tokens.viewer);
      expect(page.total).toBe(8);
      seen.push(...page.hosts.map((h) => h.ip));
      after = page.next;
    }
    expect(seen.length).toBe(8);
    expect(new Set(seen).size).toBe(8);
    expect((await api("/api/hosts?after=1&sort=ip", fx.tokens.viewer)).status).toBe(400); // not a cursor
    expect((await api(`/api/hosts?snapshot=b&limit=3&offset=3&after=${"A".repeat(40)}`, fx.tokens.viewer)).status).toBe(400); // not with offset
  });

  it("gives one host with evidence, verdicts, what to install, its build explained and its history", async () => {
    const h = await json<{
      host: { build: string; endOfSupport: string | null; outOfSupport: boolean | null; cves: Array<{ id: string; status: string; remediation: string | null }>; observation: { evidence: Array<{ value: string }> } };
      explanation: { product: string };
      history: Array<{ snapshot: string }>;
    }>("/api/hosts/193.51.224.1/443?snapshot=b", fx.tokens.viewer);
    expect(h.host.build).toBe(VULN);
    // Exchange 2016 (end of support 2025-10-14) seen on 2021-03-09: supported then.
    expect([h.host.endOfSupport, h.host.outOfSupport]).toEqual(["2025-10-14", false]);
    const v = h.host.cves.find((c) => c.id === CVE)!;
    expect(v.status).toBe("vulnerable");
    expect(v.remediation).toBeTruthy();
    expect(h.host.observation.evidence.some((e) => e.value === VULN)).toBe(true);
    expect(h.explanation.product).toMatch(/2016/);
    expect(h.history.map((x) => x.snapshot)).toEqual(["b", "a"]);
    expect((await api("/api/hosts/192.0.2.1/443", fx.tokens.viewer)).status).toBe(404);
    expect((await api("/api/hosts/not-an-ip/443", fx.tokens.viewer)).status).toBe(400);
  });

  it("serves hostile strings as JSON data, with nosniff and a strict CSP", async () => {
    const r = await api("/api/hosts/203.0.113.66/443?snapshot=b", fx.tokens.viewer);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-security-policy")).toMatch(/default-src 'self'; script-src 'self'; style-src 'self'/);
    const page = await fetch(srv.url + "/");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("content-security-policy")).not.toContain("unsafe-inline");
  });
});

describe("knowledge base and OpenAPI", () => {
  it("explains a build and lists CVEs", async () => {
    const x = await json<{ cves: Array<{ id: string; status: string }> }>(`/api/kb/explain?build=${VULN}`, fx.tokens.viewer);
    expect(x.cves.find((c) => c.id === CVE)?.status).toBe("vulnerable");
    const list = await json<{ cves: Array<{ id: string }> }>("/api/kb/cves", fx.tokens.viewer);
    expect(list.cves.some((c) => c.id === CVE)).toBe(true);
  });

  it("serves an OpenAPI document naming every route", async () => {
    const doc = await json<{ openapi: string; paths: Record<string, unknown> }>("/api/openapi.json", fx.tokens.viewer);
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ["/api/health", "/api/census", "/api/census/diff", "/api/census/trend", "/api/hosts", "/api/hosts/{ip}/{port}", "/api/kb/explain", "/api/triage"]) expect(doc.paths[p], p).toBeDefined();
  });
});

describe("triage uploads", () => {
  let bundle: Buffer;
  beforeAll(() => {
    const root = path.join(fx.dir, "bundle");
    mkdirSync(root);
    buildBundle(root, true);
    const out = path.join(fx.dir, "bundle.tar.gz");
    execFileSync("tar", ["-czf", out, "-C", root, "."]);
    bundle = readFileSync(out);
  });

  it("analysts upload a bundle and get findings in timeline order; viewers may not upload", async () => {
    const r = await api("/api/triage?name=ex01.tar.gz", fx.tokens.analyst, { method: "POST", body: new Uint8Array(bundle), headers: { "Content-Type": "application/octet-stream" } });
    expect(r.status, await r.clone().text()).toBe(201);
    const created = (await r.json()) as { id: string; verdict: string };
    expect(created.verdict).toBe("compromised");
    const rep = await json<{ report: { findings: Array<{ timestamp: string | null }> } }>(`/api/triage/${created.id}`, fx.tokens.viewer);
    const times = rep.report.findings.map((f) => f.timestamp).filter((t): t is string => t !== null);
    expect(times.length).toBeGreaterThan(0);
    expect(times).toEqual([...times].sort());
    const list = await json<{ reports: Array<{ id: string }> }>("/api/triage", fx.tokens.viewer);
    expect(list.reports.some((x) => x.id === created.id)).toBe(true);
    expect((await api("/api/triage", fx.tokens.viewer, { method: "POST", body: new Uint8Array(bundle) })).status).toBe(403);
  }, 60_000);

  it("an upload is attached to the server it names (?host=): host page, host list census counts show its verdict", async () => {
    const ip = "81.169.145.1"; // DE, in every snapshot of the fixture
    expect((await api("/api/triage?host=not-an-ip", fx.tokens.analyst, { method: "POST", body: new Uint8Array(bundle) })).status).toBe(400);
    const r = await api(`/api/triage?name=ex02.tar.gz&host=${ip}`, fx.tokens.analyst, { method: "POST", body: new Uint8Array(bundle), headers: { "Content-Type": "application/octet-stream" } });
    expect(r.status, await r.clone().text()).toBe(201);
    const created = (await r.json()) as { id: string; verdict: string; attachedTo: string[]; hosts: string[]; server: { hostname: string | null } };
    expect(created).toMatchObject({ verdict: "compromised", attachedTo: [ip], server: { hostname: "EX01" } });
    const page = await json<{ triage: Array<{ id: string; verdict: string; source: string }> }>(`/api/hosts/${ip}/443?snapshot=b`, fx.tokens.viewer);
    expect(page.triage[0]).toMatchObject({ id: created.id, verdict: "compromised", source: "upload" });
    const one = await json<{ addresses: string[]; hostname: string | null }>(`/api/triage/${created.id}`, fx.tokens.viewer);
    expect(one).toMatchObject({ addresses: [ip], hostname: "EX01" });
    const census = await json<{ groups: Array<{ key: string; triage: { compromised: number; suspicious: number; clean: number }; endOfSupport: Record<string, number> }> }>("/api/census?by=country&snapshot=b", fx.tokens.viewer);
    expect(census.groups.find((g) => g.key === "DE")!.triage).toEqual({ compromised: 1, suspicious: 0, clean: 0 });
    expect(census.groups.find((g) => g.key === "FR")!.triage).toEqual({ compromised: 0, suspicious: 0, clean: 0 });
    // Every server of the fixture is Exchange 2016 seen in 2021: supported on the snapshot's date.
    expect(census.groups.find((g) => g.key === "FR")!.endOfSupport).toEqual({ outOfSupport: 0, supported: 3, unknown: 0 });
    // A constituency-limited user's census leaves other constituencies' servers out, triage included.
    const fr = await json<{ groups: Array<{ key: string }> }>("/api/census?by=country&snapshot=b", fx.tokens.fr);
    expect(fr.groups.map((g) => g.key)).not.toContain("DE");
  }, 60_000);

  it("refuses oversized uploads (413) and things that are not bundles (415)", async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 0x1f);
    const r = await api("/api/triage", fx.tokens.analyst, { method: "POST", body: new Uint8Array(big) }).catch((e: unknown) => e);
    if (r instanceof Response) expect(r.status).toBe(413);
    else expect(String(r)).toMatch(/fetch failed|socket|reset/i); // the server may close the socket while we still send
    expect((await api("/api/triage", fx.tokens.analyst, { method: "POST", body: "<html>hello</html>" })).status).toBe(415);
  });
});

describe("dashboard sessions", () => {
  const login = (user: string, password: string) => fetch(srv.url + "/api/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user, password }) });

  it("logs in with a password: HttpOnly SameSite=Strict cookie, CSRF token required for state changes", async () => {
    expect((await login("admin", "wrong-password")).status).toBe(401);
    expect((await login("ghost", "whatever-it-is")).status).toBe(401);
    const r = await login("analyst", "analyst-password");
    expect(r.status).toBe(200);
    const setCookie = r.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(";")[0]!;
    const { csrf } = (await r.json()) as { csrf: string };
    const withCookie = (p: string, init: RequestInit = {}) => fetch(srv.url + p, { ...init, headers: { Cookie: cookie, ...(init.headers as Record<string, string> | undefined) } });
    expect((await withCookie("/api/census")).status).toBe(200);
    expect((await withCookie("/api/triage", { method: "POST", body: "x" })).status).toBe(403);
    expect((await withCookie("/api/session", { method: "DELETE" })).status).toBe(403);
    expect((await withCookie("/api/session", { method: "DELETE", headers: { "X-CSRF-Token": csrf } })).status).toBe(200);
    expect((await withCookie("/api/census")).status).toBe(401);
  });

  it("a form post (not JSON) cannot log in", async () => {
    const r = await fetch(srv.url + "/api/session", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "user=admin&password=admin-password" });
    expect(r.status).toBe(415);
  });
});

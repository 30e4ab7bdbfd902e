// The remediation and notice routes of vigie serve over real HTTP, on a store whose notices were sent by the real
// `vigie notify` to a real SMTP server on loopback (test/serve/notices.ts): the groups = `vigie remediation --json`,
// the overdue list, still-vulnerable series with the ProxyLogon timeline, notices and their raw message (as text),
// the analyst's dry run (nothing sent, nothing recorded), roles, and constituencies on every route.
// Expected figures are worked out by hand from the fixture: in snapshot "a" (2021-03-02) seven servers are
// vulnerable to CVE-2021-26855 and notified on 2021-03-03; in "b" (2021-03-09) 193.51.224.2 and 217.160.0.1 are patched.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/serve/app.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";
import { buildFixture, CVE, FR_RANGE, HOSTILE_IP, type Fixture } from "./fixture.js";
import { CONTACTS, EVIL_ORG, NOTICE_AT, recordNotices, type Received } from "./notices.js";

let fx: Fixture;
let srv: RunningServer;
let store: Store | undefined;
let received: Received[];
/** An analyst limited to the /24 only (not AS12322). */
let frAnalyst = "";

beforeAll(async () => {
  fx = await buildFixture();
  received = await recordNotices(fx);
  store = await openStore(fx.db);
  await store.accounts.addUser({ name: "fr-analyst", role: "analyst", constituency: [FR_RANGE], password: "fr-analyst-password" });
  frAnalyst = (await store.accounts.createToken("fr-analyst")).token;
  srv = await startServer({ store, kb: fx.kb, port: 0 });
}, 120_000);
afterAll(async () => {
  await srv?.close();
  await store?.close();
  await fx?.cleanup();
});

const api = (p: string, token: string, init: RequestInit = {}): Promise<Response> =>
  fetch(srv.url + p, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
async function json<T>(p: string, token: string): Promise<T> {
  const r = await api(p, token);
  expect(r.status, `${p}: ${await r.clone().text()}`).toBe(200);
  return (await r.json()) as T;
}
const cli = (args: string[]) => runCli([...args, "--db", fx.db], { env: { VIGIE_KB_DIR: path.join(fx.dir, "kb"), VIGIE_DATA_DIR: path.join(fx.dir, "data") } });
const dryRun = (token: string, body: unknown, headers: Record<string, string> = { "Content-Type": "application/json" }) =>
  api("/api/notices/dry-run", token, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

interface Group {
  key: string;
  notified: number;
  remediated: number;
  stillVulnerable: number;
  unknown: number;
  gone: number;
  medianDaysToFix: number | null;
  p90DaysToFix: number | null;
}
interface Notice {
  id: string;
  organisation: string;
  language: string;
  messageId: string;
  recipients: Array<{ address: string; status: string; reply: string | null }>;
  items: Array<{ ip: string; cve: string; hostname: string | null }>;
}
interface DryRun {
  dryRun: true;
  snapshot: string;
  unowned: number;
  alreadyNotified: number;
  contacts: { organisations: number; rows: number; skipped: number; badRows: Array<{ line: number; reason: string }> };
  messages: Array<{ organisation: string; recipients: string[]; language: string; subject: string; text: string; servers: number; items: Array<{ ip: string }>; attachment: { filename: string; contentType: string; content: string } }>;
}
const FROM = "CERT Example <cert@cert.example>";

describe("the notices were sent for real", () => {
  it("one message per organisation reached the SMTP server", () => {
    expect(received.map((r) => r.to.join(",")).sort()).toEqual(
      ["abuse@evil.example", "abuse@free.example", "cert@ionos.example", "cert@lab.renater.example", "cert@strato.example", "security@google.example"].sort(),
    );
  });
});

describe("remediation groups", () => {
  it("GET /api/remediation?by=org|country|asn answers the JSON of vigie remediation --json", async () => {
    for (const by of ["org", "country", "asn"]) {
      const r = await cli(["remediation", "--by", by, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const res = await api(`/api/remediation?by=${by}`, fx.tokens.viewer);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(r.stdout.trim());
    }
  });

  it("counts per organisation what was fixed and how fast (worked out by hand)", async () => {
    const { by, groups } = await json<{ by: string; groups: Group[] }>("/api/remediation?by=org", fx.tokens.viewer);
    expect(by).toBe("org");
    const g = Object.fromEntries(groups.map((x) => [x.key, x]));
    expect(Object.keys(g).sort()).toEqual([EVIL_ORG, "Free", "Google", "IONOS", "Renater Lab", "Strato"].sort());
    // Renater Lab: 193.51.224.1 still vulnerable, 193.51.224.2 patched in b: 2021-03-03 -> 2021-03-09 = 6 days.
    expect(g["Renater Lab"]).toEqual({ key: "Renater Lab", notified: 2, remediated: 1, stillVulnerable: 1, unknown: 0, gone: 0, medianDaysToFix: 6, p90DaysToFix: 6 });
    expect(g["IONOS"]).toMatchObject({ notified: 1, remediated: 1, stillVulnerable: 0, medianDaysToFix: 6 });
    for (const k of ["Free", "Strato", "Google", EVIL_ORG]) expect(g[k]).toMatchObject({ notified: 1, remediated: 0, stillVulnerable: 1, medianDaysToFix: null });
    const byCountry = await json<{ groups: Group[] }>("/api/remediation?by=country", fx.tokens.viewer);
    expect(Object.fromEntries(byCountry.groups.map((x) => [x.key, [x.notified, x.remediated, x.stillVulnerable]]))).toEqual({ FR: [3, 1, 2], DE: [2, 1, 1], US: [2, 0, 2] });
    expect((await api("/api/remediation?by=product", fx.tokens.viewer)).status).toBe(400);
    expect((await api("/api/remediation?cve=CVE-1", fx.tokens.viewer)).status).toBe(400);
  });

  it("the overdue list = vigie remediation --overdue N --json, longest waiting first", async () => {
    const at = "2021-04-02T00:00:00Z"; // 30 days after the notice
    const r = await cli(["remediation", "--overdue", "30", "--at", at, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const res = await api(`/api/remediation/overdue?overdueDays=30&at=${at}`, fx.tokens.viewer);
    expect(await res.text()).toBe(r.stdout.trim());
    const o = JSON.parse(r.stdout) as { overdueDays: number; servers: Array<{ ip: string; daysSinceNotice: number; snapshot: string; hostname: string | null }> };
    expect(o.servers.map((s) => s.ip).sort()).toEqual(["193.51.224.1", "203.0.113.66", "212.27.48.10", "8.8.8.8", "81.169.145.1"].sort());
    expect(o.servers.every((s) => s.daysSinceNotice === 30 && s.snapshot === "b")).toBe(true);
    expect(o.servers.find((s) => s.ip === HOSTILE_IP)?.hostname).toBe('=HYPERLINK("http://evil.example/","click")');
    // One day short: nobody is overdue yet.
    expect((await json<{ servers: unknown[] }>(`/api/remediation/overdue?overdueDays=31&at=${at}`, fx.tokens.viewer)).servers).toEqual([]);
    expect((await api("/api/remediation/overdue?overdueDays=-1", fx.tokens.viewer)).status).toBe(400);
    expect((await api("/api/remediation/overdue?overdueDays=1.5", fx.tokens.viewer)).status).toBe(400);
  });

  it("series: notified servers still vulnerable per snapshot, with the ProxyLogon timeline and its sources", async () => {
    const s = await json<{
      cves: string[];
      snapshots: Array<{ id: string }>;
      series: Array<{ key: string; points: Array<{ snapshot: string; notified: number; stillVulnerable: number }> }>;
      events: Array<{ id: string; date: string; kind: string; cves: string[]; sources: string[] }>;
      sources: Record<string, { url: string } | null>;
    }>("/api/remediation/series?by=org", fx.tokens.viewer);
    expect(s.cves).toEqual([CVE]);
    expect(s.snapshots.map((x) => x.id)).toEqual(["a", "b"]);
    const pts = (k: string) => s.series.find((x) => x.key === k)?.points.map((p) => [p.snapshot, p.notified, p.stillVulnerable]);
    expect(pts("Renater Lab")).toEqual([["a", 2, 2], ["b", 2, 1]]);
    expect(pts("IONOS")).toEqual([["a", 1, 1], ["b", 1, 0]]);
    expect(pts("Free")).toEqual([["a", 1, 1], ["b", 1, 1]]);
    // The out-of-band patch of 2 March 2021 is on the timeline, with its sources.
    const patch = s.events.find((e) => e.kind === "patch" && e.date === "2021-03-02");
    expect(patch?.cves).toContain(CVE);
    for (const id of patch!.sources) expect(s.sources[id]?.url).toMatch(/^https:\/\//);
    const byCountry = await json<{ series: Array<{ key: string; points: Array<{ stillVulnerable: number }> }> }>("/api/remediation/series?by=country", fx.tokens.viewer);
    expect(byCountry.series.find((x) => x.key === "FR")?.points.map((p) => p.stillVulnerable)).toEqual([3, 2]);
    const svg = await api("/api/remediation/series.svg?by=org", fx.tokens.viewer);
    expect(svg.headers.get("content-type")).toMatch(/^image\/svg\+xml/);
    const text = await svg.text();
    expect(text).toMatch(/<svg/);
    expect(text).toContain("Renater Lab");
    expect(text).not.toContain("<b>Evil</b>"); // the organisation name is text in the picture, escaped
  }, 60_000);
});

describe("notices", () => {
  it("lists every notice with its recipients' delivery and its items", async () => {
    const { notices } = await json<{ notices: Notice[] }>("/api/notices", fx.tokens.viewer);
    expect(notices.map((n) => n.organisation).sort()).toEqual([EVIL_ORG, "Free", "Google", "IONOS", "Renater Lab", "Strato"].sort());
    const lab = notices.find((n) => n.organisation === "Renater Lab")!;
    expect(lab.language).toBe("fr");
    expect(lab.recipients).toEqual([expect.objectContaining({ address: "cert@lab.renater.example", status: "sent", reply: expect.stringMatching(/^250/) })]);
    expect(lab.items.map((i) => i.ip)).toEqual(["193.51.224.1", "193.51.224.2"]);
    expect((await json<{ notices: Notice[] }>("/api/notices?snapshot=b", fx.tokens.viewer)).notices).toEqual([]);
    expect((await api("/api/notices?snapshot=nope", fx.tokens.viewer)).status).toBe(404);
  });

  it("gives an analyst the message as it was sent, as text/plain; a viewer gets 403", async () => {
    const { notices } = await json<{ notices: Notice[] }>("/api/notices", fx.tokens.analyst);
    const evil = notices.find((n) => n.organisation === EVIL_ORG)!;
    const r = await api(`/api/notices/${evil.id}/raw`, fx.tokens.analyst);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    const raw = await r.text();
    const sent = received.find((x) => x.to.includes("abuse@evil.example"))!;
    // The same bytes the relay received (the SMTP line ends are CRLF on the wire).
    expect(raw.replace(/\r\n/g, "\n").trim()).toBe(sent.raw.replace(/\r\n/g, "\n").trim());
    expect(raw.replace(/\r\n\s+/g, " ")).toContain(`Message-ID: ${evil.messageId}`); // (the header is folded)
    expect((await api(`/api/notices/${evil.id}/raw`, fx.tokens.viewer)).status).toBe(403);
    expect((await api(`/api/notices/${evil.id}/raw`, fx.tokens.fr)).status).toBe(403);
    expect((await api("/api/notices/00000000-0000-0000-0000-000000000000/raw", fx.tokens.analyst)).status).toBe(404);
  });
});

describe("the analyst's dry run", () => {
  it("composes the notices of the newest snapshot without sending or recording anything", async () => {
    const before = (await json<{ notices: unknown[] }>("/api/notices", fx.tokens.admin)).notices.length;
    const sentBefore = received.length;
    const r = await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, cves: [CVE] });
    expect(r.status, await r.clone().text()).toBe(200);
    const d = (await r.json()) as DryRun;
    expect(d.snapshot).toBe("b");
    expect(d.dryRun).toBe(true);
    // In b, 193.51.224.2 and 217.160.0.1 are patched: IONOS has nothing to be told, Renater Lab one server.
    expect(d.messages.map((m) => m.organisation).sort()).toEqual([EVIL_ORG, "Free", "Google", "Renater Lab", "Strato"].sort());
    const lab = d.messages.find((m) => m.organisation === "Renater Lab")!;
    expect(lab).toMatchObject({ recipients: ["cert@lab.renater.example"], language: "fr", servers: 1 });
    expect(lab.subject).toBe("[Vigie] Serveur Microsoft Exchange vulnérable dans votre réseau (1)");
    expect(lab.text).toContain("193.51.224.1 port 443");
    expect(lab.text).not.toContain("193.51.224.2");
    expect(lab.attachment).toMatchObject({ filename: "vigie-exchange-2021-03-09.csv", contentType: "text/csv; charset=utf-8" });
    expect(lab.attachment.content.split("\r\n").filter((l) => l !== "").slice(1).map((l) => l.split(",")[1])).toEqual(["193.51.224.1"]);
    const evil = d.messages.find((m) => m.organisation === EVIL_ORG)!;
    expect(evil.attachment.content).toContain(`'=HYPERLINK`); // no formula in the CSV
    expect(d.messages.find((m) => m.organisation === "Free")!.language).toBe("en");
    // Nothing recorded, nothing sent.
    expect((await json<{ notices: unknown[] }>("/api/notices", fx.tokens.admin)).notices.length).toBe(before);
    expect(received.length).toBe(sentBefore);
    // Snapshot a was already told: nothing new to compose.
    const again = (await (await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, cves: [CVE], snapshot: "a" })).json()) as DryRun;
    expect(again.messages).toEqual([]);
    expect(again.alreadyNotified).toBe(7);
  }, 60_000);

  it("names bad rows and keeps the good ones; refuses a file without header, a bad sender, a body over 1 MiB", async () => {
    const withBad = CONTACTS + "not-a-scope,Nobody,x@nobody.example,en\n10.0.0.0/8,Spaces,not an address,en\n";
    const d = (await (await dryRun(fx.tokens.analyst, { contacts: withBad, from: FROM, cves: [CVE] })).json()) as DryRun;
    expect(d.contacts.badRows.map((b) => b.line)).toEqual([8, 9]);
    expect(d.contacts.badRows[1]!.reason).toMatch(/not an e-mail address/);
    expect(d.messages.length).toBe(5);
    const noHeader = await dryRun(fx.tokens.analyst, { contacts: "193.51.224.0/24,Lab,cert@lab.example,fr\n", from: FROM });
    expect(noHeader.status).toBe(400);
    expect(((await noHeader.json()) as { error: string }).error).toMatch(/^contacts:1: the first line must be the header scope,organisation,email,language/);
    const onlyBad = await dryRun(fx.tokens.analyst, { contacts: "scope,organisation,email,language\nnope,X,y@z.example,en\n", from: FROM });
    expect(onlyBad.status).toBe(400);
    expect(((await onlyBad.json()) as { error: string }).error).toMatch(/no usable contact row.*line 2/);
    expect((await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: "not a sender\r\nBcc: x@evil.example" })).status).toBe(400);
    expect((await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, snapshot: "nope" })).status).toBe(404);
    expect((await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, extra: 1 })).status).toBe(400);
    expect((await dryRun(fx.tokens.analyst, CONTACTS, { "Content-Type": "text/csv" })).status).toBe(415);
    const big = await dryRun(fx.tokens.analyst, { contacts: CONTACTS + "#".repeat(1024 * 1024), from: FROM });
    expect(big.status).toBe(413);
  });

  it("returns at most `limit` messages in full, every organisation in the summary, or one organisation's", async () => {
    const two = (await (await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, cves: [CVE], limit: 2 })).json()) as DryRun & { total: number; organisations: Array<{ organisation: string; servers: number }> };
    expect(two.total).toBe(5);
    expect(two.messages.length).toBe(2);
    expect(two.organisations.map((o) => o.organisation).sort()).toEqual([EVIL_ORG, "Free", "Google", "Renater Lab", "Strato"].sort());
    const strato = (await (await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, cves: [CVE], organisation: "Strato" })).json()) as DryRun;
    expect(strato.messages.map((m) => [m.organisation, m.recipients.join(",")])).toEqual([["Strato", "cert@strato.example"]]);
    expect((await dryRun(fx.tokens.analyst, { contacts: CONTACTS, from: FROM, limit: 501 })).status).toBe(400);
  });

  it("is for analysts and admins only", async () => {
    expect((await dryRun(fx.tokens.viewer, { contacts: CONTACTS, from: FROM })).status).toBe(403);
    expect((await dryRun(fx.tokens.fr, { contacts: CONTACTS, from: FROM })).status).toBe(403);
    expect((await dryRun(fx.tokens.admin, { contacts: CONTACTS, from: FROM, cves: [CVE] })).status).toBe(200);
  });
});

describe("a constituency-limited user sees only its own servers", () => {
  it("remediation groups, overdue and series over its notified servers only", async () => {
    const org = await json<{ groups: Group[] }>("/api/remediation?by=org", fx.tokens.fr);
    expect(org.groups.map((g) => g.key).sort()).toEqual(["Free", "Renater Lab"]);
    const asn = await json<{ groups: Group[] }>("/api/remediation?by=asn", fx.tokens.fr);
    expect(asn.groups.map((g) => g.key).sort()).toEqual(["AS12322", "AS2200"]);
    const overdue = await json<{ servers: Array<{ ip: string }> }>("/api/remediation/overdue?overdueDays=0", fx.tokens.fr);
    expect(overdue.servers.map((s) => s.ip).sort()).toEqual(["193.51.224.1", "212.27.48.10"]);
    const series = await json<{ series: Array<{ key: string }> }>("/api/remediation/series?by=org", fx.tokens.fr);
    expect(series.series.map((s) => s.key).sort()).toEqual(["Free", "Renater Lab"]);
    const svg = await (await api("/api/remediation/series.svg?by=org", fx.tokens.fr)).text();
    expect(svg).toContain("Renater Lab");
    expect(svg).not.toContain("Google");
    // The analyst limited to the /24 (not AS12322) does not see Free.
    expect((await json<{ groups: Group[] }>("/api/remediation?by=org", frAnalyst)).groups.map((g) => g.key)).toEqual(["Renater Lab"]);
  }, 60_000);

  it("notices: only those about its servers, and no raw message naming another range's servers", async () => {
    const mine = await json<{ notices: Notice[] }>("/api/notices", fx.tokens.fr);
    expect(mine.notices.map((n) => n.organisation).sort()).toEqual(["Free", "Renater Lab"]);
    expect(mine.notices.flatMap((n) => n.items.map((i) => i.ip)).sort()).toEqual(["193.51.224.1", "193.51.224.2", "212.27.48.10"]);
    const all = (await json<{ notices: Notice[] }>("/api/notices", fx.tokens.admin)).notices;
    const id = (org: string) => all.find((n) => n.organisation === org)!.id;
    expect((await api(`/api/notices/${id("Renater Lab")}/raw`, frAnalyst)).status).toBe(200);
    for (const org of ["Google", "Free", "Strato", EVIL_ORG]) expect((await api(`/api/notices/${id(org)}/raw`, frAnalyst)).status, org).toBe(403);
    expect(JSON.stringify((await json<{ notices: Notice[] }>("/api/notices", frAnalyst)).notices)).not.toContain("8.8.8.8");
  });

  it("a dry run plans only the servers inside its constituency", async () => {
    const d = (await (await dryRun(frAnalyst, { contacts: CONTACTS, from: FROM, cves: [CVE] })).json()) as DryRun;
    expect(d.messages.map((m) => m.organisation)).toEqual(["Renater Lab"]);
    expect(d.messages[0]!.items.map((i) => i.ip)).toEqual(["193.51.224.1"]);
    expect(JSON.stringify(d)).not.toMatch(/8\.8\.8\.8|81\.169\.145\.1|212\.27\.48\.10|203\.0\.113\.66/);
    expect(d.unowned).toBe(0);
  });
});

it("the notice time recorded is the one given to vigie notify", async () => {
  const { notices } = await json<{ notices: Array<{ notifiedAt: string }> }>("/api/notices", fx.tokens.viewer);
  expect(new Set(notices.map((n) => n.notifiedAt))).toEqual(new Set([NOTICE_AT]));
});

it("a notice sent while the server runs shows up at once (cached answers are dropped)", async () => {
  const before = await json<{ groups: Group[] }>("/api/remediation?by=org", fx.tokens.viewer);
  const series = await json<{ cves: string[] }>("/api/remediation/series?by=org", fx.tokens.viewer);
  expect(series.cves).toEqual([CVE]);
  // ProxyShell, for snapshot b: new (server, CVE) items for the servers still on a pre-April 2021 build.
  const more = await recordNotices(fx, { snapshot: "b", cve: "CVE-2021-34473" });
  expect(more.length).toBeGreaterThan(0);
  const after = await json<{ groups: Group[] }>("/api/remediation?by=org", fx.tokens.viewer);
  const lab = (r: { groups: Group[] }) => r.groups.find((g) => g.key === "Renater Lab")!.notified;
  expect(lab(after)).toBeGreaterThan(lab(before));
  expect((await json<{ cves: string[] }>("/api/remediation/series?by=org", fx.tokens.viewer)).cves).toEqual([CVE, "CVE-2021-34473"]);
}, 60_000);

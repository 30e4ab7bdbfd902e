// Each import format on a real file, through the CLI into a real SQLite file, read back from the store.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readLines } from "../../src/import/lines.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import { cli, fixture, tmp } from "./helpers.js";
import { writeFileSync } from "node:fs";

async function importFixture(format: string, name: string) {
  const dir = tmp(`fmt-${format}`);
  const db = path.join(dir, "v.db");
  const r = await cli(dir, ["import", fixture(name), "--format", format, "--date", "2021-03-10", "--snapshot", "s", "--db", db, "--json"]);
  const store = await openSqliteStore(db);
  const hosts = [];
  for await (const h of store.hosts({ snapshotId: "s" })) hosts.push(h);
  await store.close();
  return { r, summary: r.code === 0 ? (JSON.parse(r.stdout) as Record<string, number>) : {}, hosts };
}

describe("import formats", () => {
  it("shodan: raw HTTP head and Shodan's version, same evidence code as a scan; bad record named", async () => {
    const { r, summary, hosts } = await importFixture("shodan", "shodan.jsonl");
    expect(r.code, r.stderr).toBe(0);
    expect(summary).toMatchObject({ records: 3, malformed: 1 });
    expect(r.stderr).toMatch(/shodan\.jsonl:3: skipped: "ip_str" is not an IP address/);
    const ex = hosts.find((h) => h.ip === "193.51.224.1")!;
    expect(ex).toMatchObject({ isExchange: true, build: "15.1.2176.2", precision: "exact", country: "FR", asn: 2200, hostname: "mail.example.fr" });
    expect(ex.observation.source).toBe("import:shodan");
    expect(ex.observation.observedAt).toBe("2021-03-10T08:15:02.123Z");
    expect(ex.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe("vulnerable");
    expect(hosts.find((h) => h.ip === "81.169.145.1")!.isExchange).toBe(false);
    expect(hosts.find((h) => h.port === 25)!.product).toBeNull();
  });

  it("censys: headers as {headers: [..]}, HTTP service and an open SMTP port", async () => {
    const { r, summary, hosts } = await importFixture("censys", "censys.jsonl");
    expect(r.code, r.stderr).toBe(0);
    expect(summary).toMatchObject({ records: 1, malformed: 1, observations: 2 });
    expect(r.stderr).toMatch(/censys\.jsonl:2: skipped: no "services" array/);
    const ex = hosts.find((h) => h.port === 443)!;
    expect(ex).toMatchObject({ isExchange: true, build: "15.2.792.3", country: "DE", hostname: "owa.example.de" });
    expect(ex.observation.certificate?.selfSigned).toBe(true);
  });

  it("nmap-xml: host by host; http-headers, http-title, ssl-cert; a broken host element named by its line", async () => {
    const { r, summary, hosts } = await importFixture("nmap-xml", "nmap.xml");
    expect(r.code, r.stderr).toBe(0);
    expect(summary).toMatchObject({ records: 2, malformed: 1 });
    expect(r.stderr).toMatch(/nmap\.xml:14: skipped: "address@addr" is not an IP address/);
    const ex = hosts.find((h) => h.ip === "194.60.1.1")!;
    expect(ex).toMatchObject({ isExchange: true, build: "15.0.1497.2", country: "GB", hostname: "webmail.example.uk", port: 443 });
    expect(ex.observation.title).toBe("Outlook");
    expect(ex.observation.certificate?.subject).toBe("commonName=webmail.example.uk");
    expect(ex.observation.observedAt).toBe(new Date(1615300010 * 1000).toISOString());
    const bare = hosts.find((h) => h.ip === "194.60.1.3")!;
    expect(bare).toMatchObject({ isExchange: false, product: null });
  });

  it("masscan JSON and list (banner and closed lines too): open ports only, responded, no Exchange evidence (product null)", async () => {
    const json = await importFixture("masscan", "masscan.json");
    expect(json.r.code, json.r.stderr).toBe(0);
    expect(json.summary).toMatchObject({ records: 2, malformed: 1, exchange: 0 });
    expect(json.r.stderr).toMatch(/masscan\.json:5: skipped: bad port/);
    for (const h of json.hosts) expect(h).toMatchObject({ isExchange: false, product: null, precision: "unknown" });
    expect(json.hosts.every((h) => h.observation.responded && h.observation.evidence.length === 0)).toBe(true);
    // -oL as masscan's src/out-text.c writes it: with --banners, "banner …" lines (nothing to add); with
    // --show closed, "closed …" lines (a record, no open port).
    const list = await importFixture("masscan", "masscan.txt");
    expect(list.summary).toMatchObject({ records: 3, malformed: 1, observations: 2 });
    expect(list.r.stderr).toMatch(/masscan\.txt:4: skipped: not a masscan list line/);
    expect(list.hosts.map((h) => `${h.ip}:${h.port}`).sort()).toEqual(["212.27.48.10:443", "217.160.0.1:80"]);
  });

  it("masscan grepable (-oG): status lines with their timestamp; banner, closed-port and comment lines add nothing", async () => {
    // Shape of masscan's src/out-grepable.c (robertdavidgraham/masscan): "Timestamp: <unix>\tHost: <ip> ()\tPorts:
    // <port>/<status>/<proto>/<owner>/<service>/<rpc>/<version>", banner lines "Host: …\tPort: …\tService: …\tBanner: …".
    const g = await importFixture("masscan", "masscan.gnmap");
    expect(g.r.code, g.r.stderr).toBe(0);
    expect(g.summary).toMatchObject({ lines: 9, malformed: 1, observations: 3, exchange: 0 });
    expect(g.r.stderr).toMatch(/masscan\.gnmap:7: skipped: not a masscan grepable line/);
    expect(g.hosts.map((h) => `${h.ip}:${h.port}`).sort()).toEqual(["212.27.48.10:443", "217.160.0.1:80", "217.160.0.4:8443"]);
    expect(g.hosts.find((h) => h.ip === "212.27.48.10")!.observation.observedAt).toBe("2021-03-10T14:26:40.000Z");
    for (const h of g.hosts) expect(h).toMatchObject({ isExchange: false, product: null, precision: "unknown" });
  });

  it("jsonl: Vigie Observations, validated", async () => {
    const dir = tmp("jsonl");
    const f = path.join(dir, "obs.jsonl");
    const obs = {
      ip: "217.160.0.1",
      port: 443,
      hostname: null,
      source: "converter",
      observedAt: "2021-03-12T00:00:00.000Z",
      responded: true,
      tls: true,
      evidence: [{ probe: "x", kind: "owa-version-header", field: "header X-OWA-Version", value: "15.2.858.5", build: "15.2.858.5" }],
      errors: [],
    };
    writeFileSync(f, `${JSON.stringify(obs)}\n${JSON.stringify({ ...obs, port: 99999 })}\n`);
    const db = path.join(dir, "v.db");
    const r = await cli(dir, ["import", f, "--format", "jsonl", "--snapshot", "j", "--date", "2021-03-12", "--db", db, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ records: 1, malformed: 1, exchange: 1 });
    expect(r.stderr).toMatch(/obs\.jsonl:2: skipped: not an Observation: port/);
  });

  it("the line reader bounds line length and keeps numbering", async () => {
    const dir = tmp("lines");
    const f = path.join(dir, "l.txt");
    writeFileSync(f, `a\r\n${"x".repeat(5000)}\nb\n\nc`);
    const out = [];
    for await (const l of readLines(f, { maxLineBytes: 100 })) out.push(l);
    expect(out).toEqual([
      { no: 1, text: "a" },
      { no: 2, text: "", tooLong: 5000 },
      { no: 3, text: "b" },
      { no: 4, text: "" },
      { no: 5, text: "c" },
    ]);
  });
});

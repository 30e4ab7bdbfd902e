// Census, diff and trend across three snapshots of a real SQLite file; pictures; owner reports; geo update.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { shippedGeoFiles } from "../../src/enrich/dataDir.js";
import { cli, tmp } from "../import/helpers.js";

const FR1 = "193.51.224.1"; // FR, AS2200
const FR2 = "212.27.48.10"; // FR, AS12322
const DE1 = "81.169.145.1"; // DE, AS6724
const DE2 = "217.160.0.1"; // DE, AS8560
const GB1 = "194.60.1.1"; // GB, AS29214
const US1 = "8.8.8.8"; // US, AS15169
const VULN = "15.1.2176.2"; // Exchange 2016 CU19 before the March 2021 SU: vulnerable to CVE-2021-26855
const FIXED = "15.1.2176.9"; // CU19 Mar21SU: patched
const CVE = "CVE-2021-26855";
/** No triage report is attached to these servers (test/triage/attach.test.ts covers attached ones). */
const NO_TRIAGE = { compromised: 0, suspicious: 0, clean: 0 };

function zgrab(ip: string, build: string | null, port = 443): string {
  const headers: Record<string, unknown> = { server: ["Microsoft-IIS/10.0"], unknown: [{ key: "x_feserver", value: ["EXCH01"] }] };
  if (build) (headers.unknown as unknown[]).push({ key: "x_owa_version", value: [build] });
  if (port === 80) headers.location = [`https://${ip}/owa/auth/logon.aspx`];
  return JSON.stringify({
    ip,
    data: { http: { status: "success", result: { response: { status_code: port === 80 ? 302 : 200, headers, body: "", request: { url: { scheme: port === 80 ? "http" : "https", host: `${ip}:${port}`, path: "/owa/" } } } } } },
  });
}

const SNAPSHOTS: Array<[string, string, string[]]> = [
  ["a", "2021-03-02", [zgrab(FR1, VULN), zgrab(FR1, null, 80), zgrab(FR2, VULN), zgrab(DE1, VULN), zgrab(DE2, FIXED), zgrab(GB1, VULN)]],
  ["b", "2021-03-09", [zgrab(FR1, FIXED), zgrab(FR2, VULN), zgrab(DE2, FIXED), zgrab(GB1, VULN), zgrab(US1, VULN)]],
  ["c", "2021-03-16", [zgrab(FR1, FIXED), zgrab(FR2, FIXED), zgrab(DE1, FIXED), zgrab(DE2, FIXED), zgrab(GB1, FIXED), zgrab(US1, VULN)]],
];

const dir = tmp("census");
const db = path.join(dir, "v.db");
const run = (args: string[]) => cli(dir, [...args, "--db", db]);
type Counts = { vulnerable: number; patched: number; unknown: number };
interface CensusJson {
  snapshot: string;
  by: string;
  groups: Array<{ key: string; exposed: number; cves: Record<string, Counts> }>;
}

beforeAll(async () => {
  for (const [id, date, lines] of SNAPSHOTS) {
    const f = path.join(dir, `${id}.jsonl`);
    writeFileSync(f, lines.join("\n") + "\n");
    const r = await run(["import", f, "--format", "zgrab2", "--snapshot", id, "--date", date]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);

describe("vigie census", () => {
  it("counts servers (one per IP, its most precise record) per country, with the JSON shape of the issue", async () => {
    const r = await run(["census", "--snapshot", "a", "--by", "country", "--cve", CVE, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as CensusJson;
    expect(c).toEqual({
      snapshot: "a",
      by: "country",
      groups: [
        // One build claim each (X-OWA-Version, with X-FEServer): medium confidence. Exchange 2016 on 2021-03-02:
        // supported (its end of support is 2025-10-14).
        { key: "DE", exposed: 2, cves: { [CVE]: { vulnerable: 1, patched: 1, unknown: 0 } }, triage: NO_TRIAGE, confidence: { high: 0, medium: 2, low: 0 }, endOfSupport: { outOfSupport: 0, supported: 2, unknown: 0 } },
        { key: "FR", exposed: 2, cves: { [CVE]: { vulnerable: 2, patched: 0, unknown: 0 } }, triage: NO_TRIAGE, confidence: { high: 0, medium: 2, low: 0 }, endOfSupport: { outOfSupport: 0, supported: 2, unknown: 0 } },
        { key: "GB", exposed: 1, cves: { [CVE]: { vulnerable: 1, patched: 0, unknown: 0 } }, triage: NO_TRIAGE, confidence: { high: 0, medium: 1, low: 0 }, endOfSupport: { outOfSupport: 0, supported: 1, unknown: 0 } },
      ],
    });
  });

  it("--country filters, --by asn keys are AS numbers, the newest snapshot is the default, --csv and the table", async () => {
    const asn = JSON.parse((await run(["census", "--by", "asn", "--country", "fr", "--cve", CVE, "--json"])).stdout) as CensusJson;
    expect(asn.snapshot).toBe("c");
    expect(asn.groups.map((g) => g.key).sort()).toEqual(["AS12322", "AS2200"]);
    const csv = (await run(["census", "--snapshot", "b", "--by", "cve", "--cve", CVE, "--csv"])).stdout.trim().split("\n");
    expect(csv[0]).toBe("group,exposed,cve,vulnerable,vulnerable_pct,patched,patched_pct,unknown,unknown_pct,confidence_high,confidence_medium,confidence_low,out_of_support,out_of_support_pct");
    expect(csv[1]).toBe(`${CVE},5,${CVE},3,60,2,40,0,0,0,5,0,0,0`);
    const table = (await run(["census", "--snapshot", "b", "--by", "country", "--cve", CVE])).stdout;
    expect(table).toMatch(/5 Exchange servers exposed/);
    expect(table).toMatch(/FR\s+2\s+0 \(0%\)\s+CVE-2021-26855\s+1 \(50%\)\s+1 \(50%\)\s+0 \(0%\)/);
    const all = JSON.parse((await run(["census", "--snapshot", "a", "--by", "cu", "--json"])).stdout) as CensusJson;
    expect(all.groups).toHaveLength(1);
    expect(all.groups[0]!.key).toBe("Exchange Server 2016 CU19");
    expect(Object.keys(all.groups[0]!.cves).length).toBeGreaterThan(5);
  });

  it("diff: appeared, disappeared, newly patched, newly vulnerable per group", async () => {
    const ab = JSON.parse((await run(["census", "diff", "a", "b", "--by", "country", "--cve", CVE, "--json"])).stdout) as {
      groups: Array<{ key: string; before: number; after: number; appeared: number; disappeared: number; cves: Record<string, { newlyPatched: number; newlyVulnerable: number }> }>;
    };
    const g = Object.fromEntries(ab.groups.map((x) => [x.key, x]));
    expect(g.FR).toEqual({ key: "FR", before: 2, after: 2, appeared: 0, disappeared: 0, cves: { [CVE]: { newlyPatched: 1, newlyVulnerable: 0 } } });
    expect(g.DE).toEqual({ key: "DE", before: 2, after: 1, appeared: 0, disappeared: 1, cves: { [CVE]: { newlyPatched: 0, newlyVulnerable: 0 } } });
    expect(g.US).toEqual({ key: "US", before: 0, after: 1, appeared: 1, disappeared: 0, cves: { [CVE]: { newlyPatched: 0, newlyVulnerable: 0 } } });
    expect(g.GB!.cves[CVE]).toEqual({ newlyPatched: 0, newlyVulnerable: 0 });
    const bc = JSON.parse((await run(["census", "diff", "b", "c", "--by", "cve", "--cve", CVE, "--json"])).stdout) as typeof ab;
    expect(bc.groups).toEqual([{ key: CVE, before: 5, after: 6, appeared: 1, disappeared: 0, cves: { [CVE]: { newlyPatched: 2, newlyVulnerable: 0 } } }]);
    // Going backwards, the patched ones are newly vulnerable.
    const cb = JSON.parse((await run(["census", "diff", "c", "b", "--by", "cve", "--cve", CVE, "--json"])).stdout) as typeof ab;
    expect(cb.groups[0]!.cves[CVE]).toEqual({ newlyPatched: 0, newlyVulnerable: 2 });
    expect((await run(["census", "diff", "a", "nope"])).code).toBe(2);
  });

  it("trend over all snapshots, with --cve and --country", async () => {
    const t = JSON.parse((await run(["census", "trend", "--cve", CVE, "--json"])).stdout) as {
      cve: string;
      country: string | null;
      points: Array<{ snapshot: string; date: string; exposed: number; cves: Record<string, Counts> }>;
    };
    expect(t.points.map((p) => [p.snapshot, p.date, p.exposed, p.cves[CVE]!.vulnerable, p.cves[CVE]!.patched])).toEqual([
      ["a", "2021-03-02", 5, 4, 1],
      ["b", "2021-03-09", 5, 3, 2],
      ["c", "2021-03-16", 6, 1, 5],
    ]);
    const fr = JSON.parse((await run(["census", "trend", "--cve", CVE, "--country", "FR", "--json"])).stdout) as typeof t;
    expect(fr.country).toBe("FR");
    expect(fr.points.map((p) => [p.exposed, p.cves[CVE]!.vulnerable])).toEqual([[2, 2], [2, 1], [2, 0]]);
  });

  it("draws a world map and charts (SVG and PNG)", async () => {
    const map = path.join(dir, "map.png");
    const r = await run(["census", "map", map, "--snapshot", "a", "--cve", CVE]);
    expect(r.code, r.stderr).toBe(0);
    const png = readFileSync(map);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.length).toBeGreaterThan(20_000);
    const svg = path.join(dir, "map.svg");
    expect((await run(["census", "map", svg, "--cve", CVE])).code).toBe(0);
    const text = readFileSync(svg, "utf8");
    expect(text).toMatch(/^<svg/);
    expect(text).toContain("vulnerable servers");
    expect((text.match(/<path/g) ?? []).length).toBeGreaterThan(150);
    const bars = path.join(dir, "bars.svg");
    expect((await run(["census", "--snapshot", "a", "--by", "country", "--cve", CVE, "--chart", bars, "--json"])).code).toBe(0);
    expect(readFileSync(bars, "utf8")).toContain("Exchange servers by country");
    const trend = path.join(dir, "trend.png");
    expect((await run(["census", "trend", "--cve", CVE, "--chart", trend])).code).toBe(0);
    expect(readFileSync(trend).subarray(1, 4).toString()).toBe("PNG");
    expect((await run(["census", "--chart", path.join(dir, "x.gif")])).code).toBe(2);
  });
});

describe("vigie report owners", () => {
  it("writes one Shadowserver-layout CSV per ASN, with Vigie's verdicts and first/last seen, and an index", async () => {
    const out = path.join(dir, "owners");
    const r = await run(["report", "owners", "--by", "asn", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const index = readFileSync(path.join(out, "index.csv"), "utf8").trim().split("\n");
    expect(index[0]).toBe("owner,name,contact,file,servers,vulnerable_servers,snapshot,by");
    expect(index).toHaveLength(7);
    // Every server here is still vulnerable to some later CVE (ProxyShell…), so each owner has 1 of 1.
    expect(index).toContain("AS15169,Google LLC,,AS15169.csv,1,1,c,asn");
    const us = readFileSync(path.join(out, "AS15169.csv"), "utf8").trim().split("\n");
    const head = us[0]!.split(",");
    expect(head.slice(0, 15)).toEqual(["timestamp", "ip", "port", "hostname", "tag", "asn", "geo", "region", "city", "naics", "sic", "sector", "version", "servername", "url"]);
    expect(head).toEqual(expect.arrayContaining(["precision", "first_seen", "last_seen", "cve_2021_26855"]));
    const row = Object.fromEntries(head.map((h, i) => [h, us[1]!.split(",")[i]]));
    expect(row).toMatchObject({ ip: US1, port: "443", asn: "15169", geo: "US", version: VULN, precision: "exact", first_seen: "2021-03-09", last_seen: "2021-03-16", cve_2021_26855: "vulnerable" });
    expect(row.tag).toContain("exchange;");
    expect(row.tag).toContain("cve-2021-26855");
    expect(row.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const de1 = readFileSync(path.join(out, "AS6724.csv"), "utf8").trim().split("\n")[1]!.split(",");
    expect(de1[head.indexOf("first_seen")]).toBe("2021-03-02");
    expect(de1[head.indexOf("tag")]).toMatch(/^exchange;/);
    expect(de1[head.indexOf("tag")]).not.toContain("cve-2021-26855");
    expect(de1[head.indexOf("cve_2021_26855")]).toBe("patched");
  });

  it("by constituency from a ranges file; addresses in no range go to unassigned", async () => {
    const ranges = path.join(dir, "ranges.csv");
    writeFileSync(ranges, `range,constituency,contact\n193.51.224.0/24,RENATER,cert@renater.example\n212.27.48.0-212.27.48.255,Free,abuse@free.example\n193.51.224.1,RENATER core,noc@renater.example\n`);
    const out = path.join(dir, "const");
    const r = await run(["report", "owners", "--by", "constituency", "--ranges", ranges, "--out", out, "--snapshot", "c"]);
    expect(r.code, r.stderr).toBe(0);
    const index = readFileSync(path.join(out, "index.csv"), "utf8");
    expect(index).toMatch(/RENATER core,RENATER core,noc@renater.example,RENATER_core\.csv,1,1/);
    expect(index).toMatch(/Free,Free,abuse@free.example,Free\.csv,1,1/);
    expect(index).toMatch(/unassigned,addresses in no range,,unassigned\.csv,4,4/);
    expect((await run(["report", "owners", "--by", "constituency", "--out", out])).code).toBe(2);
  });
});

describe("vigie geo", () => {
  it("update loads user CSV and MMDB files into the data folder; lookups and imports use them", async () => {
    const g = tmp("geo");
    const country = path.join(g, "country.csv");
    writeFileSync(country, "start_ip,end_ip,country\n8.8.8.0,8.8.8.255,BE\n1.1.1.0,1.1.1.255,AU\n");
    const asn = path.join(g, "asn.csv");
    writeFileSync(asn, "network,autonomous_system_number,autonomous_system_organization\n8.8.8.0/24,64512,\"Test, Org\"\n2001:4860::/32,15169,Google\n");
    const u = await cli(g, ["geo", "update", "--country", country, "--asn", asn]);
    expect(u.code, u.stderr).toBe(0);
    expect(existsSync(path.join(g, "data", "geo", "country.csv"))).toBe(true);
    const l = await cli(g, ["geo", "lookup", "8.8.8.8", "2001:4860:4860::8888", "--json"]);
    expect(l.stdout.trim().split("\n").map((x) => JSON.parse(x) as unknown)).toEqual([
      { ip: "8.8.8.8", country: "BE", asn: 64512, asOrg: "Test, Org" },
      { ip: "2001:4860:4860::8888", country: null, asn: 15169, asOrg: "Google" },
    ]);
    // An MMDB replaces the CSV of the same kind.
    const mmdb = path.join(g, "c.mmdb");
    copyFileSync(shippedGeoFiles().country, mmdb);
    expect((await cli(g, ["geo", "update", "--country", mmdb])).code).toBe(0);
    expect(JSON.parse((await cli(g, ["geo", "lookup", "8.8.8.8", "--json"])).stdout)).toMatchObject({ country: "US", asn: 64512 });
    expect(existsSync(path.join(g, "data", "geo", "country.csv"))).toBe(false);
  });

  it("refuses files that are not databases of the right kind (exit 2, nothing replaced)", async () => {
    const g = tmp("geobad");
    const bad = path.join(g, "bad.csv");
    writeFileSync(bad, "hello,world\n");
    const r = await cli(g, ["geo", "update", "--asn", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.csv/);
    const notMmdb = path.join(g, "x.mmdb");
    writeFileSync(notMmdb, "not an mmdb");
    expect((await cli(g, ["geo", "update", "--country", notMmdb])).code).toBe(2);
    expect(existsSync(path.join(g, "data", "geo"))).toBe(false);
    expect((await cli(g, ["geo", "lookup", "nope"])).code).toBe(2);
  });
});

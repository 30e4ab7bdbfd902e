// Exposed and compromised in one system: triage reports attached to hosts of a snapshot (by the collector's
// manifest or --host), then shown by `vigie hosts --json` and counted by `vigie census --json`. Real SQLite file,
// the built CLI as a process; the same store calls on a real PostgreSQL database.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { cli, tmp } from "../import/helpers.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { buildBundle } from "./bundleFixture.js";

const FR1 = "193.51.224.1"; // FR, AS2200
const FR2 = "212.27.48.10"; // FR, AS12322
const DE1 = "81.169.145.1"; // DE, AS6724
const VULN = "15.1.2176.2"; // Exchange 2016 CU19 before the March 2021 SU
const CVE = "CVE-2021-26855";
const REAL_SYSMON = path.resolve("test/fixtures/evtx/exec_sysmon_webshell_w3wp_enum.evtx");

function zgrab(ip: string, build: string): string {
  const headers = { server: ["Microsoft-IIS/10.0"], unknown: [{ key: "x_feserver", value: ["EXCH01"] }, { key: "x_owa_version", value: [build] }] };
  return JSON.stringify({ ip, data: { http: { status: "success", result: { response: { status_code: 200, headers, body: "", request: { url: { scheme: "https", host: `${ip}:443`, path: "/owa/" } } } } } } });
}

const dir = tmp("attach");
const db = path.join(dir, "v.db");
const run = (args: string[]) => cli(dir, args);

/** A bundle holding the real Sysmon sample (w3wp.exe → cmd.exe /c whoami) and a collector manifest naming FR1. */
function compromisedBundle(root: string): string {
  mkdirSync(path.join(root, "eventlog"), { recursive: true });
  copyFileSync(REAL_SYSMON, path.join(root, "eventlog", "Microsoft-Windows-Sysmon%4Operational.evtx"));
  // As Windows PowerShell 5.1 writes it: UTF-8 with BOM.
  writeFileSync(
    path.join(root, "manifest.json"),
    "\ufeff" + JSON.stringify({ collector: "Collect-VigieBundle.ps1", version: 2, computer: "EX01", fqdn: "ex01.corp.example", ipAddresses: [FR1, "10.0.0.5", "fe80::1%4"], collectedUtc: "2021-03-04T09:00:00Z" }),
  );
  return root;
}

interface Group {
  key: string;
  exposed: number;
  cves: Record<string, { vulnerable: number }>;
  triage: { compromised: number; suspicious: number; clean: number };
}

beforeAll(async () => {
  const f = path.join(dir, "scan.jsonl");
  writeFileSync(f, [zgrab(FR1, VULN), zgrab(FR2, VULN), zgrab(DE1, VULN)].join("\n") + "\n");
  const r = await run(["import", f, "--format", "zgrab2", "--snapshot", "s1", "--date", "2021-03-09", "--db", db]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

describe("triage reports attached to hosts", () => {
  it("vigie triage --db attaches a report to the host its manifest names, --host to a bundle without one", async () => {
    const bad = compromisedBundle(path.join(dir, "compromised"));
    const a = await run(["triage", bad, "--db", db, "--json"]);
    expect(a.code, a.stderr).toBe(3);
    expect(a.stderr).toMatch(new RegExp(`report [0-9a-f]{16} \\(compromised\\) stored in .*v\\.db, attached to ${FR1.replace(/\./g, "\\.")}, 10\\.0\\.0\\.5; in snapshot s1: host ${FR1.replace(/\./g, "\\.")} \\(not there: 10\\.0\\.0\\.5\\)`));
    const json = JSON.parse(a.stdout) as { server: unknown; findings: Array<{ channel?: string }> };
    expect(json.server).toEqual({ hostname: "EX01", fqdn: "ex01.corp.example", addresses: [FR1, "10.0.0.5"], source: "manifest" });
    expect(json.findings[0]!.channel).toBe("Microsoft-Windows-Sysmon/Operational");

    const clean = path.join(dir, "clean");
    buildBundle(clean, false);
    const none = await run(["triage", clean, "--db", db]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("names no server address");
    const c = await run(["triage", clean, "--db", db, "--host", DE1]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain(`Server: EX01, ${DE1}`);
    expect((await run(["triage", clean, "--host", "not-an-ip"])).code).toBe(2);
  }, 120_000);

  it("vigie census --by country --json carries the counts beside exposed and vulnerable; vigie hosts --json shows each host's verdict", async () => {
    const census = await run(["census", "--by", "country", "--cve", CVE, "--json", "--db", db]);
    expect(census.code, census.stderr).toBe(0);
    const groups = (JSON.parse(census.stdout) as { groups: Group[] }).groups;
    expect(groups).toEqual([
      { key: "FR", exposed: 2, cves: { [CVE]: { vulnerable: 2, patched: 0, unknown: 0 } }, triage: { compromised: 1, suspicious: 0, clean: 0 }, confidence: { high: 0, medium: 2, low: 0 }, endOfSupport: { outOfSupport: 0, supported: 2, unknown: 0 } },
      { key: "DE", exposed: 1, cves: { [CVE]: { vulnerable: 1, patched: 0, unknown: 0 } }, triage: { compromised: 0, suspicious: 0, clean: 1 }, confidence: { high: 0, medium: 1, low: 0 }, endOfSupport: { outOfSupport: 0, supported: 1, unknown: 0 } },
    ]);
    const byCve = JSON.parse((await run(["census", "--by", "cve", "--cve", CVE, "--json", "--db", db])).stdout) as { groups: Group[] };
    expect(byCve.groups[0]!.triage).toEqual({ compromised: 1, suspicious: 0, clean: 1 });
    const table = await run(["census", "--by", "country", "--cve", CVE, "--db", db]);
    expect(table.stdout).toMatch(/COMPROMISED\s+SUSPICIOUS\s+CLEAN/);
    expect(table.stdout).toContain("1 compromised, 0 suspicious, 1 clean");

    const hosts = await run(["hosts", "--json", "--db", db]);
    const lines = hosts.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ip: string; triage: { verdict: string; bundle: string; hostname: string | null } | null });
    const by = Object.fromEntries(lines.map((l) => [l.ip, l.triage]));
    expect(by[FR1]).toMatchObject({ verdict: "compromised", bundle: "compromised", hostname: "EX01" });
    expect(by[DE1]).toMatchObject({ verdict: "no-indicators", bundle: "clean" });
    expect(by[FR2]).toBeNull();
  }, 120_000);

  it("the newest report of a server is its verdict; a report that examined nothing is not counted as clean", async () => {
    const empty = path.join(dir, "empty");
    mkdirSync(empty, { recursive: true });
    writeFileSync(path.join(empty, "notes.txt"), "nothing here");
    const n = await run(["triage", empty, "--db", db, "--host", FR2]);
    expect(n.code).toBe(4);
    const clean = path.join(dir, "clean");
    const again = await run(["triage", clean, "--db", db, "--host", FR1]);
    expect(again.code).toBe(0);
    const groups = (JSON.parse((await run(["census", "--by", "country", "--json", "--db", db])).stdout) as { groups: Group[] }).groups;
    expect(groups.find((g) => g.key === "FR")!.triage).toEqual({ compromised: 0, suspicious: 0, clean: 1 });
  }, 120_000);
});

describe("the same store calls on PostgreSQL", () => {
  let pgdb: TestDatabase;
  beforeAll(async () => {
    pgdb = await createTestDatabase("attach");
  });
  afterAll(async () => {
    await pgdb?.drop();
  });

  it("stores reports with their addresses, gives the newest per address, and counts them per census group", async () => {
    const store = await openStore(pgdb.url);
    try {
      await store.createSnapshot({ id: "s1", kind: "import", date: "2021-03-09", spec: {} });
      const sq = await openStore(db);
      const hosts = [];
      try {
        for await (const h of sq.hosts({ snapshotId: "s1" })) hosts.push({ ...h, snapshotId: "s1" });
      } finally {
        await sq.close();
      }
      await store.saveBatch("s1", hosts, []);
      const base = { user: "t", findings: 1, report: "{}", source: "cli" as const, hostname: "EX01", fqdn: null };
      await store.triageReports.add({ ...base, id: "a".repeat(16), name: "one", createdAt: "2021-03-10T00:00:00.000Z", verdict: "suspicious", addresses: [FR1, "10.0.0.5"] });
      await store.triageReports.add({ ...base, id: "b".repeat(16), name: "two", createdAt: "2021-03-11T00:00:00.000Z", verdict: "compromised", addresses: [FR1] });
      await store.triageReports.add({ ...base, id: "c".repeat(16), name: "three", createdAt: "2021-03-11T00:00:00.000Z", verdict: "no-indicators", addresses: [DE1] });
      const latest = await store.triageReports.latestByIp();
      expect(latest.get(FR1)).toMatchObject({ reportId: "b".repeat(16), verdict: "compromised" });
      expect(latest.get("10.0.0.5")).toMatchObject({ verdict: "suspicious" });
      expect((await store.triageReports.forIp(FR1)).map((r) => [r.name, r.addresses])).toEqual([["two", [FR1]], ["one", ["10.0.0.5", FR1]]]);
      expect((await store.triageReports.get("a".repeat(16)))?.addresses).toEqual(["10.0.0.5", FR1]);
      const rows = await store.census.triageCounts("s1", "country");
      expect(rows.sort((x, y) => String(x.group).localeCompare(String(y.group)))).toEqual([
        { group: "DE", verdict: "no-indicators", n: 1 },
        { group: "FR", verdict: "compromised", n: 1 },
      ]);
    } finally {
      await store.close();
    }
  }, 120_000);
});

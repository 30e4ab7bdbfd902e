// Live scans of the emulated fleet on loopback: real sockets, real SQLite file, results against ground truth.
// The fleet's Exchange servers run only builds of the hand-derived verdict table (test/fixtures/oracle/fleet.csv),
// so every verdict is checked against a row written from Microsoft's sources, not against Vigie's explainer.
// How long the scan takes is a bench figure (bench/scan/run.ts --hostile), not asserted here.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet, type Fleet } from "../../emulator/fleet.js";
import { HOSTILE_KINDS, type HostileKind, type HostTruth } from "../../emulator/hosts.js";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { startScan } from "../../src/pipeline/scan.js";
import { FAST } from "../helpers/scanSettings.js";
import { FLEET_ORACLE_CVES, loadFleetOracle } from "../helpers/fleetOracle.js";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqliteStore.js";
import type { HostRecord } from "../../src/store/store.js";

const explainer = new BuildExplainer(loadKnowledgeBase({ overlayDir: null }));
const oracle = loadFleetOracle();
const oracleByBuild = new Map(oracle.map((r) => [r.build, r]));
const BASE = "127.31.0.1";
const HOSTS = 90;
let fleet: Fleet;
let store: SqliteStore;
let records: HostRecord[];


function lastIp(base: string, n: number): string {
  const p = base.split(".").map(Number);
  return `${p[0]}.${p[1]}.${p[2]}.${p[3]! + n - 1}`;
}

const RANK = { exact: 3, cu: 2, major: 1, unknown: 0 } as const;
const PRECISION = { exact: "exact", cu: "cu", major: "major", none: "unknown" } as const;

/** A server's best answer over its ports: port 80 of an Exchange server only shows IIS's "Require SSL" 403. */
function bestExchange(ip: string): HostRecord | undefined {
  return records
    .filter((r) => r.ip === ip && r.isExchange)
    .sort((a, b) => RANK[b.precision] - RANK[a.precision])[0];
}

/**
 * What each hostile kind leaves in the store. A tarpit never finishes the TLS handshake, which the scanner cannot
 * tell from a filtered port (a connect timeout: not responding), so it has a record on port 80 only; every other
 * kind answers something on both ports and its record says what went wrong.
 */
const HOSTILE_PORTS: Record<HostileKind, number[]> = {
  tarpit: [80],
  reset: [80, 443],
  "tls-garbage": [80, 443],
  slowloris: [80, 443],
  "endless-headers": [80, 443],
  "gzip-bomb": [80, 443],
  "huge-body": [80, 443],
  "binary-garbage": [80, 443],
};

function expectHostileRecords(t: HostTruth, all: readonly HostRecord[]): void {
  const mine = all.filter((r) => r.ip === t.ip).sort((a, b) => a.port - b.port);
  const where = `${t.ip} ${t.hostile}`;
  expect(mine.map((r) => r.port), where).toEqual(HOSTILE_PORTS[t.hostile!]);
  for (const r of mine) {
    expect(r.observation.errors.length, `${where}:${r.port}`).toBeGreaterThan(0);
    expect(r.isExchange, `${where}:${r.port}`).toBe(false);
  }
}

beforeAll(async () => {
  fleet = await startFleet({ hosts: HOSTS, seed: 11, baseAddress: BASE, slowDelayMs: 700, builds: oracle.map((r) => r.build) });
  store = await openSqliteStore(path.join(mkdtempSync(path.join(tmpdir(), "vigie-scan-")), "scan.db"));
  const { id } = await startScan(store, explainer, [`${BASE}-${lastIp(BASE, HOSTS)}`], FAST);
  records = [];
  for await (const r of store.hosts({ snapshotId: id })) records.push(r);
}, 120_000);

afterAll(async () => {
  await store?.close();
  await fleet?.close();
});

describe("scan of an emulated fleet", () => {
  it("the fleet has every kind of host", () => {
    const kinds = new Set(fleet.hosts.map((h) => h.kind));
    expect([...kinds].sort()).toEqual(["exchange", "hostile", "lookalike", "web"]);
    expect(new Set(fleet.hosts.filter((h) => h.kind === "exchange").map((h) => h.knowablePrecision)).size).toBeGreaterThanOrEqual(3);
  });

  it("identifies every Exchange server at the precision its probes allow", () => {
    const wrong: string[] = [];
    for (const t of fleet.hosts.filter((h) => h.kind === "exchange")) {
      const best = bestExchange(t.ip);
      if (!best || best.build !== t.knowableBuild || best.precision !== PRECISION[t.knowablePrecision]) {
        wrong.push(`${t.ip} ${t.variant} truth ${t.knowableBuild} ${t.knowablePrecision} got ${best?.build} ${best?.precision}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("serves only builds of the hand-derived table, every product among them", () => {
    const exchange = fleet.hosts.filter((h) => h.kind === "exchange");
    for (const t of exchange) expect(oracleByBuild.has(t.build!), `${t.ip} runs ${t.build}`).toBe(true);
    expect(new Set(exchange.map((t) => t.product)).size).toBe(5);
  });

  it("gives each exact Exchange build the hand-derived identity and verdicts", () => {
    const exact = fleet.hosts.filter((h) => h.kind === "exchange" && h.knowablePrecision === "exact");
    expect(exact.length).toBeGreaterThan(15);
    const builds = new Set<string>();
    let proxyLogonChecked = 0;
    for (const t of exact) {
      const best = bestExchange(t.ip);
      expect(best, `${t.ip} has an Exchange record`).toBeDefined();
      const row = oracleByBuild.get(t.build!)!;
      const where = `${t.ip} ${t.build} (fleet.csv line ${row.line}: ${row.why}; ${row.sources.join(", ")})`;
      expect({ product: best!.product, cu: best!.cu, build: best!.build }, where).toEqual({ product: row.product, cu: row.cu, build: row.build });
      const got = Object.fromEntries(FLEET_ORACLE_CVES.map((cve) => [cve, best!.cves.find((c) => c.id === cve)?.status ?? "not judged"]));
      expect(got, where).toEqual(row.verdicts);
      builds.add(t.build!);
      // The emulator's own CVE-2021-26855 truth (computed in emulator/builds.ts) agrees with the table.
      if (t.vulnerable26855 === null) expect(["2010", "SE"], where).toContain(t.product);
      else {
        expect(row.verdicts["CVE-2021-26855"], where).toBe(t.vulnerable26855 ? "vulnerable" : "patched");
        proxyLogonChecked++;
      }
    }
    expect(builds.size).toBeGreaterThan(10);
    expect(proxyLogonChecked).toBeGreaterThan(10);
    const statuses = new Set(exact.flatMap((t) => Object.values(oracleByBuild.get(t.build!)!.verdicts)));
    expect([...statuses].sort()).toEqual(["not_affected", "patched", "unknown", "vulnerable"]);
  });

  it("reports non-Exchange hosts, look-alikes and hostile hosts with product null", () => {
    for (const t of fleet.hosts.filter((h) => h.kind !== "exchange")) {
      const mine = records.filter((r) => r.ip === t.ip);
      expect(mine.length, `${t.ip} ${t.kind} is stored`).toBeGreaterThan(0);
      expect(mine.every((r) => !r.isExchange && r.product === null), `${t.ip} ${t.kind} ${t.variant ?? t.hostile}`).toBe(true);
    }
    const lookalikes = fleet.hosts.filter((h) => h.kind === "lookalike");
    expect(lookalikes.length).toBeGreaterThan(0);
    for (const t of lookalikes) {
      const r = records.find((x) => x.ip === t.ip && x.port === 443)!;
      expect(r.identification.note ?? "", t.ip).toMatch(/look-alike|imitation/);
    }
  });

  it("every hostile host is stored with what went wrong (a TLS tarpit only on its plain port)", () => {
    const hostile = fleet.hosts.filter((h) => h.kind === "hostile");
    expect(hostile.length).toBeGreaterThan(5);
    for (const t of hostile) expectHostileRecords(t, records);
  });

  it("records the CVE-2021-26855 defender check next to the version verdict", () => {
    const tells = fleet.hosts.filter((h) => h.exposes.anonResourceTell);
    expect(tells.length).toBeGreaterThan(0);
    for (const t of tells) {
      const check = records.find((r) => r.ip === t.ip && r.port === 443)!.observation.evidence.find((e) => e.kind === "check");
      expect(check?.value, t.ip).toMatch(/^vulnerable/);
    }
    const patched = fleet.hosts.filter((h) => h.kind === "exchange" && h.vulnerable26855 === false && h.variant === "full");
    expect(patched.length).toBeGreaterThan(0);
    for (const t of patched) {
      const check = records.find((r) => r.ip === t.ip && r.port === 443)!.observation.evidence.find((e) => e.kind === "check");
      expect(check?.value, t.ip).toMatch(/^not vulnerable/);
    }
  });

  it("keeps TLS certificate and NTLM details as evidence", () => {
    const ex = records.filter((r) => r.isExchange && r.port === 443);
    expect(ex.some((r) => r.observation.certificate?.subject)).toBe(true);
    const withNtlm = ex.filter((r) => r.observation.ntlm);
    expect(withNtlm.length).toBeGreaterThan(0);
    for (const r of withNtlm) {
      const t = fleet.hosts.find((h) => h.ip === r.ip)!;
      expect(r.observation.ntlm!.netbiosDomain).toBe(t.names!.netbiosDomain);
      expect(r.observation.ntlm!.osVersion).toBe(t.os!.version);
    }
  });
});

describe("scan of a fleet of hostile hosts only", () => {
  const base = "127.31.1.1";
  const count = 24;
  let hostileFleet: Fleet;
  let hostileStore: SqliteStore;
  const hostileRecords: HostRecord[] = [];

  beforeAll(async () => {
    const mix = { exchange2010: 0, exchange2013: 0, exchange2016: 0, exchange2019: 0, exchangeSE: 0, web: 0, lookalike: 0, hostile: 1 };
    hostileFleet = await startFleet({ hosts: count, seed: 5, baseAddress: base, slowDelayMs: 700, mix });
    hostileStore = await openSqliteStore(path.join(mkdtempSync(path.join(tmpdir(), "vigie-scan-hostile-")), "scan.db"));
    const { id } = await startScan(hostileStore, explainer, [`${base}-${lastIp(base, count)}`], FAST);
    for await (const r of hostileStore.hosts({ snapshotId: id })) hostileRecords.push(r);
  }, 120_000);

  afterAll(async () => {
    await hostileStore?.close();
    await hostileFleet?.close();
  });

  it("meets every hostile kind and stores each host with what went wrong", () => {
    expect(new Set(hostileFleet.hosts.map((h) => h.hostile))).toEqual(new Set(HOSTILE_KINDS));
    for (const t of hostileFleet.hosts) expectHostileRecords(t, hostileRecords);
  });
});

// Live scans of the emulated fleet on loopback: real sockets, real SQLite file, results against ground truth.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet, type Fleet } from "../../emulator/fleet.js";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { startScan } from "../../src/pipeline/scan.js";
import { FAST } from "../helpers/scanSettings.js";
import { openSqliteStore, type SqliteStore } from "../../src/store/sqliteStore.js";
import type { HostRecord } from "../../src/store/store.js";

const explainer = new BuildExplainer(loadKnowledgeBase({ overlayDir: null }));
const BASE = "127.31.0.1";
const HOSTS = 90;
let fleet: Fleet;
let store: SqliteStore;
let records: HostRecord[];
let seconds: number;


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

beforeAll(async () => {
  fleet = await startFleet({ hosts: HOSTS, seed: 11, baseAddress: BASE, slowDelayMs: 700 });
  store = await openSqliteStore(path.join(mkdtempSync(path.join(tmpdir(), "vigie-scan-")), "scan.db"));
  const t0 = Date.now();
  const { id } = await startScan(store, explainer, [`${BASE}-${lastIp(BASE, HOSTS)}`], FAST);
  seconds = (Date.now() - t0) / 1000;
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

  it("gives each exact Exchange build the knowledge base's verdicts", () => {
    let checked = 0;
    for (const t of fleet.hosts.filter((h) => h.kind === "exchange" && h.knowablePrecision === "exact")) {
      const best = bestExchange(t.ip)!;
      const expected = explainer.explain(t.build!).cves.map((c) => [c.id, c.status]);
      expect(best.cves.map((c) => [c.id, c.status]), t.ip).toEqual(expected);
      if (t.vulnerable26855 !== null) {
        expect(best.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe(t.vulnerable26855 ? "vulnerable" : "patched");
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("reports non-Exchange hosts, look-alikes and hostile hosts with product null", () => {
    for (const t of fleet.hosts.filter((h) => h.kind !== "exchange")) {
      const mine = records.filter((r) => r.ip === t.ip);
      expect(mine.every((r) => !r.isExchange && r.product === null), `${t.ip} ${t.kind} ${t.variant ?? t.hostile}`).toBe(true);
    }
    const lookalikes = fleet.hosts.filter((h) => h.kind === "lookalike");
    expect(lookalikes.length).toBeGreaterThan(0);
    for (const t of lookalikes) {
      const r = records.find((x) => x.ip === t.ip && x.port === 443)!;
      expect(r.identification.note ?? "", t.ip).toMatch(/look-alike|imitation/);
    }
  });

  it("hostile hosts cost at most the timeouts, and say what went wrong", () => {
    // 90 hosts at concurrency 64 with 2 s request limits and an 8 s host deadline.
    expect(seconds).toBeLessThan(30);
    for (const t of fleet.hosts.filter((h) => h.kind === "hostile")) {
      const r = records.find((x) => x.ip === t.ip && x.port === 443);
      if (r) expect(r.observation.errors.length, `${t.ip} ${t.hostile}`).toBeGreaterThan(0);
    }
  });

  it("records the CVE-2021-26855 defender check next to the version verdict", () => {
    const tells = fleet.hosts.filter((h) => h.exposes.anonResourceTell);
    expect(tells.length).toBeGreaterThan(0);
    for (const t of tells) {
      const check = records.find((r) => r.ip === t.ip && r.port === 443)!.observation.evidence.find((e) => e.kind === "check");
      expect(check?.value, t.ip).toMatch(/^vulnerable/);
    }
    const patched = fleet.hosts.filter((h) => h.kind === "exchange" && h.vulnerable26855 === false && h.variant === "full");
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

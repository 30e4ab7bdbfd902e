// Schema version 9: host records keep observation, identification and per-CVE status codes; reasons, fixing
// builds and remediation are rendered from the knowledge base when read. The oracle is the record as the
// pipeline assessed it — what the store kept verbatim before version 9 and gave back: every reader must give it
// back unchanged, on both engines, for records written now and for records upgraded from version 8.
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { parseZgrab2 } from "../../src/import/zgrab2.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { assessObservation } from "../../src/pipeline/assessObservation.js";
import { cveStatusKey } from "../../src/pipeline/verdicts.js";
import type { Observation } from "../../src/pipeline/vocabulary.js";
import { MIGRATIONS, migrate } from "../../src/store/migrations.js";
import { openPostgresStore } from "../../src/store/postgresStore.js";
import { PostgresEngine } from "../../src/store/sql/postgres.js";
import { SqliteEngine } from "../../src/store/sql/sqlite.js";
import type { SqlEngine } from "../../src/store/sql/engine.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import type { HostRecord, Store } from "../../src/store/store.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";

const kb = loadKnowledgeBase({ overlayDir: path.join(tmpdir(), "vigie-no-overlay") });
const explainer = new BuildExplainer(kb);
const SNAP = "import-2021-03-09-2021-03-09.jsonl.gz";

/** Observations of a real zgrab2 file, and live-scan shapes the file does not have (NTLM, certificate, conflicts). */
function observations(): Observation[] {
  const text = gunzipSync(readFileSync(path.resolve("test/fixtures/import/zgrab2/2021-03-09.jsonl.gz"))).toString("utf8");
  const obs = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => parseZgrab2(l, { format: "zgrab2", defaultObservedAt: "2021-03-09T00:00:00.000Z" }));
  const live: Observation = {
    ip: "2001:db8::25",
    port: 443,
    hostname: "mail.example.org",
    source: "scan",
    observedAt: "2026-12-01T10:00:00.000Z",
    responded: true,
    tls: true,
    certificate: { subject: "CN=mail.example.org", issuer: "CN=R3", sans: ["mail.example.org"], validFrom: "2026-01-01", validTo: "2027-01-01", fingerprint256: "AB:CD", selfSigned: false },
    ntlm: { netbiosDomain: "EXAMPLE", netbiosComputer: "EXCH01", osVersion: "10.0.17763" },
    title: "Outlook",
    evidence: [
      { probe: "owa", kind: "owa-version-header", field: "GET /owa/ -> header X-OWA-Version", value: "15.1.2176.2", build: "15.1.2176.2" },
      { probe: "logon-page", kind: "logon-page-build", field: "body /owa/auth/15.1.2176/", value: "/owa/auth/15.1.2176/", build: "15.1.2176" },
      { probe: "ntlm", kind: "ntlm", field: "NTLM target info", value: "EXAMPLE\\EXCH01" },
    ],
    errors: ["GET /ecp/ -> timeout"],
  };
  const conflicting: Observation = {
    ...live,
    ip: "192.0.2.77",
    port: 8443,
    hostname: null,
    certificate: undefined as never,
    evidence: [
      { probe: "owa", kind: "owa-version-header", field: "GET /owa/ -> header X-OWA-Version", value: "15.1.2176.2", build: "15.1.2176.2" },
      { probe: "exporttool", kind: "exporttool-build", field: "GET /ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application", value: "15.2.1118.7", build: "15.2.1118.7" },
    ],
  };
  delete (conflicting as Partial<Observation>).certificate;
  return [...obs, live, conflicting];
}

const records = (): HostRecord[] =>
  observations().map((o, i) => assessObservation(explainer, SNAP, o, { country: i % 3 === 0 ? "DE" : "FR", asn: 3320 + (i % 4), asOrg: `Org ${i % 4}` }, "2026-12-03T12:00:00.000Z"));

/** What each reader gives back, for one record. */
async function readBack(store: Store, list: HostRecord[]): Promise<HostRecord[]> {
  const all: HostRecord[] = [];
  for await (const h of store.hosts({ snapshotId: SNAP })) all.push(h);
  const byKey = new Map(all.map((h) => [`${h.ip}|${h.port}`, h]));
  return list.map((r) => byKey.get(`${r.ip}|${r.port}`)!);
}

/** A store at schema version 8, written as version 8 did (verdict texts in hosts.cves, one host_cves row per CVE). */
async function writeVersion8(engine: SqlEngine, list: HostRecord[]): Promise<void> {
  await migrate(engine, MIGRATIONS.filter((m) => m.version <= 8));
  await engine.run("INSERT INTO snapshots (id, kind, date, created_at, status, spec) VALUES (?, 'import', '2021-03-09', '2021-03-09T00:00:00Z', 'done', '{}')", [SNAP]);
  for (const h of list) {
    const row = (await engine.get<{ id: number }>(
      `INSERT INTO hosts (snapshot_id, ip, port, hostname, observed_at, is_exchange, product, cu, build, precision, country, asn, as_org,
                          observation, identification, cves, cve_status_key, assessed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [SNAP, h.ip, h.port, h.hostname, h.observedAt, h.isExchange ? 1 : 0, h.product, h.cu, h.build, h.precision, h.country, h.asn, h.asOrg,
        JSON.stringify(h.observation), JSON.stringify(h.identification), JSON.stringify(h.cves), cveStatusKey(h.cves), h.assessedAt],
    ))!;
    for (const v of h.cves) await engine.run("INSERT INTO host_cves (host_id, snapshot_id, cve, status) VALUES (?, ?, ?, ?)", [row.id, SNAP, v.id, v.status]);
  }
}

async function checkReaders(store: Store, list: HostRecord[]): Promise<void> {
  store.useKnowledgeBase(kb);
  const back = await readBack(store, list);
  expect(back).toEqual(list);
  for (const r of [list[0]!, list[list.length - 1]!, list[list.length - 2]!]) expect(await store.host(SNAP, r.ip, r.port)).toEqual(r);
  // Owner reports and notices: the server's record (one per IP) with its verdicts.
  const owners = new Map<string, { cves: unknown; observation: unknown }>();
  for await (const o of store.census.owners(SNAP, "ip")) owners.set(`${o.ip}|${o.port}`, o);
  expect(owners.size).toBeGreaterThan(100);
  for (const r of list) {
    const o = owners.get(`${r.ip}|${r.port}`);
    if (o) {
      expect(o.cves).toEqual(r.cves);
      expect(o.observation).toEqual(r.observation);
    }
  }
  // Host lists: the vulnerable CVEs and the status/CVE filters, counted independently from the records.
  const vulnerable = (h: HostRecord) => h.cves.filter((c) => c.status === "vulnerable").map((c) => c.id).sort();
  const page = await store.hostList.page({ snapshot: SNAP, sort: "ip", order: "asc", limit: 5000, offset: 0 });
  const byKey = new Map(list.map((r) => [`${r.ip}|${r.port}`, r]));
  expect(page).toHaveLength(list.length);
  for (const p of page) expect(p.vulnerable).toEqual(vulnerable(byKey.get(`${p.ip}|${p.port}`)!));
  const has = (cve?: string, status?: string) => list.filter((r) => r.cves.some((c) => (cve === undefined || c.id === cve) && (status === undefined || c.status === status))).length;
  expect(await store.countHosts({ snapshotId: SNAP, cve: "CVE-2021-26855", status: "vulnerable" })).toBe(has("CVE-2021-26855", "vulnerable"));
  expect(await store.countHosts({ snapshotId: SNAP, status: "not_affected" })).toBe(has(undefined, "not_affected"));
  expect(await store.hostList.count({ snapshot: SNAP, cve: "CVE-2022-41082", sort: "id", order: "asc", limit: 1, offset: 0 })).toBe(has("CVE-2022-41082"));
  expect(has("CVE-2021-26855", "vulnerable")).toBeGreaterThan(0);
  // The census counts the same statuses.
  const counts = await store.census.counts(SNAP, "none");
  expect(counts.reduce((n, c) => n + c.n, 0)).toBe(new Set(list.filter((r) => r.isExchange).map((r) => r.ip)).size);
}

const sqliteFile = () => path.join(mkdtempSync(path.join(tmpdir(), "vigie-compact-")), "vigie.db");

describe("compact host records (schema version 9)", () => {
  const list = records();
  let pgdb: TestDatabase;
  beforeAll(async () => {
    pgdb = await createTestDatabase("compact");
  });
  afterAll(async () => {
    await pgdb?.drop();
  });

  it("the inputs cover Exchange with and without a build, conflicts, non-Exchange, live-scan evidence", () => {
    expect(list.length).toBeGreaterThan(250);
    expect(list.some((r) => r.isExchange && r.build === null)).toBe(true);
    expect(list.some((r) => !r.isExchange)).toBe(true);
    expect(list.some((r) => r.identification.conflicts.length > 0)).toBe(true);
    expect(list.some((r) => r.cves.some((c) => c.status === "vulnerable")) && list.some((r) => r.cves.some((c) => c.status === "patched"))).toBe(true);
  });

  it("SQLite: records written now read back exactly as assessed, by every reader", async () => {
    const store = await openSqliteStore(sqliteFile());
    try {
      await store.createSnapshot({ id: SNAP, kind: "import", date: "2021-03-09", spec: {} });
      await store.saveBatch(SNAP, list, []);
      await checkReaders(store, list);
    } finally {
      await store.close();
    }
  });

  it("PostgreSQL: records written now read back exactly as assessed, by every reader", async () => {
    const store = await openPostgresStore(pgdb.url);
    try {
      await store.createSnapshot({ id: SNAP, kind: "import", date: "2021-03-09", spec: {} });
      await store.saveBatch(SNAP, list, []);
      await checkReaders(store, list);
    } finally {
      await store.close();
    }
  });

  it("SQLite: a store of schema version 8 upgrades in place and reads back the same records", async () => {
    const file = sqliteFile();
    const engine = new SqliteEngine(file);
    await writeVersion8(engine, list);
    await engine.close();
    const store = await openSqliteStore(file);
    try {
      await checkReaders(store, list);
      expect(await store.engine.get("SELECT name FROM sqlite_master WHERE name = 'host_cves'")).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("PostgreSQL: a store of schema version 8 upgrades in place and reads back the same records; new ids follow", async () => {
    const up = await createTestDatabase("compact8");
    try {
      const engine = new PostgresEngine(up.url);
      await writeVersion8(engine, list);
      await engine.close();
      const store = await openPostgresStore(up.url);
      try {
        await checkReaders(store, list);
        const extra = { ...list[0]!, ip: "198.51.100.9" };
        await store.saveBatch(SNAP, [extra], []);
        expect(await store.host(SNAP, "198.51.100.9", extra.port)).toEqual({ ...extra, observation: { ...extra.observation, ip: "198.51.100.9" } });
      } finally {
        await store.close();
      }
    } finally {
      await up.drop();
    }
  });

  it("a status judged with an earlier knowledge base is kept, and its reason says what the knowledge base says now", async () => {
    const r = list.find((x) => x.cves.some((c) => c.id === "CVE-2021-26855" && c.status === "patched"))!;
    const old = { ...r, cves: r.cves.map((c) => (c.id === "CVE-2021-26855" ? { ...c, status: "vulnerable" as const } : c)) };
    const store = await openSqliteStore(sqliteFile());
    try {
      store.useKnowledgeBase(kb);
      await store.createSnapshot({ id: SNAP, kind: "import", date: "2021-03-09", spec: {} });
      await store.saveBatch(SNAP, [old], []);
      const back = (await store.host(SNAP, r.ip, r.port))!;
      const v = back.cves.find((c) => c.id === "CVE-2021-26855")!;
      expect(v.status).toBe("vulnerable");
      expect(v.reason).toMatch(/^judged vulnerable on 2026-12-03; the knowledge base now says patched: .*run vigie assess/);
      expect(back.cves.filter((c) => c.id !== "CVE-2021-26855")).toEqual(r.cves.filter((c) => c.id !== "CVE-2021-26855"));
    } finally {
      await store.close();
    }
  });
});

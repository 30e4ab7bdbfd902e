// Deep host-list pages on real stores (a SQLite file, a PostgreSQL database of its own): an offset page past
// the offset ladder's first rung (src/store/hostList.ts, LADDER_STEP) gives exactly the rows found by walking the
// list from its start with keyset cursors, for the whole snapshot, a filtered list and a constituency; after a
// write that moves hosts in or out of a filtered list, the same offsets give the new list's rows. A constituency's
// list (its materialised host set, src/store/scopeSets.ts) is the scope's own test applied to every host, after a
// new import moves hosts in and out of it too, and after an upgrade from schema 11.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { assessObservation } from "../../src/pipeline/assessObservation.js";
import type { Observation } from "../../src/pipeline/vocabulary.js";
import { Scope } from "../../src/serve/auth/constituency.js";
import { LADDER_STEP } from "../../src/store/hostList.js";
import { MIGRATIONS, migrate } from "../../src/store/migrations.js";
import type { SqlEngine } from "../../src/store/sql/engine.js";
import { PostgresEngine } from "../../src/store/sql/postgres.js";
import { SqliteEngine } from "../../src/store/sql/sqlite.js";
import { ADD_STATUS_KEY, hostValues, statusKeyOf, UPSERT_HOST } from "../../src/store/sqlStore.js";
import { openPostgresStore } from "../../src/store/postgresStore.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import type { HostListQuery, HostRecord, Store, StoreScope } from "../../src/store/store.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";

const kb = loadKnowledgeBase({ overlayDir: path.join(tmpdir(), "vigie-no-overlay") });
const explainer = new BuildExplainer(kb);
const SNAP = "s";
/** More than two rungs, and a last block shorter than a step. */
const N = 2 * LADDER_STEP + 637;

function obs(ip: string): Observation {
  return {
    ip,
    port: 443,
    hostname: null,
    source: "import",
    observedAt: "2021-03-09T00:00:00.000Z",
    responded: true,
    tls: true,
    title: "Outlook",
    evidence: [{ probe: "import", kind: "owa-version-header", field: "X-OWA-Version", value: "15.1.2176.2", build: "15.1.2176.2" }],
    errors: [],
  };
}

/** Host i: 10.<i/256>.<i%256>.1, country DE for two hosts in three, AS 64500 + i % 5. */
function record(i: number, country: (i: number) => string = (x) => (x % 3 !== 2 ? "DE" : "FR"), asn: (i: number) => number = (x) => 64500 + (x % 5)): HostRecord {
  return assessObservation(explainer, SNAP, obs(`10.${Math.floor(i / 256)}.${i % 256}.1`), { country: country(i), asn: asn(i), asOrg: "Example" });
}

async function fill(store: Store, country?: (i: number) => string, asn?: (i: number) => number): Promise<void> {
  const all = Array.from({ length: N }, (_, i) => record(i, country, asn));
  for (let i = 0; i < all.length; i += 500) await store.saveBatch(SNAP, all.slice(i, i + 500), []);
}

const base = (over: Partial<HostListQuery> = {}): HostListQuery => ({ snapshot: SNAP, sort: "id", order: "asc", limit: 50, offset: 0, ...over });

/** The list walked from its start in pages of 200 with keyset cursors (`after`), as ip:port keys. */
async function walk(store: Store, q: HostListQuery, scope?: StoreScope): Promise<string[]> {
  const out: string[] = [];
  let after: HostListQuery["after"];
  for (;;) {
    const rows = await store.hostList.page({ ...q, limit: 200, offset: 0, ...(after ? { after } : {}) }, scope);
    out.push(...rows.map((r) => `${r.ip}:${r.port}`));
    if (rows.length < 200) return out;
    const last = rows[rows.length - 1]!;
    after = { ip: last.ip, port: last.port };
  }
}

async function offsetPage(store: Store, q: HostListQuery, offset: number, scope?: StoreScope): Promise<string[]> {
  return (await store.hostList.page({ ...q, offset }, scope)).map((r) => `${r.ip}:${r.port}`);
}

/** Offsets around and between the rungs, and past the end. */
const OFFSETS = [0, LADDER_STEP - 1, LADDER_STEP, LADDER_STEP + 1, 2 * LADDER_STEP - 25, 2 * LADDER_STEP + 3, N - 10, N, N + 5000];

const SCOPE = Scope.parse(["10.0.0.0/16", "10.5.0.0/16", "AS64501"]);

/** The constituency's hosts by the scope's own test (src/serve/auth/constituency.ts) over the whole list, in list order. */
async function scopedTruth(store: Store, q: HostListQuery): Promise<string[]> {
  const out: string[] = [];
  for await (const r of store.hostList.all(q)) if (SCOPE.contains(r.ip, r.asn)) out.push(`${r.ip}:${r.port}`);
  return out;
}

async function checkAll(store: Store): Promise<void> {
  const scope = SCOPE;
  const lists: Array<[string, HostListQuery, StoreScope | undefined]> = [
    ["whole snapshot", base(), undefined],
    ["whole snapshot, id desc", base({ order: "desc" }), undefined],
    ["country DE", base({ country: "DE" }), undefined],
    ["constituency", base(), scope],
  ];
  for (const [name, q, s] of lists) {
    const truth = await walk(store, q, s);
    // The walk itself is the list (not empty, no host twice): the oracle is not vacuous.
    expect(truth.length, name).toBeGreaterThan(q.country || s ? 500 : N - 1);
    expect(new Set(truth).size, name).toBe(truth.length);
    for (const off of OFFSETS) {
      // Twice: built on the first deep page, read from the ladder on the second.
      for (let k = 0; k < 2; k++) expect(await offsetPage(store, q, off, s), `${name} offset ${off}`).toEqual(truth.slice(off, off + 50));
    }
  }
}

describe("deep offset pages of the host list (offset ladder)", () => {
  let pgdb: TestDatabase;
  const dir = mkdtempSync(path.join(tmpdir(), "vigie-paging-"));
  beforeAll(async () => {
    pgdb = await createTestDatabase("paging");
  });
  afterAll(async () => {
    await pgdb?.drop();
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    it(`${engine}: offset pages equal the cursor walk; after a write the same offsets give the new list`, async () => {
      const store = engine === "sqlite" ? await openSqliteStore(path.join(dir, "v.db")) : await openPostgresStore(pgdb.url);
      try {
        await store.createSnapshot({ id: SNAP, kind: "import", date: "2021-03-09", spec: {}, status: "done" });
        await fill(store);
        await checkAll(store);
        const before = await offsetPage(store, base({ country: "DE" }), LADDER_STEP + 1);
        // One host in two is in DE now: the DE list (still longer than a rung) is another list at the same offsets.
        await fill(store, (i) => (i % 2 === 0 ? "DE" : "FR"));
        const after = await offsetPage(store, base({ country: "DE" }), LADDER_STEP + 1);
        expect(after).not.toEqual(before);
        await checkAll(store);
        // The constituency's set, built above, against the scope's own test; then a write that moves hosts in
        // and out of AS64501 (a new import of the snapshot): the list, its count and its pages follow.
        const scoped = await scopedTruth(store, base());
        expect(await walk(store, base(), SCOPE)).toEqual(scoped);
        await fill(store, undefined, (i) => 64500 + (i % 7));
        const moved = await scopedTruth(store, base());
        expect(moved).not.toEqual(scoped);
        expect(await walk(store, base(), SCOPE)).toEqual(moved);
        expect(await store.hostList.count(base(), SCOPE)).toBe(moved.length);
        expect(await offsetPage(store, base(), LADDER_STEP + 7, SCOPE)).toEqual(moved.slice(LADDER_STEP + 7, LADDER_STEP + 57));
        const vulnerable = base({ cve: "CVE-2021-26855", status: "vulnerable" });
        expect(await walk(store, vulnerable, SCOPE)).toEqual(await scopedTruth(store, vulnerable));
        await checkAll(store);
      } finally {
        await store.close();
      }
    }, 120_000);

    it(`${engine}: a store of schema 11 (census marked fresh without a generation) upgrades, and its constituency lists are its hosts`, async () => {
      const file = path.join(dir, "v11.db");
      const db = engine === "postgres" ? await createTestDatabase("paging11") : undefined;
      try {
        // Schema 11 and its rows, written as Vigie of schema 11 wrote them.
        const e: SqlEngine = db ? new PostgresEngine(db.url) : new SqliteEngine(file);
        try {
          await migrate(e, MIGRATIONS.filter((m) => m.version <= 11));
          await e.run("INSERT INTO snapshots (id, kind, date, created_at, status, spec) VALUES (?, 'import', '2021-03-09', '2021-03-09T00:00:00Z', 'done', '{}')", [SNAP]);
          for (let i = 0; i < N; i++) {
            const values = hostValues(SNAP, record(i));
            await e.run(ADD_STATUS_KEY, [statusKeyOf(values)]);
            await e.run(UPSERT_HOST, values);
          }
          await e.run("INSERT INTO census_fresh (snapshot_id) VALUES (?)", [SNAP]);
        } finally {
          await e.close();
        }
        const store = db ? await openPostgresStore(db.url) : await openSqliteStore(file);
        try {
          const versions = (await store.engine.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version")).map((r) => Number(r.version));
          expect(versions).toContain(12);
          const truth = await scopedTruth(store, base());
          expect(truth.length).toBeGreaterThan(500);
          expect(await walk(store, base(), SCOPE)).toEqual(truth);
          expect(await store.hostList.count(base(), SCOPE)).toBe(truth.length);
          // The old fresh mark got a generation; the set was built from it.
          const g = await store.engine.get<{ generation: string | null }>("SELECT generation FROM census_fresh WHERE snapshot_id = ?", [SNAP]);
          expect(g?.generation).toMatch(/^[0-9a-f-]{36}$/);
          const set = await store.engine.get<{ generation: string; hosts: number }>("SELECT generation, hosts FROM scope_sets WHERE snapshot_id = ?", [SNAP]);
          expect(set?.generation).toBe(g?.generation);
          expect(Number(set?.hosts)).toBe(truth.length);
        } finally {
          await store.close();
        }
      } finally {
        await db?.drop();
      }
    }, 120_000);
  }
});

/**
 * Census tables beside the hosts table (additive; created on first use). `census_hosts` holds one row per
 * Exchange SERVER of a snapshot — per distinct IP, its most precise Exchange record (exact > cu > major >
 * unknown, then port 443) — with the grouping columns and a compact id of its per-CVE status key. A census is
 * then a GROUP BY over small rows. Triggers on `hosts` mark a snapshot's census stale whenever one of its
 * records is written, by anyone (import, live scan, re-assessment); the next census rebuilds it.
 */
import type { SqliteStore } from "./sqliteStore.js";

const CENSUS_SCHEMA = `
CREATE TABLE IF NOT EXISTS census_keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS census_hosts (
  snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  host_id INTEGER NOT NULL,
  country TEXT,
  asn INTEGER,
  as_org TEXT,
  product TEXT,
  cu TEXT,
  key_id INTEGER NOT NULL,
  PRIMARY KEY (snapshot_id, ip)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS census_hosts_by_ip ON census_hosts (ip);
CREATE TABLE IF NOT EXISTS census_fresh (snapshot_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS hosts_census_stale_ins AFTER INSERT ON hosts
  BEGIN DELETE FROM census_fresh WHERE snapshot_id = NEW.snapshot_id; END;
CREATE TRIGGER IF NOT EXISTS hosts_census_stale_upd AFTER UPDATE ON hosts
  BEGIN DELETE FROM census_fresh WHERE snapshot_id IN (NEW.snapshot_id, OLD.snapshot_id); END;
CREATE TRIGGER IF NOT EXISTS hosts_census_stale_del AFTER DELETE ON hosts
  BEGIN DELETE FROM census_fresh WHERE snapshot_id = OLD.snapshot_id; END;
`;

const prepared = new WeakSet<SqliteStore>();

export function ensureCensusSchema(store: SqliteStore): void {
  if (prepared.has(store)) return;
  store.db.exec(CENSUS_SCHEMA);
  prepared.add(store);
}

const RANK = "CASE precision WHEN 'exact' THEN 0 WHEN 'cu' THEN 1 WHEN 'major' THEN 2 ELSE 3 END";

/** Rebuild the census rows of a snapshot if any of its host records changed since the last build. */
export function refreshCensus(store: SqliteStore, snapshotId: string): boolean {
  ensureCensusSchema(store);
  const db = store.db;
  if (db.prepare("SELECT 1 FROM census_fresh WHERE snapshot_id = ?").get(snapshotId)) return false;
  db.transaction(() => {
    db.prepare("INSERT OR IGNORE INTO census_keys (key) SELECT DISTINCT cve_status_key FROM hosts WHERE snapshot_id = ? AND is_exchange = 1").run(snapshotId);
    db.prepare("DELETE FROM census_hosts WHERE snapshot_id = ?").run(snapshotId);
    db.prepare(`
      INSERT INTO census_hosts (snapshot_id, ip, host_id, country, asn, as_org, product, cu, key_id)
      SELECT x.snapshot_id, x.ip, x.id, x.country, x.asn, x.as_org, x.product, x.cu, k.id
      FROM (SELECT id, snapshot_id, ip, country, asn, as_org, product, cu, cve_status_key,
                   ROW_NUMBER() OVER (PARTITION BY ip ORDER BY ${RANK}, port = 443 DESC, port, id) AS rn
            FROM hosts WHERE snapshot_id = ? AND is_exchange = 1) x
      JOIN census_keys k ON k.key = x.cve_status_key
      WHERE x.rn = 1`).run(snapshotId);
    db.prepare("INSERT OR REPLACE INTO census_fresh (snapshot_id) VALUES (?)").run(snapshotId);
  })();
  return true;
}

export type GroupColumn = "country" | "asn" | "product" | "cu" | "none";

function groupExpr(by: GroupColumn, t: string): string {
  switch (by) {
    case "country":
      return `${t}.country`;
    case "asn":
      return `${t}.asn`;
    case "product":
      return `${t}.product`;
    case "cu":
      return `${t}.product || COALESCE(' ' || ${t}.cu, ' (CU unknown)')`;
    case "none":
      return "NULL";
  }
}

export interface CensusCountRow {
  group: string | number | null;
  key: string;
  n: number;
}

export interface CensusFilter {
  country?: string;
  /**
   * An extra condition on the census_hosts alias given (columns ip, asn, country…), e.g. `vigie serve` keeping a
   * user to their constituency. Its SQL must use only the alias and bound parameters.
   */
  extra?: (alias: string) => { sql: string; params: unknown[] };
}

function filterSql(f: CensusFilter, t: string): { sql: string; params: unknown[] } {
  const out = f.country !== undefined ? { sql: ` AND ${t}.country = ?`, params: [f.country] as unknown[] } : { sql: "", params: [] as unknown[] };
  if (f.extra) {
    const x = f.extra(t);
    out.sql += ` AND (${x.sql})`;
    out.params.push(...x.params);
  }
  return out;
}

/** Servers per (group, status key) in one snapshot. */
export function censusCounts(store: SqliteStore, snapshotId: string, by: GroupColumn, filter: CensusFilter = {}): CensusCountRow[] {
  refreshCensus(store, snapshotId);
  const f = filterSql(filter, "c");
  return store.db
    .prepare(
      `SELECT ${groupExpr(by, "c")} AS "group", k.key AS key, COUNT(*) AS n
       FROM census_hosts c JOIN census_keys k ON k.id = c.key_id
       WHERE c.snapshot_id = ?${f.sql} GROUP BY 1, c.key_id`,
    )
    .all(snapshotId, ...f.params) as CensusCountRow[];
}

/** The organisation name most often recorded for each ASN in a snapshot (for labels). */
export function asnNames(store: SqliteStore, snapshotId: string): Map<number, string> {
  refreshCensus(store, snapshotId);
  const rows = store.db
    .prepare("SELECT asn, as_org FROM census_hosts WHERE snapshot_id = ? AND asn IS NOT NULL AND as_org IS NOT NULL GROUP BY asn")
    .all(snapshotId) as Array<{ asn: number; as_org: string }>;
  return new Map(rows.map((r) => [r.asn, r.as_org]));
}

export interface DiffCountRows {
  both: Array<{ group: string | number | null; before: string; after: string; n: number }>;
  appeared: CensusCountRow[];
  disappeared: CensusCountRow[];
}

/** Servers of two snapshots matched by IP: pairs of status keys, and the servers only in one of them. */
export function diffCounts(store: SqliteStore, from: string, to: string, by: GroupColumn, filter: CensusFilter = {}): DiffCountRows {
  refreshCensus(store, from);
  refreshCensus(store, to);
  const fb = filterSql(filter, "b");
  const fa = filterSql(filter, "a");
  const db = store.db;
  const both = db
    .prepare(
      `SELECT ${groupExpr(by, "b")} AS "group", ka.key AS before, kb.key AS after, COUNT(*) AS n
       FROM census_hosts b JOIN census_hosts a ON a.snapshot_id = ? AND a.ip = b.ip
       JOIN census_keys ka ON ka.id = a.key_id JOIN census_keys kb ON kb.id = b.key_id
       WHERE b.snapshot_id = ?${fb.sql} GROUP BY 1, a.key_id, b.key_id`,
    )
    .all(from, to, ...fb.params) as DiffCountRows["both"];
  const only = (keep: string, other: string, f: { sql: string; params: unknown[] }, t: "a" | "b") =>
    db
      .prepare(
        `SELECT ${groupExpr(by, t)} AS "group", k.key AS key, COUNT(*) AS n
         FROM census_hosts ${t} JOIN census_keys k ON k.id = ${t}.key_id
         WHERE ${t}.snapshot_id = ?${f.sql}
           AND NOT EXISTS (SELECT 1 FROM census_hosts o WHERE o.snapshot_id = ? AND o.ip = ${t}.ip)
         GROUP BY 1, ${t}.key_id`,
      )
      .all(keep, ...f.params, other) as CensusCountRow[];
  return { both, appeared: only(to, from, fb, "b"), disappeared: only(from, to, fa, "a") };
}

export interface OwnerRow {
  ip: string;
  port: number;
  hostname: string | null;
  observed_at: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  cves: string;
  observation: string;
  first_seen: string;
  last_seen: string;
}

/** Every Exchange server of a snapshot with its full record and the first/last snapshot date it was seen. */
export function* ownerRows(store: SqliteStore, snapshotId: string, orderBy: "asn" | "ip"): Generator<OwnerRow> {
  for (const s of store.db.prepare("SELECT id FROM snapshots").all() as Array<{ id: string }>) refreshCensus(store, s.id);
  const stmt = store.db.prepare(
    `SELECT h.ip, h.port, h.hostname, h.observed_at, h.country, h.asn, h.as_org, h.product, h.cu, h.build, h.precision,
            h.cves, h.observation,
            (SELECT MIN(s.date) FROM census_hosts c2 JOIN snapshots s ON s.id = c2.snapshot_id WHERE c2.ip = c.ip) AS first_seen,
            (SELECT MAX(s.date) FROM census_hosts c2 JOIN snapshots s ON s.id = c2.snapshot_id WHERE c2.ip = c.ip) AS last_seen
     FROM census_hosts c JOIN hosts h ON h.id = c.host_id
     WHERE c.snapshot_id = ? ORDER BY ${orderBy === "asn" ? "c.asn, c.ip" : "c.ip"}`,
  );
  yield* stmt.iterate(snapshotId) as IterableIterator<OwnerRow>;
}

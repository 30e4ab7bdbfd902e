/**
 * The embedded store: one SQLite file (better-sqlite3). WAL mode, so a reader (vigie hosts, vigie serve) can
 * read while a scan writes; every batch is one transaction, so a kill -9 loses at most the batch in flight.
 */
import Database from "better-sqlite3";
import type { CveVerdict } from "../pipeline/vocabulary.js";
import type { HostQuery, HostRecord, Snapshot, SnapshotStatus, Store, TargetKey } from "./store.js";
import { targetKey } from "./store.js";

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('scan', 'import')),
  date TEXT NOT NULL,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
  spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scan_inputs (
  snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scan_done (
  snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  PRIMARY KEY (snapshot_id, ip, port)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hosts (
  id INTEGER PRIMARY KEY,
  snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  port INTEGER NOT NULL,
  hostname TEXT,
  observed_at TEXT NOT NULL,
  is_exchange INTEGER NOT NULL,
  product TEXT,
  cu TEXT,
  build TEXT,
  precision TEXT NOT NULL,
  country TEXT,
  asn INTEGER,
  as_org TEXT,
  observation TEXT NOT NULL,
  identification TEXT NOT NULL,
  cves TEXT NOT NULL,
  -- "CVE-2020-0688=vulnerable;CVE-2021-26855=patched;…" sorted by CVE id: census groups by it in one pass.
  cve_status_key TEXT NOT NULL,
  assessed_at TEXT NOT NULL,
  UNIQUE (snapshot_id, ip, port)
);
CREATE INDEX IF NOT EXISTS hosts_by_country ON hosts (snapshot_id, country);
CREATE INDEX IF NOT EXISTS hosts_by_asn ON hosts (snapshot_id, asn);
CREATE TABLE IF NOT EXISTS host_cves (
  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  snapshot_id TEXT NOT NULL,
  cve TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (host_id, cve)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS host_cves_by_status ON host_cves (snapshot_id, cve, status);
`;

interface HostRow {
  id: number;
  snapshot_id: string;
  ip: string;
  port: number;
  hostname: string | null;
  observed_at: string;
  is_exchange: number;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  observation: string;
  identification: string;
  cves: string;
  assessed_at: string;
}

interface SnapshotRow {
  id: string;
  kind: string;
  date: string;
  created_at: string;
  finished_at: string | null;
  status: string;
  spec: string;
}

function toSnapshot(r: SnapshotRow): Snapshot {
  return {
    id: r.id,
    kind: r.kind as Snapshot["kind"],
    date: r.date,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    status: r.status as SnapshotStatus,
    spec: JSON.parse(r.spec) as Record<string, unknown>,
  };
}

/** Host filters shared by every reader of the hosts table (CLI, API): alias `h` for hosts, `c` for host_cves. */
export interface HostFilter {
  snapshotId: string;
  /** true: Exchange only; false: non-Exchange only. */
  exchange?: boolean;
  country?: string;
  asn?: number;
  /** With status: this CVE in this status; alone: hosts judged for this CVE; status alone: any CVE in it. */
  cve?: string;
  status?: string;
}

export function hostFilterSql(f: HostFilter): { clauses: string[]; params: unknown[] } {
  const clauses = ["h.snapshot_id = ?"];
  const params: unknown[] = [f.snapshotId];
  if (f.exchange !== undefined) clauses.push(f.exchange ? "h.is_exchange = 1" : "h.is_exchange = 0");
  if (f.country !== undefined) {
    clauses.push("h.country = ?");
    params.push(f.country);
  }
  if (f.asn !== undefined) {
    clauses.push("h.asn = ?");
    params.push(f.asn);
  }
  if (f.status !== undefined || f.cve !== undefined) {
    const sub = ["c.host_id = h.id"];
    if (f.cve !== undefined) {
      sub.push("c.cve = ?");
      params.push(f.cve);
    }
    if (f.status !== undefined) {
      sub.push("c.status = ?");
      params.push(f.status);
    }
    clauses.push(`EXISTS (SELECT 1 FROM host_cves c WHERE ${sub.join(" AND ")})`);
  }
  return { clauses, params };
}

/** The per-host status key stored for census grouping. */
export function cveStatusKey(cves: readonly CveVerdict[]): string {
  return [...cves]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => `${c.id}=${c.status}`)
    .join(";");
}

export function rowToHost(r: HostRow): HostRecord {
  return {
    snapshotId: r.snapshot_id,
    ip: r.ip,
    port: r.port,
    hostname: r.hostname,
    observedAt: r.observed_at,
    observation: JSON.parse(r.observation) as HostRecord["observation"],
    identification: JSON.parse(r.identification) as HostRecord["identification"],
    isExchange: r.is_exchange === 1,
    product: r.product,
    cu: r.cu,
    build: r.build,
    precision: r.precision as HostRecord["precision"],
    cves: JSON.parse(r.cves) as CveVerdict[],
    country: r.country,
    asn: r.asn,
    asOrg: r.as_org,
    assessedAt: r.assessed_at,
  };
}

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private readonly insertHost: Database.Statement;
  private readonly deleteHostCves: Database.Statement;
  private readonly insertHostCve: Database.Statement;
  private readonly insertDone: Database.Statement;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.migrate();
    this.insertHost = this.db.prepare(`
      INSERT INTO hosts (snapshot_id, ip, port, hostname, observed_at, is_exchange, product, cu, build, precision,
                         country, asn, as_org, observation, identification, cves, cve_status_key, assessed_at)
      VALUES (@snapshotId, @ip, @port, @hostname, @observedAt, @isExchange, @product, @cu, @build, @precision,
              @country, @asn, @asOrg, @observation, @identification, @cves, @cveStatusKey, @assessedAt)
      ON CONFLICT (snapshot_id, ip, port) DO UPDATE SET
        hostname = excluded.hostname, observed_at = excluded.observed_at, is_exchange = excluded.is_exchange,
        product = excluded.product, cu = excluded.cu, build = excluded.build, precision = excluded.precision,
        country = excluded.country, asn = excluded.asn, as_org = excluded.as_org,
        observation = excluded.observation, identification = excluded.identification, cves = excluded.cves,
        cve_status_key = excluded.cve_status_key, assessed_at = excluded.assessed_at
      RETURNING id`);
    this.deleteHostCves = this.db.prepare("DELETE FROM host_cves WHERE host_id = ?");
    this.insertHostCve = this.db.prepare("INSERT INTO host_cves (host_id, snapshot_id, cve, status) VALUES (?, ?, ?, ?)");
    this.insertDone = this.db.prepare("INSERT OR IGNORE INTO scan_done (snapshot_id, ip, port) VALUES (?, ?, ?)");
  }

  private migrate(): void {
    this.db.exec(SCHEMA);
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    if (!row) {
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    } else if (Number(row.value) > SCHEMA_VERSION) {
      throw new Error(`${this.file}: store schema version ${row.value} is newer than this Vigie (${SCHEMA_VERSION})`);
    }
  }

  async createSnapshot(s: Omit<Snapshot, "createdAt" | "finishedAt" | "status"> & { status?: SnapshotStatus }): Promise<Snapshot> {
    const createdAt = new Date().toISOString();
    this.db
      .prepare("INSERT INTO snapshots (id, kind, date, created_at, status, spec) VALUES (?, ?, ?, ?, ?, ?)")
      .run(s.id, s.kind, s.date, createdAt, s.status ?? "running", JSON.stringify(s.spec));
    return (await this.getSnapshot(s.id))!;
  }

  async getSnapshot(id: string): Promise<Snapshot | undefined> {
    const r = this.db.prepare("SELECT * FROM snapshots WHERE id = ?").get(id) as SnapshotRow | undefined;
    return r ? toSnapshot(r) : undefined;
  }

  async listSnapshots(): Promise<Snapshot[]> {
    return (this.db.prepare("SELECT * FROM snapshots ORDER BY date, created_at").all() as SnapshotRow[]).map(toSnapshot);
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    const r = this.db.prepare("SELECT * FROM snapshots ORDER BY date DESC, created_at DESC LIMIT 1").get() as SnapshotRow | undefined;
    return r ? toSnapshot(r) : undefined;
  }

  async setSnapshotStatus(id: string, status: SnapshotStatus): Promise<void> {
    this.db
      .prepare("UPDATE snapshots SET status = ?, finished_at = CASE WHEN ? = 'running' THEN NULL ELSE ? END WHERE id = ?")
      .run(status, status, new Date().toISOString(), id);
  }

  async addScanInputs(snapshotId: string, lines: readonly string[]): Promise<void> {
    const start = (this.db.prepare("SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM scan_inputs WHERE snapshot_id = ?").get(snapshotId) as { n: number }).n;
    const insert = this.db.prepare("INSERT INTO scan_inputs (snapshot_id, seq, line) VALUES (?, ?, ?)");
    this.db.transaction(() => lines.forEach((l, i) => insert.run(snapshotId, start + i, l)))();
  }

  async scanInputs(snapshotId: string): Promise<string[]> {
    return (this.db.prepare("SELECT line FROM scan_inputs WHERE snapshot_id = ? ORDER BY seq").all(snapshotId) as Array<{ line: string }>).map(
      (r) => r.line,
    );
  }

  /** Synchronous form of saveBatch, for bulk importers that batch themselves. */
  saveBatchSync(snapshotId: string, hosts: readonly HostRecord[], done: readonly TargetKey[]): void {
    this.db.transaction(() => {
      for (const h of hosts) {
        const { id } = this.insertHost.get({
          snapshotId,
          ip: h.ip,
          port: h.port,
          hostname: h.hostname,
          observedAt: h.observedAt,
          isExchange: h.isExchange ? 1 : 0,
          product: h.product,
          cu: h.cu,
          build: h.build,
          precision: h.precision,
          country: h.country,
          asn: h.asn,
          asOrg: h.asOrg,
          observation: JSON.stringify(h.observation),
          identification: JSON.stringify(h.identification),
          cves: JSON.stringify(h.cves),
          cveStatusKey: cveStatusKey(h.cves),
          assessedAt: h.assessedAt,
        }) as { id: number };
        this.deleteHostCves.run(id);
        for (const v of h.cves) this.insertHostCve.run(id, snapshotId, v.id, v.status);
      }
      for (const t of done) this.insertDone.run(snapshotId, t.ip, t.port);
    })();
  }

  async saveBatch(snapshotId: string, hosts: readonly HostRecord[], done: readonly TargetKey[]): Promise<void> {
    this.saveBatchSync(snapshotId, hosts, done);
  }

  async finishedTargets(snapshotId: string): Promise<Set<string>> {
    const set = new Set<string>();
    for (const r of this.db.prepare("SELECT ip, port FROM scan_done WHERE snapshot_id = ?").iterate(snapshotId) as IterableIterator<TargetKey>) {
      set.add(targetKey(r.ip, r.port));
    }
    return set;
  }

  private where(q: HostQuery): { sql: string; params: unknown[] } {
    const w = hostFilterSql({ ...q, ...(q.exchangeOnly ? { exchange: true } : {}) });
    return { sql: w.clauses.join(" AND "), params: w.params };
  }

  async countHosts(q: HostQuery): Promise<number> {
    const w = this.where(q);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM hosts h WHERE ${w.sql}`).get(...w.params) as { n: number }).n;
  }

  async *hosts(q: HostQuery): AsyncIterable<HostRecord> {
    const w = this.where(q);
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))} OFFSET ${Math.max(0, Math.floor(q.offset ?? 0))}` : "";
    const stmt = this.db.prepare(`SELECT h.* FROM hosts h WHERE ${w.sql} ORDER BY h.id${limit}`);
    for (const row of stmt.iterate(...w.params) as IterableIterator<HostRow>) yield rowToHost(row);
  }

  async host(snapshotId: string, ip: string, port: number): Promise<HostRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM hosts WHERE snapshot_id = ? AND ip = ? AND port = ?").get(snapshotId, ip, port) as HostRow | undefined;
    return r ? rowToHost(r) : undefined;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export function openSqliteStore(file: string): SqliteStore {
  return new SqliteStore(file);
}

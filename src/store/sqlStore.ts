/**
 * The store over SQL, one implementation for both engines (src/store/sql/*): snapshots, scan progress, host
 * records and their per-CVE statuses; census, host lists, accounts and triage reports in their own modules.
 * The schema is migrations.ts, applied when the store opens.
 */
import type { CveVerdict } from "../pipeline/vocabulary.js";
import { SqlAccounts } from "./auth.js";
import { SqlCensus } from "./census.js";
import { hostFilterSql, SqlHostList } from "./hostList.js";
import { migrate } from "./migrations.js";
import type { SqlEngine, SqlValue } from "./sql/engine.js";
import { SqlNotices } from "./notices.js";
import { SqlTriageReports } from "./triageReports.js";
import type { HostQuery, HostRecord, Snapshot, SnapshotStatus, Store, TargetKey } from "./store.js";
import { targetKey } from "./store.js";

export interface HostRow {
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
  asn: number | string | null;
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

/** The per-host status key stored for census grouping: "CVE-A=vulnerable;CVE-B=patched", sorted by CVE id. */
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
    isExchange: Number(r.is_exchange) === 1,
    product: r.product,
    cu: r.cu,
    build: r.build,
    precision: r.precision as HostRecord["precision"],
    cves: JSON.parse(r.cves) as CveVerdict[],
    country: r.country,
    asn: r.asn === null ? null : Number(r.asn),
    asOrg: r.as_org,
    assessedAt: r.assessed_at,
  };
}

/** The column values of a host record, in HOST_COLUMNS order. */
export function hostValues(snapshotId: string, h: HostRecord): SqlValue[] {
  return [
    snapshotId,
    h.ip,
    h.port,
    h.hostname,
    h.observedAt,
    h.isExchange ? 1 : 0,
    h.product,
    h.cu,
    h.build,
    h.precision,
    h.country,
    h.asn,
    h.asOrg,
    JSON.stringify(h.observation),
    JSON.stringify(h.identification),
    JSON.stringify(h.cves),
    cveStatusKey(h.cves),
    h.assessedAt,
  ];
}

export const HOST_COLUMNS = [
  "snapshot_id",
  "ip",
  "port",
  "hostname",
  "observed_at",
  "is_exchange",
  "product",
  "cu",
  "build",
  "precision",
  "country",
  "asn",
  "as_org",
  "observation",
  "identification",
  "cves",
  "cve_status_key",
  "assessed_at",
] as const;

export const UPSERT_HOST = `INSERT INTO hosts (${HOST_COLUMNS.join(", ")})
  VALUES (${HOST_COLUMNS.map(() => "?").join(", ")})
  ON CONFLICT (snapshot_id, ip, port) DO UPDATE SET
  ${HOST_COLUMNS.filter((c) => c !== "snapshot_id" && c !== "ip" && c !== "port").map((c) => `${c} = excluded.${c}`).join(", ")}
  RETURNING id`;

export abstract class SqlStore implements Store {
  readonly census: SqlCensus;
  readonly hostList: SqlHostList;
  readonly accounts: SqlAccounts;
  readonly triageReports: SqlTriageReports;
  readonly notices: SqlNotices;

  protected constructor(readonly engine: SqlEngine) {
    this.census = new SqlCensus(engine);
    this.hostList = new SqlHostList(engine);
    this.accounts = new SqlAccounts(engine);
    this.triageReports = new SqlTriageReports(engine);
    this.notices = new SqlNotices(engine, this.census, () => this.listSnapshots());
  }

  get label(): string {
    return this.engine.label;
  }

  /** Apply pending migrations (the engines' open functions call it). */
  protected async init(): Promise<void> {
    await migrate(this.engine);
  }

  abstract changeMark(): Promise<string>;

  /** Called after every committed write of host records (PostgreSQL bumps its change mark). */
  protected async afterWrite(): Promise<void> {}

  async createSnapshot(s: Omit<Snapshot, "createdAt" | "finishedAt" | "status"> & { status?: SnapshotStatus }): Promise<Snapshot> {
    const createdAt = new Date().toISOString();
    await this.engine.run("INSERT INTO snapshots (id, kind, date, created_at, status, spec) VALUES (?, ?, ?, ?, ?, ?)", [
      s.id,
      s.kind,
      s.date,
      createdAt,
      s.status ?? "running",
      JSON.stringify(s.spec),
    ]);
    await this.afterWrite();
    return (await this.getSnapshot(s.id))!;
  }

  async getSnapshot(id: string): Promise<Snapshot | undefined> {
    const r = await this.engine.get<SnapshotRow>("SELECT * FROM snapshots WHERE id = ?", [id]);
    return r ? toSnapshot(r) : undefined;
  }

  async listSnapshots(): Promise<Snapshot[]> {
    return (await this.engine.all<SnapshotRow>("SELECT * FROM snapshots ORDER BY date, created_at")).map(toSnapshot);
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    const r = await this.engine.get<SnapshotRow>("SELECT * FROM snapshots ORDER BY date DESC, created_at DESC LIMIT 1");
    return r ? toSnapshot(r) : undefined;
  }

  async setSnapshotStatus(id: string, status: SnapshotStatus): Promise<void> {
    await this.engine.run("UPDATE snapshots SET status = ?, finished_at = ? WHERE id = ?", [status, status === "running" ? null : new Date().toISOString(), id]);
    await this.afterWrite();
  }

  async addScanInputs(snapshotId: string, lines: readonly string[]): Promise<void> {
    await this.engine.transaction(async (tx) => {
      const start = Number((await tx.get<{ n: number }>("SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM scan_inputs WHERE snapshot_id = ?", [snapshotId]))!.n);
      for (let i = 0; i < lines.length; i++) await tx.run("INSERT INTO scan_inputs (snapshot_id, seq, line) VALUES (?, ?, ?)", [snapshotId, start + i, lines[i]!]);
    });
  }

  async scanInputs(snapshotId: string): Promise<string[]> {
    return (await this.engine.all<{ line: string }>("SELECT line FROM scan_inputs WHERE snapshot_id = ? ORDER BY seq", [snapshotId])).map((r) => r.line);
  }

  async saveBatch(snapshotId: string, hosts: readonly HostRecord[], done: readonly TargetKey[]): Promise<void> {
    await this.engine.transaction(async (tx) => {
      for (const h of hosts) {
        const { id } = (await tx.get<{ id: number }>(UPSERT_HOST, hostValues(snapshotId, h)))!;
        await tx.run("DELETE FROM host_cves WHERE host_id = ?", [id]);
        for (const v of h.cves) await tx.run("INSERT INTO host_cves (host_id, snapshot_id, cve, status) VALUES (?, ?, ?, ?)", [id, snapshotId, v.id, v.status]);
      }
      for (const t of done) await tx.run("INSERT INTO scan_done (snapshot_id, ip, port) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [snapshotId, t.ip, t.port]);
      if (hosts.length > 0) await tx.run("DELETE FROM census_fresh WHERE snapshot_id = ?", [snapshotId]);
    });
    if (hosts.length > 0) await this.afterWrite();
  }

  async finishedTargets(snapshotId: string): Promise<Set<string>> {
    const set = new Set<string>();
    for await (const r of this.engine.iterate<TargetKey>("SELECT ip, port FROM scan_done WHERE snapshot_id = ?", [snapshotId])) set.add(targetKey(r.ip, r.port));
    return set;
  }

  private where(q: HostQuery): { sql: string; params: SqlValue[] } {
    const w = hostFilterSql({ ...q, ...(q.exchangeOnly ? { exchange: true } : {}) });
    return { sql: w.clauses.join(" AND "), params: w.params };
  }

  async countHosts(q: HostQuery): Promise<number> {
    const w = this.where(q);
    return Number((await this.engine.get<{ n: number }>(`SELECT COUNT(*) AS n FROM hosts h WHERE ${w.sql}`, w.params))!.n);
  }

  async *hosts(q: HostQuery): AsyncIterable<HostRecord> {
    const w = this.where(q);
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))} OFFSET ${Math.max(0, Math.floor(q.offset ?? 0))}` : "";
    for await (const row of this.engine.iterate<HostRow>(`SELECT h.* FROM hosts h WHERE ${w.sql} ORDER BY h.id${limit}`, w.params)) yield rowToHost(row);
  }

  async host(snapshotId: string, ip: string, port: number): Promise<HostRecord | undefined> {
    const r = await this.engine.get<HostRow>("SELECT * FROM hosts WHERE snapshot_id = ? AND ip = ? AND port = ?", [snapshotId, ip, port]);
    return r ? rowToHost(r) : undefined;
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

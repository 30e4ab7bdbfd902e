/**
 * The store over SQL, one implementation for both engines (src/store/sql/*): snapshots, scan progress, host
 * records and their per-CVE statuses; census, host lists, accounts and triage reports in their own modules.
 * The schema is migrations.ts, applied when the store opens.
 */
import { BuildExplainer } from "../assess/explainBuild.js";
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import { defaultOverlayDir, loadKnowledgeBase } from "../knowledge/load.js";
import { cveStatusKey, VerdictRenderer } from "../pipeline/verdicts.js";
import type { Evidence, Identification, Observation } from "../pipeline/vocabulary.js";
import { SqlAccounts } from "./auth.js";
import { SqlCensus } from "./census.js";
import { hostFilterSql, SqlHostList } from "./hostList.js";
import { migrate } from "./migrations.js";
import type { SqlEngine, SqlValue } from "./sql/engine.js";
import { SqlNotices } from "./notices.js";
import { ScopeSets } from "./scopeSets.js";
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
  /** The status key, joined from census_keys by hosts.status_key_id. */
  status_key: string;
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

export { cveStatusKey };

/**
 * The stored observation (schema version 9): without the fields the host's columns hold (ip, port, hostname,
 * observedAt), and each piece of evidence as a tuple [kind, field, value, build or null] with its probe when
 * that is not the observation's source (an import's evidence all comes from the import). Rows written before
 * schema version 9 hold the whole observation; `storedObservation` gives the same record from either.
 */
type StoredEvidence = [Evidence["kind"], string, string, string | null, string?];

export function compactObservation(o: Observation): string {
  const { ip: _ip, port: _port, hostname: _hostname, observedAt: _observedAt, evidence, ...rest } = o;
  const packed = evidence.map((e): StoredEvidence => {
    const t: StoredEvidence = [e.kind, e.field, e.value, e.build ?? null];
    if (e.probe !== o.source) t.push(e.probe);
    return t;
  });
  return JSON.stringify({ ...rest, evidence: packed });
}

export function storedObservation(r: Pick<HostRow, "ip" | "port" | "hostname" | "observed_at" | "observation">): Observation {
  const rest = JSON.parse(r.observation) as Omit<Observation, "evidence"> & { evidence: Array<Evidence | StoredEvidence> };
  const evidence = rest.evidence.map((e): Evidence => {
    if (!Array.isArray(e)) return e;
    const [kind, field, value, build, probe] = e;
    return { probe: probe ?? rest.source, kind, field, value, ...(build !== null ? { build } : {}) };
  });
  // Key order as recorded; a row written before version 9 holds the same ip, port, hostname and observedAt.
  return { ...{ ip: r.ip, port: Number(r.port), hostname: r.hostname, source: rest.source, observedAt: r.observed_at }, ...rest, evidence } as Observation;
}

/** The stored identification: without isExchange, nor (for Exchange) the build and precision the columns hold. */
export function compactIdentification(i: Identification): string {
  const { isExchange, build, precision, ...rest } = i;
  return JSON.stringify(isExchange ? rest : { build, precision, ...rest });
}

export function storedIdentification(r: Pick<HostRow, "is_exchange" | "build" | "precision" | "identification">): Identification {
  const rest = JSON.parse(r.identification) as Partial<Identification>;
  if (rest.isExchange !== undefined) return rest as Identification; // written before schema version 9
  const isExchange = Number(r.is_exchange) === 1;
  return isExchange
    ? ({ isExchange, build: r.build, precision: r.precision, ...rest } as Identification)
    : ({ isExchange, build: rest.build ?? null, precision: rest.precision ?? "unknown", ...rest } as Identification);
}

/** A stored host as a record, its verdicts rendered with the store's knowledge base. */
export function rowToHost(r: HostRow, verdicts: VerdictRenderer): HostRecord {
  const identification = storedIdentification(r);
  return {
    snapshotId: r.snapshot_id,
    ip: r.ip,
    port: Number(r.port),
    hostname: r.hostname,
    observedAt: r.observed_at,
    observation: storedObservation(r),
    identification,
    isExchange: Number(r.is_exchange) === 1,
    product: r.product,
    cu: r.cu,
    build: r.build,
    precision: r.precision as HostRecord["precision"],
    cves: verdicts.render(identification, r.status_key, r.assessed_at),
    country: r.country,
    asn: r.asn === null ? null : Number(r.asn),
    asOrg: r.as_org,
    assessedAt: r.assessed_at,
  };
}

/** The host columns as read: `h` is hosts, `k` its census_keys row. */
export const HOST_SELECT = `h.id, h.snapshot_id, h.ip, h.port, h.hostname, h.observed_at, h.is_exchange, h.product, h.cu, h.build, h.precision,
  h.country, h.asn, h.as_org, h.observation, h.identification, k.key AS status_key, h.assessed_at
  FROM hosts h JOIN census_keys k ON k.id = h.status_key_id`;

/**
 * The values written for a host record, in HOST_COLUMNS order: `status_key` is the status key text, turned
 * into hosts.status_key_id by the writer (census_keys).
 */
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
    compactObservation(h.observation),
    compactIdentification(h.identification),
    cveStatusKey(h.cves),
    h.assessedAt,
    h.isExchange ? h.identification.confidence : null,
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
  "status_key",
  "assessed_at",
  "confidence",
] as const;

/** hosts' own column for each of HOST_COLUMNS. */
export const STORED_COLUMNS = HOST_COLUMNS.map((c) => (c === "status_key" ? "status_key_id" : c));

/** Before UPSERT_HOST: the host's status key in the dictionary (parameter: the key). */
export const ADD_STATUS_KEY = "INSERT INTO census_keys (key) VALUES (?) ON CONFLICT (key) DO NOTHING";

export const UPSERT_HOST = `INSERT INTO hosts (${STORED_COLUMNS.join(", ")})
  VALUES (${HOST_COLUMNS.map((c) => (c === "status_key" ? "(SELECT id FROM census_keys WHERE key = ?)" : "?")).join(", ")})
  ON CONFLICT (snapshot_id, ip, port) DO UPDATE SET
  ${STORED_COLUMNS.filter((c) => c !== "snapshot_id" && c !== "ip" && c !== "port").map((c) => `${c} = excluded.${c}`).join(", ")}`;

const STATUS_KEY_INDEX = HOST_COLUMNS.indexOf("status_key");
/** The status key among hostValues(). */
export const statusKeyOf = (values: readonly SqlValue[]): string => values[STATUS_KEY_INDEX] as string;

export abstract class SqlStore implements Store {
  readonly census: SqlCensus;
  readonly hostList: SqlHostList;
  readonly accounts: SqlAccounts;
  readonly triageReports: SqlTriageReports;
  readonly notices: SqlNotices;

  private renderer: VerdictRenderer | undefined;

  protected constructor(readonly engine: SqlEngine) {
    this.census = new SqlCensus(engine, () => this.verdicts());
    this.hostList = new SqlHostList(engine, () => this.changeMark(), new ScopeSets(engine, this.census, () => this.changeMark()));
    this.accounts = new SqlAccounts(engine);
    this.triageReports = new SqlTriageReports(engine);
    this.notices = new SqlNotices(engine, this.census, () => this.listSnapshots(), () => this.afterWrite());
  }

  useKnowledgeBase(kb: KnowledgeBase): void {
    this.renderer = new VerdictRenderer(new BuildExplainer(kb));
  }

  /** The renderer of stored statuses: the knowledge base given, else the built-in one with $VIGIE_KB_DIR's updates. */
  protected verdicts(): VerdictRenderer {
    this.renderer ??= new VerdictRenderer(new BuildExplainer(loadKnowledgeBase({ overlayDir: defaultOverlayDir() })));
    return this.renderer;
  }

  get label(): string {
    return this.engine.label;
  }

  /** Apply pending migrations (the engines' open functions call it). */
  protected async init(): Promise<void> {
    await migrate(this.engine);
  }

  abstract changeMark(): Promise<string>;

  /** Called after every committed write of host records or notices (PostgreSQL bumps its change mark). */
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
        const values = hostValues(snapshotId, h);
        await tx.run(ADD_STATUS_KEY, [statusKeyOf(values)]);
        await tx.run(UPSERT_HOST, values);
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
    const w = hostFilterSql({ ...q, ...(q.exchangeOnly ? { exchange: true } : {}) }, this.engine.dialect);
    return { sql: w.clauses.join(" AND "), params: w.params };
  }

  async countHosts(q: HostQuery): Promise<number> {
    const w = this.where(q);
    return Number((await this.engine.get<{ n: number }>(`SELECT COUNT(*) AS n FROM hosts h WHERE ${w.sql}`, w.params))!.n);
  }

  async *hosts(q: HostQuery): AsyncIterable<HostRecord> {
    const w = this.where(q);
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))} OFFSET ${Math.max(0, Math.floor(q.offset ?? 0))}` : "";
    const verdicts = this.verdicts();
    for await (const row of this.engine.iterate<HostRow>(`SELECT ${HOST_SELECT} WHERE ${w.sql} ORDER BY h.id${limit}`, w.params)) yield rowToHost(row, verdicts);
  }

  async host(snapshotId: string, ip: string, port: number): Promise<HostRecord | undefined> {
    const r = await this.engine.get<HostRow>(`SELECT ${HOST_SELECT} WHERE h.snapshot_id = ? AND h.ip = ? AND h.port = ?`, [snapshotId, ip, port]);
    return r ? rowToHost(r, this.verdicts()) : undefined;
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

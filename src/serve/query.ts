/**
 * The query layer of `vigie serve`: the CLI's census, diff and trend code (src/store/census.ts + src/census/*)
 * and the store's host rows, with an optional constituency scope carried into every SQL statement, and an
 * in-memory cache of answers keyed by (what, parameters, scope) that empties whenever another connection writes
 * the store (SQLite's data_version), e.g. an import or a scan.
 */
import { buildCensus, totalOf, type CensusBy } from "../census/census.js";
import { buildDiff, type CensusDiff } from "../census/diff.js";
import { trendPoint, type Trend } from "../census/trend.js";
import { censusCounts, diffCounts, type CensusFilter, type GroupColumn } from "../store/census.js";
import { hostFilterSql, type SqliteStore } from "../store/sqliteStore.js";
import { scopeSql, type Scope } from "./auth/constituency.js";
import { HttpError } from "./http.js";

export class AnswerCache {
  /** Answers as UTF-8 bytes, so a hit costs no serialisation and no encoding. */
  private readonly map = new Map<string, Buffer>();
  private version = -1;

  constructor(
    private readonly store: SqliteStore,
    private readonly max = 2000,
  ) {}

  /** Empties the cache when the store changed under us. Cheap: one pragma. */
  private check(): void {
    const v = this.store.db.pragma("data_version", { simple: true }) as number;
    if (v !== this.version) {
      this.map.clear();
      this.version = v;
    }
  }

  get(key: string, compute: () => string): Buffer {
    this.check();
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = Buffer.from(compute(), "utf8");
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }

  async getAsync(key: string, compute: () => Promise<string>): Promise<Buffer> {
    this.check();
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = Buffer.from(await compute(), "utf8");
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }
}

export const column = (by: CensusBy): GroupColumn => (by === "cve" ? "none" : by);

function filterOf(store: SqliteStore, scope: Scope | undefined, country: string | undefined): CensusFilter {
  const f: CensusFilter = {};
  if (country !== undefined) f.country = country;
  if (scope) f.extra = scopeSql(store, scope);
  return f;
}

function requireCve(known: Iterable<string>, cve: string | undefined): void {
  if (cve === undefined) return;
  const ids = new Set(known);
  if (ids.size > 0 && !ids.has(cve)) throw new HttpError(400, `cve ${cve}: not in this data (known: ${[...ids].sort().join(", ")})`);
}

/** The JSON of `vigie census --json`. */
export function censusJson(store: SqliteStore, scope: Scope | undefined, snapshot: string, by: CensusBy, country?: string, cve?: string): object {
  const rows = censusCounts(store, snapshot, column(by), filterOf(store, scope, country));
  const all = buildCensus(snapshot, by, rows);
  requireCve(Object.keys(totalOf(all).cves), cve);
  const c = cve !== undefined ? buildCensus(snapshot, by, rows, cve) : all;
  return { snapshot: c.snapshot, by: c.by, groups: c.groups };
}

export function diffJson(store: SqliteStore, scope: Scope | undefined, from: string, to: string, by: CensusBy, country?: string, cve?: string): CensusDiff {
  return buildDiff(from, to, by, diffCounts(store, from, to, column(by), filterOf(store, scope, country)), cve);
}

export function trendJson(store: SqliteStore, scope: Scope | undefined, snapshots: ReadonlyArray<{ id: string; date: string }>, country?: string, cve?: string): Trend {
  const t: Trend = { cve: cve ?? null, country: country ?? null, points: [] };
  for (const s of snapshots) t.points.push(trendPoint(s.id, s.date, censusCounts(store, s.id, "none", filterOf(store, scope, country)), cve));
  return t;
}

export const HOST_SORTS = ["id", "ip", "country", "asn", "product", "build", "observed"] as const;
export type HostSort = (typeof HOST_SORTS)[number];
const SORT_COLUMN: Record<HostSort, string> = {
  id: "h.id",
  ip: "h.ip",
  country: "h.country",
  asn: "h.asn",
  product: "h.product",
  build: "h.build",
  observed: "h.observed_at",
};

export interface HostListQuery {
  snapshot: string;
  status?: string;
  cve?: string;
  country?: string;
  asn?: number;
  exchange?: boolean;
  /** Address prefix ("192.0.2."). */
  ip?: string;
  sort: HostSort;
  order: "asc" | "desc";
  limit: number;
  offset: number;
  /** Keyset paging (sort id only): hosts after this cursor (the `next` of the previous page). */
  after?: number;
}

function hostWhere(store: SqliteStore, scope: Scope | undefined, q: HostListQuery): { sql: string; params: unknown[] } {
  const { clauses, params } = hostFilterSql({
    snapshotId: q.snapshot,
    ...(q.exchange !== undefined ? { exchange: q.exchange } : {}),
    ...(q.country !== undefined ? { country: q.country } : {}),
    ...(q.asn !== undefined ? { asn: q.asn } : {}),
    ...(q.cve !== undefined ? { cve: q.cve } : {}),
    ...(q.status !== undefined ? { status: q.status } : {}),
  });
  if (q.ip !== undefined) {
    // A prefix range on the indexed (snapshot_id, ip, port) key.
    clauses.push("h.ip >= ? AND h.ip < ?");
    params.push(q.ip, q.ip + "\uffff");
  }
  if (q.after !== undefined) {
    clauses.push(q.order === "desc" ? "h.id < ?" : "h.id > ?");
    params.push(q.after);
  }
  if (scope) {
    const x = scopeSql(store, scope)("h");
    clauses.push(x.sql);
    params.push(...x.params);
  }
  return { sql: clauses.join(" AND "), params };
}

export interface HostSummary {
  ip: string;
  port: number;
  hostname: string | null;
  title: string | null;
  isExchange: boolean;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  country: string | null;
  asn: number | null;
  asOrg: string | null;
  vulnerable: string[];
  observedAt: string;
}

const indexed = new WeakSet<SqliteStore>();

/** Additive indexes for the dashboard's sortable columns (created once, IF NOT EXISTS). */
export function ensureServeIndexes(store: SqliteStore): void {
  if (indexed.has(store)) return;
  // hosts_by_snapshot is (snapshot_id, rowid): the default order (h.id) of one snapshot without a sort.
  store.db.exec(`
    CREATE INDEX IF NOT EXISTS hosts_by_snapshot ON hosts (snapshot_id);
    CREATE INDEX IF NOT EXISTS hosts_by_product ON hosts (snapshot_id, product);
    CREATE INDEX IF NOT EXISTS hosts_by_build ON hosts (snapshot_id, build);
    CREATE INDEX IF NOT EXISTS hosts_by_observed ON hosts (snapshot_id, observed_at);`);
  indexed.add(store);
}

export function listHosts(store: SqliteStore, scope: Scope | undefined, q: HostListQuery, cache: AnswerCache): { total: number; next: number | null; hosts: HostSummary[] } {
  const w = hostWhere(store, scope, q);
  // The total ignores the cursor: it counts the whole filtered list.
  const c = hostWhere(store, scope, { ...q, after: undefined });
  const countKey = `count|${scope?.id ?? "*"}|${JSON.stringify({ ...q, sort: 0, order: 0, limit: 0, offset: 0, after: 0 })}`;
  const total = Number(cache.get(countKey, () => String((store.db.prepare(`SELECT COUNT(*) AS n FROM hosts h WHERE ${c.sql}`).get(...c.params) as { n: number }).n)).toString());
  const dir = q.order === "desc" ? "DESC" : "ASC";
  const order = q.sort === "id" ? `h.id ${dir}` : `${SORT_COLUMN[q.sort]} ${dir}, h.id ${dir}`;
  // Only the columns of a summary: the title read by SQLite, the vulnerable CVEs from host_cves (its primary key).
  const rows = store.db
    .prepare(
      `SELECT h.id, h.ip, h.port, h.hostname, json_extract(h.observation, '$.title') AS title, h.is_exchange, h.product, h.cu, h.build,
              h.precision, h.country, h.asn, h.as_org, h.observed_at,
              (SELECT group_concat(c.cve, ' ') FROM host_cves c WHERE c.host_id = h.id AND c.status = 'vulnerable') AS vulnerable
       FROM hosts h WHERE ${w.sql} ORDER BY ${order} LIMIT ? OFFSET ?`,
    )
    .all(...w.params, q.limit, q.offset) as SummaryRow[];
  const last = rows[rows.length - 1];
  return {
    total,
    next: q.sort === "id" && rows.length === q.limit && last ? last.id : null,
    hosts: rows.map((r) => ({
      ip: r.ip,
      port: r.port,
      hostname: r.hostname,
      title: typeof r.title === "string" ? r.title : null,
      isExchange: r.is_exchange === 1,
      product: r.product,
      cu: r.cu,
      build: r.build,
      precision: r.precision,
      country: r.country,
      asn: r.asn,
      asOrg: r.as_org,
      vulnerable: r.vulnerable ? r.vulnerable.split(" ").sort() : [],
      observedAt: r.observed_at,
    })),
  };
}

export interface SummaryRow {
  id: number;
  ip: string;
  port: number;
  hostname: string | null;
  title: unknown;
  is_exchange: number;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  observed_at: string;
  vulnerable: string | null;
}

/** Every record of one ip:port across snapshots (newest first), for the host page's history. */
export function hostHistory(store: SqliteStore, ip: string, port: number): Array<{ snapshot: string; date: string; build: string | null; product: string | null; vulnerable: string[] }> {
  const rows = store.db
    .prepare(
      `SELECT h.snapshot_id AS snapshot, s.date AS date, h.build AS build, h.product AS product, h.cves AS cves
       FROM hosts h JOIN snapshots s ON s.id = h.snapshot_id
       WHERE h.snapshot_id IN (SELECT id FROM snapshots) AND h.ip = ? AND h.port = ? ORDER BY s.date DESC, s.created_at DESC LIMIT 100`,
    )
    .all(ip, port) as Array<{ snapshot: string; date: string; build: string | null; product: string | null; cves: string }>;
  return rows.map((r) => ({
    snapshot: r.snapshot,
    date: r.date,
    build: r.build,
    product: r.product,
    vulnerable: (JSON.parse(r.cves) as Array<{ id: string; status: string }>).filter((c) => c.status === "vulnerable").map((c) => c.id),
  }));
}

/** Every host matching the filters (no paging), in the list's order, for the CSV export. */
export function* exportRows(store: SqliteStore, scope: Scope | undefined, q: Omit<HostListQuery, "limit" | "offset" | "after">): Generator<SummaryRow> {
  const w = hostWhere(store, scope, { ...q, limit: 0, offset: 0 });
  const dir = q.order === "desc" ? "DESC" : "ASC";
  const order = q.sort === "id" ? `h.id ${dir}` : `${SORT_COLUMN[q.sort]} ${dir}, h.id ${dir}`;
  yield* store.db
    .prepare(
      `SELECT h.id, h.ip, h.port, h.hostname, json_extract(h.observation, '$.title') AS title, h.is_exchange, h.product, h.cu, h.build,
              h.precision, h.country, h.asn, h.as_org, h.observed_at,
              (SELECT group_concat(c.cve, ' ') FROM host_cves c WHERE c.host_id = h.id AND c.status = 'vulnerable') AS vulnerable
       FROM hosts h WHERE ${w.sql} ORDER BY ${order}`,
    )
    .iterate(...w.params) as IterableIterator<SummaryRow>;
}

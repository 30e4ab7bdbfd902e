/**
 * The dashboard's host lists in SQL: one snapshot's hosts filtered (the same filter as `vigie hosts`), sorted
 * on indexed columns, in pages (offset, or keyset after a host of the snapshot, for every sort), and only the columns a list shows: the title read
 * from the stored observation and the vulnerable CVEs from the host's status key (census_keys).
 */
import type { HostHistoryRow, HostListQuery, HostListStore, HostSort, HostSummaryRow, StoreScope } from "./store.js";
import type { Dialect, SqlEngine, SqlValue } from "./sql/engine.js";
import { scopeCondition } from "./sql/scope.js";
import { parseCveStatusKey } from "../pipeline/verdicts.js";
import type { ScopeSets } from "./scopeSets.js";

/** A constituency in a host-list query: its current host set (scope_hosts rows of this key and snapshot). */
interface ScopeTerm {
  key: string;
  snapshot: string;
}

/** What a list reads: its FROM (alias `h` for hosts), WHERE, parameters and ORDER BY. */
interface ListSql {
  from: string;
  sql: string;
  params: SqlValue[];
  order: string;
}

/** Host filters shared by every reader of the hosts table (CLI, API): alias `h` for hosts. */
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

export function hostFilterSql(f: HostFilter, dialect: Dialect): { clauses: string[]; params: SqlValue[] } {
  const clauses = ["h.snapshot_id = ?"];
  const params: SqlValue[] = [f.snapshotId];
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
    // The status keys (a few hundred distinct, whatever the number of hosts) that hold the pair; the hosts
    // pointing at one of them. "_" in not_affected matches only itself among the stored characters.
    // On PostgreSQL as an array computed once (an InitPlan), so that the planner reads hosts_by_status_key
    // rather than guessing one matching key and scanning the snapshot once per key.
    const keys = "SELECT k.id FROM census_keys k WHERE (';' || k.key || ';') LIKE ?";
    clauses.push(dialect === "postgres" ? `h.status_key_id = ANY (ARRAY(${keys}))` : `h.status_key_id IN (${keys})`);
    params.push(`%;${f.cve ?? ""}${f.cve !== undefined ? "=" : "%="}${f.status ?? ""}${f.status !== undefined ? ";" : "%;"}%`);
  }
  return { clauses, params };
}

const SORT_COLUMN: Record<HostSort, string> = {
  id: "h.id",
  ip: "h.ip",
  country: "h.country",
  asn: "h.asn",
  product: "h.product",
  build: "h.build",
  observed: "h.observed_at",
};

interface SummaryRow {
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
  confidence: string | null;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  observed_at: string;
  status_key: string;
}

/** The CVEs a status key has in status vulnerable, sorted. */
const vulnerableOf = (key: string): string[] =>
  parseCveStatusKey(key)
    .filter(([, s]) => s === "vulnerable")
    .map(([id]) => id)
    .sort();

const toSummary = (r: SummaryRow): HostSummaryRow => ({
  id: Number(r.id),
  ip: r.ip,
  port: r.port,
  hostname: r.hostname,
  title: typeof r.title === "string" ? r.title : null,
  isExchange: Number(r.is_exchange) === 1,
  product: r.product,
  cu: r.cu,
  build: r.build,
  precision: r.precision,
  confidence: r.confidence === "high" || r.confidence === "medium" || r.confidence === "low" ? r.confidence : null,
  country: r.country,
  asn: r.asn === null ? null : Number(r.asn),
  asOrg: r.as_org,
  observedAt: r.observed_at,
  vulnerable: vulnerableOf(r.status_key),
});

/** Where a keyset page starts: the anchor host's row id and sort value (resolved in SQL, never sent out). */
interface Anchor {
  id: number;
  value: SqlValue;
}

/** A keyset position that no longer matches a host. */
export class StaleCursorError extends Error {}

/**
 * Rows after the anchor in the order `<column> <dir>, h.id <dir>`, NULLs first ascending and last descending
 * (SQLite's order; PostgreSQL's ORDER BY says so explicitly).
 */
function keysetSql(sort: HostSort, order: "asc" | "desc", a: Anchor): { sql: string; params: SqlValue[] } {
  const cmp = order === "desc" ? "<" : ">";
  if (sort === "id") return { sql: `h.id ${cmp} ?`, params: [a.id] };
  const col = SORT_COLUMN[sort];
  if (a.value === null) {
    return order === "desc" ? { sql: `(${col} IS NULL AND h.id < ?)`, params: [a.id] } : { sql: `((${col} IS NULL AND h.id > ?) OR ${col} IS NOT NULL)`, params: [a.id] };
  }
  const tail = order === "desc" ? ` OR ${col} IS NULL` : "";
  return { sql: `(${col} ${cmp} ? OR (${col} = ? AND h.id ${cmp} ?)${tail})`, params: [a.value, a.value, a.id] };
}

/** Rows between two rungs of an offset ladder: a deep offset page steps over fewer than this many rows. */
export const LADDER_STEP = 1000;
/** Ladders kept (one per snapshot, filters, order and constituency asked for deep pages). */
const LADDERS_KEPT = 256;

interface Ladder {
  mark: string;
  /** rungs[i]: the host at position (i + 1) * LADDER_STEP - 1 of the list (the last of block i). */
  rungs: Anchor[];
  /** No host after the last rung's block. */
  complete: boolean;
  /** The extension under way. */
  busy: Promise<void>;
}

export class SqlHostList implements HostListStore {
  private readonly ladders = new Map<string, Ladder>();

  /** `mark`: the store's change mark (ladders are dropped when it moves); `sets`: constituencies' host sets. */
  constructor(
    private readonly engine: SqlEngine,
    private readonly mark: () => Promise<string>,
    private readonly sets: ScopeSets,
  ) {}

  /** A constituency as the condition on its host set for the list's snapshot (built on first use). */
  private async scopeTerm(snapshot: string, scope: StoreScope | undefined): Promise<ScopeTerm | undefined> {
    return scope ? { key: await this.sets.current(snapshot, scope), snapshot } : undefined;
  }

  /**
   * A constituency's list in id order walks its set (primary key in host id order) and reads each host by id:
   * it stops at the page's last row (SQLite: CROSS JOIN fixes that join order). In another order it walks the
   * sort index and asks the set of each host (EXISTS on the set's key).
   */
  private where(q: Omit<HostListQuery, "limit" | "offset" | "after">, scope: ScopeTerm | undefined, anchor?: Anchor): ListSql {
    const { clauses, params } = hostFilterSql({
      snapshotId: q.snapshot,
      ...(q.exchange !== undefined ? { exchange: q.exchange } : {}),
      ...(q.country !== undefined ? { country: q.country } : {}),
      ...(q.asn !== undefined ? { asn: q.asn } : {}),
      ...(q.cve !== undefined ? { cve: q.cve } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
    }, this.engine.dialect);
    if (q.ip !== undefined) {
      // A prefix range on the indexed (snapshot_id, ip, port) key.
      clauses.push("h.ip >= ? AND h.ip < ?");
      params.push(q.ip, q.ip + "\uffff");
    }
    if (anchor) {
      const k = keysetSql(q.sort, q.order, anchor);
      clauses.push(k.sql);
      params.push(...k.params);
    }
    let from = "hosts h";
    let order = this.orderSql(q);
    if (scope && q.sort === "id") {
      const set = ["m.scope_key = ? AND m.snapshot_id = ?"];
      const setParams: SqlValue[] = [scope.key, scope.snapshot];
      if (anchor) {
        set.push(`m.host_id ${q.order === "desc" ? "<" : ">"} ?`);
        setParams.push(anchor.id);
      }
      order = `m.host_id ${q.order === "desc" ? "DESC" : "ASC"}`;
      if (this.engine.dialect === "sqlite") {
        from = "scope_hosts m CROSS JOIN hosts h ON h.id = m.host_id";
        return { from, sql: [...set, ...clauses].join(" AND "), params: [...setParams, ...params], order };
      }
      // PostgreSQL would merge-join the set with the whole filtered list (a filter's rows all read); the LATERAL
      // subquery (OFFSET 0: not flattened) reads one host per set row instead, as far as the page needs.
      from = `scope_hosts m CROSS JOIN LATERAL (SELECT h.* FROM hosts h WHERE h.id = m.host_id AND ${clauses.join(" AND ")} OFFSET 0) h`;
      return { from, sql: set.join(" AND "), params: [...params, ...setParams], order };
    } else if (scope) {
      clauses.push("EXISTS (SELECT 1 FROM scope_hosts m WHERE m.scope_key = ? AND m.snapshot_id = ? AND m.host_id = h.id)");
      params.push(scope.key, scope.snapshot);
    }
    return { from, sql: clauses.join(" AND "), params, order };
  }

  /** The list's rows; with `paged`, the page's ids are chosen first (on the indexes) and only its rows are read (LIMIT ? OFFSET ?). */
  private orderSql(q: Pick<HostListQuery, "sort" | "order">): string {
    const pg = this.engine.dialect === "postgres";
    const dir = q.order === "desc" ? "DESC" : "ASC";
    // PostgreSQL's text columns are COLLATE "C" (migrations.ts): the same order as SQLite's; NULLs placed as SQLite does.
    return q.sort === "id" ? `h.id ${dir}` : `${SORT_COLUMN[q.sort]} ${dir}${pg ? (dir === "ASC" ? " NULLS FIRST" : " NULLS LAST") : ""}, h.id ${dir}`;
  }

  private select(w: ListSql, q: Pick<HostListQuery, "sort" | "order">, paged = false): string {
    const pg = this.engine.dialect === "postgres";
    const title = pg ? "(h.observation::json ->> 'title')" : "json_extract(h.observation, '$.title')";
    const columns = `h.id, h.ip, h.port, h.hostname, ${title} AS title, h.is_exchange, h.product, h.cu, h.build,
              h.precision, h.confidence, h.country, h.asn, h.as_org, h.observed_at, k.key AS status_key`;
    return paged
      ? `SELECT ${columns} FROM hosts h JOIN census_keys k ON k.id = h.status_key_id
         WHERE h.id IN (SELECT h.id FROM ${w.from} WHERE ${w.sql} ORDER BY ${w.order} LIMIT ? OFFSET ?) ORDER BY ${this.orderSql(q)}`
      : `SELECT ${columns} FROM ${w.from} JOIN census_keys k ON k.id = h.status_key_id WHERE ${w.sql} ORDER BY ${w.order}`;
  }

  /** The row and sort value of the host a keyset page starts after (undefined: no longer in the snapshot). */
  private async anchor(q: HostListQuery): Promise<Anchor | undefined> {
    if (!q.after) return undefined;
    const col = q.sort === "id" ? "NULL" : SORT_COLUMN[q.sort];
    const r = await this.engine.get<{ id: number; value: SqlValue }>(`SELECT h.id AS id, ${col} AS value FROM hosts h WHERE h.snapshot_id = ? AND h.ip = ? AND h.port = ?`, [
      q.snapshot,
      q.after.ip,
      q.after.port,
    ]);
    return r ? { id: Number(r.id), value: r.value } : undefined;
  }

  async count(q: HostListQuery, scope?: StoreScope): Promise<number> {
    // Counted as in id order (a constituency's count walks its set).
    const c = this.where({ ...q, sort: "id" }, await this.scopeTerm(q.snapshot, scope));
    return Number((await this.engine.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${c.from} WHERE ${c.sql}`, c.params))!.n);
  }

  /**
   * The rungs of the list's offset ladder up to `want` (fewer at the list's end): rung i is the host at position
   * (i + 1) * LADDER_STEP - 1, each found from the one before it (`h.id > ?` on the index, then LIMIT 1 OFFSET
   * LADDER_STEP - 1), built as far as a page needs. Kept until the store's change mark moves; one extension at a
   * time per list (concurrent deep pages wait for the same one). Lists in id order only: SQLite's row-value
   * ranges stop at the first column of (column, rowid), so another order would scan a whole group per rung.
   */
  private async rungs(q: HostListQuery, scope: StoreScope | undefined, term: ScopeTerm | undefined, want: number): Promise<Anchor[]> {
    const { limit: _l, offset: _o, after: _a, ...list } = q;
    const key = JSON.stringify([scope?.id ?? "*", list]);
    const mark = await this.mark();
    let ladder = this.ladders.get(key);
    if (!ladder || ladder.mark !== mark) {
      if (this.ladders.size >= LADDERS_KEPT) this.ladders.clear();
      ladder = { mark, rungs: [], complete: false, busy: Promise.resolve() };
      this.ladders.set(key, ladder);
    }
    const l = ladder;
    const extend = l.busy.then(async () => {
      while (!l.complete && l.rungs.length < want) {
        const w = this.where(list, term, l.rungs[l.rungs.length - 1]);
        const r = await this.engine.get<{ id: number }>(`SELECT h.id AS id FROM ${w.from} WHERE ${w.sql} ORDER BY ${w.order} LIMIT 1 OFFSET ${LADDER_STEP - 1}`, w.params);
        if (r) l.rungs.push({ id: Number(r.id), value: null });
        else l.complete = true;
      }
    });
    l.busy = extend.catch(() => undefined);
    await extend;
    return l.rungs.slice(0, want);
  }

  async page(q: HostListQuery, scope?: StoreScope): Promise<HostSummaryRow[]> {
    let anchor = await this.anchor(q);
    if (q.after && !anchor) throw new StaleCursorError("the host a page was to start after is no longer in this snapshot; start again from the first page");
    const term = await this.scopeTerm(q.snapshot, scope);
    let offset = q.offset;
    if (!q.after && q.sort === "id" && offset >= LADDER_STEP) {
      // A deep offset page starts after the nearest rung at or before it, and steps over fewer than LADDER_STEP rows.
      const rungs = await this.rungs(q, scope, term, Math.floor(offset / LADDER_STEP));
      const j = rungs.length;
      if (j > 0) {
        anchor = rungs[j - 1]!;
        offset -= j * LADDER_STEP;
      }
    }
    const w = this.where(q, term, anchor);
    return (await this.engine.all<SummaryRow>(this.select(w, q, true), [...w.params, q.limit, offset])).map(toSummary);
  }

  async *all(q: Omit<HostListQuery, "limit" | "offset" | "after">, scope?: StoreScope): AsyncIterable<HostSummaryRow> {
    const w = this.where(q, await this.scopeTerm(q.snapshot, scope));
    for await (const r of this.engine.iterate<SummaryRow>(this.select(w, q), w.params)) yield toSummary(r);
  }

  async history(ip: string, port: number, scope?: StoreScope): Promise<HostHistoryRow[]> {
    const x = scope ? scopeCondition(this.engine, scope, "h") : { sql: "1 = 1", params: [] };
    const rows = await this.engine.all<{ snapshot: string; date: string; build: string | null; product: string | null; status_key: string }>(
      `SELECT h.snapshot_id AS snapshot, s.date AS date, h.build AS build, h.product AS product, k.key AS status_key
       FROM hosts h JOIN snapshots s ON s.id = h.snapshot_id JOIN census_keys k ON k.id = h.status_key_id
       WHERE h.snapshot_id IN (SELECT id FROM snapshots) AND h.ip = ? AND h.port = ? AND ${x.sql} ORDER BY s.date DESC, s.created_at DESC LIMIT 100`,
      [ip, port, ...x.params],
    );
    return rows.map((r) => ({ snapshot: r.snapshot, date: r.date, build: r.build, product: r.product, vulnerable: vulnerableOf(r.status_key) }));
  }
}

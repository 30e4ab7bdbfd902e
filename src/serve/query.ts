/**
 * The query layer of `vigie serve`: the CLI's census, diff and trend code (the store's census + src/census/*)
 * and the store's host lists, with an optional constituency scope carried into every query, and an in-memory
 * cache of answers keyed by (what, parameters, scope) that empties whenever the store's data changes (its change
 * mark), e.g. after an import or a scan.
 */
import { buildCensus, totalOf, withConfidence, withTriage, type CensusBy } from "../census/census.js";
import type { Confidence } from "../pipeline/vocabulary.js";
import { buildDiff, type CensusDiff } from "../census/diff.js";
import { withStoreEndOfSupport } from "../census/endOfSupport.js";
import { trendPoint, type Trend } from "../census/trend.js";
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import type { CensusFilter, GroupColumn, HostListQuery, HostSummaryRow, Store } from "../store/store.js";
import { StaleCursorError } from "../store/hostList.js";
import type { Scope } from "./auth/constituency.js";
import { HttpError } from "./http.js";

export { HOST_SORTS, type HostListQuery, type HostSort } from "../store/store.js";

export class AnswerCache {
  /** Answers as UTF-8 bytes, so a hit costs no serialisation and no encoding. */
  private readonly map = new Map<string, Buffer>();
  private version = "";

  constructor(
    private readonly store: Store,
    private readonly max = 2000,
  ) {}

  /** Empties the cache when the store changed under us. Cheap: one pragma or one sequence read. */
  private async check(): Promise<void> {
    const v = await this.store.changeMark();
    if (v !== this.version) {
      this.map.clear();
      this.version = v;
    }
  }

  async get(key: string, compute: () => Promise<string>): Promise<Buffer> {
    await this.check();
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = Buffer.from(await compute(), "utf8");
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }
}

export const column = (by: CensusBy): GroupColumn => (by === "cve" ? "none" : by);

function filterOf(scope: Scope | undefined, country: string | undefined, minConfidence?: Confidence): CensusFilter {
  const f: CensusFilter = {};
  if (country !== undefined) f.country = country;
  if (minConfidence !== undefined) f.minConfidence = minConfidence;
  if (scope) f.scope = scope;
  return f;
}

function requireCve(known: Iterable<string>, cve: string | undefined): void {
  if (cve === undefined) return;
  const ids = new Set(known);
  if (ids.size > 0 && !ids.has(cve)) throw new HttpError(400, `cve ${cve}: not in this data (known: ${[...ids].sort().join(", ")})`);
}

/** The JSON of `vigie census --json` (end-of-support counts judged with `kb`'s lifecycle dates). */
export async function censusJson(store: Store, kb: KnowledgeBase, scope: Scope | undefined, snapshot: string, by: CensusBy, country?: string, cve?: string, minConfidence?: Confidence): Promise<object> {
  const filter = filterOf(scope, country, minConfidence);
  const rows = await store.census.counts(snapshot, column(by), filter);
  const all = buildCensus(snapshot, by, rows);
  requireCve(Object.keys(totalOf(all).cves), cve);
  const triageRows = await store.census.triageCounts(snapshot, column(by), filter);
  const confidenceRows = await store.census.confidenceCounts(snapshot, column(by), filter);
  const counted = withConfidence(withTriage(cve !== undefined ? buildCensus(snapshot, by, rows, cve) : all, triageRows), confidenceRows);
  const c = await withStoreEndOfSupport(store, kb, counted, filter);
  return { snapshot: c.snapshot, by: c.by, groups: c.groups };
}

export async function diffJson(store: Store, scope: Scope | undefined, from: string, to: string, by: CensusBy, country?: string, cve?: string): Promise<CensusDiff> {
  return buildDiff(from, to, by, await store.census.diff(from, to, column(by), filterOf(scope, country)), cve);
}

export async function trendJson(store: Store, scope: Scope | undefined, snapshots: ReadonlyArray<{ id: string; date: string }>, country?: string, cve?: string): Promise<Trend> {
  const t: Trend = { cve: cve ?? null, country: country ?? null, points: [] };
  for (const s of snapshots) t.points.push(trendPoint(s.id, s.date, await store.census.counts(s.id, "none", filterOf(scope, country)), cve));
  return t;
}

export type HostSummary = Omit<HostSummaryRow, "id">;

const summary = ({ id: _id, ...rest }: HostSummaryRow): HostSummary => rest;

/**
 * One page of hosts. `onCompute` runs before an uncached count is computed (a budget may refuse it by throwing).
 * `next` is the last host's key when the page is full: the route seals it into an opaque cursor.
 */
export async function listHosts(
  store: Store,
  scope: Scope | undefined,
  q: HostListQuery,
  cache: AnswerCache,
  onCompute: () => void = () => undefined,
): Promise<{ total: number; next: { ip: string; port: number } | null; hosts: HostSummary[] }> {
  // The total ignores the cursor: it counts the whole filtered list.
  const countKey = `count|${scope?.id ?? "*"}|${JSON.stringify({ ...q, sort: 0, order: 0, limit: 0, offset: 0, after: 0 })}`;
  const total = Number(
    (
      await cache.get(countKey, async () => {
        onCompute();
        return String(await store.hostList.count({ ...q, after: undefined }, scope));
      })
    ).toString(),
  );
  let rows: HostSummaryRow[];
  try {
    rows = await store.hostList.page(q, scope);
  } catch (err) {
    if (err instanceof StaleCursorError) throw new HttpError(400, `after: ${err.message}`);
    throw err;
  }
  const last = rows[rows.length - 1];
  return { total, next: rows.length === q.limit && last ? { ip: last.ip, port: last.port } : null, hosts: rows.map(summary) };
}

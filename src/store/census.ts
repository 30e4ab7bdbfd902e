/**
 * Census rows beside the hosts table. `census_hosts` holds one row per Exchange SERVER of a snapshot — per
 * distinct IP, its most precise Exchange record (exact > cu > major > unknown, then port 443) — with the
 * grouping columns and a compact id of its per-CVE status key. A census is then a GROUP BY over small rows,
 * computed in the database. Every write of a snapshot's hosts (through the store) removes the snapshot from
 * `census_fresh`; the next census rebuilds its rows.
 */
import { randomUUID } from "node:crypto";
import { CONFIDENCES, type Confidence } from "../pipeline/vocabulary.js";
import type { CensusCountRow, CensusFilter, CensusStore, ConfidenceCountRow, DiffCountRows, GroupColumn, OwnerRow, ProductCountRow, TriageCountRow } from "./store.js";
import type { SqlEngine, SqlValue } from "./sql/engine.js";
import { scopeCondition } from "./sql/scope.js";
import type { VerdictRenderer } from "../pipeline/verdicts.js";
import { storedIdentification, storedObservation, type HostRow } from "./sqlStore.js";

const RANK = "CASE precision WHEN 'exact' THEN 0 WHEN 'cu' THEN 1 WHEN 'major' THEN 2 ELSE 3 END";

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

export class SqlCensus implements CensusStore {
  constructor(
    private readonly engine: SqlEngine,
    private readonly verdicts: () => VerdictRenderer,
  ) {}

  private filterSql(f: CensusFilter, t: string): { sql: string; params: SqlValue[] } {
    let sql = "";
    const params: SqlValue[] = [];
    if (f.country !== undefined) {
      sql += ` AND ${t}.country = ?`;
      params.push(f.country);
    }
    if (f.scope) {
      const x = scopeCondition(this.engine, f.scope, t);
      sql += ` AND (${x.sql})`;
      params.push(...x.params);
    }
    if (f.minConfidence !== undefined && f.minConfidence !== "low") {
      // Rows stored before confidence was recorded count as low.
      const levels = CONFIDENCES.slice(0, CONFIDENCES.indexOf(f.minConfidence) + 1);
      sql += ` AND COALESCE(${t}.confidence, 'low') IN (${levels.map(() => "?").join(", ")})`;
      params.push(...levels);
    }
    return { sql, params };
  }

  /** The scope condition alone, for the other side of a diff. */
  private scopeSql(f: CensusFilter, t: string): { sql: string; params: SqlValue[] } {
    if (!f.scope) return { sql: "", params: [] };
    const x = scopeCondition(this.engine, f.scope, t);
    return { sql: ` AND (${x.sql})`, params: [...x.params] };
  }

  async refresh(snapshotId: string): Promise<boolean> {
    if (await this.engine.get("SELECT 1 AS x FROM census_fresh WHERE snapshot_id = ?", [snapshotId])) return false;
    await this.engine.transaction(async (tx) => {
      await tx.run("DELETE FROM census_hosts WHERE snapshot_id = ?", [snapshotId]);
      await tx.run(
        `INSERT INTO census_hosts (snapshot_id, ip, host_id, country, asn, as_org, product, cu, key_id, confidence)
         SELECT x.snapshot_id, x.ip, x.id, x.country, x.asn, x.as_org, x.product, x.cu, x.status_key_id, x.confidence
         FROM (SELECT id, snapshot_id, ip, country, asn, as_org, product, cu, status_key_id, confidence,
                      ROW_NUMBER() OVER (PARTITION BY ip ORDER BY ${RANK}, port = 443 DESC, port, id) AS rn
               FROM hosts WHERE snapshot_id = ? AND is_exchange = 1) x
         WHERE x.rn = 1`,
        [snapshotId],
      );
      await tx.run("INSERT INTO census_fresh (snapshot_id, generation) VALUES (?, ?) ON CONFLICT (snapshot_id) DO NOTHING", [snapshotId, randomUUID()]);
    });
    return true;
  }

  /**
   * The snapshot's generation: the same until a write of its hosts (which removes its census_fresh row), then
   * a new one at the next refresh. Rows derived from the hosts (scopeSets.ts) carry it.
   */
  async generation(snapshotId: string): Promise<string> {
    for (let tries = 0; tries < 3; tries++) {
      await this.refresh(snapshotId);
      const r = await this.engine.get<{ generation: string | null }>("SELECT generation FROM census_fresh WHERE snapshot_id = ?", [snapshotId]);
      if (!r) continue; // a write came in between
      if (r.generation !== null) return r.generation;
      // Marked fresh before schema 12: no write since, so a generation can be given now.
      await this.engine.run("UPDATE census_fresh SET generation = ? WHERE snapshot_id = ? AND generation IS NULL", [randomUUID(), snapshotId]);
    }
    // Writes keep coming: a generation no stored row will ever have (what is built with it is rebuilt next time).
    return randomUUID();
  }

  async counts(snapshotId: string, by: GroupColumn, filter: CensusFilter = {}): Promise<CensusCountRow[]> {
    await this.refresh(snapshotId);
    const f = this.filterSql(filter, "c");
    const rows = await this.engine.all<CensusCountRow>(
      `SELECT ${groupExpr(by, "c")} AS "group", k.key AS key, COUNT(*) AS n
       FROM census_hosts c JOIN census_keys k ON k.id = c.key_id
       WHERE c.snapshot_id = ?${f.sql} GROUP BY 1, k.key`,
      [snapshotId, ...f.params],
    );
    return rows.map((r) => ({ group: r.group, key: r.key, n: Number(r.n) }));
  }

  async confidenceCounts(snapshotId: string, by: GroupColumn, filter: CensusFilter = {}): Promise<ConfidenceCountRow[]> {
    await this.refresh(snapshotId);
    const f = this.filterSql(filter, "c");
    const rows = await this.engine.all<{ group: string | number | null; confidence: string | null; n: number | string }>(
      `SELECT ${groupExpr(by, "c")} AS "group", COALESCE(c.confidence, 'low') AS confidence, COUNT(*) AS n
       FROM census_hosts c WHERE c.snapshot_id = ?${f.sql} GROUP BY 1, 2`,
      [snapshotId, ...f.params],
    );
    return rows.map((r) => ({ group: r.group, confidence: (CONFIDENCES as readonly string[]).includes(r.confidence ?? "") ? (r.confidence as Confidence) : "low", n: Number(r.n) }));
  }

  async triageCounts(snapshotId: string, by: GroupColumn, filter: CensusFilter = {}): Promise<TriageCountRow[]> {
    await this.refresh(snapshotId);
    const f = this.filterSql(filter, "c");
    // The newest report attached to each address; the census row of a server is matched on its IP.
    const rows = await this.engine.all<TriageCountRow>(
      `SELECT ${groupExpr(by, "c")} AS "group", v.verdict AS verdict, COUNT(*) AS n
       FROM census_hosts c
       JOIN (SELECT t.ip, r.verdict, ROW_NUMBER() OVER (PARTITION BY t.ip ORDER BY r.created_at DESC, r.id DESC) AS rn
             FROM triage_report_hosts t JOIN serve_triage_reports r ON r.id = t.report_id) v ON v.ip = c.ip AND v.rn = 1
       WHERE c.snapshot_id = ?${f.sql} GROUP BY 1, v.verdict`,
      [snapshotId, ...f.params],
    );
    return rows.map((r) => ({ group: r.group, verdict: r.verdict, n: Number(r.n) }));
  }

  async productCounts(snapshotId: string, by: GroupColumn, filter: CensusFilter = {}): Promise<ProductCountRow[]> {
    await this.refresh(snapshotId);
    const f = this.filterSql(filter, "c");
    const rows = await this.engine.all<ProductCountRow>(
      `SELECT ${groupExpr(by, "c")} AS "group", c.product AS product, COUNT(*) AS n
       FROM census_hosts c WHERE c.snapshot_id = ?${f.sql} GROUP BY 1, c.product`,
      [snapshotId, ...f.params],
    );
    return rows.map((r) => ({ group: r.group, product: r.product, n: Number(r.n) }));
  }

  async asnNames(snapshotId: string): Promise<Map<number, string>> {
    await this.refresh(snapshotId);
    const rows = await this.engine.all<{ asn: number; as_org: string }>(
      "SELECT asn, MIN(as_org) AS as_org FROM census_hosts WHERE snapshot_id = ? AND asn IS NOT NULL AND as_org IS NOT NULL GROUP BY asn",
      [snapshotId],
    );
    return new Map(rows.map((r) => [Number(r.asn), r.as_org]));
  }

  async diff(from: string, to: string, by: GroupColumn, filter: CensusFilter = {}): Promise<DiffCountRows> {
    await this.refresh(from);
    await this.refresh(to);
    const fb = this.filterSql(filter, "b");
    const fa = this.filterSql(filter, "a");
    // A constituency holds on each side by that snapshot's own row: an address inside only in `to` counts as
    // appeared (its state in `from` is not used), inside only in `from` as disappeared.
    const xa = this.scopeSql(filter, "a");
    const xo = this.scopeSql(filter, "o");
    const both = await this.engine.all<DiffCountRows["both"][number]>(
      `SELECT ${groupExpr(by, "b")} AS "group", ka.key AS before, kb.key AS after, COUNT(*) AS n
       FROM census_hosts b JOIN census_hosts a ON a.snapshot_id = ? AND a.ip = b.ip${xa.sql}
       JOIN census_keys ka ON ka.id = a.key_id JOIN census_keys kb ON kb.id = b.key_id
       WHERE b.snapshot_id = ?${fb.sql} GROUP BY 1, ka.key, kb.key`,
      [from, ...xa.params, to, ...fb.params],
    );
    const only = async (keep: string, other: string, f: { sql: string; params: SqlValue[] }, t: "a" | "b") =>
      (
        await this.engine.all<CensusCountRow>(
          `SELECT ${groupExpr(by, t)} AS "group", k.key AS key, COUNT(*) AS n
           FROM census_hosts ${t} JOIN census_keys k ON k.id = ${t}.key_id
           WHERE ${t}.snapshot_id = ?${f.sql}
             AND NOT EXISTS (SELECT 1 FROM census_hosts o WHERE o.snapshot_id = ? AND o.ip = ${t}.ip${xo.sql})
           GROUP BY 1, k.key`,
          [keep, ...f.params, other, ...xo.params],
        )
      ).map((r) => ({ group: r.group, key: r.key, n: Number(r.n) }));
    return {
      both: both.map((r) => ({ group: r.group, before: r.before, after: r.after, n: Number(r.n) })),
      appeared: await only(to, from, fb, "b"),
      disappeared: await only(from, to, fa, "a"),
    };
  }

  async *owners(snapshotId: string, orderBy: "asn" | "ip"): AsyncIterable<OwnerRow> {
    for (const s of await this.engine.all<{ id: string }>("SELECT id FROM snapshots")) await this.refresh(s.id);
    const verdicts = this.verdicts();
    type Row = Omit<OwnerRow, "cves" | "observation"> & Pick<HostRow, "observation" | "identification" | "is_exchange" | "assessed_at"> & { status_key: string };
    for await (const r of this.engine.iterate<Row>(
      `SELECT h.ip, h.port, h.hostname, h.observed_at, h.country, h.asn, h.as_org, h.product, h.cu, h.build, h.precision,
              h.is_exchange, h.observation, h.identification, k.key AS status_key, h.assessed_at,
              (SELECT MIN(s.date) FROM census_hosts c2 JOIN snapshots s ON s.id = c2.snapshot_id WHERE c2.ip = c.ip) AS first_seen,
              (SELECT MAX(s.date) FROM census_hosts c2 JOIN snapshots s ON s.id = c2.snapshot_id WHERE c2.ip = c.ip) AS last_seen
       FROM census_hosts c JOIN hosts h ON h.id = c.host_id JOIN census_keys k ON k.id = h.status_key_id
       WHERE c.snapshot_id = ? ORDER BY ${orderBy === "asn" ? "c.asn, c.ip" : "c.ip"}`,
      [snapshotId],
    )) {
      const { is_exchange, identification: _identification, status_key, assessed_at, ...row } = r;
      const identification = storedIdentification(r);
      yield {
        ...row,
        asn: r.asn === null ? null : Number(r.asn),
        observation: storedObservation(r),
        cves: Number(is_exchange) === 1 ? verdicts.render(identification, status_key, assessed_at) : [],
      };
    }
  }
}

/**
 * The team store: PostgreSQL, same schema (migrations.ts) and same SQL as SQLite (sqlStore.ts). Host batches
 * go in with COPY into session-local staging tables, then one INSERT … ON CONFLICT per table, so a batch of
 * thousands of records is a handful of round trips, and writes stay idempotent by (snapshot, ip, port).
 */
import type { HostRecord, TargetKey } from "./store.js";
import { copyField, PostgresEngine, type PgTransaction } from "./sql/postgres.js";
import { HOST_COLUMNS, hostValues, SqlStore } from "./sqlStore.js";

export const isPostgresUrl = (spec: string): boolean => /^postgres(ql)?:\/\//i.test(spec);

const STAGE = `
CREATE TEMP TABLE IF NOT EXISTS stage_hosts (seq INTEGER NOT NULL, ${HOST_COLUMNS.map((c) => `${c} ${c === "port" || c === "is_exchange" ? "INTEGER" : c === "asn" ? "BIGINT" : "TEXT"}`).join(", ")}) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_cves (ip TEXT NOT NULL, port INTEGER NOT NULL, cve TEXT NOT NULL, status TEXT NOT NULL) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_done (ip TEXT NOT NULL, port INTEGER NOT NULL) ON COMMIT DELETE ROWS;`;

const UPDATABLE = HOST_COLUMNS.filter((c) => c !== "snapshot_id" && c !== "ip" && c !== "port");

export class PostgresStore extends SqlStore {
  declare readonly engine: PostgresEngine;

  private constructor(url: string) {
    super(new PostgresEngine(url));
  }

  static async open(url: string): Promise<PostgresStore> {
    const s = new PostgresStore(url);
    try {
      await s.init();
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  async changeMark(): Promise<string> {
    const r = await this.engine.get<{ v: string }>("SELECT last_value::text || ':' || is_called::text AS v FROM vigie_changes");
    return r?.v ?? "";
  }

  /** After the commit: a reader that saw the old mark computed on old or new data; the new mark clears it. */
  protected override async afterWrite(): Promise<void> {
    await this.engine.get("SELECT nextval('vigie_changes')");
  }

  override async saveBatch(snapshotId: string, hosts: readonly HostRecord[], done: readonly TargetKey[]): Promise<void> {
    if (hosts.length === 0 && done.length === 0) return;
    await this.engine.copyTransaction(async (tx) => {
      await tx.exec(STAGE);
      if (hosts.length > 0) await this.stageHosts(tx, snapshotId, hosts);
      if (done.length > 0) {
        await tx.copyRows("stage_done", ["ip", "port"], done.map((t) => `${copyField(t.ip)}\t${t.port}`));
        await tx.run("INSERT INTO scan_done (snapshot_id, ip, port) SELECT DISTINCT ?, ip, port FROM stage_done ON CONFLICT DO NOTHING", [snapshotId]);
      }
    });
    if (hosts.length > 0) await this.afterWrite();
  }

  private async stageHosts(tx: PgTransaction, snapshotId: string, hosts: readonly HostRecord[]): Promise<void> {
    function* hostRows(): Generator<string> {
      let seq = 0;
      for (const h of hosts) yield [seq++, ...hostValues(snapshotId, h)].map((v) => copyField(v as string | number | null)).join("\t");
    }
    function* cveRows(): Generator<string> {
      for (const h of hosts) for (const c of h.cves) yield `${copyField(h.ip)}\t${h.port}\t${copyField(c.id)}\t${copyField(c.status)}`;
    }
    await tx.copyRows("stage_hosts", ["seq", ...HOST_COLUMNS], hostRows());
    await tx.copyRows("stage_cves", ["ip", "port", "cve", "status"], cveRows());
    // The last record of an ip:port in the batch wins, as when records are written one after another.
    await tx.run(
      `INSERT INTO hosts (${HOST_COLUMNS.join(", ")})
       SELECT DISTINCT ON (ip, port) ${HOST_COLUMNS.join(", ")} FROM stage_hosts ORDER BY ip, port, seq DESC
       ON CONFLICT (snapshot_id, ip, port) DO UPDATE SET ${UPDATABLE.map((c) => `${c} = excluded.${c}`).join(", ")}`,
    );
    await tx.run(
      `DELETE FROM host_cves c USING hosts h, (SELECT DISTINCT ip, port FROM stage_hosts) s
       WHERE h.snapshot_id = ? AND h.ip = s.ip AND h.port = s.port AND c.host_id = h.id`,
      [snapshotId],
    );
    // The CVEs of the record that won: the staged (ip, port) rows carry the last record's statuses only when the
    // ip:port appeared once; for repeats, take the statuses from the stored status key.
    await tx.run(
      `INSERT INTO host_cves (host_id, snapshot_id, cve, status)
       SELECT DISTINCT h.id, h.snapshot_id, c.cve, c.status FROM stage_cves c JOIN hosts h ON h.snapshot_id = ? AND h.ip = c.ip AND h.port = c.port
       WHERE position(';' || c.cve || '=' || c.status || ';' IN ';' || h.cve_status_key || ';') > 0
       ON CONFLICT (host_id, cve) DO NOTHING`,
      [snapshotId],
    );
    await tx.run("DELETE FROM census_fresh WHERE snapshot_id = ?", [snapshotId]);
  }
}

export async function openPostgresStore(url: string): Promise<PostgresStore> {
  return PostgresStore.open(url);
}

/**
 * The team store: PostgreSQL, same schema (migrations.ts) and same SQL as SQLite (sqlStore.ts). Host batches
 * go in with COPY into session-local staging tables, then one INSERT … ON CONFLICT per table, so a batch of
 * thousands of records is a handful of round trips, and writes stay idempotent by (snapshot, ip, port).
 */
import type { HostRecord, TargetKey } from "./store.js";
import { copyField, PostgresEngine, type PgTransaction } from "./sql/postgres.js";
import { HOST_COLUMNS, hostValues, SqlStore, STORED_COLUMNS } from "./sqlStore.js";

export const isPostgresUrl = (spec: string): boolean => /^postgres(ql)?:\/\//i.test(spec);

const STAGE = `
CREATE TEMP TABLE IF NOT EXISTS stage_hosts (seq INTEGER NOT NULL, ${HOST_COLUMNS.map((c) => `${c} ${c === "port" || c === "is_exchange" ? "INTEGER" : c === "asn" ? "BIGINT" : "TEXT"}`).join(", ")}) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_done (ip TEXT NOT NULL, port INTEGER NOT NULL) ON COMMIT DELETE ROWS;`;

const UPDATABLE = STORED_COLUMNS.filter((c) => c !== "snapshot_id" && c !== "ip" && c !== "port");
/** The staged columns as hosts' columns: the status key text becomes its census_keys id. */
const FROM_STAGE = HOST_COLUMNS.map((c) => (c === "status_key" ? "k.id" : `s.${c}`));

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
    await tx.copyRows("stage_hosts", ["seq", ...HOST_COLUMNS], hostRows());
    await tx.run("INSERT INTO census_keys (key) SELECT DISTINCT status_key FROM stage_hosts ON CONFLICT (key) DO NOTHING");
    // The last record of an ip:port in the batch wins, as when records are written one after another.
    await tx.run(
      `INSERT INTO hosts (${STORED_COLUMNS.join(", ")})
       SELECT DISTINCT ON (s.ip, s.port) ${FROM_STAGE.join(", ")} FROM stage_hosts s JOIN census_keys k ON k.key = s.status_key
       ORDER BY s.ip, s.port, s.seq DESC
       ON CONFLICT (snapshot_id, ip, port) DO UPDATE SET ${UPDATABLE.map((c) => `${c} = excluded.${c}`).join(", ")}`,
    );
    await tx.run("DELETE FROM census_fresh WHERE snapshot_id = ?", [snapshotId]);
  }
}

export async function openPostgresStore(url: string): Promise<PostgresStore> {
  return PostgresStore.open(url);
}

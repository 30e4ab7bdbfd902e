/**
 * The embedded store: one SQLite file (better-sqlite3). WAL mode, so a reader (vigie hosts, vigie serve) can
 * read while a scan writes; every batch is one transaction, so a kill -9 loses at most the batch in flight.
 */
import { SqliteEngine } from "./sql/sqlite.js";
import { registerScopeFunction } from "./sql/scope.js";
import { ADD_STATUS_KEY, hostValues, SqlStore, statusKeyOf, UPSERT_HOST } from "./sqlStore.js";
import type { HostRecord, TargetKey } from "./store.js";

export class SqliteStore extends SqlStore {
  declare readonly engine: SqliteEngine;
  private writes = 0;

  private constructor(readonly file: string) {
    super(new SqliteEngine(file));
    registerScopeFunction(this.engine);
  }

  static async open(file: string): Promise<SqliteStore> {
    const s = new SqliteStore(file);
    try {
      await s.init();
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  /** Other connections' commits (data_version) and this connection's writes. */
  async changeMark(): Promise<string> {
    return `${this.engine.dataVersion()}.${this.writes}`;
  }

  protected override async afterWrite(): Promise<void> {
    this.writes++;
  }

  /** Bulk-load settings for this connection: a larger page cache, fewer WAL checkpoints. */
  bulkLoadSettings(): void {
    this.engine.db.pragma("cache_size = -32768");
    this.engine.db.pragma("wal_autocheckpoint = 16384");
  }

  override async saveBatch(snapshotId: string, hosts: readonly HostRecord[], done: readonly TargetKey[]): Promise<void> {
    const e = this.engine;
    e.transactionSync(() => {
      for (const h of hosts) {
        const values = hostValues(snapshotId, h);
        e.runSync(ADD_STATUS_KEY, [statusKeyOf(values)]);
        e.runSync(UPSERT_HOST, values);
      }
      for (const t of done) e.runSync("INSERT INTO scan_done (snapshot_id, ip, port) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", [snapshotId, t.ip, t.port]);
      if (hosts.length > 0) e.runSync("DELETE FROM census_fresh WHERE snapshot_id = ?", [snapshotId]);
    });
    if (hosts.length > 0) await this.afterWrite();
  }
}

export async function openSqliteStore(file: string): Promise<SqliteStore> {
  return SqliteStore.open(file);
}

/**
 * A constituency's hosts per snapshot, materialised (schema 12): `scope_hosts` holds the ids of a snapshot's
 * hosts inside a constituency, built on first use with one pass of the scope's condition (SQLite's function per
 * row, PostgreSQL's ranges), then read by the host list — its counts, pages and export — as an indexed id set.
 * A set is current while it carries the snapshot's generation (`census_fresh.generation`): every write of the
 * snapshot's hosts removes that row, and the next census refresh gives a new generation, so a set never
 * outlives the hosts it was built from. Checked at most once per store change mark in this process.
 */
import { createHash } from "node:crypto";
import type { SqlCensus } from "./census.js";
import type { SqlEngine } from "./sql/engine.js";
import { scopeCondition } from "./sql/scope.js";
import type { StoreScope } from "./store.js";

/** The set's name: a digest of the scope's ranges and ASNs (its id may be long). */
export const scopeKey = (scope: StoreScope): string => createHash("sha256").update(scope.id).digest("base64url").slice(0, 22);

/** Sets known current, per "key|snapshot": checked again when the change mark moves. */
const KEPT = 1000;

export class ScopeSets {
  private readonly known = new Map<string, string>();
  private readonly building = new Map<string, Promise<void>>();

  constructor(
    private readonly engine: SqlEngine,
    private readonly census: SqlCensus,
    private readonly mark: () => Promise<string>,
  ) {}

  /** The scope's set name, once its set for the snapshot is current (scope_hosts rows of that key and snapshot). */
  async current(snapshotId: string, scope: StoreScope): Promise<string> {
    const key = scopeKey(scope);
    await this.ensure(snapshotId, scope, key);
    return key;
  }

  private async ensure(snapshotId: string, scope: StoreScope, key: string): Promise<void> {
    const memo = `${key}|${snapshotId}`;
    const mark = await this.mark();
    if (this.known.get(memo) === mark) return;
    let p = this.building.get(memo);
    if (!p) {
      p = this.check(snapshotId, scope, key).finally(() => this.building.delete(memo));
      this.building.set(memo, p);
    }
    await p;
    if (this.known.size >= KEPT) this.known.clear();
    this.known.set(memo, mark);
  }

  private async check(snapshotId: string, scope: StoreScope, key: string): Promise<void> {
    const generation = await this.census.generation(snapshotId);
    const have = await this.engine.get<{ generation: string }>("SELECT generation FROM scope_sets WHERE scope_key = ? AND snapshot_id = ?", [key, snapshotId]);
    if (have?.generation === generation) return;
    const built = await this.engine.transaction(async (tx) => {
      // Two servers building the same set: the second waits, then finds it built.
      if (tx.dialect === "postgres") await tx.get("SELECT pg_advisory_xact_lock(6125013, hashtext(?))", [`${key}|${snapshotId}`]);
      const again = await tx.get<{ generation: string }>("SELECT generation FROM scope_sets WHERE scope_key = ? AND snapshot_id = ?", [key, snapshotId]);
      if (again?.generation === generation) return false;
      await tx.run("DELETE FROM scope_hosts WHERE scope_key = ? AND snapshot_id = ?", [key, snapshotId]);
      const x = scopeCondition(tx, scope, "h");
      const n = await tx.run(`INSERT INTO scope_hosts (scope_key, snapshot_id, host_id) SELECT ?, ?, h.id FROM hosts h WHERE h.snapshot_id = ? AND ${x.sql}`, [key, snapshotId, snapshotId, ...x.params]);
      await tx.run(
        `INSERT INTO scope_sets (scope_key, snapshot_id, generation, hosts, built_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope_key, snapshot_id) DO UPDATE SET generation = excluded.generation, hosts = excluded.hosts, built_at = excluded.built_at`,
        [key, snapshotId, generation, n, new Date().toISOString()],
      );
      return true;
    });
    // PostgreSQL plans the lists on the set's statistics (without them it guesses one row and probes every host
    // of the set before sorting, ~150 ms; with them it walks the sort index and probes the set: ~8 ms at 400k).
    if (built && this.engine.dialect === "postgres") await this.engine.exec("ANALYZE scope_hosts");
  }
}

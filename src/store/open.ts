/** Open the store a `--db` value names: a postgres:// (postgresql://) URL, else a SQLite file path. */
import { isPostgresUrl, openPostgresStore } from "./postgresStore.js";
import { openSqliteStore } from "./sqliteStore.js";
import type { Store } from "./store.js";

export { isPostgresUrl } from "./postgresStore.js";
export { redactUrl } from "./sql/postgres.js";

export async function openStore(spec: string): Promise<Store> {
  return isPostgresUrl(spec) ? openPostgresStore(spec) : openSqliteStore(spec);
}

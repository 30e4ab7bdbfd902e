/** Open the store a `--db` value names: a SQLite file path (the default), or later a PostgreSQL URL. */
import { openSqliteStore } from "./sqliteStore.js";
import type { Store } from "./store.js";

export async function openStore(spec: string): Promise<Store> {
  return openSqliteStore(spec);
}

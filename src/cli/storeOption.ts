/** The `--db <file>` option every command that reads or writes the store takes (default ./vigie.db). */
import type { Command } from "commander";
import { openSqliteStore, type SqliteStore } from "../store/sqliteStore.js";
import { UsageError } from "./errors.js";

export const DEFAULT_DB = "./vigie.db";

export function addDbOption(cmd: Command): Command {
  return cmd.option("--db <file>", "SQLite store file", DEFAULT_DB);
}

export function openStore(file: string | undefined): SqliteStore {
  try {
    return openSqliteStore(file ?? DEFAULT_DB);
  } catch (err) {
    throw new UsageError(`--db ${file ?? DEFAULT_DB}: ${(err as Error).message}`);
  }
}

/** The snapshot a read command works on: the one named, else the newest. */
export async function resolveSnapshot(store: SqliteStore, id: string | undefined): Promise<string> {
  if (id !== undefined) {
    if (!(await store.getSnapshot(id))) throw new UsageError(`--snapshot: no snapshot "${id}" in ${store.file}`);
    return id;
  }
  const latest = await store.latestSnapshot();
  if (!latest) throw new UsageError(`${store.file} holds no snapshot yet (run vigie scan, vigie import or vigie demo)`);
  return latest.id;
}

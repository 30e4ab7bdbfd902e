/** The `--db <file>` option every command that reads or writes the store takes (default ./vigie.db). */
import type { Command } from "commander";
import { openStore as open } from "../store/open.js";
import type { Store } from "../store/store.js";
import { UsageError } from "./errors.js";

export const DEFAULT_DB = "./vigie.db";

export function addDbOption(cmd: Command): Command {
  return cmd.option("--db <file>", "SQLite store file", DEFAULT_DB);
}

export async function openStore(file: string | undefined): Promise<Store> {
  try {
    return await open(file ?? DEFAULT_DB);
  } catch (err) {
    throw new UsageError(`--db ${file ?? DEFAULT_DB}: ${(err as Error).message}`);
  }
}

/** The snapshot a read command works on: the one named, else the newest. */
export async function resolveSnapshot(store: Store, id: string | undefined): Promise<string> {
  if (id !== undefined) {
    if (!(await store.getSnapshot(id))) throw new UsageError(`--snapshot: no snapshot "${id}" in ${store.label}`);
    return id;
  }
  const latest = await store.latestSnapshot();
  if (!latest) throw new UsageError(`${store.label} holds no snapshot yet (run vigie scan, vigie import or vigie demo)`);
  return latest.id;
}

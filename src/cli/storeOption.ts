/**
 * The `--db <store>` option every command that reads or writes the store takes: a SQLite file (default
 * ./vigie.db) or a PostgreSQL URL (postgres://user@host:port/db); the environment variable VIGIE_DB gives the
 * default.
 */
import type { Command } from "commander";
import { supportJudge } from "../census/endOfSupport.js";
import { openStore as open } from "../store/open.js";
import { redactUrl } from "../store/open.js";
import type { Store } from "../store/store.js";
import { UsageError } from "./errors.js";
import { openKnowledgeBase, type KbDirOption } from "./commands/kb.js";
import type { HostSupport } from "./format/hosts.js";

export const DEFAULT_DB = "./vigie.db";

/** The store used when --db is not given: $VIGIE_DB, else ./vigie.db. */
export const defaultDb = (): string => process.env.VIGIE_DB || DEFAULT_DB;

export function addDbOption(cmd: Command): Command {
  return cmd.option("--db <file-or-url>", "store: a SQLite file, or postgres://user@host:port/db (default: $VIGIE_DB, else ./vigie.db)");
}

export async function openStore(spec: string | undefined): Promise<Store> {
  const db = spec ?? defaultDb();
  try {
    return await open(db);
  } catch (err) {
    throw new UsageError(`--db ${redactUrl(db)}: ${(err as Error).message}`);
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

/**
 * Support of each host's product on the snapshot's date (knowledge/lifecycle.json), for host lists and
 * reports: computed when read from the stored product name, not stored per host.
 */
export async function snapshotSupport(store: Store, snapshotId: string, kbOptions: KbDirOption = {}): Promise<HostSupport> {
  const snapshot = await store.getSnapshot(snapshotId);
  if (!snapshot) throw new UsageError(`--snapshot: no snapshot "${snapshotId}" in ${store.label}`);
  const judge = supportJudge(openKnowledgeBase(kbOptions));
  return (h) => judge.at(h.product, snapshot.date);
}

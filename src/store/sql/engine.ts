/**
 * The SQL engine under the store: the few calls the store's SQL needs, implemented by SQLite (sqlite.ts) and
 * PostgreSQL (postgres.ts). Statements are written once with `?` placeholders; the PostgreSQL engine numbers
 * them. Where the two dialects differ (a handful of functions), the store asks `dialect`.
 */
export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | bigint | boolean | null | Buffer | readonly string[] | readonly number[];
export type SqlParams = readonly SqlValue[];

export interface SqlEngine {
  readonly dialect: Dialect;
  /** Where the data is, for people: the file, or the URL without its password. */
  readonly label: string;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** Rows changed. */
  run(sql: string, params?: SqlParams): Promise<number>;
  /** Rows streamed from a connection of their own (the engine's others stay usable meanwhile). */
  iterate<T>(sql: string, params?: SqlParams): AsyncIterable<T>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /** All or nothing; `fn` runs its statements on `tx`. One write transaction at a time per engine. */
  transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `?` -> `$1, $2, …` outside quoted strings and identifiers. */
export function numberPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** A simple promise mutex: one holder at a time, in arrival order. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await before;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

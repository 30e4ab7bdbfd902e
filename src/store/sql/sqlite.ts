/**
 * SQLite engine (better-sqlite3): one connection for statements (cached prepared statements), WAL so readers
 * and a writer work at once, and a read-only connection of its own for each `iterate` (a statement being
 * iterated keeps its connection busy, and the caller may await between rows).
 */
import Database from "better-sqlite3";
import { Mutex, type SqlEngine, type SqlParams, type SqlValue } from "./engine.js";

const bind = (params: SqlParams | undefined): unknown[] =>
  (params ?? []).map((v: SqlValue) => (typeof v === "boolean" ? (v ? 1 : 0) : Array.isArray(v) ? JSON.stringify(v) : v));

export class SqliteEngine implements SqlEngine {
  readonly dialect = "sqlite" as const;
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly writes = new Mutex();
  private readonly setups: Array<(db: Database.Database) => void> = [];

  constructor(readonly label: string) {
    this.db = new Database(label);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
  }

  /** Run on this connection and on every iterate connection (SQL functions). */
  onConnection(setup: (db: Database.Database) => void): void {
    this.setups.push(setup);
    setup(this.db);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return this.stmt(sql).all(...bind(params)) as T[];
  }

  async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return this.stmt(sql).get(...bind(params)) as T | undefined;
  }

  async run(sql: string, params?: SqlParams): Promise<number> {
    const s = this.stmt(sql);
    if (s.reader) {
      s.all(...bind(params));
      return 0;
    }
    return s.run(...bind(params)).changes;
  }

  /** Synchronous forms for hot loops (bulk import). */
  getSync<T>(sql: string, params?: SqlParams): T | undefined {
    return this.stmt(sql).get(...bind(params)) as T | undefined;
  }

  runSync(sql: string, params?: SqlParams): number {
    return this.stmt(sql).run(...bind(params)).changes;
  }

  async *iterate<T>(sql: string, params?: SqlParams): AsyncIterable<T> {
    const reader = new Database(this.label, { readonly: true, fileMustExist: true });
    try {
      reader.pragma("busy_timeout = 5000");
      for (const setup of this.setups) setup(reader);
      for (const row of reader.prepare(sql).iterate(...bind(params)) as IterableIterator<T>) yield row;
    } finally {
      reader.close();
    }
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T> {
    return this.writes.lock(async () => {
      // Inside, a nested transaction() is part of this one.
      const tx: SqlEngine = Object.create(this, { transaction: { value: <U>(f: (t: SqlEngine) => Promise<U>) => f(tx) } }) as SqlEngine;
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const out = await fn(tx);
        this.db.exec("COMMIT");
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  /** Synchronous transaction for hot loops. */
  transactionSync<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Changes whenever another connection commits (PRAGMA data_version). */
  dataVersion(): number {
    return this.db.pragma("data_version", { simple: true }) as number;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * PostgreSQL engine (node-postgres): a pool of connections; `?` placeholders numbered; BIGINT and COUNT(*)
 * read as numbers (ids, ASNs and counts stay far below 2^53); `iterate` reads through a cursor on a connection
 * of its own; `copyFrom` streams rows with COPY (pg-copy-streams) inside a transaction.
 */
import { once } from "node:events";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import Cursor from "pg-cursor";
import { numberPlaceholders, type SqlEngine, type SqlParams, type SqlValue } from "./engine.js";

const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

const bind = (params: SqlParams | undefined): unknown[] => (params ?? []).map((v: SqlValue) => (typeof v === "bigint" ? v.toString() : v));

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

/** COPY text format: one field. */
export function copyField(v: string | number | null): string {
  if (v === null) return "\\N";
  if (typeof v === "number") return String(v);
  return v.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t"));
}

type Queryable = pg.Pool | pg.PoolClient;

class PgConnection implements SqlEngine {
  readonly dialect = "postgres" as const;

  constructor(
    readonly label: string,
    protected readonly pool: pg.Pool,
    protected readonly on: Queryable,
  ) {}

  async all<T>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this.on.query(numberPlaceholders(sql), bind(params))).rows as T[];
  }

  async get<T>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params?: SqlParams): Promise<number> {
    return (await this.on.query(numberPlaceholders(sql), bind(params))).rowCount ?? 0;
  }

  async *iterate<T>(sql: string, params?: SqlParams): AsyncIterable<T> {
    const client = await this.pool.connect();
    let cursor: Cursor | undefined;
    try {
      // A cursor lives in a transaction; a read-only one, so nothing is held but a snapshot.
      await client.query("BEGIN READ ONLY");
      cursor = client.query(new Cursor(numberPlaceholders(sql), bind(params)));
      for (;;) {
        const rows = (await cursor.read(1000)) as T[];
        if (rows.length === 0) break;
        for (const r of rows) yield r;
      }
    } finally {
      try {
        if (cursor) await cursor.close();
        await client.query("COMMIT");
        client.release();
      } catch (err) {
        client.release(err as Error);
      }
    }
  }

  async exec(sql: string): Promise<void> {
    await this.on.query(sql);
  }

  async transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PgTransaction(this.label, this.pool, client);
    try {
      await client.query("BEGIN");
      const out = await fn(tx);
      await client.query("COMMIT");
      client.release();
      return out;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
        client.release();
      } catch (e) {
        client.release(e as Error);
      }
      throw err;
    }
  }

  async close(): Promise<void> {}
}

/** Statements of one transaction, on its connection; COPY is available here. */
export class PgTransaction extends PgConnection {
  constructor(label: string, pool: pg.Pool, private readonly client: pg.PoolClient) {
    super(label, pool, client);
  }

  override async transaction<T>(fn: (tx: SqlEngine) => Promise<T>): Promise<T> {
    return fn(this);
  }

  /** COPY table (columns) FROM STDIN with rows already in COPY text format, one per line. */
  async copyRows(table: string, columns: readonly string[], rows: Iterable<string>): Promise<void> {
    const stream = this.client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on("finish", resolve);
      stream.on("error", reject);
    });
    let chunk = "";
    for (const row of rows) {
      chunk += row + "\n";
      if (chunk.length >= 1 << 16) {
        if (!stream.write(chunk)) await once(stream, "drain");
        chunk = "";
      }
    }
    stream.end(chunk);
    await done;
  }
}

export class PostgresEngine extends PgConnection {
  constructor(readonly url: string, max = 8) {
    const pool = new pg.Pool({ connectionString: url, max, types, application_name: "vigie" });
    // An idle connection that dies (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    super(redactUrl(url), pool, pool);
  }

  /** A transaction with COPY. */
  async copyTransaction<T>(fn: (tx: PgTransaction) => Promise<T>): Promise<T> {
    return this.transaction((tx) => fn(tx as PgTransaction));
  }

  override async close(): Promise<void> {
    await this.pool.end();
  }
}

// A PostgreSQL database of its own for a test run: created on the server of VIGIE_TEST_PG (default
// postgres://postgres@127.0.0.1:5432/postgres) with a random name, dropped afterwards. Real server, no mock.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_PG = process.env.VIGIE_TEST_PG || "postgres://postgres@127.0.0.1:5432/postgres";

/** The URL of another database on the same server (keeps user, host, port and query such as ?host=socket-dir). */
export function databaseUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(tag = "t"): Promise<TestDatabase> {
  const name = `vigie_test_${tag}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_PG });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(TEST_PG, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: TEST_PG });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

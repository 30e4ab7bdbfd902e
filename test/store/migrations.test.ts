// The one migration list: a store file of schema version 1 (before migrations; tables of census, accounts and
// triage uploads made on first use, census triggers) upgrades in place and keeps its data; a store newer than
// the code is refused; SQL outside src/store does not exist.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { LATEST_VERSION, MIGRATIONS, migrationSql } from "../../src/store/migrations.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";

const V1 = readFileSync(path.join(import.meta.dirname, "../fixtures/store/schema-v1.sql"), "utf8");

function v1File(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "vigie-mig-")), "old.db");
  const db = new Database(file);
  db.exec(V1);
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '1')").run();
  db.prepare("INSERT INTO snapshots (id, kind, date, created_at, status, spec) VALUES ('s', 'import', '2021-03-09', '2021-03-09T00:00:00Z', 'done', '{}')").run();
  const obs = { ip: "192.0.2.1", port: 443, hostname: null, source: "import:zgrab2", observedAt: "2021-03-09T00:00:00.000Z", responded: true, tls: true, evidence: [], errors: [] };
  const ident = { isExchange: true, build: "15.1.2176.2", precision: "exact", confidence: "high", basis: [], conflicts: [] };
  const cves = [{ id: "CVE-2021-26855", status: "vulnerable", reason: "r", fixedIn: "15.1.2176.9", remediation: "x" }];
  const { id } = db
    .prepare(
      `INSERT INTO hosts (snapshot_id, ip, port, hostname, observed_at, is_exchange, product, cu, build, precision, country, asn, as_org, observation, identification, cves, cve_status_key, assessed_at)
       VALUES ('s', '192.0.2.1', 443, NULL, '2021-03-09T00:00:00.000Z', 1, 'Exchange Server 2016', 'CU19', '15.1.2176.2', 'exact', 'FR', 2200, 'Renater', ?, ?, ?, 'CVE-2021-26855=vulnerable', '2021-03-09T00:00:00Z') RETURNING id`,
    )
    .get(JSON.stringify(obs), JSON.stringify(ident), JSON.stringify(cves)) as { id: number };
  db.prepare("INSERT INTO host_cves (host_id, snapshot_id, cve, status) VALUES (?, 's', 'CVE-2021-26855', 'vulnerable')").run(id);
  db.prepare("INSERT INTO auth_users (name, role, password, constituency, created_at) VALUES ('old', 'viewer', NULL, '[]', '2021-03-09')").run();
  db.close();
  return file;
}

describe("store migrations", () => {
  it("versions are 1, 2, 3… in order, and every entry has SQL for both engines", () => {
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
    for (const m of MIGRATIONS) for (const d of ["sqlite", "postgres"] as const) expect(migrationSql(m, d)).not.toMatch(/\{\{/);
  });

  it("upgrades a schema-version-1 file in place, keeping hosts, census and accounts", async () => {
    const file = v1File();
    const store = await openSqliteStore(file);
    try {
      expect((await store.host("s", "192.0.2.1", 443))?.build).toBe("15.1.2176.2");
      expect(await store.census.counts("s", "country")).toEqual([{ group: "FR", key: "CVE-2021-26855=vulnerable", n: 1 }]);
      expect((await store.accounts.getUser("old"))?.role).toBe("viewer");
      const hosts = await store.hostList.page({ snapshot: "s", sort: "id", order: "asc", limit: 10, offset: 0 });
      expect(hosts.map((h) => h.vulnerable)).toEqual([["CVE-2021-26855"]]);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    const versions = (db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as Array<{ version: number }>).map((r) => r.version);
    expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
    expect((db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value).toBe(String(LATEST_VERSION));
    // The census triggers of version 1 are gone: the store marks the census stale itself.
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all()).toEqual([]);
    db.close();
    // Opening again applies nothing and changes nothing.
    const again = await openSqliteStore(file);
    expect((await again.host("s", "192.0.2.1", 443))?.ip).toBe("192.0.2.1");
    await again.close();
  });

  it("refuses a store whose schema is newer than this Vigie", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "vigie-mig-")), "new.db");
    await (await openSqliteStore(file)).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', '2030-01-01')").run(LATEST_VERSION + 1);
    db.close();
    await expect(openSqliteStore(file)).rejects.toThrow(/newer than this Vigie/);
  });

  it("no SQLite driver or SQL engine used outside src/store", () => {
    const src = path.join(import.meta.dirname, "../../src");
    const offenders = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts") && !f.startsWith(`store${path.sep}`))
      .filter((f) => /better-sqlite3|\.db\.(prepare|exec|pragma)\(|from "[^"]*store\/sql\/|from "pg"/.test(readFileSync(path.join(src, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});

// A small real store for the serve tests (a SQLite file; a PostgreSQL database of its own when
// VIGIE_SERVE_TEST_ENGINE=postgres, as the *.pg.test.ts files set): two snapshots of Exchange servers in FR, DE and US (vulnerable
// and patched builds), a non-Exchange host, and a hostile host whose title, evidence and certificate are markup.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import type { KnowledgeBase } from "../../src/knowledge/knowledgeBase.js";
import type { Observation } from "../../src/pipeline/vocabulary.js";
import { assessObservation, type Enrichment } from "../../src/pipeline/assessObservation.js";
import { openStore } from "../../src/store/open.js";
import type { Role } from "../../src/store/store.js";
import { createTestDatabase } from "../helpers/pg.js";

export const VULN = "15.1.2176.2"; // Exchange 2016 CU19 before Mar21SU: vulnerable to CVE-2021-26855
export const FIXED = "15.1.2176.9";
export const CVE = "CVE-2021-26855";
export const HOSTILE_IP = "203.0.113.66";
export const HOSTILE_TITLE = '<script>window.__vigiePwned = 1</script><img src=x onerror="window.__vigiePwned = 2">';

export const FR_RANGE = "193.51.224.0/24";

export function obs(ip: string, build: string | null, extra: Partial<Observation> = {}): Observation {
  const evidence: Observation["evidence"] = [{ probe: "owa", kind: "exchange-header", field: "GET /owa/ -> header X-FEServer", value: "EXCH01" }];
  if (build) evidence.push({ probe: "owa", kind: "owa-version-header", field: "GET /owa/ -> header X-OWA-Version", value: build, build });
  return { ip, port: 443, hostname: `mail.${ip.replace(/\./g, "-")}.test`, source: "scan", observedAt: "2021-03-09T10:00:00.000Z", responded: true, tls: true, title: "Outlook", evidence, errors: [], ...extra };
}

const HOSTS: Array<[string, string | null, Enrichment]> = [
  ["193.51.224.1", VULN, { country: "FR", asn: 2200, asOrg: "Renater" }],
  ["193.51.224.2", FIXED, { country: "FR", asn: 2200, asOrg: "Renater" }],
  ["212.27.48.10", VULN, { country: "FR", asn: 12322, asOrg: "Free SAS" }],
  ["81.169.145.1", VULN, { country: "DE", asn: 6724, asOrg: "Strato AG" }],
  ["217.160.0.1", FIXED, { country: "DE", asn: 8560, asOrg: "IONOS SE" }],
  ["8.8.8.8", VULN, { country: "US", asn: 15169, asOrg: "Google LLC" }],
];

export type UserName = "admin" | "analyst" | "viewer" | "fr";

export const ENGINE: "sqlite" | "postgres" = process.env.VIGIE_SERVE_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";

export interface Fixture {
  dir: string;
  /** The store: a SQLite file or a PostgreSQL URL. */
  db: string;
  kb: KnowledgeBase;
  tokens: Record<UserName, string>;
  /** Everything the store holds, as text (to check what is not stored). */
  storedText(): Promise<string>;
  /** Drops the PostgreSQL database. */
  cleanup(): Promise<void>;
}

/**
 * Users: admin (everything), analyst, viewer, fr (viewer limited to FR_RANGE and AS12322), nobody (no password).
 * `db`: the store to fill (a SQLite file by default; a PostgreSQL URL for the same tests on PostgreSQL).
 */
export async function buildFixture(db?: string): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), "vigie-serve-"));
  const pgDb = db === undefined && ENGINE === "postgres" ? await createTestDatabase("serve") : undefined;
  db ??= pgDb?.url ?? path.join(dir, "v.db");
  const where = db;
  const kb = loadKnowledgeBase({ overlayDir: path.join(dir, "kb") });
  const explainer = new BuildExplainer(kb);
  const store = await openStore(db);
  const snapshots: Array<[string, string]> = [
    ["a", "2021-03-02"],
    ["b", "2021-03-09"],
  ];
  for (const [id, date] of snapshots) {
    await store.createSnapshot({ id, kind: "import", date, spec: {}, status: "done" });
    const records = HOSTS.map(([ip, build, en]) => assessObservation(explainer, id, obs(ip, id === "a" && build === FIXED ? VULN : build), en));
    records.push(
      assessObservation(explainer, id, obs("198.51.100.7", null, { title: "nginx", evidence: [{ probe: "owa", kind: "http-server", field: "header Server", value: "nginx" }] }), { country: "US", asn: 64500, asOrg: "Example" }),
      assessObservation(
        explainer,
        id,
        obs(HOSTILE_IP, VULN, {
          hostname: '=HYPERLINK("http://evil.example/","click")',
          title: HOSTILE_TITLE,
          certificate: { subject: "CN=<b>bold</b>", issuer: "CN=<script>alert(1)</script>", sans: ["<svg onload=alert(1)>"], validFrom: "2021", validTo: "2031", fingerprint256: "AA", selfSigned: true },
        }),
        { country: "US", asn: 64501, asOrg: "<i>Evil AS</i>" },
      ),
    );
    await store.saveBatch(id, records, []);
  }
  const tokens = {} as Record<UserName, string>;
  const users: Array<[UserName, Role, string[]]> = [
    ["admin", "admin", []],
    ["analyst", "analyst", []],
    ["viewer", "viewer", []],
    ["fr", "viewer", [FR_RANGE, "AS12322"]],
  ];
  for (const [name, role, constituency] of users) {
    await store.accounts.addUser({ name, role, constituency, password: `${name}-password` });
    tokens[name] = (await store.accounts.createToken(name)).token;
  }
  await store.close();
  const storedText = async (): Promise<string> => {
    if (!pgDb) return readFileSync(where).toString("latin1");
    const pg = (await import("pg")).default;
    const c = new pg.Client({ connectionString: where });
    await c.connect();
    try {
      const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows as Array<{ tablename: string }>;
      let text = "";
      for (const t of tables) text += (await c.query(`SELECT t::text AS r FROM ${t.tablename} t`)).rows.map((r: { r: string }) => r.r).join("\n");
      return text;
    } finally {
      await c.end();
    }
  };
  return { dir, db, kb, tokens, storedText, cleanup: async () => pgDb?.drop() };
}

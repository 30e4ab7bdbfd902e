/**
 * Triage reports: POST /api/triage with a bundle (.zip or .tar.gz bytes, bounded in size) runs the same
 * `triage()` as `vigie triage` and keeps the JSON report; GET /api/triage lists reports, GET /api/triage/{id}
 * gives one (findings in timeline order). Analysts and admins upload; a user limited to a constituency sees only
 * the reports they uploaded (a bundle carries no address the constituency could be checked against).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BundleInputError } from "../../triage/bundle/index.js";
import { toJson } from "../../triage/report/json.js";
import { triage } from "../../triage/scan.js";
import { sortTimeline } from "../../triage/verdict.js";
import type { SqliteStore } from "../../store/sqliteStore.js";
import { ANY_ROLE, principal, type Route, type RouteArgs } from "../context.js";
import { HttpError, readBody, sendJson, sendJsonText } from "../http.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS serve_triage_reports (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  verdict TEXT NOT NULL,
  findings INTEGER NOT NULL,
  report TEXT NOT NULL
);`;
const ready = new WeakSet<SqliteStore>();
function ensure(store: SqliteStore): void {
  if (!ready.has(store)) {
    store.db.exec(SCHEMA);
    ready.add(store);
  }
}

const NAME = /^[A-Za-z0-9._ -]{1,100}$/;
/** Uploads are held in memory while read: at most this many at once (others get 503). */
const MAX_CONCURRENT_UPLOADS = 2;
let uploading = 0;

async function checkUpload(a: RouteArgs, user: string): Promise<void> {
  const body = await readBody(a.req, a.ctx.options.maxUploadBytes);
  const ext = body[0] === 0x50 && body[1] === 0x4b ? ".zip" : body[0] === 0x1f && body[1] === 0x8b ? ".tar.gz" : undefined;
  if (!ext) throw new HttpError(415, "expected a .zip or .tar.gz bundle");
  const given = a.url.searchParams.get("name") ?? "";
  const name = NAME.test(given) ? given : `bundle${ext}`;
  const dir = mkdtempSync(path.join(tmpdir(), "vigie-upload-"));
  let result;
  try {
    const file = path.join(dir, `bundle${ext}`);
    writeFileSync(file, body);
    result = await triage(file, {});
  } catch (err) {
    if (err instanceof BundleInputError) throw new HttpError(400, err.message);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const report = toJson({ ...result, findings: sortTimeline(result.findings) });
  const id = randomBytes(8).toString("hex");
  ensure(a.ctx.store);
  a.ctx.store.db
    .prepare("INSERT INTO serve_triage_reports (id, user, name, created_at, verdict, findings, report) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .run(id, user, name, new Date().toISOString(), result.verdict, result.findings.length, JSON.stringify(report));
  sendJson(a.res, 201, { id, name, verdict: result.verdict, report });
}

export const triageRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/api\/triage$/,
    access: ["admin", "analyst"],
    handler: async (a) => {
      const who = principal(a);
      if (uploading >= MAX_CONCURRENT_UPLOADS) throw new HttpError(503, "other bundles are being checked; try again in a moment");
      uploading++;
      try {
        await checkUpload(a, who.user.name);
      } finally {
        uploading--;
      }
    },
  },
  {
    method: "GET",
    path: /^\/api\/triage$/,
    access: ANY_ROLE,
    handler: (a) => {
      const who = principal(a);
      ensure(a.ctx.store);
      const cols = "id, user, name, created_at AS createdAt, verdict, findings";
      const rows = who.scope
        ? a.ctx.store.db.prepare(`SELECT ${cols} FROM serve_triage_reports WHERE user = ? ORDER BY created_at DESC LIMIT 500`).all(who.user.name)
        : a.ctx.store.db.prepare(`SELECT ${cols} FROM serve_triage_reports ORDER BY created_at DESC LIMIT 500`).all();
      sendJson(a.res, 200, { reports: rows });
    },
  },
  {
    method: "GET",
    path: /^\/api\/triage\/([0-9a-f]{16})$/,
    access: ANY_ROLE,
    handler: (a) => {
      const who = principal(a);
      ensure(a.ctx.store);
      const r = a.ctx.store.db.prepare("SELECT id, user, name, created_at, verdict, report FROM serve_triage_reports WHERE id = ?").get(a.params[0]) as
        | { id: string; user: string; name: string; created_at: string; verdict: string; report: string }
        | undefined;
      if (!r) throw new HttpError(404, "no such report");
      if (who.scope && r.user !== who.user.name) throw new HttpError(403, "this report is not yours");
      sendJsonText(a.res, `{"id":${JSON.stringify(r.id)},"user":${JSON.stringify(r.user)},"name":${JSON.stringify(r.name)},"createdAt":${JSON.stringify(r.created_at)},"verdict":${JSON.stringify(r.verdict)},"report":${r.report}}`);
    },
  },
];

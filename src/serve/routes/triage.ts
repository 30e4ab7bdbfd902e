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
import { ANY_ROLE, principal, type Route, type RouteArgs } from "../context.js";
import { HttpError, readBody, sendJson, sendJsonText } from "../http.js";

const NAME = /^[A-Za-z0-9._ -]{1,100}$/;
async function checkUpload(a: RouteArgs, user: string): Promise<void> {
  const fair = a.ctx.fair.policy;
  const body = await readBody(a.req, a.ctx.options.maxUploadBytes, { minBytesPerSecond: fair.minUploadBytesPerSecond, windowMs: fair.uploadWindowMs });
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
  await a.ctx.store.triageReports.add({ id, user, name, createdAt: new Date().toISOString(), verdict: result.verdict, findings: result.findings.length, report: JSON.stringify(report) });
  sendJson(a.res, 201, { id, name, verdict: result.verdict, report });
}

export const triageRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/api\/triage$/,
    access: ["admin", "analyst"],
    handler: async (a) => {
      const who = principal(a);
      // Uploads are held in memory while read: a few slots on the server, fewer per user (src/serve/fairShare.ts).
      const release = a.ctx.fair.uploadSlot(who.user.name);
      try {
        await checkUpload(a, who.user.name);
      } finally {
        release();
      }
    },
  },
  {
    method: "GET",
    path: /^\/api\/triage$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const who = principal(a);
      const rows = await a.ctx.store.triageReports.list(who.scope ? who.user.name : undefined);
      sendJson(a.res, 200, { reports: rows });
    },
  },
  {
    method: "GET",
    path: /^\/api\/triage\/([0-9a-f]{16})$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const who = principal(a);
      const r = await a.ctx.store.triageReports.get(a.params[0]!);
      if (!r) throw new HttpError(404, "no such report");
      if (who.scope && r.user !== who.user.name) throw new HttpError(403, "this report is not yours");
      sendJsonText(a.res, `{"id":${JSON.stringify(r.id)},"user":${JSON.stringify(r.user)},"name":${JSON.stringify(r.name)},"createdAt":${JSON.stringify(r.createdAt)},"verdict":${JSON.stringify(r.verdict)},"report":${r.report}}`);
    },
  },
];

/**
 * Triage reports: POST /api/triage with a bundle (.zip or .tar.gz bytes, bounded in size) runs the same
 * `triage()` as `vigie triage` and keeps the JSON report, attached to the server it names (the collector's
 * manifest, or `?host=<address>`, repeatable) like `vigie triage --db`: host pages, host lists and the census then
 * show its verdict. GET /api/triage lists reports, GET /api/triage/{id} gives one (findings in timeline order).
 * Analysts and admins upload; a user limited to a constituency sees only the reports they uploaded, and their
 * report is attached only to addresses inside their constituency's ranges (a bundle's claims are not trusted further).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BundleInputError } from "../../triage/bundle/index.js";
import { attachTriageReport } from "../../triage/attach.js";
import { triage } from "../../triage/scan.js";
import { normalizeAddress } from "../../triage/server.js";
import { ANY_ROLE, principal, type Route, type RouteArgs } from "../context.js";
import { HttpError, readBody, sendJson, sendJsonText } from "../http.js";

const NAME = /^[A-Za-z0-9._ -]{1,100}$/;
async function checkUpload(a: RouteArgs, user: string): Promise<void> {
  const hosts = a.url.searchParams.getAll("host").slice(0, 16);
  for (const h of hosts) if (normalizeAddress(h) === null) throw new HttpError(400, "host: expected an IPv4 or IPv6 address");
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
    result = await triage(file, { hosts });
  } catch (err) {
    if (err instanceof BundleInputError) throw new HttpError(400, err.message);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const scope = principal(a).scope;
  const at = await attachTriageReport(a.ctx.store, result, { source: "upload", user, name, ...(scope ? { allow: (ip: string) => scope.contains(ip, null) } : {}) });
  sendJson(a.res, 201, { id: at.id, name, verdict: result.verdict, server: result.server, attachedTo: at.addresses, hosts: at.known, report: at.report });
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
      const { report, ...info } = r;
      sendJsonText(a.res, `${JSON.stringify(info).slice(0, -1)},"report":${report}}`);
    },
  },
];

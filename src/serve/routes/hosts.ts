/**
 * GET /api/hosts: one snapshot's hosts, filtered, sorted, in pages; GET /api/hosts/{ip}/{port}: one host with
 * its observation (evidence, certificate, NTLM, title: all as recorded, to be shown as text), identification,
 * per-CVE verdicts with what to install, the knowledge base's reading of its build and its history.
 * A limited user gets only hosts in their constituency, and 403 for a host outside it.
 */
import { z } from "zod";
import { CVE_STATUSES } from "../../pipeline/vocabulary.js";
import { ANY_ROLE, principal, type Route } from "../context.js";
import { CursorSealer } from "../cursor.js";
import { HttpError, parseQuery, sendJson } from "../http.js";
import { csvRow } from "../../util/csv.js";
import { HOST_SORTS, listHosts } from "../query.js";
import { countryParam, cveParam, resolveSnapshot, snapshotParam } from "./common.js";
import { supportJudge } from "../../census/endOfSupport.js";
import type { SupportState } from "../../assess/support.js";
import type { AppContext } from "../context.js";

const NOT_EXCHANGE: SupportState = { endOfSupport: null, outOfSupport: null };

/** Support of a host's product on the snapshot's date (knowledge/lifecycle.json), judged when read. */
async function supportOn(ctx: AppContext, snapshot: string): Promise<(h: { isExchange: boolean; product: string | null }) => SupportState> {
  const day = (await ctx.store.getSnapshot(snapshot))?.date;
  const judge = supportJudge(ctx.explainer.kb);
  return (h) => (h.isExchange && day !== undefined ? judge.at(h.product, day) : NOT_EXCHANGE);
}

/** Filters and order shared by the host list and its CSV export. */
const filterShape = {
  snapshot: snapshotParam.optional(),
  status: z.enum(CVE_STATUSES as [string, ...string[]]).optional(),
  cve: cveParam.optional(),
  country: countryParam.optional(),
  asn: z
    .string()
    .regex(/^(AS)?\d{1,10}$/i)
    .transform((s) => Number(s.replace(/^AS/i, "")))
    .optional(),
  exchange: z.enum(["true", "false"]).transform((s) => s === "true").optional(),
  ip: z.string().regex(/^[0-9a-fA-F:.]{1,45}$/, "an address prefix").optional(),
  sort: z.enum(HOST_SORTS).default("id"),
  order: z.enum(["asc", "desc"]).default("asc"),
};

const listQuery = z
  .object({
    ...filterShape,
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
    after: z.string().regex(/^[A-Za-z0-9_-]{20,1400}$/, "the opaque `next` of the previous page").optional(),
  })
  .strict()
  .refine((q) => q.after === undefined || q.offset === 0, { message: "after (keyset paging) goes without offset" });

const exportQuery = z.object(filterShape).strict();

const oneQuery = z.object({ snapshot: snapshotParam.optional() }).strict();

export const hostRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/hosts$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, listQuery);
      const snapshot = await resolveSnapshot(a.ctx, q.snapshot);
      const { snapshot: _s, after, limit: _l, offset: _o, ...filters } = q;
      const who = principal(a);
      // The cursor is bound to the caller, their constituency, the snapshot, the filters and the order.
      const binding = CursorSealer.binding([who.user.name, who.scope?.id ?? "*", snapshot, filters]);
      const position = after !== undefined ? a.ctx.cursors.open(binding, after) : undefined;
      const r = await listHosts(a.ctx.store, who.scope, { ...filters, snapshot, limit: q.limit, offset: q.offset, ...(position ? { after: position } : {}) }, a.ctx.cache, () =>
        a.ctx.fair.charge("computation", who.user.name),
      );
      const next = r.next ? a.ctx.cursors.seal(binding, { snapshot, ...r.next }) : null;
      const support = await supportOn(a.ctx, snapshot);
      sendJson(a.res, 200, { snapshot, total: r.total, offset: q.offset, limit: q.limit, next, hosts: r.hosts.map((h) => ({ ...h, ...support(h) })) });
    },
  },
  {
    method: "GET",
    path: /^\/api\/hosts\.csv$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, exportQuery);
      const snapshot = await resolveSnapshot(a.ctx, q.snapshot);
      a.ctx.fair.charge("export", principal(a).user.name);
      const { snapshot: _s, ...rest } = q;
      a.res.statusCode = 200;
      a.res.setHeader("Content-Type", "text/csv; charset=utf-8");
      a.res.setHeader("Content-Disposition", `attachment; filename="vigie-hosts-${snapshot.replace(/[^A-Za-z0-9._-]/g, "_")}.csv"`);
      a.res.setHeader("Cache-Control", "no-store");
      a.res.write(
        csvRow(["ip", "port", "hostname", "title", "exchange", "product", "cu", "build", "precision", "country", "asn", "as_org", "vulnerable_cves", "observed_at", "confidence", "end_of_support", "out_of_support"]) + "\n",
      );
      const support = await supportOn(a.ctx, snapshot);
      let chunk: string[] = [];
      for await (const r of a.ctx.store.hostList.all({ ...rest, snapshot }, principal(a).scope)) {
        const s = support(r);
        chunk.push(
          // csvRow neutralises spreadsheet formulas in every text cell (host names, titles, organisations).
          csvRow([r.ip, r.port, r.hostname, r.title, r.isExchange, r.product, r.cu, r.build, r.precision, r.country, r.asn, r.asOrg, r.vulnerable.join(" "), r.observedAt, r.confidence, s.endOfSupport, s.outOfSupport]),
        );
        // The rows come from a connection of their own (the store's others keep answering); the socket buffers
        // what it cannot send yet (~150 bytes a host).
        if (chunk.length >= 1000) {
          a.res.write(chunk.join("\n") + "\n");
          chunk = [];
        }
      }
      a.res.end(chunk.length ? chunk.join("\n") + "\n" : "");
    },
  },
  {
    method: "GET",
    path: /^\/api\/hosts\/([^/]{1,100})\/(\d{1,5})$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, oneQuery);
      const ip = a.params[0]!;
      const port = Number(a.params[1]);
      if (!/^[0-9a-fA-F:.]{1,45}$/.test(ip) || port > 65535) throw new HttpError(400, "expected /api/hosts/{ip}/{port}");
      const snapshot = await resolveSnapshot(a.ctx, q.snapshot);
      const scope = principal(a).scope;
      const h = await a.ctx.store.host(snapshot, ip, port);
      if (scope && !scope.contains(ip, h?.asn ?? null)) throw new HttpError(403, "this host is outside your constituency");
      if (!h) throw new HttpError(404, `no host ${ip}:${port} in snapshot ${snapshot}`);
      const explanation = h.build !== null ? a.ctx.explainer.explain(h.build) : null;
      const support = (await supportOn(a.ctx, snapshot))(h);
      sendJson(a.res, 200, {
        snapshot,
        host: {
          ip: h.ip,
          port: h.port,
          hostname: h.hostname,
          observedAt: h.observedAt,
          isExchange: h.isExchange,
          product: h.product,
          cu: h.cu,
          build: h.build,
          precision: h.precision,
          // The product's last day of support, and whether the snapshot's date is after it (null: not known).
          endOfSupport: support.endOfSupport,
          outOfSupport: support.outOfSupport,
          country: h.country,
          asn: h.asn,
          asOrg: h.asOrg,
          assessedAt: h.assessedAt,
          cves: h.cves,
          observation: h.observation,
          identification: h.identification,
        },
        explanation,
        history: await a.ctx.store.hostList.history(h.ip, h.port, scope),
        // Triage reports attached to this server's address, newest first: the first one is its verdict.
        triage: (await a.ctx.store.triageReports.forIp(h.ip)).map((t) => ({ id: t.id, verdict: t.verdict, createdAt: t.createdAt, findings: t.findings, name: t.name, source: t.source, hostname: t.hostname, fqdn: t.fqdn })),
      });
    },
  },
];

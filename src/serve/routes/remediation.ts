/**
 * Remediation and notices for the dashboard:
 *   GET  /api/remediation             groups by org|country|asn: the JSON of `vigie remediation --json`
 *   GET  /api/remediation/overdue     the escalation list: the JSON of `vigie remediation --overdue N --json`
 *   GET  /api/remediation/series      notified servers still vulnerable per snapshot, per group, + timeline events
 *   GET  /api/remediation/series.svg  the same as a chart, events marked (the census trend's picture code)
 *   GET  /api/notices                 notices recorded (recipients and their delivery state, items)
 *   GET  /api/notices/{id}/raw        one message as it was sent, as text/plain (analysts and admins)
 *   POST /api/notices/dry-run         contacts (JSON body, bounded) -> the notices `vigie notify` would send now,
 *                                     composed but neither sent nor recorded (analysts and admins)
 * A constituency-limited user sees only the notified items whose address (or ASN at notice time) is inside it:
 * groups, series and overdue are computed over those only; a notice is listed with its inside items only, its raw
 * message (which names every server of the organisation) only when all its items are inside; a dry run plans only
 * the servers inside.
 */
import { z } from "zod";
import { parseContacts, type ContactBook } from "../../notify/contacts.js";
import { attachmentName } from "../../notify/message.js";
import { fromAddress } from "../../notify/notify.js";
import { noticeKnowledge, prepareNotices, snapshotInfo } from "../../notify/prepare.js";
import { REMEDIATION_BY, overdueRow, remediationReport, remediationSeries, type ItemFilter } from "../../notify/remediation.js";
import { eventsForTrend, filterEvents, loadTimeline } from "../../knowledge/timeline.js";
import type { NoticeItem, NoticeRecord } from "../../store/store.js";
import { ANY_ROLE, principal, type Principal, type Route, type RouteArgs } from "../context.js";
import { HttpError, parseQuery, readJson, sendBytes, sendJson, sendJsonText } from "../http.js";
import { cveParam, resolveSnapshot, snapshotParam } from "./common.js";

/** Largest dry-run request body (the contacts file as text, inside JSON). */
export const DRY_RUN_MAX_BYTES = 1024 * 1024;
/** Messages a dry run returns in full by default (every organisation is listed in `organisations`). */
export const DRY_RUN_DEFAULT_MESSAGES = 100;
export const DRY_RUN_MAX_MESSAGES = 500;

const isoTime = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), "an ISO time like 2021-03-10T09:00:00Z")
  .transform((s) => new Date(Date.parse(s)));

const groupsQuery = z.object({ by: z.enum(REMEDIATION_BY).default("org"), cve: cveParam.optional() }).strict();
const overdueQuery = z
  .object({
    overdueDays: z.coerce.number().int("a whole number of days").min(0).max(100_000).default(14),
    cve: cveParam.optional(),
    at: isoTime.optional(),
  })
  .strict();
const noticesQuery = z.object({ snapshot: snapshotParam.optional(), kind: z.enum(["notice", "reminder"]).optional() }).strict();
const dryRunBody = z
  .object({
    contacts: z.string().min(1, "the contacts file is empty"),
    from: z.string().min(3).max(320),
    snapshot: snapshotParam.optional(),
    cves: z.array(cveParam).max(100).optional(),
    unknown: z.boolean().optional(),
    at: isoTime.optional(),
    /** Only this organisation's message in full. */
    organisation: z.string().min(1).max(200).optional(),
    limit: z.number().int().min(1).max(DRY_RUN_MAX_MESSAGES).optional(),
  })
  .strict();

const scopeKey = (a: RouteArgs): string => principal(a).scope?.id ?? "*";
const charge = (a: RouteArgs): void => a.ctx.fair.charge("computation", principal(a).user.name);

/** The caller's notified items: every one, or those inside their constituency. */
function itemFilter(who: Principal): ItemFilter | undefined {
  const scope = who.scope;
  return scope ? (i) => scope.contains(i.ip, i.asn) : undefined;
}

const insideOf = (who: Principal): ((i: NoticeItem) => boolean) => {
  const scope = who.scope;
  return scope ? (i) => scope.contains(i.ip, i.asn) : () => true;
};

async function seriesJson(a: RouteArgs, by: (typeof REMEDIATION_BY)[number], cve: string | undefined) {
  const who = principal(a);
  const facts = await a.ctx.store.notices.remediationFacts();
  const cves = cve !== undefined ? new Set([cve]) : undefined;
  const series = remediationSeries(facts, by, cves, itemFilter(who));
  const include = itemFilter(who);
  const told = [...new Set(facts.items.filter((i) => (!cves || cves.has(i.cve)) && (!include || include(i))).map((i) => i.cve))].sort();
  const timeline = loadTimeline();
  const events = told.length > 0 ? filterEvents(timeline.events, { cves: told }) : [];
  const sources = Object.fromEntries([...new Set(events.flatMap((e) => e.sources))].map((id) => [id, timeline.sources.get(id) ?? null]));
  return { by, cves: told, snapshots: facts.snapshots.map((s) => ({ id: s.id, date: s.date, kind: s.kind })), series, events, sources };
}

/** What a caller may read of a notice: its items inside their constituency (none: not listed). */
function visibleNotice(n: NoticeRecord, who: Principal): NoticeRecord | undefined {
  const inside = insideOf(who);
  const items = n.items.filter(inside);
  if (items.length === 0) return undefined;
  return { ...n, items };
}

async function dryRun(a: RouteArgs): Promise<void> {
  const who = principal(a);
  const body = await readJson(a.req, dryRunBody, DRY_RUN_MAX_BYTES);
  if (!fromAddress(body.from)) throw new HttpError(400, `from: an e-mail address, optionally as "Name <address>"`);
  let book: ContactBook;
  try {
    book = await parseContacts(body.contacts, "contacts");
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  const badRows = book.bad.slice(0, 200).map((b) => ({ line: b.line, reason: b.reason }));
  if (book.organisations.size === 0) {
    throw new HttpError(400, `contacts: no usable contact row${badRows.length > 0 ? ` (${book.bad.length} skipped; first: line ${badRows[0]!.line}: ${badRows[0]!.reason})` : ""}`);
  }
  const snapshotId = await resolveSnapshot(a.ctx, body.snapshot);
  charge(a);
  const scope = who.scope;
  const at = (body.at ?? new Date()).toISOString();
  const { plan, composed } = await prepareNotices(a.ctx.store, book, noticeKnowledge(a.ctx.explainer.kb), {
    snapshotId,
    from: body.from,
    at,
    unknown: body.unknown === true,
    ...(body.cves && body.cves.length > 0 ? { cves: new Set(body.cves) } : {}),
    ...(scope ? { include: (ip: string, asn: number | null) => scope.contains(ip, asn) } : {}),
  });
  const filename = attachmentName({ snapshot: await snapshotInfo(a.ctx.store, snapshotId), kind: "notice" });
  const shown = (body.organisation !== undefined ? composed.filter((c) => c.notice.organisation === body.organisation) : composed).slice(0, body.limit ?? DRY_RUN_DEFAULT_MESSAGES);
  const servers = (items: readonly NoticeItem[]): number => new Set(items.map((i) => i.ip)).size;
  sendJson(a.res, 200, {
    dryRun: true,
    snapshot: snapshotId,
    at,
    contacts: { organisations: book.organisations.size, rows: book.rows, skipped: book.bad.length, badRows },
    unowned: plan.unowned,
    alreadyNotified: plan.alreadyNotified,
    total: composed.length,
    organisations: composed.map((c) => ({ organisation: c.notice.organisation, recipients: c.notice.recipients, language: c.notice.language, servers: servers(c.notice.items), items: c.notice.items.length })),
    messages: shown.map((c) => ({
      organisation: c.notice.organisation,
      recipients: c.notice.recipients,
      language: c.notice.language,
      subject: c.subject,
      messageId: c.notice.messageId,
      servers: servers(c.notice.items),
      items: c.notice.items,
      text: c.text,
      attachment: { filename, contentType: "text/csv; charset=utf-8", content: c.csv },
    })),
  });
}

export const remediationRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/remediation$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, groupsQuery);
      const who = principal(a);
      const include = itemFilter(who);
      sendJsonText(
        a.res,
        await a.ctx.cache.get(`remediation|${scopeKey(a)}|${q.by}|${q.cve ?? ""}`, async () => {
          charge(a);
          const r = await remediationReport(a.ctx.store.notices, { by: q.by, ...(q.cve ? { cves: new Set([q.cve]) } : {}), ...(include ? { include } : {}) });
          return JSON.stringify({ by: r.by, groups: r.groups });
        }),
      );
    },
  },
  {
    method: "GET",
    path: /^\/api\/remediation\/overdue$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, overdueQuery);
      const include = itemFilter(principal(a));
      charge(a);
      const r = await remediationReport(a.ctx.store.notices, {
        by: "org",
        overdueDays: q.overdueDays,
        at: q.at ?? new Date(),
        ...(q.cve ? { cves: new Set([q.cve]) } : {}),
        ...(include ? { include } : {}),
      });
      const servers = r.overdue.map(overdueRow);
      sendJson(a.res, 200, { overdueDays: q.overdueDays, servers });
    },
  },
  {
    method: "GET",
    path: /^\/api\/remediation\/series$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, groupsQuery);
      sendJsonText(
        a.res,
        await a.ctx.cache.get(`remseries|${scopeKey(a)}|${q.by}|${q.cve ?? ""}`, async () => {
          charge(a);
          return JSON.stringify(await seriesJson(a, q.by, q.cve));
        }),
      );
    },
  },
  {
    method: "GET",
    path: /^\/api\/remediation\/series\.svg$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, groupsQuery);
      const svg = await a.ctx.cache.get(`remseriessvg|${scopeKey(a)}|${q.by}|${q.cve ?? ""}`, async () => {
        charge(a);
        const s = await seriesJson(a, q.by, q.cve);
        const { remediationLineSpec } = await import("../../report/charts.js");
        const { specToSvg } = await import("../../report/render.js");
        const dates = s.snapshots.map((x) => x.date);
        const marks = dates.length > 0 ? eventsForTrend(loadTimeline().events, s.cves, dates[0]!, dates[dates.length - 1]!) : [];
        const top = s.series.slice(0, 8);
        const subtitle = `per ${q.by === "org" ? "organisation" : q.by}${s.series.length > top.length ? ` (the ${top.length} with the most)` : ""}; ${q.cve ?? (s.cves.join(", ") || "no notice yet")}`;
        return specToSvg(remediationLineSpec(top, subtitle, marks));
      });
      sendBytes(a.res, "image/svg+xml; charset=utf-8", svg);
    },
  },
  {
    method: "GET",
    path: /^\/api\/notices$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, noticesQuery);
      if (q.snapshot !== undefined) await resolveSnapshot(a.ctx, q.snapshot);
      const who = principal(a);
      const all = await a.ctx.store.notices.list({ ...(q.snapshot ? { snapshotId: q.snapshot } : {}), ...(q.kind ? { kind: q.kind } : {}) });
      const notices = all.map((n) => visibleNotice(n, who)).filter((n): n is NoticeRecord => n !== undefined);
      sendJson(a.res, 200, { notices: notices.reverse() });
    },
  },
  {
    method: "GET",
    path: /^\/api\/notices\/([0-9a-f-]{36})\/raw$/,
    access: ["admin", "analyst"],
    handler: async (a) => {
      const who = principal(a);
      const id = a.params[0]!;
      if (who.scope) {
        const n = (await a.ctx.store.notices.list()).find((x) => x.id === id);
        if (!n) throw new HttpError(404, "no such notice");
        const inside = insideOf(who);
        if (!n.items.every(inside)) throw new HttpError(403, "this notice names servers outside your constituency");
      }
      const raw = await a.ctx.store.notices.raw(id);
      if (raw === undefined) throw new HttpError(404, "no such notice");
      // text/plain with nosniff (every answer) and a download name: a browser shows it as text, never as HTML.
      a.res.setHeader("Content-Disposition", `inline; filename="vigie-notice-${id}.eml.txt"`);
      sendBytes(a.res, "text/plain; charset=utf-8", raw);
    },
  },
  {
    method: "POST",
    path: /^\/api\/notices\/dry-run$/,
    access: ["admin", "analyst"],
    handler: dryRun,
  },
];

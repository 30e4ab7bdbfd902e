/**
 * The event timeline as data (knowledge/timeline/*.json): dated, sourced events of each Exchange campaign
 * (ProxyLogon, ProxyShell, ProxyNotShell) — reports to Microsoft, exploitation seen, patches, advisories and the
 * national counts as published — each linked to its CVEs. Schema, loading (the I/O edge) and pure queries:
 * filtering, and the window of exposure (days from the first report or the first exploitation seen to the patch).
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { builtinKnowledgeDir, describeZodError, KnowledgeError, readJsonFile } from "./load.js";
import { daysBetween } from "../util/days.js";
import { isoDateSchema, sourceSchema, type Source } from "./schema.js";

export const TIMELINE_EVENT_KINDS = ["report", "exploitation", "disclosure", "patch", "advisory", "count", "other"] as const;

const cveIdSchema = z.string().regex(/^CVE-\d{4}-\d{4,7}$/);

export const timelineEventSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    date: isoDateSchema,
    /** The last day of an event that spans days (e.g. "26–27 Feb mass exploitation"). */
    endDate: isoDateSchema.optional(),
    /** True when the sources give the week or month, not the day. */
    dateApproximate: z.boolean().optional(),
    campaign: z.string().min(1),
    cves: z.array(cveIdSchema).min(1),
    kind: z.enum(TIMELINE_EVENT_KINDS),
    title: z.string().min(1).max(200),
    /** ISO 3166 alpha-2 of the country an event is about (a national alert or count). */
    country: z.string().regex(/^[A-Z]{2}$/).optional(),
    /** A published count: servers exposed, vulnerable or compromised (a range as low/high where one was given). */
    count: z
      .object({
        what: z.enum(["exposed", "vulnerable", "compromised"]),
        value: z.number().int().nonnegative(),
        low: z.number().int().nonnegative().optional(),
        high: z.number().int().nonnegative().optional(),
        /** What was counted: servers (default) or organisations. */
        unit: z.enum(["servers", "organisations"]).optional(),
      })
      .strict()
      .optional(),
    sources: z.array(z.string()).min(1),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.endDate !== undefined && e.endDate < e.date) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "endDate before date" });
    if ((e.kind === "count") !== (e.count !== undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "a count event needs `count`, and only a count event has one" });
    }
  });
export type TimelineEvent = z.infer<typeof timelineEventSchema>;

export const timelineFileSchema = z
  .object({ sources: z.array(sourceSchema).min(1), events: z.array(timelineEventSchema).min(1) })
  .strict()
  .superRefine((f, ctx) => {
    const ids = new Set(f.sources.map((s) => s.id));
    const seen = new Set<string>();
    f.events.forEach((e, i) => {
      if (seen.has(e.id)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["events", i, "id"], message: `duplicate event id ${e.id}` });
      seen.add(e.id);
      e.sources.forEach((s, j) => {
        if (!ids.has(s)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["events", i, "sources", j], message: `unknown source id ${s}` });
      });
    });
  });

export interface Timeline {
  events: TimelineEvent[];
  sources: Map<string, Source>;
}

/** Read and validate every .json file of a timeline folder (default knowledge/timeline). Events come out by date. */
export function loadTimeline(dir = path.join(builtinKnowledgeDir(), "timeline")): Timeline {
  if (!existsSync(dir)) throw new KnowledgeError(`${dir}: no timeline folder`);
  const events: TimelineEvent[] = [];
  const sources = new Map<string, Source>();
  const ids = new Set<string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
    const file = path.join(dir, name);
    const parsed = timelineFileSchema.safeParse(readJsonFile(file));
    if (!parsed.success) throw new KnowledgeError(`${file}: ${describeZodError(parsed.error)}`);
    for (const s of parsed.data.sources) {
      const known = sources.get(s.id);
      if (known && known.url !== s.url) throw new KnowledgeError(`${file}: source ${s.id} is defined twice with different URLs`);
      sources.set(s.id, s);
    }
    for (const e of parsed.data.events) {
      if (ids.has(e.id)) throw new KnowledgeError(`${file}: event ${e.id} is defined in two files`);
      ids.add(e.id);
      events.push(e);
    }
  }
  if (events.length === 0) throw new KnowledgeError(`${dir}: no timeline file`);
  return { events: sortEvents(events), sources };
}

export function sortEvents(events: readonly TimelineEvent[]): TimelineEvent[] {
  return [...events].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface TimelineFilter {
  /** Events linked to any of these CVEs. */
  cves?: readonly string[];
  campaign?: string;
  from?: string;
  to?: string;
}

export function filterEvents(events: readonly TimelineEvent[], f: TimelineFilter): TimelineEvent[] {
  const cves = f.cves && f.cves.length > 0 ? new Set(f.cves) : undefined;
  const campaign = f.campaign?.toLowerCase();
  return events.filter(
    (e) =>
      (cves === undefined || e.cves.some((c) => cves.has(c))) &&
      (campaign === undefined || e.campaign.toLowerCase() === campaign) &&
      (f.from === undefined || (e.endDate ?? e.date) >= f.from) &&
      (f.to === undefined || e.date <= f.to),
  );
}

export interface ExposureWindow {
  campaign: string;
  cves: string[];
  /** First report to the vendor, first exploitation seen, and the first patch (null where the data has none). */
  firstReport: string | null;
  firstExploitation: string | null;
  patch: string | null;
  /** Days from first report to patch; days the flaw was exploited before a patch existed. */
  daysReportToPatch: number | null;
  daysExploitedBeforePatch: number | null;
}

const DAY_MS = 86_400_000;

/** Per campaign: the window of exposure from its events (pure). Campaigns in order of their first event. */
export function exposureWindows(events: readonly TimelineEvent[]): ExposureWindow[] {
  const byCampaign = new Map<string, TimelineEvent[]>();
  for (const e of sortEvents(events)) {
    const list = byCampaign.get(e.campaign) ?? [];
    list.push(e);
    byCampaign.set(e.campaign, list);
  }
  return [...byCampaign].map(([campaign, list]) => {
    const first = (kind: TimelineEvent["kind"]): string | null => list.find((e) => e.kind === kind)?.date ?? null;
    const firstReport = first("report");
    const firstExploitation = first("exploitation");
    const patch = first("patch");
    const exploitedBefore = firstExploitation !== null && patch !== null ? daysBetween(firstExploitation, patch) : null;
    return {
      campaign,
      cves: [...new Set(list.flatMap((e) => e.cves))].sort(),
      firstReport,
      firstExploitation,
      patch,
      daysReportToPatch: firstReport !== null && patch !== null ? daysBetween(firstReport, patch) : null,
      daysExploitedBeforePatch: exploitedBefore !== null && exploitedBefore > 0 ? exploitedBefore : exploitedBefore === null ? null : 0,
    };
  });
}

/** The patch release date of one CVE: the first `patch` event that names it (null when the timeline has none). */
export function patchDateOf(events: readonly TimelineEvent[], cve: string): string | null {
  return sortEvents(events).find((e) => e.kind === "patch" && e.cves.includes(cve))?.date ?? null;
}

/**
 * Events to mark on a trend over [from, to] (snapshot dates): those of the CVEs shown (all when none), from a
 * week before the first snapshot to the last, counts excluded (they are numbers, not moments of the campaign).
 */
export function eventsForTrend(events: readonly TimelineEvent[], cves: readonly string[], from: string, to: string): Array<{ date: string; label: string }> {
  const start = new Date(Date.parse(`${from}T00:00:00Z`) - 7 * DAY_MS).toISOString().slice(0, 10);
  return filterEvents(events, { cves, from: start, to })
    .filter((e) => e.kind !== "count")
    .map((e) => ({ date: e.date < start ? start : e.date, label: `${e.date.slice(5)} ${e.title}` }));
}

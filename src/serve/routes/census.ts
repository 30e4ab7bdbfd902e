/**
 * Census, diff, trend (the JSON of `vigie census --json`, `census diff --json`, `census trend --json`) and the
 * same pictures as `vigie census map` / `trend --chart`, as SVG. A limited user's answers cover only hosts in
 * their constituency. Answers are cached until the store changes; computing one that is not cached is charged to
 * the caller's budget (src/serve/fairShare.ts).
 */
import { z } from "zod";
import { CENSUS_BY, headlineCve, type Census } from "../../census/census.js";
import { CONFIDENCES } from "../../pipeline/vocabulary.js";
import { ANY_ROLE, principal, type Route, type RouteArgs } from "../context.js";
import { parseQuery, sendBytes, sendJsonText } from "../http.js";
import { eventsForTrend, loadTimeline } from "../../knowledge/timeline.js";
import { censusJson, diffJson, trendJson } from "../query.js";
import { countryParam, cveParam, resolveSnapshot, snapshotParam } from "./common.js";

const censusQuery = z
  .object({
    by: z.enum(CENSUS_BY).default("country"),
    snapshot: snapshotParam.optional(),
    country: countryParam.optional(),
    cve: cveParam.optional(),
    min_confidence: z.enum(CONFIDENCES).optional(),
  })
  .strict();
const diffQuery = z
  .object({ from: snapshotParam, to: snapshotParam, by: z.enum(CENSUS_BY).default("country"), country: countryParam.optional(), cve: cveParam.optional() })
  .strict();
const trendQuery = z.object({ country: countryParam.optional(), cve: cveParam.optional() }).strict();
const mapQuery = z.object({ snapshot: snapshotParam.optional(), cve: cveParam.optional() }).strict();

const scopeKey = (a: RouteArgs): string => principal(a).scope?.id ?? "*";

/** An answer not in the cache costs the caller one unit of their computation budget (429 when spent). */
const charge = (a: RouteArgs): void => a.ctx.fair.charge("computation", principal(a).user.name);

/** The charting libraries weigh ~100 MB: loaded on the first picture only. */
const pictures = async () => ({ ...(await import("../../report/charts.js")), ...(await import("../../report/render.js")) });

export const censusRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/census$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, censusQuery);
      const snapshot = await resolveSnapshot(a.ctx, q.snapshot);
      const key = `census|${scopeKey(a)}|${snapshot}|${q.by}|${q.country ?? ""}|${q.cve ?? ""}|${q.min_confidence ?? ""}`;
      sendJsonText(
        a.res,
        await a.ctx.cache.get(key, async () => {
          charge(a);
          return JSON.stringify(await censusJson(a.ctx.store, a.ctx.explainer.kb, principal(a).scope, snapshot, q.by, q.country, q.cve, q.min_confidence));
        }),
      );
    },
  },
  {
    method: "GET",
    path: /^\/api\/census\/diff$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, diffQuery);
      await resolveSnapshot(a.ctx, q.from);
      await resolveSnapshot(a.ctx, q.to);
      const key = `diff|${scopeKey(a)}|${q.from}|${q.to}|${q.by}|${q.country ?? ""}|${q.cve ?? ""}`;
      sendJsonText(
        a.res,
        await a.ctx.cache.get(key, async () => {
          charge(a);
          return JSON.stringify(await diffJson(a.ctx.store, principal(a).scope, q.from, q.to, q.by, q.country, q.cve));
        }),
      );
    },
  },
  {
    method: "GET",
    path: /^\/api\/census\/trend$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, trendQuery);
      const snapshots = await a.ctx.store.listSnapshots();
      const key = `trend|${scopeKey(a)}|${q.country ?? ""}|${q.cve ?? ""}`;
      sendJsonText(
        a.res,
        await a.ctx.cache.get(key, async () => {
          charge(a);
          return JSON.stringify(await trendJson(a.ctx.store, principal(a).scope, snapshots, q.country, q.cve));
        }),
      );
    },
  },
  {
    method: "GET",
    path: /^\/api\/census\/map\.svg$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, mapQuery);
      const snapshot = await resolveSnapshot(a.ctx, q.snapshot);
      const svg = await a.ctx.cache.get(`map|${scopeKey(a)}|${snapshot}|${q.cve ?? ""}`, async () => {
        charge(a);
        const all = (await censusJson(a.ctx.store, a.ctx.explainer.kb, principal(a).scope, snapshot, "country")) as Census;
        const cve = q.cve ?? headlineCve(all) ?? "none";
        const per = all.groups.map((g) => ({ country: g.key, vulnerable: g.cves[cve]?.vulnerable ?? 0 }));
        const total = per.reduce((s, r) => s + r.vulnerable, 0);
        const unplaced = per.find((r) => r.country === "unknown")?.vulnerable ?? 0;
        const { specToSvg, worldMapSpec } = await pictures();
        return specToSvg(
          worldMapSpec(per, `Exchange servers vulnerable to ${cve}, per country`, `snapshot ${snapshot}: ${total} vulnerable${unplaced ? ` (${unplaced} with no known country, not on the map)` : ""}`),
        );
      });
      sendBytes(a.res, "image/svg+xml; charset=utf-8", svg);
    },
  },
  {
    method: "GET",
    path: /^\/api\/census\/trend\.svg$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const q = parseQuery(a.url, trendQuery);
      const snapshots = await a.ctx.store.listSnapshots();
      const svg = await a.ctx.cache.get(`trendsvg|${scopeKey(a)}|${q.country ?? ""}|${q.cve ?? ""}`, async () => {
        charge(a);
        const t = await trendJson(a.ctx.store, principal(a).scope, snapshots, q.country, q.cve);
        const last = t.points[t.points.length - 1];
        const cves = q.cve !== undefined ? [q.cve] : Object.entries(last?.cves ?? {}).sort((x, y) => y[1].vulnerable - x[1].vulnerable).slice(0, 4).map(([id]) => id);
        const { specToSvg, trendLineSpec } = await pictures();
        const marks = last ? eventsForTrend(loadTimeline().events, cves, t.points[0]!.date, last.date) : [];
        return specToSvg(trendLineSpec(t, cves, marks));
      });
      sendBytes(a.res, "image/svg+xml; charset=utf-8", svg);
    },
  },
];

/** Vega-Lite specs for census pictures: stacked bars per group, lines over snapshots, a world choropleth. */
import { createRequire } from "node:module";
import countries from "i18n-iso-countries";
import type { TopLevelSpec } from "vega-lite";
import type { Census } from "../census/census.js";
import type { Trend } from "../census/trend.js";
import { FONT } from "./render.js";

const require = createRequire(import.meta.url);
const STATUS_COLORS = { domain: ["vulnerable", "unknown", "patched"], range: ["#c0392b", "#b0b0b0", "#2e8b57"] };
const config = { font: FONT, view: { stroke: null }, title: { fontSize: 15, anchor: "start" as const } };

export function censusBarSpec(c: Census, cve: string, top = 25): TopLevelSpec {
  const groups = c.groups.slice(0, top);
  const values = groups.flatMap((g) => {
    const v = g.cves[cve] ?? { vulnerable: 0, patched: 0, unknown: 0 };
    return (["vulnerable", "unknown", "patched"] as const).map((status, order) => ({ group: g.key, status, order, servers: v[status], exposed: g.exposed }));
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `Exchange servers by ${c.by}: ${cve}`, subtitle: `snapshot ${c.snapshot}; ${groups.length} of ${c.groups.length} groups` },
    width: 640,
    height: { step: 22 },
    data: { values },
    mark: { type: "bar" },
    encoding: {
      y: { field: "group", type: "nominal", sort: groups.map((g) => g.key), title: null },
      x: { field: "servers", type: "quantitative", stack: "zero", title: "servers" },
      color: { field: "status", type: "nominal", scale: STATUS_COLORS, title: "status" },
      order: { field: "order", type: "quantitative" },
    },
    config,
  } as TopLevelSpec;
}

/** An event to mark on a trend chart: a dated vertical rule with a short label. */
export interface ChartEvent {
  date: string;
  label: string;
}

/** Dashed rules with labels for the events of a campaign's timeline, over a temporal x axis. */
function eventLayers(events: readonly ChartEvent[]): object[] {
  // Labels alternate between rows so that events a few days apart stay readable.
  const marks = events.map((e, i) => ({ date: e.date, label: e.label.length > 48 ? `${e.label.slice(0, 47)}…` : e.label, row: i % 4 }));
  if (marks.length === 0) return [];
  return [
    { data: { values: marks }, mark: { type: "rule", color: "#555", strokeDash: [4, 3], strokeWidth: 1 }, encoding: { x: { field: "date", type: "temporal" } } },
    {
      data: { values: marks },
      mark: { type: "text", align: "left", baseline: "top", dx: 3, fontSize: 9, color: "#333", angle: 0 },
      encoding: {
        x: { field: "date", type: "temporal" },
        y: { field: "row", type: "quantitative", scale: { domain: [0, 12], reverse: true }, axis: null },
        text: { field: "label" },
      },
    },
  ];
}

/** Still-vulnerable notified servers per snapshot, one line per group (organisation, country or ASN), with the events. */
export function remediationLineSpec(series: ReadonlyArray<{ key: string; points: ReadonlyArray<{ date: string; stillVulnerable: number }> }>, subtitle: string, events: readonly ChartEvent[] = []): TopLevelSpec {
  const values = series.flatMap((g) => g.points.map((p) => ({ date: p.date, series: g.key.length > 60 ? `${g.key.slice(0, 59)}…` : g.key, servers: p.stillVulnerable })));
  const lines = {
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "date", type: "temporal", title: "snapshot date", axis: { format: "%Y-%m-%d", labelAngle: -30 } },
      y: { field: "servers", type: "quantitative", title: "notified servers still vulnerable", axis: { tickMinStep: 1, format: "d" } },
      color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 360 } },
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Notified Exchange servers still vulnerable", subtitle: events.length > 0 ? `${subtitle}; dashed lines: events of the campaign's timeline` : subtitle },
    width: 640,
    height: 320,
    layer: [lines, ...eventLayers(events)],
    resolve: { scale: { y: "independent" } },
    config,
  } as TopLevelSpec;
}

export function trendLineSpec(t: Trend, cves: string[], events: readonly ChartEvent[] = []): TopLevelSpec {
  const values = t.points.flatMap((p) => [
    { date: p.date, series: "exposed", servers: p.exposed },
    ...cves.map((id) => ({ date: p.date, series: `${id} vulnerable`, servers: p.cves[id]?.vulnerable ?? 0 })),
  ]);
  const scope = [t.country ? `country ${t.country}` : "all countries", `${t.points.length} snapshots`].join("; ");
  const x = { field: "date", type: "temporal", title: "snapshot date", axis: { format: "%Y-%m-%d", labelAngle: -30 } };
  const lines = {
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x,
      y: { field: "servers", type: "quantitative", title: "servers" },
      color: { field: "series", type: "nominal", title: null, legend: { labelLimit: 360 } },
    },
  };
  const layers: object[] = [lines, ...eventLayers(events)];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Exchange servers exposed and vulnerable over time", subtitle: events.length > 0 ? `${scope}; dashed lines: events of the campaign's timeline` : scope },
    width: 640,
    height: 320,
    layer: layers,
    resolve: { scale: { y: "independent" } },
    config,
  } as TopLevelSpec;
}

/** ISO 3166 alpha-2 -> numeric id as world-atlas keys its countries ("250" for FR). */
export function numericCountry(alpha2: string): string | undefined {
  return countries.alpha2ToNumeric(alpha2) ?? undefined;
}

export function worldMapSpec(perCountry: ReadonlyArray<{ country: string; vulnerable: number }>, title: string, subtitle: string): TopLevelSpec {
  const topo = require("world-atlas/countries-110m.json") as object;
  const values = perCountry
    .filter((r) => r.vulnerable > 0)
    .map((r) => ({ id: numericCountry(r.country), country: r.country, vulnerable: r.vulnerable }))
    .filter((r) => r.id !== undefined);
  const shapes = { values: topo, format: { type: "topojson", feature: "countries" } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle },
    width: 900,
    height: 460,
    projection: { type: "equalEarth" },
    layer: [
      { data: shapes, mark: { type: "geoshape", fill: "#e8e8e8", stroke: "white", strokeWidth: 0.5 } },
      {
        data: shapes,
        transform: [
          { lookup: "id", from: { data: { values }, key: "id", fields: ["vulnerable", "country"] } },
          { filter: "isValid(datum.vulnerable) && datum.vulnerable > 0" },
        ],
        mark: { type: "geoshape", stroke: "white", strokeWidth: 0.5 },
        encoding: {
          color: {
            field: "vulnerable",
            type: "quantitative",
            scale: { type: "log", scheme: "reds" },
            legend: { title: "vulnerable servers", orient: "bottom-left", gradientLength: 220 },
          },
        },
      },
    ],
    config,
  } as TopLevelSpec;
}

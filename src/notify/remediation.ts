/**
 * Remediation tracking, pure: per notified (organisation, server, CVE) — the server matched by IP across
 * snapshots, as in the census diff — the notice time (the first notice), and in the newest snapshot covering
 * the server one of:
 *   remediated       the CVE is patched, or the server now runs a product it does not affect (an upgrade);
 *   stillVulnerable  still vulnerable;
 *   unknown          Exchange, but the version seen does not tell (or the CVE was not judged);
 *   gone             not seen, or no longer Exchange.
 * A snapshot covers a server when it recorded something at its address, when it is a scan that finished that
 * target, or when it is an import (internet-wide data: a server missing from it was not seen). Snapshots
 * older than the notice's own are not looked at. Days to fix: from the notice day to the date of the first
 * later snapshot showing it remediated, counted for servers remediated in the newest snapshot.
 */
import { parseStatusKey } from "../census/census.js";
import { median as sortedMedian, percentile } from "../census/timeToFix.js";
import { daysBetween } from "../util/days.js";
import type { NotifiedItem, RemediationFacts, Snapshot } from "../store/store.js";

export const REMEDIATION_BY = ["org", "country", "asn"] as const;
export type RemediationBy = (typeof REMEDIATION_BY)[number];
export type RemediationState = "remediated" | "stillVulnerable" | "unknown" | "gone";

export interface TrackedItem {
  organisation: string;
  ip: string;
  port: number;
  hostname: string | null;
  cve: string;
  country: string | null;
  asn: number | null;
  /** The first notice about it. */
  notifiedAt: string;
  noticeSnapshot: string;
  state: RemediationState;
  /** The newest snapshot covering the server (the one the state is read from). */
  stateSnapshot: string;
  stateDate: string;
  fixedDate: string | null;
  daysToFix: number | null;
  /** Whole days from the notice to `at`. */
  daysSinceNotice: number;
}

export interface RemediationGroup {
  key: string;
  notified: number;
  remediated: number;
  stillVulnerable: number;
  unknown: number;
  gone: number;
  medianDaysToFix: number | null;
  p90DaysToFix: number | null;
}


/** The first notice per (organisation, ip, cve), among the items asked for. */
function firstNotices(items: readonly NotifiedItem[], cves?: ReadonlySet<string>, include?: ItemFilter): Map<string, NotifiedItem> {
  const first = new Map<string, NotifiedItem>();
  for (const i of items) {
    if (cves && !cves.has(i.cve)) continue;
    if (include && !include(i)) continue;
    const k = `${i.organisation}\u0000${i.ip}\u0000${i.cve}`;
    const prev = first.get(k);
    if (!prev || i.notifiedAt < prev.notifiedAt) first.set(k, i);
  }
  return first;
}

/** Per address, per snapshot: the Exchange status key, or null (covered, no Exchange server there). */
function seenByAddress(facts: RemediationFacts): Map<string, Map<string, string | null>> {
  const seen = new Map<string, Map<string, string | null>>();
  for (const r of facts.seen) {
    let m = seen.get(r.ip);
    if (!m) seen.set(r.ip, (m = new Map()));
    // An Exchange record wins over a "covered, nothing there" row of the same snapshot.
    if (!m.has(r.snapshotId) || r.statusKey !== null) m.set(r.snapshotId, r.statusKey);
  }
  return seen;
}

function stateOf(key: string | null | undefined, cve: string): RemediationState {
  if (key === null || key === undefined) return "gone";
  const status = parseStatusKey(key).find(([id]) => id === cve)?.[1];
  if (status === "patched" || status === "not_affected") return "remediated";
  if (status === "vulnerable") return "stillVulnerable";
  return "unknown";
}

/** Which notified items a caller may see (a constituency); all when undefined. */
export type ItemFilter = (item: NotifiedItem) => boolean;

export function trackItems(facts: RemediationFacts, at: Date, cves?: ReadonlySet<string>, include?: ItemFilter): TrackedItem[] {
  const order = new Map<string, number>();
  const snaps: Snapshot[] = facts.snapshots;
  snaps.forEach((s, i) => order.set(s.id, i));
  const seen = seenByAddress(facts);
  const first = firstNotices(facts.items, cves, include);
  const atDay = at.toISOString();
  const out: TrackedItem[] = [];
  for (const i of first.values()) {
    const from = order.get(i.snapshotId) ?? 0;
    const m = seen.get(i.ip) ?? new Map<string, string | null>();
    let state: RemediationState = "unknown";
    let stateSnapshot = i.snapshotId;
    let stateDate = snaps[from]?.date ?? i.notifiedAt.slice(0, 10);
    let fixedDate: string | null = null;
    for (let k = from; k < snaps.length; k++) {
      const s = snaps[k]!;
      const covered = m.has(s.id) || s.kind === "import";
      if (!covered) continue;
      state = stateOf(m.get(s.id), i.cve);
      stateSnapshot = s.id;
      stateDate = s.date;
      if (k > from && state === "remediated" && fixedDate === null) fixedDate = s.date;
    }
    const daysToFix = state === "remediated" && fixedDate !== null ? Math.max(0, daysBetween(i.notifiedAt, fixedDate)) : null;
    out.push({
      organisation: i.organisation,
      ip: i.ip,
      port: i.port,
      hostname: i.hostname,
      cve: i.cve,
      country: i.country,
      asn: i.asn,
      notifiedAt: i.notifiedAt,
      noticeSnapshot: i.snapshotId,
      state,
      stateSnapshot,
      stateDate,
      fixedDate: state === "remediated" ? fixedDate : null,
      daysToFix,
      daysSinceNotice: Math.max(0, daysBetween(i.notifiedAt, atDay)),
    });
  }
  return out;
}

/** Median (mean of the two middle values for an even count) and 90th percentile (nearest rank), of unsorted values. */
export function median(values: readonly number[]): number | null {
  return sortedMedian([...values].sort((a, b) => a - b));
}

export function p90(values: readonly number[]): number | null {
  return percentile([...values].sort((a, b) => a - b), 0.9);
}

const groupKey = (i: Pick<TrackedItem, "organisation" | "country" | "asn">, by: RemediationBy): string =>
  by === "org" ? i.organisation : by === "country" ? (i.country ?? "unknown") : i.asn !== null ? `AS${i.asn}` : "unknown";

export function remediationGroups(items: readonly TrackedItem[], by: RemediationBy): RemediationGroup[] {
  const groups = new Map<string, { g: RemediationGroup; days: number[] }>();
  for (const i of items) {
    const key = groupKey(i, by);
    let e = groups.get(key);
    if (!e) groups.set(key, (e = { g: { key, notified: 0, remediated: 0, stillVulnerable: 0, unknown: 0, gone: 0, medianDaysToFix: null, p90DaysToFix: null }, days: [] }));
    e.g.notified++;
    e.g[i.state]++;
    if (i.daysToFix !== null) e.days.push(i.daysToFix);
  }
  return [...groups.values()]
    .map(({ g, days }) => ({ ...g, medianDaysToFix: median(days), p90DaysToFix: p90(days) }))
    .sort((a, b) => b.notified - a.notified || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Still vulnerable `days` or more after the notice: the escalation list, longest waiting first. */
export function overdueItems(items: readonly TrackedItem[], days: number): TrackedItem[] {
  return items
    .filter((i) => i.state === "stillVulnerable" && i.daysSinceNotice >= days)
    .sort((a, b) => b.daysSinceNotice - a.daysSinceNotice || (a.organisation < b.organisation ? -1 : a.organisation > b.organisation ? 1 : 0) || (a.ip < b.ip ? -1 : 1));
}

/** One server of the escalation list as `vigie remediation --overdue N --json` and the API print it. */
export function overdueRow(i: TrackedItem) {
  return {
    organisation: i.organisation,
    ip: i.ip,
    port: i.port,
    hostname: i.hostname,
    cve: i.cve,
    country: i.country,
    asn: i.asn,
    notifiedAt: i.notifiedAt,
    daysSinceNotice: i.daysSinceNotice,
    snapshot: i.stateSnapshot,
    snapshotDate: i.stateDate,
  };
}

export interface RemediationReport {
  by: RemediationBy;
  groups: RemediationGroup[];
  overdue: TrackedItem[];
  items: TrackedItem[];
}

/** What `vigie remediation` and a dashboard page show, from any Store. */
export async function remediationReport(
  store: { remediationFacts(): Promise<RemediationFacts> },
  o: { by: RemediationBy; cves?: ReadonlySet<string>; overdueDays?: number; at?: Date; include?: ItemFilter },
): Promise<RemediationReport> {
  const items = trackItems(await store.remediationFacts(), o.at ?? new Date(), o.cves, o.include);
  return { by: o.by, groups: remediationGroups(items, o.by), overdue: overdueItems(items, o.overdueDays ?? 0), items };
}

export interface SeriesPoint {
  snapshot: string;
  date: string;
  /** Servers notified in this snapshot's notices or earlier ones. */
  notified: number;
  /** Of those, servers with at least one notified CVE still vulnerable here. */
  stillVulnerable: number;
}

export interface RemediationSeries {
  key: string;
  points: SeriesPoint[];
}

/**
 * Still-vulnerable servers over time, per group: for every snapshot, the notified servers (one per organisation
 * and address) whose notice came from that snapshot or an earlier one, and how many of them still have a
 * notified CVE vulnerable there. A snapshot that does not cover a server (a scan that did not reach it) carries
 * its previous state forward; an import covers every server (a server missing from it is gone, not vulnerable).
 */
export function remediationSeries(facts: RemediationFacts, by: RemediationBy, cves?: ReadonlySet<string>, include?: ItemFilter): RemediationSeries[] {
  const snaps = facts.snapshots;
  const order = new Map<string, number>();
  snaps.forEach((s, i) => order.set(s.id, i));
  const seen = seenByAddress(facts);
  /** Per server (organisation + address): its group, the first snapshot it was told about, its notified CVEs. */
  const servers = new Map<string, { key: string; ip: string; from: number; cves: Set<string> }>();
  for (const i of firstNotices(facts.items, cves, include).values()) {
    const k = `${i.organisation}\u0000${i.ip}`;
    const from = order.get(i.snapshotId) ?? 0;
    let s = servers.get(k);
    if (!s) servers.set(k, (s = { key: groupKey(i, by), ip: i.ip, from, cves: new Set() }));
    s.from = Math.min(s.from, from);
    s.cves.add(i.cve);
  }
  const groups = new Map<string, SeriesPoint[]>();
  for (const s of servers.values()) {
    let points = groups.get(s.key);
    if (!points) groups.set(s.key, (points = snaps.map((x) => ({ snapshot: x.id, date: x.date, notified: 0, stillVulnerable: 0 }))));
    const m = seen.get(s.ip) ?? new Map<string, string | null>();
    let vulnerable = true; // it was notified because it was vulnerable in its notice's snapshot
    for (let k = s.from; k < snaps.length; k++) {
      const snap = snaps[k]!;
      if (m.has(snap.id) || snap.kind === "import") vulnerable = [...s.cves].some((cve) => stateOf(m.get(snap.id), cve) === "stillVulnerable");
      points[k]!.notified++;
      if (vulnerable) points[k]!.stillVulnerable++;
    }
  }
  return [...groups.entries()]
    .map(([key, points]) => ({ key, points }))
    .sort((a, b) => {
      const last = (x: RemediationSeries): number => x.points[x.points.length - 1]?.stillVulnerable ?? 0;
      return last(b) - last(a) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    });
}

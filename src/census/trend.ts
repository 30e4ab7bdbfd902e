/** Census trend, pure: one point per snapshot (date order) with exposed servers and per-CVE counts. */
import { buildCensus, totalOf, type CountRow, type CveCounts } from "./census.js";

export interface TrendPoint {
  snapshot: string;
  date: string;
  exposed: number;
  cves: Record<string, CveCounts>;
}

export interface Trend {
  cve: string | null;
  country: string | null;
  points: TrendPoint[];
}

export function trendPoint(snapshot: string, date: string, rows: readonly CountRow[], cve?: string): TrendPoint {
  const total = totalOf(buildCensus(snapshot, "country", rows, cve));
  // A snapshot with no Exchange server still has a point, with zero counts for the asked CVE.
  const cves = cve !== undefined && total.cves[cve] === undefined ? { [cve]: { vulnerable: 0, patched: 0, unknown: 0 } } : total.cves;
  return { snapshot, date, exposed: total.exposed, cves };
}

/**
 * Time to fix after a patch release, pure: from the per-snapshot status of each server for one CVE, per group
 * (country, ASN) the days from the patch's release to the first snapshot showing each server fixed.
 *
 * Only servers seen vulnerable in some snapshot are measured: a server first seen already patched says nothing
 * about when it was fixed (it is counted as `patchedWhenFirstSeen`). A server vulnerable in its newest snapshot is
 * `stillVulnerable` (censored: not in the medians); one absent from the newest snapshot is `gone`. A server fixed before the patch was released cannot be: a
 * fix seen on a snapshot dated before the release counts as 0 days.
 */
import { daysBetween } from "../util/days.js";

export type FixStatus = "vulnerable" | "fixed" | "unknown";

export interface ServerSighting {
  /** Snapshot date YYYY-MM-DD; sightings must come in date order (oldest snapshot first). */
  date: string;
  /** The server: "ip|port". */
  server: string;
  /** Group key (country code, ASN) as enriched in that snapshot. */
  group: string;
  status: FixStatus;
}

export interface TimeToFixGroup {
  key: string;
  /** Servers seen vulnerable at least once. */
  seenVulnerable: number;
  fixed: number;
  stillVulnerable: number;
  /** Seen vulnerable, never seen fixed, and unknown (build no longer readable) in its newest sighting. */
  unknown: number;
  /** Seen vulnerable, never seen fixed, and absent from the newest snapshot. */
  gone: number;
  patchedWhenFirstSeen: number;
  medianDaysToFix: number | null;
  p90DaysToFix: number | null;
}

export interface TimeToFix {
  cve: string;
  patchReleased: string;
  by: string;
  groups: TimeToFixGroup[];
}

interface ServerState {
  group: string;
  firstStatus: FixStatus;
  vulnerableSeen: boolean;
  fixedOn: string | null;
  last: FixStatus;
  lastSeen: string;
}

/** Nearest-rank percentile of sorted values (p in 0..1); null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Median: the mean of the two middle values for an even count. */
export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export class TimeToFixCounter {
  private readonly servers = new Map<string, ServerState>();
  private lastDate = "";

  constructor(
    readonly cve: string,
    readonly patchReleased: string,
  ) {}

  add(s: ServerSighting): void {
    if (s.date < this.lastDate) throw new Error(`sightings out of date order: ${s.date} after ${this.lastDate}`);
    this.lastDate = s.date;
    const st = this.servers.get(s.server);
    if (!st) {
      this.servers.set(s.server, { group: s.group, firstStatus: s.status, vulnerableSeen: s.status === "vulnerable", fixedOn: null, last: s.status, lastSeen: s.date });
      return;
    }
    st.group = s.group;
    st.last = s.status;
    st.lastSeen = s.date;
    if (s.status === "vulnerable") {
      st.vulnerableSeen = true;
      // Vulnerable again after a fix (a restore from backup, a rollback): the fix did not hold.
      st.fixedOn = null;
    } else if (s.status === "fixed" && st.vulnerableSeen && st.fixedOn === null) {
      st.fixedOn = s.date;
    }
  }

  result(by: string): TimeToFix {
    const groups = new Map<string, { g: TimeToFixGroup; days: number[] }>();
    for (const st of this.servers.values()) {
      let entry = groups.get(st.group);
      if (!entry) {
        entry = {
          g: { key: st.group, seenVulnerable: 0, fixed: 0, stillVulnerable: 0, unknown: 0, gone: 0, patchedWhenFirstSeen: 0, medianDaysToFix: null, p90DaysToFix: null },
          days: [],
        };
        groups.set(st.group, entry);
      }
      const { g, days } = entry;
      if (!st.vulnerableSeen) {
        if (st.firstStatus === "fixed") g.patchedWhenFirstSeen++;
        continue;
      }
      g.seenVulnerable++;
      if (st.fixedOn !== null) {
        g.fixed++;
        days.push(Math.max(0, daysBetween(this.patchReleased, st.fixedOn)));
      } else if (st.lastSeen < this.lastDate) g.gone++;
      else if (st.last === "vulnerable") g.stillVulnerable++;
      else g.unknown++;
    }
    const out = [...groups.values()].map(({ g, days }) => {
      days.sort((a, b) => a - b);
      return { ...g, medianDaysToFix: median(days), p90DaysToFix: percentile(days, 0.9) };
    });
    out.sort((a, b) => b.seenVulnerable - a.seenVulnerable || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { cve: this.cve, patchReleased: this.patchReleased, by, groups: out };
  }
}

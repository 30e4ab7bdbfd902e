/**
 * Census diff, pure: servers matched by IP between two snapshots. Per group (the group of the later snapshot;
 * of the earlier one for servers that disappeared): appeared, disappeared, and per CVE newly patched
 * (vulnerable before, patched now) and newly vulnerable (vulnerable now, not vulnerable before: patched,
 * unknown or not affected — e.g. a CVE added to the knowledge base). Servers that appeared are counted as
 * appeared only.
 */
import { groupLabel, parseStatusKey, type CensusBy, type CountRow } from "./census.js";

export interface DiffCves {
  newlyPatched: number;
  newlyVulnerable: number;
}

export interface DiffGroup {
  key: string;
  before: number;
  after: number;
  appeared: number;
  disappeared: number;
  cves: Record<string, DiffCves>;
}

export interface CensusDiff {
  from: string;
  to: string;
  by: CensusBy;
  groups: DiffGroup[];
}

export interface PairRow {
  group: string | number | null;
  before: string;
  after: string;
  n: number;
}

export function buildDiff(
  from: string,
  to: string,
  by: CensusBy,
  rows: { both: readonly PairRow[]; appeared: readonly CountRow[]; disappeared: readonly CountRow[] },
  onlyCve?: string,
): CensusDiff {
  const ids = new Set<string>();
  for (const r of rows.both) for (const [id] of [...parseStatusKey(r.before), ...parseStatusKey(r.after)]) ids.add(id);
  for (const r of [...rows.appeared, ...rows.disappeared]) for (const [id] of parseStatusKey(r.key)) ids.add(id);
  const cveIds = onlyCve !== undefined ? [onlyCve] : [...ids].sort();
  const groups = new Map<string, DiffGroup>();
  const get = (raw: string | number | null, cve?: string): DiffGroup => {
    const key = by === "cve" ? cve! : groupLabel(by, raw);
    let g = groups.get(key);
    if (!g) {
      const list = by === "cve" ? [cve!] : cveIds;
      g = { key, before: 0, after: 0, appeared: 0, disappeared: 0, cves: Object.fromEntries(list.map((id) => [id, { newlyPatched: 0, newlyVulnerable: 0 }])) };
      groups.set(key, g);
    }
    return g;
  };
  const targets = (raw: string | number | null): DiffGroup[] => (by === "cve" ? cveIds.map((id) => get(null, id)) : [get(raw)]);
  for (const r of rows.both) {
    const before = new Map(parseStatusKey(r.before));
    for (const g of targets(r.group)) {
      g.before += r.n;
      g.after += r.n;
      for (const [id, status] of parseStatusKey(r.after)) {
        const c = g.cves[id];
        if (!c) continue;
        const was = before.get(id);
        if (was === "vulnerable" && status === "patched") c.newlyPatched += r.n;
        if (status === "vulnerable" && was !== "vulnerable") c.newlyVulnerable += r.n;
      }
    }
  }
  for (const r of rows.appeared) {
    for (const g of targets(r.group)) {
      g.appeared += r.n;
      g.after += r.n;
    }
  }
  for (const r of rows.disappeared) {
    for (const g of targets(r.group)) {
      g.disappeared += r.n;
      g.before += r.n;
    }
  }
  const list = [...groups.values()].sort((a, b) => b.after - a.after || b.before - a.before || (a.key < b.key ? -1 : 1));
  return { from, to, by, groups: list };
}

/**
 * Census maths, pure: from counts of servers per (group, per-CVE status key) to groups with exposed servers
 * and per CVE vulnerable / patched / unknown. A server whose product a CVE does not affect (not_affected) is
 * left out of that CVE's three counts, so vulnerable + patched + unknown can be less than exposed.
 */
export const CENSUS_BY = ["country", "asn", "product", "cu", "cve"] as const;
export type CensusBy = (typeof CENSUS_BY)[number];

export interface CveCounts {
  vulnerable: number;
  patched: number;
  unknown: number;
}

/**
 * Servers of a group by the verdict of the newest triage report attached to their IP: compromised, suspicious,
 * clean (no indicators). Servers without a report, or whose report examined nothing, are in none of the three.
 */
export interface TriageCounts {
  compromised: number;
  suspicious: number;
  clean: number;
}

/**
 * The group's servers by how surely they were identified as Exchange (src/identify/fingerprint.ts): high, medium,
 * low (e.g. a single answer: the OWA logon page only). They add up to exposed.
 */
export interface ConfidenceCounts {
  high: number;
  medium: number;
  low: number;
}

/**
 * Servers of a group by Microsoft support of their product on the snapshot's date (knowledge/lifecycle.json):
 * out of support, supported, or unknown (product not told, or no lifecycle data). The three add up to exposed.
 */
export interface EndOfSupportCounts {
  outOfSupport: number;
  supported: number;
  unknown: number;
}

export interface CensusGroup {
  key: string;
  exposed: number;
  cves: Record<string, CveCounts>;
  triage: TriageCounts;
  confidence: ConfidenceCounts;
  /** Set by withEndOfSupport (every census the CLI and the API answer carries it). */
  endOfSupport?: EndOfSupportCounts;
}

export interface Census {
  snapshot: string;
  by: CensusBy;
  groups: CensusGroup[];
}

/** One row of the store's GROUP BY: servers of one group with one status key. */
export interface CountRow {
  group: string | number | null;
  key: string;
  n: number;
}

export const UNKNOWN_GROUP = "unknown";

const keyCache = new Map<string, ReadonlyArray<readonly [string, string]>>();

/** "CVE-A=vulnerable;CVE-B=patched" -> [["CVE-A","vulnerable"],["CVE-B","patched"]] (memoised: few distinct keys). */
export function parseStatusKey(key: string): ReadonlyArray<readonly [string, string]> {
  let hit = keyCache.get(key);
  if (hit) return hit;
  hit = key === "" ? [] : key.split(";").map((p) => {
    const i = p.lastIndexOf("=");
    return [p.slice(0, i), p.slice(i + 1)] as const;
  });
  if (keyCache.size < 100_000) keyCache.set(key, hit);
  return hit;
}

export function groupLabel(by: CensusBy, raw: string | number | null): string {
  if (raw === null || raw === "") return UNKNOWN_GROUP;
  if (by === "asn") return `AS${raw}`;
  return String(raw);
}

const zero = (): CveCounts => ({ vulnerable: 0, patched: 0, unknown: 0 });
const noTriage = (): TriageCounts => ({ compromised: 0, suspicious: 0, clean: 0 });
const noConfidence = (): ConfidenceCounts => ({ high: 0, medium: 0, low: 0 });

/** One row of the store's confidence GROUP BY: servers of one group identified with this confidence. */
export interface ConfidenceRow {
  group: string | number | null;
  confidence: keyof ConfidenceCounts;
  n: number;
}

/** The census with each group's confidence split (by cve: every group holds the totals, as exposed does). */
export function withConfidence(c: Census, rows: readonly ConfidenceRow[]): Census {
  const per = new Map<string, ConfidenceCounts>();
  const total = noConfidence();
  for (const r of rows) {
    const key = groupLabel(c.by, r.group);
    const t = per.get(key) ?? per.set(key, noConfidence()).get(key)!;
    t[r.confidence] += r.n;
    total[r.confidence] += r.n;
  }
  return { ...c, groups: c.groups.map((g) => ({ ...g, confidence: c.by === "cve" ? { ...total } : (per.get(g.key) ?? noConfidence()) })) };
}

/** One row of the store's triage GROUP BY: servers of one group whose newest report has this verdict. */
export interface TriageRow {
  group: string | number | null;
  verdict: string;
  n: number;
}

/** The triage field of a verdict: "no-indicators" counts as clean; "not-examined" and unknown verdicts count nowhere. */
function triageField(verdict: string): keyof TriageCounts | null {
  if (verdict === "compromised" || verdict === "suspicious") return verdict;
  if (verdict === "no-indicators") return "clean";
  return null;
}

/** One row of the store's support GROUP BY: servers of one group whose stored product has this name. */
export interface ProductRow {
  group: string | number | null;
  product: string | null;
  n: number;
}

const noSupport = (): EndOfSupportCounts => ({ outOfSupport: 0, supported: 0, unknown: 0 });

/**
 * The census with each group's end-of-support counts: `outOfSupport(product)` judges a product name on the
 * snapshot's date (src/assess/support.ts). By cve, every group holds the totals, as exposed does.
 */
export function withEndOfSupport(c: Census, rows: readonly ProductRow[], outOfSupport: (product: string | null) => boolean | null): Census {
  const per = new Map<string, EndOfSupportCounts>();
  const total = noSupport();
  const judged = new Map<string | null, boolean | null>();
  for (const r of rows) {
    if (!judged.has(r.product)) judged.set(r.product, outOfSupport(r.product));
    const out = judged.get(r.product)!;
    const field: keyof EndOfSupportCounts = out === true ? "outOfSupport" : out === false ? "supported" : "unknown";
    const key = groupLabel(c.by, r.group);
    const e = per.get(key) ?? per.set(key, noSupport()).get(key)!;
    e[field] += r.n;
    total[field] += r.n;
  }
  return { ...c, groups: c.groups.map((g) => ({ ...g, endOfSupport: c.by === "cve" ? { ...total } : (per.get(g.key) ?? noSupport()) })) };
}

/** The census with each group's triage counts (by cve: every group holds the totals, as exposed does). */
export function withTriage(c: Census, rows: readonly TriageRow[]): Census {
  const per = new Map<string, TriageCounts>();
  const total = noTriage();
  for (const r of rows) {
    const f = triageField(r.verdict);
    if (!f) continue;
    const key = groupLabel(c.by, r.group);
    const t = per.get(key) ?? per.set(key, noTriage()).get(key)!;
    t[f] += r.n;
    total[f] += r.n;
  }
  return { ...c, groups: c.groups.map((g) => ({ ...g, triage: c.by === "cve" ? { ...total } : (per.get(g.key) ?? noTriage()) })) };
}

export function addStatus(c: CveCounts, status: string, n: number): void {
  if (status === "vulnerable" || status === "patched" || status === "unknown") c[status] += n;
}

function sortedCves(rows: readonly CountRow[]): string[] {
  const ids = new Set<string>();
  for (const r of rows) for (const [id] of parseStatusKey(r.key)) ids.add(id);
  return [...ids].sort();
}

const byExposed = (a: CensusGroup, b: CensusGroup): number => b.exposed - a.exposed || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function buildCensus(snapshot: string, by: CensusBy, rows: readonly CountRow[], onlyCve?: string): Census {
  const cveIds = onlyCve !== undefined ? [onlyCve] : sortedCves(rows);
  if (by === "cve") {
    const total: CensusGroup = { key: "", exposed: 0, cves: Object.fromEntries(cveIds.map((id) => [id, zero()])), triage: noTriage(), confidence: noConfidence() };
    for (const r of rows) {
      total.exposed += r.n;
      for (const [id, status] of parseStatusKey(r.key)) if (total.cves[id]) addStatus(total.cves[id], status, r.n);
    }
    return {
      snapshot,
      by,
      groups: cveIds.map((id) => ({ key: id, exposed: total.exposed, cves: { [id]: total.cves[id]! }, triage: noTriage(), confidence: noConfidence() })),
    };
  }
  const groups = new Map<string, CensusGroup>();
  for (const r of rows) {
    const key = groupLabel(by, r.group);
    let g = groups.get(key);
    if (!g) {
      g = { key, exposed: 0, cves: Object.fromEntries(cveIds.map((id) => [id, zero()])), triage: noTriage(), confidence: noConfidence() };
      groups.set(key, g);
    }
    g.exposed += r.n;
    for (const [id, status] of parseStatusKey(r.key)) {
      const c = g.cves[id];
      if (c) addStatus(c, status, r.n);
    }
  }
  return { snapshot, by, groups: [...groups.values()].sort(byExposed) };
}

/** Share of exposed servers, in percent with one decimal; 0 when nothing is exposed. */
export function percent(n: number, exposed: number): number {
  return exposed > 0 ? Math.round((n / exposed) * 1000) / 10 : 0;
}

/** All groups summed (the line a table ends with). */
export function totalOf(c: Census): CensusGroup {
  if (c.by === "cve") {
    const cves: Record<string, CveCounts> = {};
    for (const g of c.groups) Object.assign(cves, g.cves);
    const first = c.groups[0];
    return {
      key: "total",
      exposed: first?.exposed ?? 0,
      cves,
      triage: { ...(first?.triage ?? noTriage()) },
      confidence: { ...(first?.confidence ?? noConfidence()) },
      ...(first?.endOfSupport ? { endOfSupport: { ...first.endOfSupport } } : {}),
    };
  }
  const t: CensusGroup = { key: "total", exposed: 0, cves: {}, triage: noTriage(), confidence: noConfidence() };
  for (const g of c.groups) {
    t.exposed += g.exposed;
    t.confidence.high += g.confidence.high;
    t.confidence.medium += g.confidence.medium;
    t.confidence.low += g.confidence.low;
    if (g.endOfSupport) {
      const e = (t.endOfSupport ??= noSupport());
      e.outOfSupport += g.endOfSupport.outOfSupport;
      e.supported += g.endOfSupport.supported;
      e.unknown += g.endOfSupport.unknown;
    }
    t.triage.compromised += g.triage.compromised;
    t.triage.suspicious += g.triage.suspicious;
    t.triage.clean += g.triage.clean;
    for (const [id, v] of Object.entries(g.cves)) {
      const x = (t.cves[id] ??= zero());
      x.vulnerable += v.vulnerable;
      x.patched += v.patched;
      x.unknown += v.unknown;
    }
  }
  return t;
}

/** The CVE with the most vulnerable servers (the default for charts and maps). */
export function headlineCve(c: Census): string | undefined {
  const t = totalOf(c);
  let best: string | undefined;
  for (const [id, v] of Object.entries(t.cves)) if (best === undefined || v.vulnerable > t.cves[best]!.vulnerable) best = id;
  return best;
}

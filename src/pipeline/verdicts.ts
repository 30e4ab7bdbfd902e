/**
 * Per-CVE verdicts of an identified host, and their compact stored form. Pure.
 *
 * The store keeps only the status of each CVE (the status key "CVE-A=vulnerable;CVE-B=patched", sorted by CVE
 * id); the reason, the fixing build and the remediation are text the knowledge base gives for the identified
 * build, so they are rendered again when a host is read (`VerdictRenderer`). A host judged with an earlier
 * knowledge base keeps its stored status (the census counts it so) until `vigie assess` re-judges it; where the
 * knowledge base read now gives another status, the rendered reason says both.
 */
import type { BuildExplainer } from "../assess/explainBuild.js";
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import { CVE_STATUSES, type CveStatus, type CveVerdict, type Identification } from "./vocabulary.js";

/** The verdicts of an Exchange server whose build is not known: unknown, with why (kb.advisories order). */
export function noBuildVerdicts(kb: KnowledgeBase, identification: Pick<Identification, "conflicts">): CveVerdict[] {
  const reason =
    identification.conflicts.length > 0
      ? `Exchange answered but its build evidence conflicts (${identification.conflicts.length} claims disagree)`
      : "Exchange answered but showed no build number";
  return kb.advisories.map((a) => ({
    id: a.id,
    status: "unknown" as const,
    reason,
    fixedIn: null,
    remediation: "Check the build on the server (Get-ExchangeServer | Format-List Name,AdminDisplayVersion) or enable more probes",
  }));
}

/** The verdicts of an identified host with the knowledge base of `explainer` (none when it is not Exchange). */
export function verdictsOf(explainer: BuildExplainer, identification: Identification): CveVerdict[] {
  if (!identification.isExchange) return [];
  return identification.build === null ? noBuildVerdicts(explainer.kb, identification) : explainer.explain(identification.build).cves;
}

/** The compact stored form: "CVE-A=vulnerable;CVE-B=patched", sorted by CVE id (byte order). */
export function cveStatusKey(cves: readonly Pick<CveVerdict, "id" | "status">[]): string {
  return [...cves]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => `${c.id}=${c.status}`)
    .join(";");
}

const STATUSES = new Set<string>(CVE_STATUSES);

/** The (CVE, status) pairs of a status key, in its order; a malformed part is an error naming it. */
export function parseCveStatusKey(key: string): Array<[string, CveStatus]> {
  if (key === "") return [];
  return key.split(";").map((part) => {
    const eq = part.lastIndexOf("=");
    const status = part.slice(eq + 1);
    if (eq <= 0 || !STATUSES.has(status)) throw new Error(`stored CVE status "${part}" is not CVE=status`);
    return [part.slice(0, eq), status as CveStatus];
  });
}

const statusWords = (s: CveStatus): string => (s === "not_affected" ? "not affected" : s);

/**
 * Renders stored statuses into full verdicts with one knowledge base. Verdicts per (build, conflicts) are
 * computed once per renderer: a page of hosts is a few lookups.
 */
export class VerdictRenderer {
  private readonly cache = new Map<string, ReadonlyMap<string, CveVerdict>>();

  constructor(readonly explainer: BuildExplainer) {}

  private kbVerdicts(identification: Identification): ReadonlyMap<string, CveVerdict> {
    const k = `${identification.build ?? ""}|${identification.build === null ? identification.conflicts.length : 0}`;
    let m = this.cache.get(k);
    if (!m) {
      m = new Map(verdictsOf(this.explainer, { ...identification, isExchange: true }).map((v) => [v.id, v]));
      if (this.cache.size < 50_000) this.cache.set(k, m);
    }
    return m;
  }

  /**
   * The verdicts of a stored host: its stored statuses with the knowledge base's words for them, in the
   * knowledge base's CVE order (as assessed), then any CVE the knowledge base no longer has (by id).
   */
  render(identification: Identification, statusKey: string, assessedAt: string): CveVerdict[] {
    const stored = parseCveStatusKey(statusKey);
    if (stored.length === 0) return [];
    const status = new Map(stored);
    const known = this.kbVerdicts(identification);
    const out: CveVerdict[] = [];
    for (const [id, v] of known) {
      const s = status.get(id);
      if (s === undefined) continue;
      out.push(
        s === v.status
          ? v
          : {
              id,
              status: s,
              reason: `judged ${statusWords(s)} on ${assessedAt.slice(0, 10)}; the knowledge base now says ${statusWords(v.status)}: ${v.reason} (run vigie assess to re-judge)`,
              fixedIn: v.fixedIn,
              remediation: v.remediation,
            },
      );
    }
    for (const [id, s] of stored) {
      if (known.has(id)) continue;
      out.push({ id, status: s, reason: `judged ${statusWords(s)} on ${assessedAt.slice(0, 10)}; ${id} is not in the knowledge base read now`, fixedIn: null, remediation: null });
    }
    return out;
  }
}

/**
 * Explain a build string of any precision: which product, CU and update it can be, and per CVE a verdict.
 * Pure. Results for known builds and known prefixes are computed once and shared (frozen): explaining is a
 * lookup, so it never becomes the bottleneck of a census.
 *
 * Aggregation over candidates: all candidates agree -> that status; otherwise unknown, with the split named.
 * So `patched` is only said when every candidate build is patched.
 */
import { buildKey, parseBuild, threePartPrefix } from "../knowledge/buildNumber.js";
import type { IndexedAdvisory, KnowledgeBase, KnownBuild, ProductInfo } from "../knowledge/knowledgeBase.js";
import { judgeBuild, judgeUnlistedProduct } from "./judgeBuild.js";
import type { BuildExplanation, CveStatus, CveVerdict, Precision } from "./types.js";

/** Told a person: the refresh command for data older than the server. */
export const NEWER_THAN_KB = "newer than the knowledge base: refresh with `vigie kb update`";

function statusWords(status: CveStatus): string {
  return status === "not_affected" ? "not affected" : status;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === "object") deepFreeze(v as object);
  return Object.freeze(o);
}

/** "15.1.2176.2, .4" style short lists for reasons. */
function shortList(builds: KnownBuild[], max = 6): string {
  const names = builds.slice(0, max).map((b) => (b.update === b.line ? b.build : `${b.build} ${b.update}`));
  return builds.length > max ? `${names.join(", ")} and ${builds.length - max} more` : names.join(", ");
}

export class BuildExplainer {
  private readonly cache = new Map<string, BuildExplanation>();
  /** Per known build, the verdict of each advisory (same order as kb.advisories). */
  private readonly verdicts = new Map<KnownBuild, CveVerdict[]>();

  constructor(readonly kb: KnowledgeBase) {
    for (const b of kb.builds) this.verdicts.set(b, kb.advisories.map((a) => deepFreeze(judgeBuild(kb, a, b))));
  }

  /** Verdicts of every advisory for one known build. */
  verdictsFor(b: KnownBuild): readonly CveVerdict[] {
    return this.verdicts.get(b)!;
  }

  explain(input: string): BuildExplanation {
    const hit = this.cache.get(input);
    if (hit) return hit;
    const parsed = parseBuild(input);
    if (!parsed) return this.notABuild(input);
    const cached = this.cache.get(parsed.text);
    if (cached) return cached;
    const result = this.compute(parsed.text, parsed.parts);
    // Only results about known builds/prefixes are cached: the cache stays bounded by the knowledge base.
    if (result.candidates.length > 0) {
      this.cache.set(parsed.text, result);
      if (input !== parsed.text && this.cache.size < 100_000) this.cache.set(input, result);
    }
    return result;
  }

  private compute(text: string, parts: number[]): BuildExplanation {
    const kb = this.kb;
    if (parts.length === 4) {
      const known = kb.byBuild.get(text);
      if (known) return this.exact(known);
      const alias = kb.aliases.get(text);
      if (alias) {
        return deepFreeze({
          ...this.exact(alias.build),
          build: text,
          reportedAlias: {
            installedBuild: alias.build.build,
            seenIn: alias.seenIn,
            note: alias.note,
            sources: alias.sources.map((s) => s.url),
          },
        });
      }
      return this.unknownExact(text, parts);
    }
    if (parts.length === 3) {
      const candidates = kb.byPrefix.get(text);
      if (candidates) return this.fromCandidates(text, "cu", candidates);
      return this.unknownBuild(text, this.productsFor(parts), "cu");
    }
    if (parts.length === 2) {
      const products = this.productsFor(parts);
      const candidates = products.flatMap((p) => p.lines.flatMap((l) => l.builds));
      if (candidates.length > 0) return this.fromCandidates(text, "major", candidates);
    }
    return this.unknownBuild(text, this.productsFor(parts), "unknown");
  }

  /**
   * Products a build can belong to, from its major.minor (2019 and SE share 15.2); 14.x is Exchange 2010.
   * Where products share a major.minor, their build ranges do not overlap (SE starts above 2019's last CU): a
   * 3- or 4-part build belongs to the newest product whose first known build is not above it.
   */
  private productsFor(parts: number[]): ProductInfo[] {
    if (parts.length < 2) return [];
    const byMajor = this.kb.productsByMajor.get(`${parts[0]}.${parts[1]}`);
    if (byMajor) {
      if (byMajor.length > 1 && parts.length >= 3) {
        const line = this.kb.lineForPrefix(parts.slice(0, 3).join("."));
        if (line) return [this.kb.products.get(line.product)!];
        const key = buildKey([...parts.slice(0, 3), 0]);
        const owner = [...byMajor].sort((a, b) => b.lines[0]!.firstKey - a.lines[0]!.firstKey).find((p) => buildKey([...threePartPrefix(p.lines[0]!.builds[0]!.build).split(".").map(Number), 0]) <= key);
        if (owner) return [owner];
      }
      return byMajor;
    }
    const sameFirst = [...this.kb.products.values()].filter((p) => p.major.split(".")[0] === String(parts[0]));
    return sameFirst.length === 1 ? sameFirst : [];
  }

  private exact(b: KnownBuild): BuildExplanation {
    return deepFreeze({
      build: b.build,
      product: b.productName,
      cu: b.line,
      update: b.update,
      releaseDate: b.releaseDate,
      precision: "exact" as Precision,
      candidates: [b.build],
      endOfSupport: this.kb.products.get(b.product)!.endOfSupport,
      cves: [...this.verdictsFor(b)],
    });
  }

  private fromCandidates(text: string, precision: Precision, candidates: KnownBuild[]): BuildExplanation {
    const first = candidates[0]!;
    const sameProduct = candidates.every((c) => c.product === first.product);
    const sameLine = sameProduct && candidates.every((c) => c.line === first.line);
    const cves = this.kb.advisories.map((a, i) => this.aggregate(a, i, candidates, sameLine));
    return deepFreeze({
      build: text,
      product: sameProduct ? first.productName : null,
      cu: sameLine ? first.line : null,
      update: candidates.length === 1 ? first.update : null,
      releaseDate: candidates.length === 1 ? first.releaseDate : null,
      precision,
      candidates: candidates.map((c) => c.build),
      endOfSupport: sameProduct ? this.kb.products.get(first.product)!.endOfSupport : null,
      cves,
    });
  }

  private aggregate(a: IndexedAdvisory, index: number, candidates: KnownBuild[], sameLine: boolean): CveVerdict {
    const per = candidates.map((c) => this.verdictsFor(c)[index]!);
    const statuses = new Set<CveStatus>(per.map((v) => v.status));
    const newest = per[per.length - 1]!;
    if (per.length === 1) return per[0]!;
    const scope = sameLine
      ? `every known build of ${candidates[0]!.productName} ${candidates[0]!.line} (${candidates.length}) is`
      : `all ${candidates.length} candidate builds are`;
    if (statuses.size === 1) {
      const [status] = statuses;
      return {
        id: a.id,
        status: status!,
        reason: `${scope} ${statusWords(status!)}: ${newest.reason}`,
        fixedIn: sameLine ? newest.fixedIn : null,
        remediation: newest.remediation,
      };
    }
    const groups = (["vulnerable", "patched", "unknown", "not_affected"] as const)
      .map((s) => [s, candidates.filter((_, i) => per[i]!.status === s)] as const)
      .filter(([, list]) => list.length > 0)
      .map(([s, list]) => `${s}: ${shortList(list)}`);
    const fixedIn = sameLine ? (per.find((v) => v.fixedIn !== null)?.fixedIn ?? null) : null;
    return {
      id: a.id,
      status: "unknown",
      reason: `the exact update decides (${groups.join("; ")})`,
      fixedIn,
      remediation: fixedIn
        ? `Read the full 4-part build (X-OWA-Version header, ECP export tool, or Get-ExchangeServer on the server); if it is below ${fixedIn}, install that update or later`
        : "Read the full 4-part build (X-OWA-Version header, ECP export tool, or Get-ExchangeServer on the server) to decide",
    };
  }

  /** A 4-part build the tables do not list: only what can be proven is said. */
  private unknownExact(text: string, parts: number[]): BuildExplanation {
    const line = this.kb.lineForPrefix(threePartPrefix(text));
    if (!line) return this.unknownBuild(text, this.productsFor(parts), "exact");
    const key = buildKey(parts);
    const product = this.kb.products.get(line.product)!;
    const newerThanData = key > line.builds[line.builds.length - 1]!.key;
    const cves = this.kb.advisories.map((a): CveVerdict => {
      if (!a.affects.includes(line.product)) {
        return judgeUnlistedProduct(this.kb, a, line.product);
      }
      const fix = this.kb.fixOnLine(a, line.product, line.name);
      const newestFix = a.newestFixKey.get(line.product);
      if (!fix && newestFix !== undefined && line.firstKey > newestFix && a.fixData !== "unknown") {
        return judgeBuild(this.kb, a, line.builds[0]!); // the whole line shipped with the fix
      }
      if (fix && fix.build.key === line.firstKey && key > fix.build.key && a.fixData !== "unknown") {
        // The CU itself carries the fix: every build of the line is installed on top of it.
        return { ...judgeBuild(this.kb, a, line.builds[line.builds.length - 1]!), reason: `build ${text} is not in the knowledge base, but ${line.name} itself (${fix.build.build}) fixes ${a.id} and every update of ${line.name} is installed on it` };
      }
      if (fix && key < fix.build.key && a.fixData !== "unknown") {
        return {
          id: a.id,
          status: "vulnerable",
          reason: `build ${text} is not in the knowledge base but is below ${fix.build.build}, the first build of ${line.name} that fixes ${a.id}`,
          fixedIn: fix.build.build,
          remediation: `Install ${fix.build.kb ?? fix.build.update} for ${product.name} ${line.name} (build ${fix.build.build}) or later`,
        };
      }
      return {
        id: a.id,
        status: "unknown",
        reason: newerThanData
          ? `build ${text} of ${product.name} ${line.name} is ${NEWER_THAN_KB}; which fixes it carries cannot be told from older data`
          : `build ${text} is not in the knowledge base; its fixes cannot be told`,
        fixedIn: fix?.build.build ?? null,
        remediation: "Update the knowledge base (vigie kb update --builds <file>) and explain again",
      };
    });
    return deepFreeze({
      build: text,
      product: product.name,
      cu: line.name,
      update: null,
      releaseDate: null,
      precision: "exact" as Precision,
      candidates: [],
      endOfSupport: product.endOfSupport,
      cves,
    });
  }

  /**
   * A build whose CU line the tables lack. On a line above every known line of the product (a CU released after
   * the data, e.g. SE CU1), a CVE is patched only where the newest known CU already shipped with its fix (CUs
   * are cumulative); anything else cannot be told from older data.
   */
  private unknownBuild(text: string, products: ProductInfo[], precision: Precision): BuildExplanation {
    const product = products.length === 1 ? products[0]! : undefined;
    const parts = text.split(".").map(Number);
    const newestLine = product?.lines[product.lines.length - 1];
    const newerLine = product !== undefined && parts.length >= 3 && buildKey([...parts.slice(0, 3), 0]) > newestLine!.firstKey;
    const cves = this.kb.advisories.map((a, i): CveVerdict => {
      if (product && !a.affects.includes(product.key)) return judgeUnlistedProduct(this.kb, a, product.key);
      if (newerLine) {
        const base = this.verdictsFor(newestLine!.builds[0]!)[i]!;
        if (base.status === "patched") {
          return {
            ...base,
            reason: `build ${text} is on a CU line ${NEWER_THAN_KB}; the newest known CU, ${product!.name} ${newestLine!.name} (${newestLine!.builds[0]!.build}), already shipped with the fix for ${a.id} and CUs are cumulative`,
            fixedIn: newestLine!.builds[0]!.build,
          };
        }
        return {
          id: a.id,
          status: "unknown",
          reason: `build ${text} is on a CU line of ${product!.name} ${NEWER_THAN_KB}; whether it carries the fix for ${a.id} cannot be told from older data`,
          fixedIn: null,
          remediation: "Update the knowledge base (vigie kb update --builds <file>) and explain again",
        };
      }
      return {
        id: a.id,
        status: "unknown",
        reason: product
          ? `build ${text} of ${product.name} is not in the knowledge base`
          : `build ${text} is not a build of a product in the knowledge base`,
        fixedIn: null,
        remediation: product ? "Update the knowledge base (vigie kb update --builds <file>) and explain again" : null,
      };
    });
    return {
      build: text,
      product: product?.name ?? null,
      cu: null,
      update: null,
      releaseDate: null,
      precision: product ? precision : "unknown",
      candidates: [],
      endOfSupport: product?.endOfSupport ?? null,
      cves,
    };
  }

  private notABuild(input: string): BuildExplanation {
    const shown = input.length > 64 ? `${input.slice(0, 64)}…` : input;
    return {
      build: shown,
      product: null,
      cu: null,
      update: null,
      releaseDate: null,
      precision: "unknown",
      candidates: [],
      cves: this.kb.advisories.map((a) => ({
        id: a.id,
        status: "unknown",
        reason: "not an Exchange build number",
        fixedIn: null,
        remediation: null,
      })),
    };
  }
}

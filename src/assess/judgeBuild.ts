/**
 * The verdict of one advisory for one known build. Pure.
 *
 * Rules, in order:
 *  1. A product the advisory does not list: not_affected — unless the product was already out of support when
 *     the CVE was published and Microsoft did not say it assessed it (`assessedNotAffected`): then unknown,
 *     "out of support since …; not assessed; upgrade" (advisories list only supported products).
 *  2. An advisory known only from a KEV import (no fix data) gives unknown.
 *  3. On a line that got a fix: below the fixing build is vulnerable; at or above it is patched, except on a
 *     non-cumulative special update (March 2021 SUs for out-of-support CUs) that does not name the CVE: that
 *     build says nothing about whether the earlier fix was installed, so unknown — unless the fix is the CU
 *     itself (the line's base build), which every update of the line is installed on: patched.
 *  4. A line first released after the newest fix of its product shipped with the fix: patched.
 *  5. A line with no build fix where the advisory names a protecting setting: vulnerable where the setting
 *     cannot exist yet (below the build that introduced it on the line, or a line that never got it); unknown
 *     where it can (a build cannot show a setting).
 *  6. Any other line of an affected product never got a fix: vulnerable until upgraded.
 */
import type { IndexedAdvisory, KnowledgeBase, KnownBuild } from "../knowledge/knowledgeBase.js";
import type { ProductKey } from "../knowledge/schema.js";
import type { CveVerdict } from "./types.js";

function describe(b: KnownBuild): string {
  return b.update === b.line ? `${b.line} (${b.build})` : `${b.line} ${b.update} (${b.build})`;
}

function updateName(b: KnownBuild): string {
  return b.kb ? `${b.update} (${b.kb})` : b.update;
}

/** What to do when the line never got a fix: move to the newest CU and its newest update. */
export function upgradeAdvice(kb: KnowledgeBase, b: KnownBuild): string {
  const latest = kb.products.get(b.product)!.latest;
  return `Upgrade to ${latest.productName} ${latest.line} and install its latest update ${updateName(latest)}, build ${latest.build}`;
}

/** Products with no end of support in the data: where an out-of-support server should go. */
export function supportedProductNames(kb: KnowledgeBase): string {
  const names = [...kb.products.values()].filter((p) => p.endOfSupport === null && p.endOfSupportSources.length > 0).map((p) => p.name);
  return names.length > 0 ? names.join(" or ") : "a supported Exchange Server version";
}

/** The verdict for a product the advisory does not list (rule 1). */
export function judgeUnlistedProduct(kb: KnowledgeBase, advisory: IndexedAdvisory, product: ProductKey): CveVerdict {
  const id = advisory.id;
  const info = kb.products.get(product);
  const name = info?.name ?? product;
  const listed = advisory.affects.map((p) => kb.products.get(p)?.name ?? p).join(", ");
  const assessed = advisory.notAffectedAfterAssessment.get(product);
  if (assessed !== undefined) {
    return { id, status: "not_affected", reason: `${id} does not affect ${name}: ${assessed}`, fixedIn: null, remediation: null };
  }
  const eos = info?.endOfSupport ?? null;
  if (eos !== null && advisory.published > eos) {
    return {
      id,
      status: "unknown",
      reason: `${name} out of support since ${eos}; not assessed: ${id} was published ${advisory.published} and Microsoft lists only supported products (${listed}); upgrade`,
      fixedIn: null,
      remediation: `${name} gets no security updates: migrate to ${supportedProductNames(kb)}`,
    };
  }
  return {
    id,
    status: "not_affected",
    reason: `${id} does not affect ${name} (Microsoft lists: ${listed})`,
    fixedIn: null,
    remediation: null,
  };
}

export function judgeBuild(kb: KnowledgeBase, advisory: IndexedAdvisory, b: KnownBuild): CveVerdict {
  const id = advisory.id;
  if (!advisory.affects.includes(b.product)) return judgeUnlistedProduct(kb, advisory, b.product);
  if (advisory.fixData === "unknown") {
    return {
      id,
      status: "unknown",
      reason: `${id} is in CISA's KEV catalog but the knowledge base has no fix data for it yet`,
      fixedIn: null,
      remediation: `Read Microsoft's advisory for ${id} and add its fixes to the knowledge base (knowledge/advisories)`,
    };
  }
  const onLine = kb.fixOnLine(advisory, b.product, b.line);
  if (onLine) {
    const f = onLine.build;
    if (b.key < f.key) {
      return {
        id,
        status: "vulnerable",
        reason: `${b.productName} ${describe(b)} predates ${updateName(f)}, build ${f.build}, the first update of ${b.line} that fixes ${id}`,
        fixedIn: f.build,
        remediation: `Install ${updateName(f)} for ${b.productName} ${b.line} (build ${f.build}) or any later update of ${b.line}; better, move to a supported CU`,
      };
    }
    const line = kb.line(b.product, b.line)!;
    const fixIsTheCu = f.key === line.firstKey;
    if (b.key === f.key || b.cumulative || b.namedFixes.has(id) || fixIsTheCu) {
      return {
        id,
        status: "patched",
        reason:
          b.key === f.key
            ? `${b.productName} ${describe(b)} is the update that fixes ${id} on ${b.line}`
            : !b.cumulative && fixIsTheCu && !b.namedFixes.has(id)
              ? `${b.productName} ${describe(b)} is a special update installed on ${b.line} itself (${f.build}), which already fixes ${id}`
              : `${b.productName} ${describe(b)} comes after ${updateName(f)}, build ${f.build}, which fixes ${id} on ${b.line}`,
        fixedIn: f.build,
        remediation: null,
      };
    }
    const named = [...b.namedFixes].join(", ");
    return {
      id,
      status: "unknown",
      reason: `${b.productName} ${describe(b)} is a special update for an out-of-support CU that carries only ${named}; it does not tell whether ${updateName(f)} (build ${f.build}) was installed before it`,
      fixedIn: f.build,
      remediation: `Check on the server that ${f.kb ?? f.update} is installed (HealthChecker lists installed updates); better, ${upgradeAdvice(kb, b).toLowerCase()}`,
    };
  }
  const line = kb.line(b.product, b.line)!;
  const newest = advisory.newestFixKey.get(b.product);
  if (newest !== undefined && line.firstKey > newest) {
    return {
      id,
      status: "patched",
      reason: `${b.productName} ${b.line} was released after the fix for ${id} and includes it`,
      fixedIn: line.builds[0]!.build,
      remediation: null,
    };
  }
  if (advisory.configurationFix !== undefined) return judgeSetting(kb, advisory, b);
  if (b.namedFixes.has(id)) {
    return {
      id,
      status: "patched",
      reason: `${b.productName} ${describe(b)} names ${id} among its fixes`,
      fixedIn: b.build,
      remediation: null,
    };
  }
  return {
    id,
    status: "vulnerable",
    reason:
      newest === undefined
        ? `no update fixes ${id} on ${b.productName}`
        : `${b.productName} ${b.line} never received a fix for ${id}`,
    fixedIn: null,
    remediation:
      newest === undefined
        ? `No update of ${b.productName} fixes ${id}: migrate to a supported Exchange version`
        : upgradeAdvice(kb, b),
  };
}

/** Rule 5: no build fix on the line, but a setting protects where it exists. */
function judgeSetting(kb: KnowledgeBase, advisory: IndexedAdvisory, b: KnownBuild): CveVerdict {
  const id = advisory.id;
  const fix = advisory.configurationFix!;
  const settingUnknown: CveVerdict = {
    id,
    status: "unknown",
    reason: `${b.productName} ${b.line} has no build fix for ${id}; it is protected only by a setting that a build number cannot show`,
    fixedIn: null,
    remediation: fix,
  };
  if (advisory.configurationAvailableFrom === undefined) return settingUnknown;
  const onLine = advisory.configByLine.get(`${b.product}/${b.line}`);
  if (onLine) {
    if (b.key >= onLine.build.key) return settingUnknown;
    const f = onLine.build;
    return {
      id,
      status: "vulnerable",
      reason: `${b.productName} ${describe(b)} predates ${updateName(f)}, build ${f.build}, the first update of ${b.line} on which the protecting setting exists; without it nothing protects against ${id}`,
      fixedIn: null,
      remediation: `Install ${updateName(f)} for ${b.productName} ${b.line} (build ${f.build}) or later, then: ${fix}`,
    };
  }
  const newest = advisory.newestConfigKey.get(b.product);
  const line = kb.line(b.product, b.line)!;
  if (newest !== undefined && line.firstKey > newest) return settingUnknown;
  return {
    id,
    status: "vulnerable",
    reason: `${b.productName} ${b.line} never received the update that adds the setting protecting against ${id}, and has no build fix`,
    fixedIn: null,
    remediation: `${upgradeAdvice(kb, b)}, then: ${fix}`,
  };
}

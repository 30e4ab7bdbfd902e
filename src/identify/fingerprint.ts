/**
 * Identification: from an Observation's evidence, is this Exchange, which build, how precisely. Pure.
 *
 * Each piece of evidence that states a build is a claim with a weight (how much the source can be trusted to
 * state the build of THIS server). Two claims agree when one is a prefix of the other (15.1.2176 and
 * 15.1.2176.9). The chosen build is the claim with the most agreeing weight, preferring the more precise one;
 * claims that disagree with it are kept as conflicts. When the disagreeing weight is as large as the agreeing
 * weight (a look-alike page with fake headers, a proxy in front of several versions), no build is chosen.
 */
import { parseBuild } from "../knowledge/buildNumber.js";
import type { Precision } from "../assess/types.js";
import type { Evidence, Observation } from "../observe/observation.js";

export const CLAIM_WEIGHTS: Partial<Record<Evidence["kind"], number>> = {
  // The ECP export-tool manifest and an ECP candidate path answering 200 are served from the build's own folder.
  "exporttool-build": 5,
  "ecp-candidate-build": 5,
  // X-OWA-Version is set by OWA itself (2013+).
  "owa-version-header": 4,
  // Resource paths of the OWA logon page carry the build (3 or 4 parts).
  "logon-page-build": 3,
  // EWS ServerVersionInfo may describe the mailbox (backend) server rather than the one answering.
  "ews-server-version": 2,
  // A build another scanner parsed (Shodan, Censys): its method is not ours to check.
  "imported-build": 2,
};

/** Evidence kinds that only Exchange (or something imitating it) shows. */
const EXCHANGE_KINDS = new Set<Evidence["kind"]>([
  "exporttool-build",
  "ecp-candidate-build",
  "owa-version-header",
  "logon-page-build",
  "ews-server-version",
  "imported-build",
  "exchange-header",
  "owa-page",
]);

export interface Identification {
  isExchange: boolean;
  /** Best-supported build, as many parts as the evidence supports; null when none. */
  build: string | null;
  precision: Precision;
  confidence: "high" | "medium" | "low";
  /** Evidence the build rests on, e.g. "owa-version-header 15.1.2176.9". */
  basis: string[];
  /** Claims that disagree with the chosen build. */
  conflicts: string[];
}

interface Claim {
  parts: number[];
  text: string;
  weight: number;
  evidence: Evidence;
}

const agrees = (a: number[], b: number[]): boolean => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
};

export function precisionOf(build: string | null): Precision {
  if (build === null) return "unknown";
  const n = build.split(".").length;
  return n >= 4 ? "exact" : n === 3 ? "cu" : n === 2 ? "major" : "unknown";
}

export function identify(observation: Pick<Observation, "evidence">): Identification {
  const claims: Claim[] = [];
  let exchangeSignals = 0;
  for (const e of observation.evidence) {
    if (EXCHANGE_KINDS.has(e.kind)) exchangeSignals++;
    const weight = CLAIM_WEIGHTS[e.kind];
    if (weight === undefined || e.build === undefined) continue;
    const parsed = parseBuild(e.build);
    if (!parsed || parsed.parts.length < 2) continue;
    claims.push({ parts: parsed.parts, text: parsed.text, weight, evidence: e });
  }
  const isExchange = exchangeSignals > 0;
  if (claims.length === 0) {
    return { isExchange, build: null, precision: "unknown", confidence: isExchange ? "medium" : "low", basis: [], conflicts: [] };
  }
  let best: { claim: Claim; support: number; against: number } | undefined;
  for (const c of claims) {
    let support = 0;
    let against = 0;
    for (const o of claims) (agrees(c.parts, o.parts) ? (support += o.weight) : (against += o.weight));
    if (
      !best ||
      support > best.support ||
      (support === best.support && c.parts.length > best.claim.parts.length) ||
      (support === best.support && c.parts.length === best.claim.parts.length && c.weight > best.claim.weight)
    ) {
      best = { claim: c, support, against };
    }
  }
  const chosen = best!;
  // The most precise claim that agrees with the chosen one and with every other agreeing claim.
  const agreeing = claims.filter((o) => agrees(chosen.claim.parts, o.parts));
  let build = chosen.claim;
  for (const o of agreeing) {
    if (o.parts.length > build.parts.length && agreeing.every((x) => agrees(o.parts, x.parts))) build = o;
  }
  const describe = (c: Claim): string => `${c.evidence.kind} ${c.text} (${c.evidence.field})`;
  const conflicts = claims.filter((o) => !agrees(build.parts, o.parts)).map(describe);
  if (chosen.against >= chosen.support) {
    return {
      isExchange,
      build: null,
      precision: "unknown",
      confidence: "low",
      basis: [],
      conflicts: claims.map(describe),
    };
  }
  const confidence = conflicts.length > 0 ? "low" : chosen.support >= 5 || agreeing.length >= 2 ? "high" : "medium";
  return {
    isExchange,
    build: build.text,
    precision: precisionOf(build.text),
    confidence,
    basis: agreeing.map(describe),
    conflicts,
  };
}

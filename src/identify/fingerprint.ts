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
import type { Evidence, Identification, Observation, Precision } from "../pipeline/vocabulary.js";

export type { Identification } from "../pipeline/vocabulary.js";

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
  "exchange-endpoint",
  "owa-page",
]);

/**
 * Lowest IIS version each product can run on, from Microsoft's Exchange Server supportability matrix
 * (learn.microsoft.com/exchange/plan-and-deploy/supportability-matrix): 2010 SP3 on Windows 2008 (IIS 7.0),
 * 2013 on 2008 R2 (IIS 7.5), 2016 on 2012 R2 (IIS 8.5), 2019 and SE on 2019 (IIS 10.0). A server that claims a
 * build its own Server header could not run is an imitation (joda32/owa-honeypot answers IIS 7.5 with a 2016 page).
 */
const MIN_IIS: Record<string, number> = { "14": 7.0, "15.0": 7.5, "15.1": 8.5, "15.2": 10.0 };

/**
 * Signals a copied page cannot give: they come from Exchange's own applications (ECP, EWS, OWA's headers).
 * A host that shows only weak signals (a logon page, an OWA-looking body) from a single probe is not counted as
 * Exchange: OWA look-alikes and honeypots serve exactly that (joda32/owa-honeypot, vinsiic/owa-honeypot).
 */
const STRONG_KINDS = new Set<Evidence["kind"]>([
  "exporttool-build",
  "ecp-candidate-build",
  "owa-version-header",
  "ews-server-version",
  "exchange-header",
  "exchange-endpoint",
  "imported-build",
]);


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

const describeClaim = (c: Claim): string => `${c.evidence.kind} ${c.text} (${c.evidence.field})`;

/** The IIS version in a Server header, if it is IIS. */
function iisVersion(evidence: readonly Evidence[]): number | undefined {
  for (const e of evidence) {
    if (e.kind !== "http-server") continue;
    const m = /Microsoft-IIS\/(\d+\.\d+)/i.exec(e.value);
    if (m) return Number(m[1]);
  }
  return undefined;
}

function minIisFor(build: string): number | undefined {
  const [a, b] = build.split(".");
  return a === "14" ? MIN_IIS["14"] : MIN_IIS[`${a}.${b}`];
}

/** Choose the build with the most agreeing weight; undefined when disagreement is as strong as agreement. */
function chooseBuild(claims: Claim[]): { build: Claim; agreeing: Claim[]; conflicts: Claim[]; support: number } | undefined {
  let best: { claim: Claim; support: number; against: number } | undefined;
  for (const c of claims) {
    let support = 0;
    let against = 0;
    for (const o of claims) {
      if (agrees(c.parts, o.parts)) support += o.weight;
      else against += o.weight;
    }
    const better =
      !best ||
      support > best.support ||
      (support === best.support && (c.parts.length > best.claim.parts.length || (c.parts.length === best.claim.parts.length && c.weight > best.claim.weight)));
    if (better) best = { claim: c, support, against };
  }
  if (!best || best.against >= best.support) return undefined;
  const chosen = best;
  const agreeing = claims.filter((o) => agrees(chosen.claim.parts, o.parts));
  // The most precise claim that agrees with every other agreeing claim.
  let build = chosen.claim;
  for (const o of agreeing) {
    if (o.parts.length > build.parts.length && agreeing.every((x) => agrees(o.parts, x.parts))) build = o;
  }
  return { build, agreeing, conflicts: claims.filter((o) => !agrees(build.parts, o.parts)), support: chosen.support };
}

export function identify(observation: Pick<Observation, "evidence">): Identification {
  const claims: Claim[] = [];
  let strong = 0;
  let weak = 0;
  for (const e of observation.evidence) {
    if (STRONG_KINDS.has(e.kind)) strong++;
    else if (EXCHANGE_KINDS.has(e.kind)) weak++;
    const weight = CLAIM_WEIGHTS[e.kind];
    if (weight === undefined || e.build === undefined) continue;
    const parsed = parseBuild(e.build);
    if (!parsed || parsed.parts.length < 2) continue;
    claims.push({ parts: parsed.parts, text: parsed.text, weight, evidence: e });
  }
  const notExchange = (note?: string): Identification => ({
    isExchange: false,
    build: null,
    precision: "unknown",
    confidence: "low",
    basis: [],
    conflicts: claims.map(describeClaim),
    ...(note !== undefined ? { note } : {}),
  });
  if (strong === 0) {
    return notExchange(weak > 0 ? "OWA-like pages only, nothing from Exchange's own endpoints (EWS NTLM challenge, Exchange headers, ECP): not counted as Exchange (look-alike or honeypot?)" : undefined);
  }
  if (claims.length === 0) {
    return { isExchange: true, build: null, precision: "unknown", confidence: "medium", basis: [], conflicts: [] };
  }
  const choice = chooseBuild(claims);
  if (!choice) {
    return {
      isExchange: true,
      build: null,
      precision: "unknown",
      confidence: "low",
      basis: [],
      conflicts: claims.map(describeClaim),
      note: "the build claims disagree as much as they agree",
    };
  }
  const iis = iisVersion(observation.evidence);
  const minIis = minIisFor(choice.build.text);
  if (iis !== undefined && minIis !== undefined && iis < minIis) {
    return notExchange(`claims build ${choice.build.text}, which needs IIS ${minIis.toFixed(1)} or later, but answers as IIS ${iis.toFixed(1)}: an imitation`);
  }
  const confidence = choice.conflicts.length > 0 ? "low" : choice.support >= 5 || choice.agreeing.length >= 2 ? "high" : "medium";
  return {
    isExchange: true,
    build: choice.build.text,
    precision: precisionOf(choice.build.text),
    confidence,
    basis: choice.agreeing.map(describeClaim),
    conflicts: choice.conflicts.map(describeClaim),
  };
}

/**
 * Identification: from an Observation's evidence, is this Exchange, which build, how precisely. Pure.
 *
 * Each piece of evidence that states a build is a claim with a weight (how much the source can be trusted to
 * state the build of THIS server). Two claims agree when one is a prefix of the other (15.1.2176 and
 * 15.1.2176.9). The chosen build is the claim with the most agreeing weight, preferring the more precise one;
 * claims that disagree with it are kept as conflicts. When the disagreeing weight is as large as the agreeing
 * weight (a look-alike page with fake headers, a proxy in front of several versions), no build is chosen.
 *
 * IIS: the Server header must name an IIS version the claimed product can run on. The versions come from
 * knowledge/platforms.json (every Windows Server version Microsoft's supportability matrix lists per product,
 * and the IIS version each ships), handed in as `platforms`: Exchange 2016 runs on Windows Server 2012, so
 * IIS 8.0 is a real 2016 server, not an imitation.
 *
 * Confidence: high when two claims (or one from ECP) agree, medium on a single claim from Exchange itself, low
 * when claims conflict or when the host gave a single answer: the OWA logon page alone.
 */
import { parseBuild } from "../knowledge/buildNumber.js";
import type { Confidence, Evidence, Identification, Observation, PlatformTable, Precision, ProductPlatform } from "../pipeline/vocabulary.js";

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
 * Signals a copied page cannot give: they come from Exchange's own applications (ECP, EWS, OWA's headers).
 * A host that shows only weak signals (a logon page, an OWA-looking body) is counted as Exchange only when its
 * one answer is consistent (see pageOnly): OWA look-alikes and honeypots serve exactly such pages
 * (joda32/owa-honeypot, vinsiic/owa-honeypot), and so do portals and phishing kits that copy a real page.
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

const iisText = (v: number): string => v.toFixed(1);
const iisList = (p: ProductPlatform): string => p.iis.map(iisText).join(", ");

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

export interface IdentifyOptions {
  /** The IIS versions each product line runs on (KnowledgeBase.platformTable()); without it no IIS check is made and a page-only answer is not counted. */
  platforms?: PlatformTable;
}

/** The product line of a build: "14" (every Exchange 2010 build), else major.minor ("15.1"). */
export function productLine(build: string): string | undefined {
  const [a, b] = build.split(".");
  if (a === undefined || b === undefined) return undefined;
  return a === "14" ? "14" : `${a}.${b}`;
}

type PlatformLookup = (build: string) => ProductPlatform | undefined;
const lookupIn = (table: PlatformTable | undefined): PlatformLookup | undefined =>
  table ? (build) => { const line = productLine(build); return line !== undefined && Object.hasOwn(table, line) ? table[line] : undefined; } : undefined;

const KIND_LABEL: Partial<Record<Evidence["kind"], string>> = {
  "exporttool-build": "ECP export-tool manifest",
  "ecp-candidate-build": "ECP build folder",
  "owa-version-header": "X-OWA-Version",
  "logon-page-build": "logon-page resource path",
  "ews-server-version": "EWS ServerVersionInfo",
  "imported-build": "build parsed by the scanner that made the record",
};
const label = (c: Claim): string => `${KIND_LABEL[c.evidence.kind] ?? c.evidence.kind} ${c.text}`;

export function identify(observation: Pick<Observation, "evidence">, options: IdentifyOptions = {}): Identification {
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
    confidenceReason: note ?? "no Exchange evidence",
    basis: [],
    conflicts: claims.map(describeClaim),
    ...(note !== undefined ? { note } : {}),
  });
  if (strong === 0) {
    if (weak > 0) return pageOnly(observation.evidence, claims, lookupIn(options.platforms), notExchange);
    const other = observation.evidence.find((e) => e.kind === "not-exchange");
    return notExchange(other ? other.field.replace(/^\S+ \S+ -> \d+ /, "") : undefined);
  }
  if (claims.length === 0) {
    return { isExchange: true, build: null, precision: "unknown", confidence: "medium", confidenceReason: "Exchange answered (its own headers or endpoints) but showed no build", basis: [], conflicts: [] };
  }
  const choice = chooseBuild(claims);
  if (!choice) {
    return {
      isExchange: true,
      build: null,
      precision: "unknown",
      confidence: "low",
      confidenceReason: "Exchange answered, but its build claims disagree as much as they agree",
      basis: [],
      conflicts: claims.map(describeClaim),
      note: "the build claims disagree as much as they agree",
    };
  }
  const iis = iisVersion(observation.evidence);
  const platform = lookupIn(options.platforms)?.(choice.build.text);
  const minIis = platform?.iis[0];
  if (iis !== undefined && minIis !== undefined && iis < minIis) {
    return notExchange(
      `claims build ${choice.build.text} (${platform!.product}), which runs on IIS ${iisList(platform!)} (${platform!.windows.join(", ")}), but answers as IIS ${iisText(iis)}: an imitation`,
    );
  }
  let confidence: Confidence;
  let confidenceReason: string;
  if (choice.conflicts.length > 0) {
    confidence = "low";
    confidenceReason = `build ${choice.build.text} from ${choice.agreeing.map(label).join(", ")}, but ${choice.conflicts.map(label).join(", ")} disagree`;
  } else if (choice.support >= 5 || choice.agreeing.length >= 2) {
    confidence = "high";
    confidenceReason = choice.agreeing.length >= 2 ? `${choice.agreeing.length} answers agree: ${choice.agreeing.map(label).join(", ")}` : `build from the ${label(choice.build)}, served from the build's own folder`;
  } else {
    confidence = "medium";
    confidenceReason = `one build claim from Exchange itself: ${label(choice.build)}`;
  }
  return {
    isExchange: true,
    build: choice.build.text,
    precision: precisionOf(choice.build.text),
    confidence,
    confidenceReason,
    basis: choice.agreeing.map(describeClaim),
    conflicts: choice.conflicts.map(describeClaim),
  };
}

/**
 * A host with nothing from Exchange's own applications, only OWA-looking pages (an internet-scan record holds
 * one answer). Counted as Exchange, with confidence low, when that answer is consistent:
 *  - the build path of a known product line in the logon page's resource paths, on this host;
 *  - a Server header naming an IIS version that product runs on (knowledge/platforms.json);
 *  - the logon page's own structure: a form posting to /owa/auth.owa with a password field.
 * Anything that says "not Exchange" (another webmail, OWA resources or the form on another host, an Exchange
 * endpoint answering 404 in a live scan) keeps it out, with the reason.
 */
function pageOnly(
  evidence: readonly Evidence[],
  claims: readonly Claim[],
  platforms: PlatformLookup | undefined,
  notExchange: (note: string) => Identification,
): Identification {
  const against = evidence.filter((e) => e.kind === "not-exchange");
  if (against.length > 0) {
    const why = [...new Set(against.map((e) => e.field.replace(/^\S+ \S+ -> \d+ /, "")))].slice(0, 3).join("; ");
    return notExchange(`OWA-like page, but ${why}: not counted as Exchange (a look-alike: portal, copy, honeypot or another product)`);
  }
  const lookAlike = "OWA-like pages only, nothing from Exchange's own endpoints (EWS NTLM challenge, Exchange headers, ECP)";
  const page = claims.filter((c) => c.evidence.kind === "logon-page-build");
  if (page.length === 0) return notExchange(`${lookAlike} and no build in the page's resource paths: not counted as Exchange (look-alike or honeypot?)`);
  const choice = chooseBuild([...page]);
  if (!choice || choice.conflicts.length > 0) return notExchange(`${lookAlike}, and the page's build paths disagree: not counted as Exchange`);
  const build = choice.build.text;
  if (!platforms) return notExchange(`${lookAlike}; no platform data to check the IIS version: not counted as Exchange`);
  const platform = platforms(build);
  if (!platform) return notExchange(`${lookAlike}; build path ${build} is of no known product line: not counted as Exchange`);
  const iis = iisVersion(evidence);
  if (iis === undefined) {
    const server = evidence.find((e) => e.kind === "http-server")?.value;
    return notExchange(`${lookAlike}; ${server !== undefined ? `answered as "${server.slice(0, 60)}", not IIS` : "no Server header"}, so the answer cannot be checked: not counted as Exchange`);
  }
  if (!platform.iis.includes(iis)) {
    return notExchange(
      `build path ${build} (${platform.product}) needs IIS ${iisList(platform)} (${platform.windows.join(", ")}), but answers as IIS ${iisText(iis)}: an imitation`,
    );
  }
  if (!evidence.some((e) => e.kind === "logon-form")) {
    return notExchange(`${lookAlike}; no logon form posting to /owa/auth.owa: not counted as Exchange`);
  }
  return {
    isExchange: true,
    build,
    precision: precisionOf(build),
    confidence: "low",
    confidenceReason: `single answer: OWA logon page only (build path ${build} of ${platform.product}, IIS ${iisText(iis)}, logon form); nothing from Exchange's own endpoints`,
    basis: choice.agreeing.map(describeClaim),
    conflicts: [],
  };
}

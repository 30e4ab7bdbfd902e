/**
 * Observation -> Identification -> Assessment -> HostRecord. The one code path for a live scan, an import and
 * `vigie assess` (re-assessment of stored observations after a knowledge-base update). Pure.
 */
import type { BuildExplainer } from "../assess/explainBuild.js";
import type { CveVerdict } from "./vocabulary.js";
import { identify } from "../identify/fingerprint.js";
import { noBuildVerdicts } from "./verdicts.js";
import type { Identification, Observation } from "./vocabulary.js";
import type { HostRecord } from "../store/store.js";

export interface Enrichment {
  country: string | null;
  asn: number | null;
  asOrg: string | null;
}

const NO_ENRICHMENT: Enrichment = { country: null, asn: null, asOrg: null };

export function assessObservation(
  explainer: BuildExplainer,
  snapshotId: string,
  observation: Observation,
  enrichment: Enrichment = NO_ENRICHMENT,
  now: string = new Date().toISOString(),
): HostRecord {
  return assessIdentified(explainer, snapshotId, observation, identify(observation, { platforms: explainer.kb.platformTable() }), enrichment, now);
}

/** The assessment of an observation already identified (`identify(observation)`, e.g. on an import's parser thread). */
export function assessIdentified(
  explainer: BuildExplainer,
  snapshotId: string,
  observation: Observation,
  identification: Identification,
  enrichment: Enrichment = NO_ENRICHMENT,
  now: string = new Date().toISOString(),
): HostRecord {
  let product: string | null = null;
  let cu: string | null = null;
  let cves: CveVerdict[] = [];
  if (identification.isExchange) {
    const explanation = explainer.explain(identification.build ?? "");
    product = explanation.product ?? "Microsoft Exchange (version unknown)";
    cu = explanation.cu;
    cves = identification.build === null ? noBuildVerdicts(explainer.kb, identification) : explanation.cves;
  }
  return {
    snapshotId,
    ip: observation.ip,
    port: observation.port,
    hostname: observation.hostname,
    observedAt: observation.observedAt,
    observation,
    identification,
    isExchange: identification.isExchange,
    product,
    cu,
    build: identification.isExchange ? identification.build : null,
    precision: identification.isExchange ? identification.precision : "unknown",
    cves,
    country: enrichment.country,
    asn: enrichment.asn,
    asOrg: enrichment.asOrg,
    assessedAt: now,
  };
}

/** The JSON Lines shape of `vigie scan --json` and `vigie hosts --json`. */
export function hostJson(h: HostRecord): Record<string, unknown> {
  return {
    ip: h.ip,
    port: h.port,
    hostname: h.hostname,
    product: h.isExchange ? h.product : null,
    build: h.build,
    precision: h.precision,
    // How sure the identification is, and why (null for records stored before it was recorded).
    confidence: h.isExchange ? h.identification.confidence : null,
    confidenceReason: h.identification.confidenceReason ?? h.identification.note ?? null,
    cves: h.cves.map((c) => ({ id: c.id, status: c.status })),
    evidence: h.observation.evidence,
    scannedAt: h.observedAt,
  };
}

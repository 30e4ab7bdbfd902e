/**
 * One piece of an import (whole lines, see readPieces): lines -> records -> Observations -> Identifications.
 * Pure; run by the import's parser threads (importWorker.ts) and, for the first pieces and where no thread is
 * available, by the driver itself — the same code either way. The assessment (a cached knowledge-base lookup per
 * build) and the enrichment stay with the driver: they cost less than moving per-CVE verdicts between threads.
 */
import { identify } from "../identify/fingerprint.js";
import { splitPiece } from "../import/lines.js";
import type { RecordParser } from "../import/parser.js";
import type { Identification, Observation, PlatformTable } from "./vocabulary.js";

/** Per record, in line order: how many observations it gave (taken in order from `found`), or why it was skipped. */
export type PieceOutcome = { line: number; observations: number } | { line: number; error: string };

export interface Identified {
  observation: Observation;
  identification: Identification;
}

export interface PieceResult {
  /** Lines in the piece (line numbers in outcomes are 1-based within the piece). */
  lines: number;
  outcomes: PieceOutcome[];
  found: Identified[];
}

export const tooLongReason = (bytes: number): string => `line of ${bytes} bytes is longer than the limit`;

/** `platforms`: the knowledge base's platform table (plain data), for the IIS checks of the identification. */
export function parsePiece(parser: RecordParser, buf: Buffer, maxLineBytes: number, platforms?: PlatformTable): PieceResult {
  const out: PieceResult = { lines: 0, outcomes: [], found: [] };
  for (const l of splitPiece(buf, maxLineBytes)) {
    const no = ++out.lines;
    if ("tooLong" in l) {
      out.outcomes.push({ line: no, error: tooLongReason(l.tooLong) });
      continue;
    }
    for (const r of parser.line(l.text, no)) {
      if ("error" in r) {
        out.outcomes.push({ line: r.no, error: r.error });
        continue;
      }
      for (const observation of r.observations) out.found.push({ observation, identification: identify(observation, platforms ? { platforms } : {}) });
      out.outcomes.push({ line: r.no, observations: r.observations.length });
    }
  }
  return out;
}

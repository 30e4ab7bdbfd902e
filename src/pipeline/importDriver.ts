/**
 * Import a file of scan records into a snapshot: stream lines -> records -> Observations -> the same
 * identification and assessment as a live scan (assessObservation) -> enrichment -> the store, in batches of a
 * few thousand per transaction. Nothing is collected beyond one batch. A malformed record is reported (line
 * number and reason) and skipped. Re-importing into the same snapshot replaces records (snapshot, ip, port).
 */
import path from "node:path";
import type { BuildExplainer } from "../assess/explainBuild.js";
import type { GeoLookup } from "../enrich/geo.js";
import { assessObservation } from "./assessObservation.js";
import type { HostRecord, Store } from "../store/store.js";
import { readLines } from "../import/lines.js";
import { recordParser } from "../import/parser.js";
import type { ImportFormat } from "../import/record.js";

export interface ImportOptions {
  file: string;
  format: ImportFormat;
  /** YYYY-MM-DD: the snapshot's date and the observedAt of records without a timestamp. */
  date: string;
  snapshotId?: string;
  store: Store;
  explainer: BuildExplainer;
  geo: GeoLookup | null;
  batchSize?: number;
  maxLineBytes?: number;
  onMalformed?: (m: Malformed) => void;
  onProgress?: (s: ImportSummary) => void;
}

export interface Malformed {
  line: number;
  reason: string;
}

export interface ImportSummary {
  snapshot: string;
  format: ImportFormat;
  file: string;
  lines: number;
  /** Records read without error (a record may yield 0..n observations). */
  records: number;
  observations: number;
  exchange: number;
  malformed: number;
  /** Bytes read from the input (compressed size for gzip). */
  bytes: number;
  seconds: number;
  reimport: boolean;
}

export const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function defaultSnapshotId(file: string, date: string, format: ImportFormat): string {
  const base = file === "-" ? `stdin-${format}` : path.basename(file).replace(/\.gz$/i, "");
  return `import-${date}-${base}`.slice(0, 200);
}

export async function importFile(o: ImportOptions): Promise<ImportSummary> {
  const started = process.hrtime.bigint();
  const snapshot = o.snapshotId ?? defaultSnapshotId(o.file, o.date, o.format);
  const existing = await o.store.getSnapshot(snapshot);
  if (existing && existing.kind !== "import") throw new Error(`snapshot "${snapshot}" exists and is a ${existing.kind}, not an import`);
  if (!existing) {
    await o.store.createSnapshot({
      id: snapshot,
      kind: "import",
      date: o.date,
      spec: { file: o.file === "-" ? "-" : path.basename(o.file), format: o.format },
    });
  } else {
    await o.store.setSnapshotStatus(snapshot, "running");
  }
  const summary: ImportSummary = {
    snapshot,
    format: o.format,
    file: o.file,
    lines: 0,
    records: 0,
    observations: 0,
    exchange: 0,
    malformed: 0,
    bytes: 0,
    seconds: 0,
    reimport: existing !== undefined,
  };
  const batchSize = o.batchSize ?? 2000;
  o.store.bulkLoadSettings?.();
  const now = new Date().toISOString();
  const parser = recordParser({ format: o.format, defaultObservedAt: `${o.date}T00:00:00.000Z` });
  let batch: HostRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    await o.store.saveBatch(snapshot, full, []);
    o.onProgress?.(summary);
  };
  const handle = async (outcomes: ReturnType<typeof parser.line>): Promise<void> => {
    for (const r of outcomes) {
      if ("error" in r) {
        summary.malformed++;
        o.onMalformed?.({ line: r.no, reason: r.error });
        continue;
      }
      summary.records++;
      for (const obs of r.observations) {
        const host = assessObservation(o.explainer, snapshot, obs, o.geo ? o.geo.lookup(obs.ip) : undefined, now);
        summary.observations++;
        if (host.isExchange) summary.exchange++;
        batch.push(host);
      }
      if (batch.length >= batchSize) await flush();
    }
  };
  try {
    for await (const line of readLines(o.file, {
      ...(o.maxLineBytes !== undefined ? { maxLineBytes: o.maxLineBytes } : {}),
      onBytes: (n) => (summary.bytes += n),
    })) {
      summary.lines = line.no;
      if (line.tooLong !== undefined) {
        summary.malformed++;
        o.onMalformed?.({ line: line.no, reason: `line of ${line.tooLong} bytes is longer than the limit` });
        continue;
      }
      await handle(parser.line(line.text, line.no));
    }
    await handle(parser.end());
    await flush();
  } catch (err) {
    try {
      await flush();
    } catch {
      // keep the first error
    }
    await o.store.setSnapshotStatus(snapshot, "interrupted");
    throw err;
  }
  await o.store.census.refresh(snapshot);
  await o.store.setSnapshotStatus(snapshot, "done");
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

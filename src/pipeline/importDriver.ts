/**
 * Import a file of scan records into a snapshot: stream lines -> records -> Observations -> the same
 * identification and assessment as a live scan (assessObservation) -> enrichment -> the store, in batches of a
 * few thousand per transaction. Parsing and fingerprinting run on parser threads (importWorker.ts) for the
 * line formats (the assessment is a cached knowledge-base lookup per build, done here with the enrichment); results are taken in input order, so what is stored, and every line number reported, is
 * the same as on one thread. Nothing is collected beyond a few pieces and one batch. A malformed record is
 * reported (line number and reason) and skipped. Re-importing into the same snapshot replaces records
 * (snapshot, ip, port).
 * The snapshot is created (or, on a re-import, reopened) only when the first host:port is stored: an input of
 * which nothing can be read creates none and leaves an earlier import as it was (NothingReadError), so an empty
 * snapshot never zeroes a trend.
 */
import path from "node:path";
import type { BuildExplainer } from "../assess/explainBuild.js";
import type { GeoLookup } from "../enrich/geo.js";
import { identify } from "../identify/fingerprint.js";
import { assessIdentified } from "./assessObservation.js";
import type { Identification, Observation } from "./vocabulary.js";
import type { HostRecord, Store } from "../store/store.js";
import { availableParallelism } from "node:os";
import { DEFAULT_MAX_LINE_BYTES, readLines, readPieces } from "../import/lines.js";
import { recordParser } from "../import/parser.js";
import type { ImportFormat, RecordContext } from "../import/record.js";
import { parsePiece, tooLongReason, type PieceResult } from "./importPiece.js";
import { defaultImportWorkerScript, ImportPool } from "./importPool.js";

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
  /** Parser threads (default one per core, at most 4; 0: parse on the main thread). nmap-xml is always parsed here. */
  workers?: number;
  /** The compiled importWorker.js (default: next to this module; from sources, parsing stays on the main thread). */
  workerScript?: URL;
  /** Bytes parsed on the main thread before the threads start (default 8 MiB). */
  inlineBytes?: number;
  /** Size of the pieces handed to the threads (default 1 MiB of whole lines). */
  pieceBytes?: number;
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
  /** Parser threads that took part (0: everything was parsed on the main thread). */
  parserThreads: number;
}

export const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Nothing of the input could be stored (empty, wrong format, every line malformed, or records without one open
 * TCP host:port): no snapshot was written.
 */
export class NothingReadError extends Error {
  override readonly name = "NothingReadError";
  constructor(readonly summary: ImportSummary) {
    const what =
      summary.records === 0
        ? `no record could be read from ${summary.file === "-" ? "stdin" : summary.file} as ${summary.format} (${summary.lines} line(s), ${summary.malformed} malformed)`
        : `${summary.records} record(s) read from ${summary.file === "-" ? "stdin" : summary.file}, none with an open TCP host:port`;
    super(`${what}: no snapshot was ${summary.reimport ? "changed" : "created"}`);
  }
}

export function defaultSnapshotId(file: string, date: string, format: ImportFormat): string {
  const base = file === "-" ? `stdin-${format}` : path.basename(file).replace(/\.gz$/i, "");
  return `import-${date}-${base}`.slice(0, 200);
}

export async function importFile(o: ImportOptions): Promise<ImportSummary> {
  const started = process.hrtime.bigint();
  const snapshot = o.snapshotId ?? defaultSnapshotId(o.file, o.date, o.format);
  const existing = await o.store.getSnapshot(snapshot);
  if (existing && existing.kind !== "import") throw new Error(`snapshot "${snapshot}" exists and is a ${existing.kind}, not an import`);
  let opened = false;
  const openSnapshot = async (): Promise<void> => {
    if (opened) return;
    opened = true;
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
  };
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
    parserThreads: 0,
  };
  const batchSize = o.batchSize ?? 2000;
  o.store.bulkLoadSettings?.();
  const now = new Date().toISOString();
  const record = { format: o.format, defaultObservedAt: `${o.date}T00:00:00.000Z` };
  const maxLineBytes = o.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  // Batches are written one after another; the next one is collected while the previous is being written.
  let batch: HostRecord[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await writing;
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    await openSnapshot();
    writing = o.store.saveBatch(snapshot, full, []).then(() => o.onProgress?.(summary));
    // Observed at once as well, so a failed write is not an unhandled rejection while the next batch fills.
    writing.catch(() => {});
  };
  const keep = async (observation: Observation, identification: Identification): Promise<void> => {
    const host = assessIdentified(o.explainer, snapshot, observation, identification, o.geo ? o.geo.lookup(observation.ip) : undefined, now);
    summary.observations++;
    if (host.isExchange) summary.exchange++;
    batch.push(host);
  };
  const malformed = (line: number, reason: string): void => {
    summary.malformed++;
    o.onMalformed?.({ line, reason });
  };
  const workers = o.format === "nmap-xml" ? 0 : o.workers ?? defaultWorkers();
  const script = workers > 0 ? (o.workerScript ?? defaultImportWorkerScript()) : null;
  try {
    if (script) {
      await importPieces({ ...o, snapshot, now, record, maxLineBytes, workers, script, summary, keep, malformed, flush, batchFull: () => batch.length >= batchSize });
    } else {
      const parser = recordParser(record);
      const handle = async (outcomes: ReturnType<typeof parser.line>): Promise<void> => {
        for (const r of outcomes) {
          if ("error" in r) {
            malformed(r.no, r.error);
            continue;
          }
          summary.records++;
          for (const obs of r.observations) await keep(obs, identify(obs, { platforms: o.explainer.kb.platformTable() }));
          if (batch.length >= batchSize) await flush();
        }
      };
      for await (const line of readLines(o.file, { maxLineBytes, onBytes: (n) => (summary.bytes += n) })) {
        summary.lines = line.no;
        if (line.tooLong !== undefined) {
          malformed(line.no, tooLongReason(line.tooLong));
          continue;
        }
        await handle(parser.line(line.text, line.no));
      }
      await handle(parser.end());
    }
    await flush();
    await writing;
  } catch (err) {
    try {
      await writing;
      await flush();
      await writing;
    } catch {
      // keep the first error
    }
    if (opened) await o.store.setSnapshotStatus(snapshot, "interrupted");
    throw err;
  }
  if (summary.observations === 0) throw new NothingReadError(summary);
  await o.store.census.refresh(snapshot);
  await o.store.setSnapshotStatus(snapshot, "done");
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summary;
}

/** Parser threads by default: one per core, at most 4 (each costs its own heap); none on one core. */
const MAX_DEFAULT_WORKERS = 4;
function defaultWorkers(): number {
  const cores = availableParallelism();
  return cores > 1 ? Math.min(cores, MAX_DEFAULT_WORKERS) : 0;
}

/** The first bytes of an import are parsed on the main thread: a small file never waits for threads to start. */
const INLINE_BYTES = 8 * 1024 * 1024;

interface PieceRun extends ImportOptions {
  snapshot: string;
  now: string;
  record: RecordContext;
  maxLineBytes: number;
  workers: number;
  script: URL;
  summary: ImportSummary;
  keep(observation: Observation, identification: Identification): Promise<void>;
  malformed(line: number, reason: string): void;
  flush(): Promise<void>;
  batchFull(): boolean;
}

/**
 * The parallel path: the main thread cuts the decompressed input into pieces of whole lines, parser threads
 * parse, fingerprint and assess them, and the main thread takes the results strictly in input order (line numbers
 * are counted here, from each piece's line count), enriches and stores them. At most `workers * 2 + 1` pieces are
 * read ahead of the one being stored: memory stays flat whatever the file size.
 */
async function importPieces(r: PieceRun): Promise<void> {
  let pool: ImportPool | null = null;
  const inlineParser = recordParser(r.record);
  const inlineBytes = r.inlineBytes ?? INLINE_BYTES;
  const ahead = r.workers * 2 + 1;
  const results: Array<Promise<PieceResult>> = [];
  let read = 0;
  let lineBase = 0;
  const takeNext = async (): Promise<void> => {
    const res = await results.shift()!;
    let h = 0;
    for (const out of res.outcomes) {
      if ("error" in out) {
        r.malformed(lineBase + out.line, out.error);
        continue;
      }
      r.summary.records++;
      for (let i = 0; i < out.observations; i++) {
        const f = res.found[h++]!;
        await r.keep(f.observation, f.identification);
      }
      if (r.batchFull()) await r.flush();
    }
    lineBase += res.lines;
    r.summary.lines = lineBase;
  };
  try {
    let seq = 0;
    for await (const piece of readPieces(r.file, { maxLineBytes: r.maxLineBytes, ...(r.pieceBytes !== undefined ? { pieceBytes: r.pieceBytes } : {}), onBytes: (n) => (r.summary.bytes += n) })) {
      if (piece.kind === "tooLong") {
        results.push(Promise.resolve({ lines: 1, outcomes: [{ line: 1, error: tooLongReason(piece.bytes) }], found: [] }));
      } else if (read < inlineBytes) {
        read += piece.buf.length;
        results.push(Promise.resolve(parsePiece(inlineParser, piece.buf, r.maxLineBytes, r.explainer.kb.platformTable())));
      } else {
        if (!pool) {
          pool = new ImportPool(r.script, r.workers, { record: r.record, maxLineBytes: r.maxLineBytes, platforms: r.explainer.kb.platformTable() });
          r.summary.parserThreads = r.workers;
        }
        const p = pool.run(seq, piece.buf);
        p.catch(() => {}); // awaited in order by takeNext; observed now so an early failure is not unhandled
        results.push(p);
      }
      seq++;
      while (results.length > ahead) await takeNext();
    }
    while (results.length > 0) await takeNext();
  } finally {
    await (pool as ImportPool | null)?.close();
  }
}

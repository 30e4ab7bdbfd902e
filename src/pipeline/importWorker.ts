/**
 * Parser thread of `vigie import`: receives pieces of whole lines (transferred, not copied), parses and
 * fingerprints them (parsePiece) and answers each piece with its PieceResult, in the order received. Imports only
 * pure modules; no store, no network, no file.
 */
import { parentPort, workerData } from "node:worker_threads";
import { recordParser } from "../import/parser.js";
import type { RecordContext } from "../import/record.js";
import { parsePiece, type PieceResult } from "./importPiece.js";
import type { PlatformTable } from "./vocabulary.js";

export interface ImportWorkerInit {
  record: RecordContext;
  maxLineBytes: number;
  /** The knowledge base's platform table (KnowledgeBase.platformTable()). */
  platforms?: PlatformTable;
}

export interface PieceJob {
  seq: number;
  buf: Uint8Array;
}

export type PieceAnswer = { seq: number; result: PieceResult } | { seq: number; fatal: string };

const init = workerData as ImportWorkerInit;
const parser = recordParser(init.record);

parentPort!.on("message", (job: PieceJob) => {
  let answer: PieceAnswer;
  try {
    answer = { seq: job.seq, result: parsePiece(parser, Buffer.from(job.buf.buffer, job.buf.byteOffset, job.buf.byteLength), init.maxLineBytes, init.platforms) };
  } catch (err) {
    answer = { seq: job.seq, fatal: (err as Error).stack ?? String(err) };
  }
  parentPort!.postMessage(answer);
});

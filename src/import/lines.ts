/**
 * Streaming line reader for imports: a file, a gzip file (by magic bytes, whatever its name) or stdin ("-").
 * Yields each line with its 1-based number; memory stays flat (one chunk plus one line). A line longer than
 * `maxLineBytes` is not collected: it is reported once, as a `tooLong` line with its number, and skipped.
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

export interface Line {
  /** 1-based line number in the (decompressed) input. */
  no: number;
  /** The text without its line ending (empty when tooLong). */
  text: string;
  /** Set when the line was longer than the limit and was skipped. */
  tooLong?: number;
}

export interface LineReaderOptions {
  maxLineBytes?: number;
  /** Bytes counted as read (compressed size for .gz), for progress and the bench. */
  onBytes?: (n: number) => void;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Open the input; gzip is detected from its first two bytes (1f 8b). */
export async function openInput(file: string, onBytes?: (n: number) => void): Promise<AsyncIterable<Buffer>> {
  const raw: Readable = file === "-" ? process.stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  if (onBytes) raw.on("data", (c: Buffer) => onBytes(c.length));
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  if (first.done) return (async function* () {})();
  const head = first.value;
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => it };
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    void (async () => {
      try {
        if (!gunzip.write(head)) await new Promise((r) => gunzip.once("drain", r));
        for await (const c of rest) if (!gunzip.write(c)) await new Promise((r) => gunzip.once("drain", r));
        gunzip.end();
      } catch (err) {
        gunzip.destroy(err as Error);
      }
    })();
    return gunzip;
  }
  return (async function* () {
    yield head;
    yield* rest;
  })();
}

export async function* readLines(file: string, options: LineReaderOptions = {}): AsyncGenerator<Line> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const input = await openInput(file, options.onBytes);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = 0; // bytes of an over-long line being skipped
  let no = 0;
  const finish = (parts: Buffer[], total: number): Line => {
    no++;
    if (skipping > 0) {
      const n = skipping + total;
      skipping = 0;
      return { no, text: "", tooLong: n };
    }
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    return { no, text: buf.toString("utf8") };
  };
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (pendingBytes === 0 && skipping === 0) {
        no++;
        const end = piece.length > 0 && piece[piece.length - 1] === 0x0d ? piece.length - 1 : piece.length;
        if (piece.length > max) yield { no, text: "", tooLong: piece.length };
        else yield { no, text: chunk.toString("utf8", start, start + end) };
      } else if (skipping > 0) {
        skipping += piece.length;
        yield finish([], 0);
      } else if (pendingBytes + piece.length > max) {
        skipping = pendingBytes + piece.length;
        pending = [];
        pendingBytes = 0;
        yield finish([], 0);
      } else {
        pending.push(piece);
        const line = finish(pending, pendingBytes + piece.length);
        pending = [];
        pendingBytes = 0;
        yield line;
      }
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (skipping > 0) skipping += rest.length;
      else if (pendingBytes + rest.length > max) {
        skipping = pendingBytes + rest.length;
        pending = [];
        pendingBytes = 0;
      } else {
        // Copy: the chunk's memory may be reused by the stream.
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    }
  }
  if (skipping > 0 || pendingBytes > 0) yield finish(pending, pendingBytes);
}

/**
 * What the parallel import hands to a parser thread: whole lines, in input order.
 * `lines`: a buffer of complete lines, each ended by "\n" except perhaps the input's last one; the buffer owns its
 * memory (it can be transferred to a worker). `tooLong`: one line longer than the limit, not collected (its bytes).
 */
export type Piece = { kind: "lines"; buf: Buffer } | { kind: "tooLong"; bytes: number };

export interface PieceReaderOptions extends LineReaderOptions {
  /** A piece is cut at the first line end after this many bytes (default 1 MiB). */
  pieceBytes?: number;
}

/**
 * The input cut into pieces of whole lines (splitPiece gives the lines back). The same lines, line lengths and
 * over-long lines as readLines, without decoding text: the main thread only finds line ends at piece borders.
 * Memory: one piece plus one partial line (at most maxLineBytes, else it is skipped as tooLong).
 */
export async function* readPieces(file: string, options: PieceReaderOptions = {}): AsyncGenerator<Piece> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const pieceBytes = options.pieceBytes ?? 1 << 20;
  const input = await openInput(file, options.onBytes);
  let parts: Buffer[] = [];
  let partsBytes = 0;
  let tail: Buffer[] = []; // the line being collected across chunks (no "\n" yet)
  let tailBytes = 0;
  let skipping = 0; // bytes of an over-long line being skipped
  const take = (): Piece => {
    const buf = Buffer.allocUnsafeSlow(partsBytes);
    let at = 0;
    for (const p of parts) at += p.copy(buf, at);
    parts = [];
    partsBytes = 0;
    return { kind: "lines", buf };
  };
  const add = (b: Buffer): void => {
    if (b.length === 0) return;
    parts.push(b);
    partsBytes += b.length;
  };
  for await (const chunk of input) {
    let start = 0;
    if (skipping > 0 || tailBytes > 0) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        if (skipping > 0) skipping += chunk.length;
        else if (tailBytes + chunk.length > max) {
          skipping = tailBytes + chunk.length;
          tail = [];
          tailBytes = 0;
        } else {
          tail.push(chunk);
          tailBytes += chunk.length;
        }
        continue;
      }
      if (skipping > 0 || tailBytes + nl > max) {
        const bytes = skipping > 0 ? skipping + nl : tailBytes + nl;
        skipping = 0;
        tail = [];
        tailBytes = 0;
        if (partsBytes > 0) yield take();
        yield { kind: "tooLong", bytes };
      } else {
        for (const t of tail) add(t);
        add(chunk.subarray(0, nl + 1));
        tail = [];
        tailBytes = 0;
      }
      start = nl + 1;
    }
    const last = chunk.lastIndexOf(0x0a);
    if (last >= start) {
      add(chunk.subarray(start, last + 1));
      start = last + 1;
    }
    // Parts are views of the chunks (a stream never rewrites a chunk it has emitted); take() copies them once.
    if (partsBytes >= pieceBytes) yield take();
    if (start < chunk.length) {
      const rest = chunk.length - start;
      if (rest > max) skipping = rest;
      else {
        tail = [chunk.subarray(start)];
        tailBytes = rest;
      }
    }
  }
  if (skipping > 0) {
    if (partsBytes > 0) yield take();
    yield { kind: "tooLong", bytes: skipping };
    return;
  }
  for (const t of tail) add(t);
  if (partsBytes > 0) yield take();
}

/** The lines of a "lines" piece: text without its line ending, or the byte count of a line over the limit. */
export function* splitPiece(buf: Buffer, maxLineBytes = DEFAULT_MAX_LINE_BYTES): Generator<{ text: string } | { tooLong: number }> {
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(0x0a, start);
    if (nl < 0) nl = buf.length;
    const len = nl - start;
    if (len > maxLineBytes) yield { tooLong: len };
    else yield { text: buf.toString("utf8", start, len > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl) };
    start = nl + 1;
  }
}

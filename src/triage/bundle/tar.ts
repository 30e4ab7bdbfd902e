/** A .tar.gz (or .tar) bundle, streamed through gunzip and tar-stream; entries are read in order, never extracted. */
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { Budget, type BundleLimits, displayName, type EntryVisitor, LimitError, type ProblemSink, sanitizeEntryName } from "./types.js";
import { errCode } from "./dir.js";

class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

/** Iterate an entry without destroying it when the consumer stops early (tar entries must be drained, not destroyed). */
async function* keepAlive(entry: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = entry[Symbol.asyncIterator]();
  for (;;) {
    const { value, done } = await it.next();
    if (done) return;
    yield value;
  }
}

export async function readTarBundle(
  file: string,
  gzipped: boolean,
  limits: BundleLimits,
  visit: EntryVisitor,
  problem: ProblemSink,
): Promise<number> {
  const budget = new Budget(limits);
  const compressed = new Counter();
  const extract = tar.extract();
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  const feeding = gzipped ? pipeline(source, compressed, createGunzip({ chunkSize: 1 << 20 }), extract) : pipeline(source, compressed, extract);
  feeding.catch(() => undefined); // errors surface through the iterator below
  let count = 0;
  let aborted: string | null = null;
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const raw = h.name;
      if (aborted) {
        entry.resume();
        continue;
      }
      if (h.type !== "file" && h.type !== "contiguous-file") {
        if (h.type === "symlink" || h.type === "link") problem(displayName(raw), `${h.type} entry not followed`);
        entry.resume();
        continue;
      }
      const safe = sanitizeEntryName(raw);
      if ("refused" in safe) {
        problem(displayName(raw), `entry refused: ${safe.refused}`);
        entry.resume();
        continue;
      }
      if (++count > limits.maxEntries) {
        if (count === limits.maxEntries + 1) problem(safe.path, `more than ${limits.maxEntries} entries; the rest are not read`);
        entry.resume();
        continue;
      }
      const ratio = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
        for await (const c of chunks) {
          if (gzipped && budget.total > limits.ratioFloorBytes && budget.total / Math.max(1, compressed.bytes) > limits.maxRatio)
            throw new LimitError(`archive compression ratio above ${limits.maxRatio}:1 (decompression bomb?); rest of the archive not read`);
          yield c;
        }
      };
      try {
        await visit({ path: safe.path, size: h.size ?? null }, ratio(budget.meter(keepAlive(entry as unknown as AsyncIterable<Buffer>), null)));
      } catch (err) {
        const msg = err instanceof LimitError ? err.message : `cannot read (${errCode(err)})`;
        problem(safe.path, msg);
        if (err instanceof LimitError && /archive|bundle exceeds/.test(msg)) aborted = msg;
      }
      if (aborted) break;
      entry.resume(); // drain whatever the visitor left
    }
  } catch (err) {
    problem(".", `archive damaged or truncated; later entries not read (${errCode(err)})`);
  } finally {
    source.destroy();
    extract.destroy();
  }
  return Math.min(count, limits.maxEntries);
}

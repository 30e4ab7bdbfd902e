/**
 * A .zip bundle, read entry by entry with yauzl (sizes validated against the central directory), never extracted.
 * Names are decoded and checked here (yauzl's own name check would abort the whole archive on the first bad name).
 */
import type { Readable } from "node:stream";
import yauzl from "yauzl";
import { Budget, type BundleLimits, displayName, type EntryVisitor, LimitError, type ProblemSink, sanitizeEntryName } from "./types.js";
import { errCode } from "./dir.js";

export async function readZipBundle(file: string, limits: BundleLimits, visit: EntryVisitor, problem: ProblemSink): Promise<number> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
  } catch (err) {
    problem(".", `not a readable zip archive (${errCode(err)})`);
    return 0;
  }
  const budget = new Budget(limits);
  let count = 0;
  let compressedSum = 0;
  let overlapping = false;
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const raw = entry.fileNameRaw.toString((entry.generalPurposeBitFlag & 0x800) !== 0 ? "utf8" : "latin1");
      const name = displayName(raw);
      if (raw.endsWith("/") || raw.endsWith("\\")) continue; // directory
      const safe = sanitizeEntryName(raw);
      if ("refused" in safe) {
        problem(name, `entry refused: ${safe.refused}`);
        continue;
      }
      const unixType = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (unixType === 0o120000) {
        problem(safe.path, "symbolic link entry not followed");
        continue;
      }
      if (++count > limits.maxEntries) {
        if (count === limits.maxEntries + 1) problem(safe.path, `more than ${limits.maxEntries} entries; the rest are not read`);
        continue;
      }
      compressedSum += entry.compressedSize;
      if (compressedSum > zip.fileSize && !overlapping) {
        overlapping = true;
        problem(safe.path, "entries overlap (compressed sizes exceed the archive): zip bomb; this and later entries are not read");
      }
      if (overlapping) continue;
      if (entry.isEncrypted()) {
        problem(safe.path, "encrypted entry; not read");
        continue;
      }
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        problem(safe.path, `declares ${entry.uncompressedSize} bytes, above the ${limits.maxEntryBytes}-byte limit; not read`);
        continue;
      }
      if (
        entry.uncompressedSize > limits.ratioFloorBytes &&
        entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio
      ) {
        problem(safe.path, `compression ratio ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1 above ${limits.maxRatio}:1 (decompression bomb?); not read`);
        continue;
      }
      if (budget.total + entry.uncompressedSize > limits.maxTotalBytes) {
        problem(safe.path, `bundle would exceed ${limits.maxTotalBytes} bytes uncompressed; not read`);
        continue;
      }
      let stream: Readable | null = null;
      try {
        stream = await zip.openReadStreamPromise(entry);
        await visit({ path: safe.path, size: entry.uncompressedSize }, budget.meter(stream, entry.compressedSize));
      } catch (err) {
        problem(safe.path, err instanceof LimitError ? err.message : `cannot read (${errCode(err)})`);
      } finally {
        stream?.destroy();
      }
    }
  } catch (err) {
    problem(".", `zip archive damaged; later entries not read (${errCode(err)})`);
  } finally {
    zip.close();
  }
  return Math.min(count, limits.maxEntries);
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const onEntry = (e: yauzl.Entry): void => {
      cleanup();
      resolve(e);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      zip.off("entry", onEntry);
      zip.off("end", onEnd);
      zip.off("error", onError);
    };
    zip.on("entry", onEntry);
    zip.on("end", onEnd);
    zip.on("error", onError);
    zip.readEntry();
  });
}

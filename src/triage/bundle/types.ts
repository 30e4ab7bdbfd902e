/** Reading a bundle: entries are streamed to a visitor one at a time, never extracted to disk. */

export interface BundleLimits {
  /** Entries looked at; the rest are refused. */
  maxEntries: number;
  /** Uncompressed bytes read from one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes read from the whole bundle. */
  maxTotalBytes: number;
  /** Uncompressed/compressed ratio above which an entry (or a .tar.gz) is treated as a decompression bomb... */
  maxRatio: number;
  /** ...once it has produced more than this many bytes. */
  ratioFloorBytes: number;
  /** Directory depth for directory bundles. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxEntries: 200_000,
  maxEntryBytes: 8 * 1024 ** 3,
  maxTotalBytes: 64 * 1024 ** 3,
  maxRatio: 500,
  ratioFloorBytes: 16 * 1024 ** 2,
  maxDepth: 32,
};

export interface EntryInfo {
  /** Sanitised path relative to the bundle root, "/" separators, no "..", no drive or leading slash. */
  path: string;
  /** Declared uncompressed size, when the container says. */
  size: number | null;
  /** Directory bundles only: the file on disk and the bundle's byte budget, for readers that bypass `chunks`. */
  local?: { path: string; budget: Budget };
}

export type EntryVisitor = (entry: EntryInfo, chunks: AsyncIterable<Buffer>) => Promise<void>;
export type ProblemSink = (file: string, message: string) => void;

export class LimitError extends Error {
  override readonly name = "LimitError";
}

/**
 * Make an archive member name safe to report and classify. Returns null (with the reason) for names that try to
 * leave the bundle: absolute paths, drive letters, UNC, ".." segments, NUL or control characters.
 */
export function sanitizeEntryName(raw: string): { path: string } | { refused: string } {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) return { refused: "control character in entry name" };
  const s = raw.replace(/\\/g, "/");
  if (s.startsWith("/") || /^[a-zA-Z]:/.test(s)) return { refused: "absolute path in entry name (path traversal)" };
  const parts = s.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) return { refused: "'..' in entry name (path traversal)" };
  if (!parts.length) return { refused: "empty entry name" };
  if (parts.join("/").length > 4096) return { refused: "entry name longer than 4096 characters" };
  return { path: parts.join("/") };
}

/** Shown in messages: hostile names escaped and cut. */
export function displayName(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const s = raw.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

export const entryLimitMessage = (max: number): string => `entry exceeds ${max} bytes uncompressed; rest not read`;
export const totalLimitMessage = (max: number): string => `bundle exceeds ${max} bytes uncompressed; rest not read`;

/** Byte budget shared by all entries of one bundle. */
export class Budget {
  total = 0;
  constructor(readonly limits: BundleLimits) {}

  /** Wrap an entry's chunks: counts bytes, enforces the per-entry and total limits, and an optional ratio check. */
  async *meter(chunks: AsyncIterable<Buffer>, compressedSize: number | null): AsyncGenerator<Buffer> {
    let n = 0;
    for await (const c of chunks) {
      n += c.length;
      this.total += c.length;
      if (n > this.limits.maxEntryBytes) throw new LimitError(entryLimitMessage(this.limits.maxEntryBytes));
      if (this.total > this.limits.maxTotalBytes) throw new LimitError(totalLimitMessage(this.limits.maxTotalBytes));
      if (compressedSize !== null && n > this.limits.ratioFloorBytes && n / Math.max(1, compressedSize) > this.limits.maxRatio)
        throw new LimitError(`compression ratio above ${this.limits.maxRatio}:1 (decompression bomb?); rest not read`);
      yield c;
    }
  }
}

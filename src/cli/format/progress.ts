/** One-line progress for a terminal (scan and import): bar, counts, rate and ETA, redrawn with "\r" on stderr. */
import type { ImportSummary } from "../../pipeline/importDriver.js";
import type { ScanProgress } from "../../pipeline/scan.js";

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"#".repeat(filled)}${" ".repeat(width - filled)}]`;
}

/** Seconds left at the current rate; null when it cannot be told. */
function eta(done: number, total: number, rate: number): number | null {
  return rate > 0 && total > 0 ? Math.max(0, Math.round((total - done) / rate)) : null;
}

export function progressLine(p: ScanProgress, width = 28): string {
  const seconds = Math.max(0.001, (Date.now() - p.startedAt) / 1000);
  const rate = p.done / seconds;
  return `${bar(p.total > 0 ? p.done / p.total : 0, width)} ${p.done}/${p.total} ${rate.toFixed(0)}/s ETA ${eta(p.done, p.total, rate) ?? 0}s  answered ${p.responded}  Exchange ${p.exchange}   `;
}

const MB = 1024 * 1024;

/**
 * Import progress: bytes read of the input's size (compressed size for gzip; unknown on stdin: no bar, no ETA),
 * MB/s, ETA, records and Exchange so far.
 */
export function importProgressLine(s: Pick<ImportSummary, "bytes" | "records" | "exchange" | "malformed">, totalBytes: number | null, startedAt: number, width = 28): string {
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  const rate = s.bytes / MB / seconds;
  const size = totalBytes !== null && totalBytes > 0 ? totalBytes : null;
  const left = size !== null ? eta(s.bytes / MB, size / MB, rate) : null;
  const amount = size !== null ? `${bar(s.bytes / size, width)} ${(s.bytes / MB).toFixed(1)}/${(size / MB).toFixed(1)} MB` : `${(s.bytes / MB).toFixed(1)} MB`;
  return `${amount} ${rate.toFixed(1)} MB/s${left !== null ? ` ETA ${left}s` : ""}  records ${s.records}  Exchange ${s.exchange}  malformed ${s.malformed}   `;
}

/** Calls `draw` at most once per `intervalMs` (the first time after `intervalMs`, so short runs print nothing). */
export function throttled<T>(draw: (value: T) => void, intervalMs = 200, now: () => number = Date.now): { update: (value: T) => void; drawn: () => boolean } {
  let last = now();
  let any = false;
  return {
    update: (value) => {
      const t = now();
      if (t - last < intervalMs) return;
      last = t;
      any = true;
      draw(value);
    },
    drawn: () => any,
  };
}

/** One-line progress for a terminal: bar, counts, rate and ETA. */
import type { ScanProgress } from "../../pipeline/scan.js";

export function progressLine(p: ScanProgress, width = 28): string {
  const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(fraction * width);
  const seconds = Math.max(0.001, (Date.now() - p.startedAt) / 1000);
  const rate = p.done / seconds;
  const eta = rate > 0 && p.total > p.done ? Math.round((p.total - p.done) / rate) : 0;
  return `[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${p.done}/${p.total} ${rate.toFixed(0)}/s ETA ${eta}s  answered ${p.responded}  Exchange ${p.exchange}   `;
}

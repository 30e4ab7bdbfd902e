/** From findings to a verdict and a timeline. Pure. */
import type { Finding, Verdict } from "./types.js";

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;
/** A file-only look-alike (archive, dump, unknown page) is corroborated by a log indicator this close in time. */
export const CORROBORATION_WINDOW_MS = 3 * 24 * 3600 * 1000;

export function isFileOnly(f: Finding): boolean {
  return f.benignLookalike === true;
}

/**
 * File-only hits that benign software also produces stay `suspicious` unless a log indicator backs them:
 * any log finding whose effect is `compromised`, or any log finding within three days of the file's last write.
 */
export function corroborate(findings: Finding[], isLogFinding: (f: Finding) => boolean): Finding[] {
  const logs = findings.filter(isLogFinding);
  const anyCompromisedLog = logs.some((f) => f.effect === "compromised");
  const logTimes = logs.map((f) => (f.timestamp ? Date.parse(f.timestamp) : NaN)).filter((t) => !Number.isNaN(t));
  return findings.map((f) => {
    if (!isFileOnly(f)) return f;
    const t = f.timestamp ? Date.parse(f.timestamp) : NaN;
    const near = !Number.isNaN(t) && logTimes.some((lt) => Math.abs(lt - t) <= CORROBORATION_WINDOW_MS);
    if (anyCompromisedLog || near) return { ...f, effect: "compromised", corroborated: true };
    return { ...f, effect: "suspicious" };
  });
}

export function verdictOf(findings: Finding[]): Verdict {
  if (findings.some((f) => f.effect === "compromised")) return "compromised";
  if (findings.length) return "suspicious";
  return "no-indicators";
}

/** Timeline order: by time (undated last), then severity, file, line. */
export function sortTimeline(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => {
    if (a.timestamp !== b.timestamp) {
      if (a.timestamp === null) return 1;
      if (b.timestamp === null) return -1;
      return a.timestamp < b.timestamp ? -1 : 1;
    }
    const s = SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
    if (s) return s;
    if (a.file !== b.file) return a.file < b.file ? -1 : 1;
    return (a.line ?? 0) - (b.line ?? 0) || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);
  });
}

export const EXIT_CODES: Record<Verdict, number> = { "no-indicators": 0, suspicious: 1, compromised: 3 };

/** From findings to a verdict and a timeline. Pure. */
import type { Finding, Verdict } from "./types.js";

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 } as const;
/** A file-only look-alike (archive, dump, unknown page) is corroborated by a log indicator this close in time. */
export const CORROBORATION_WINDOW_MS = 3 * 24 * 3600 * 1000;

export function isFileOnly(f: Finding): boolean {
  return f.benignLookalike === true;
}

export interface Judged {
  /** Findings that count in the verdict. */
  findings: Finding[];
  /** Findings of rules that count only after a CVE check hit, when none did. */
  setAside: Finding[];
}

/**
 * Test-ProxyLogon (since CSS-Exchange PR #386) lists its suspicious files only when one of its CVE checks hit: a
 * `requiresCveHit` finding without any CVE log finding is set aside. File-only hits that benign software also
 * produces stay `suspicious` unless a log finding lies within three days of the file's last write (an antivirus
 * archive from 2019 stays suspicious on a server hit in 2021).
 */
export function corroborate(findings: Finding[], isLogFinding: (f: Finding) => boolean): Judged {
  const logs = findings.filter(isLogFinding);
  const cveHit = logs.some((f) => f.cve !== null);
  const logTimes = logs.map((f) => (f.timestamp ? Date.parse(f.timestamp) : NaN)).filter((t) => !Number.isNaN(t));
  const kept: Finding[] = [];
  const setAside: Finding[] = [];
  for (const f of findings) {
    if (f.requiresCveHit && !cveHit) {
      setAside.push({ ...f, effect: "suspicious" });
      continue;
    }
    if (!isFileOnly(f)) {
      kept.push(f);
      continue;
    }
    const t = f.timestamp ? Date.parse(f.timestamp) : NaN;
    const near = !Number.isNaN(t) && logTimes.some((lt) => Math.abs(lt - t) <= CORROBORATION_WINDOW_MS);
    if (near) kept.push({ ...f, effect: "compromised", corroborated: true });
    else kept.push({ ...f, effect: "suspicious" });
  }
  return { findings: kept, setAside };
}

/** `examined`: the bundle held at least one log line or event record the rules could read. */
export function verdictOf(findings: Finding[], examined = true): Verdict {
  if (findings.some((f) => f.effect === "compromised")) return "compromised";
  if (findings.length) return "suspicious";
  return examined ? "no-indicators" : "not-examined";
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

/** 0 no-indicators, 1 suspicious, 3 compromised, 4 not examined (2 is the CLI's usage error). */
export const EXIT_CODES: Record<Verdict, number> = { "no-indicators": 0, suspicious: 1, compromised: 3, "not-examined": 4 };

/** Shared types of `vigie triage`: what a rule produces and what a bundle is judged to be. No I/O here. */

export type Severity = "critical" | "high" | "medium" | "low";
/** What one finding alone says about the server. */
export type Effect = "compromised" | "suspicious";
/**
 * `not-examined`: nothing fired, but the bundle held no log the rules could read (not a tar, empty folder, only
 * unknown files), so there is nothing to say "no indicators" about.
 */
export type Verdict = "compromised" | "suspicious" | "no-indicators" | "not-examined";

/** The kinds of evidence a bundle holds, decided from each file's path (and, for event logs, its content). */
export type LogType = "httpproxy" | "iis" | "ecp" | "oabgen" | "eventlog";
export const LOG_TYPES: readonly LogType[] = ["httpproxy", "iis", "ecp", "oabgen", "eventlog"];

export interface SourceRef {
  title: string;
  url: string;
}

export interface Finding {
  /** Rule id, e.g. "proxylogon.cve-2021-26855.httpproxy-ssrf" or "yara:Vigie_Webshell_ChinaChopper_Aspx". */
  rule: string;
  title: string;
  severity: Severity;
  effect: Effect;
  cve: string | null;
  technique: string | null;
  /** Path relative to the bundle root, with "/" separators. */
  file: string;
  /** 1-based line (or first line of an event record); null for whole-file findings. */
  line: number | null;
  /** Byte offset of the line or match in the (decoded) file, when known. */
  offset: number | null;
  /** ISO 8601 UTC, when the evidence carries a time. */
  timestamp: string | null;
  sourceIp: string | null;
  /** Escaped and shortened evidence, safe to print on a terminal. */
  excerpt: string;
  /** True when a file-only finding was raised to `compromised` because a log indicator backs it. */
  corroborated?: boolean;
  /** File-only hits that benign software also produces (archives in ProgramData, dumps): suspicious unless corroborated. */
  benignLookalike?: boolean;
  /** Test-ProxyLogon's suspicious files (LSASS dumps, archives in ProgramData): counted only when a CVE check hit. */
  requiresCveHit?: boolean;
  /** Event log findings: the channel the event was logged in (System/Channel), e.g. "Microsoft-Windows-Sysmon/Operational". */
  channel?: string;
}

/** Event logs by the channel their records name (System/Channel), not by their file name. */
export interface ChannelCoverage {
  channel: string;
  files: number;
  records: number;
  first: string | null;
  last: string | null;
  days: number | null;
}

export interface LogCoverage {
  logType: LogType;
  files: number;
  lines: number;
  bytes: number;
  first: string | null;
  last: string | null;
  /** Days between the first and the last timestamp seen, one decimal. */
  days: number | null;
  /** Event logs only: coverage per channel. */
  channels?: ChannelCoverage[];
}

/** A file that could not be (fully) read, or a bundle entry that was refused. The rest is still checked. */
/**
 * Coverage of one log family: a log type, split by HttpProxy protocol folder (Autodiscover, Ecp, Ews, Owa, ...) as
 * Test-ProxyLogon reports its log age per folder. Days are the span between the first and last timestamp read.
 */
export interface FamilyCoverage {
  /** "httpproxy/Ecp", "httpproxy/Owa", "iis", "ecp", "oabgen", "eventlog", ... */
  family: string;
  logType: LogType;
  files: number;
  lines: number;
  first: string | null;
  last: string | null;
  days: number | null;
}

export interface TriageProblem {
  file: string;
  message: string;
}

export interface TriageResult {
  bundle: string;
  verdict: Verdict;
  findings: Finding[];
  coverage: LogCoverage[];
  /** Days per log family (HttpProxy per protocol folder), only the families present. */
  families: FamilyCoverage[];
  problems: TriageProblem[];
  /** File look-alikes not counted because no CVE check hit (Test-ProxyLogon's rule since CSS-Exchange PR #386). */
  setAside: Finding[];
  /** Why the verdict is `not-examined` (what could not be examined); null otherwise. */
  notExamined: string | null;
  stats: { files: number; bytes: number; yaraFiles: number; listedFiles: number };
}

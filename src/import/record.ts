/**
 * What every import format shares: the record error (a malformed record is skipped and named), the context
 * (format, fallback date) and building an Observation from an HTTP response through `evidenceFromHttp`, the
 * same extraction the live scanner uses.
 */
import { isIP } from "node:net";
import { evidenceFromHttp, type Headers } from "../identify/httpEvidence.js";
import { bounded, type Certificate, type Evidence, type Observation } from "../pipeline/vocabulary.js";

export const IMPORT_FORMATS = ["zgrab2", "shodan", "censys", "nmap-xml", "masscan", "jsonl"] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** A record that cannot be used: the reason is reported with the line number, the record skipped. */
export class RecordError extends Error {
  override readonly name = "RecordError";
}

export interface RecordContext {
  format: ImportFormat;
  /** observedAt for records that carry no timestamp: the --date at midnight UTC. */
  defaultObservedAt: string;
}

/** Bodies are cut before evidence extraction (the live scanner reads at most as much). */
export const MAX_BODY_CHARS = 256 * 1024;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function parseJsonObject(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new RecordError(`not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  if (!isObject(v)) throw new RecordError("not a JSON object");
  return v;
}

export function requireIp(v: unknown, field = "ip"): string {
  const ip = str(v)?.trim();
  if (!ip) throw new RecordError(`no "${field}"`);
  if (isIP(ip) === 0) throw new RecordError(`"${field}" is not an IP address: ${JSON.stringify(ip.slice(0, 60))}`);
  return ip;
}

export function requirePort(v: unknown): number {
  const p = typeof v === "string" && /^\d{1,5}$/.test(v) ? Number(v) : num(v);
  if (p === undefined || !Number.isInteger(p) || p < 0 || p > 65535) throw new RecordError(`bad port: ${JSON.stringify(v)?.slice(0, 40)}`);
  return p;
}

/** A record's timestamp as ISO 8601 (seconds since 1970 or a date string); the default when absent. */
export function observedAtOf(v: unknown, ctx: RecordContext): string {
  if (v === undefined || v === null || v === "") return ctx.defaultObservedAt;
  let d: Date;
  if (typeof v === "number" || (typeof v === "string" && /^\d{9,11}$/.test(v))) d = new Date(Number(v) * 1000);
  else if (typeof v === "string") d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || !/T|\d:\d/.test(v) ? v : `${v.replace(" ", "T")}Z`);
  else throw new RecordError("bad timestamp");
  if (Number.isNaN(d.getTime())) throw new RecordError(`bad timestamp: ${JSON.stringify(v).slice(0, 60)}`);
  return d.toISOString();
}

export interface HttpRecord {
  ip: string;
  port: number;
  hostname: string | null;
  observedAt: string;
  tls: boolean;
  path: string;
  status: number;
  headers: Headers;
  body?: string;
  certificate?: Certificate;
  /** Extra evidence the format states (e.g. a build another scanner parsed). */
  extra?: Evidence[];
}

export function observationFromHttp(r: HttpRecord, ctx: RecordContext): Observation {
  const probe = `import:${ctx.format}`;
  const http = evidenceFromHttp({
    probe,
    path: r.path,
    status: r.status,
    headers: r.headers,
    ...(r.body !== undefined ? { body: r.body.length > MAX_BODY_CHARS ? r.body.slice(0, MAX_BODY_CHARS) : r.body } : {}),
    hosts: [r.ip, r.hostname, ...(r.certificate?.sans ?? []).slice(0, 20)],
  });
  const evidence = [...http.evidence, ...(r.extra ?? [])].slice(0, 200);
  const o: Observation = {
    ip: r.ip,
    port: r.port,
    hostname: r.hostname !== null ? bounded(r.hostname, 256) : null,
    source: probe,
    observedAt: r.observedAt,
    responded: true,
    tls: r.tls,
    evidence,
    errors: [],
  };
  if (http.title !== undefined) o.title = bounded(http.title, 512);
  if (r.certificate) o.certificate = r.certificate;
  return o;
}

/** An open port with nothing read from it (masscan, a failed grab). */
export function bareObservation(ip: string, port: number, observedAt: string, ctx: RecordContext, errors: string[] = []): Observation {
  return {
    ip,
    port,
    hostname: null,
    source: `import:${ctx.format}`,
    observedAt,
    responded: true,
    tls: port === 443,
    evidence: [],
    errors: errors.slice(0, 50).map((e) => bounded(e, 300)),
  };
}

/** "HTTP/1.1 200 OK\r\nName: value\r\n…" (Shodan's banner) -> status and headers (repeated names joined). */
export function parseRawHttpHead(raw: string): { status: number; headers: Record<string, string[]> } | undefined {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const lines = head.split(/\r?\n/);
  const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(lines[0] ?? "");
  if (!m) return undefined;
  const headers: Record<string, string[]> = {};
  for (const l of lines.slice(1, 200)) {
    const i = l.indexOf(":");
    if (i <= 0) continue;
    const name = l.slice(0, i).trim().toLowerCase();
    (headers[name] ??= []).push(l.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

export function certificateOf(c: {
  subject?: string;
  issuer?: string;
  sans?: string[];
  validFrom?: string;
  validTo?: string;
  fingerprint256?: string;
}): Certificate {
  const subject = bounded(c.subject ?? "", 1024);
  const issuer = bounded(c.issuer ?? "", 1024);
  return {
    subject,
    issuer,
    sans: (c.sans ?? []).slice(0, 100).map((s) => bounded(s, 256)),
    validFrom: bounded(c.validFrom ?? "", 64),
    validTo: bounded(c.validTo ?? "", 64),
    fingerprint256: bounded(c.fingerprint256 ?? "", 128),
    selfSigned: subject !== "" && subject === issuer,
  };
}

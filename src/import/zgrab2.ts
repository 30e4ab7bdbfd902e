/**
 * zgrab2 JSON lines (zmap/zgrab2, zgrab2_schemas/zgrab2/http.py): one object per host,
 * {"ip", "domain"?, "data": {"<scan name>": {"status", "protocol", "timestamp"?, "result": {"response": {
 *   "status_code", "headers": {<lower_snake name>: [values], "unknown": [{"key", "value": [..]}]}, "body",
 *   "request": {"url": {"scheme", "host", "path"}, "tls_log": {"handshake_log": {"server_certificates": …}}}}}}}}.
 * Every scan entry whose result holds an HTTP response becomes one Observation. A host whose grabs all failed is a
 * valid record with no observation.
 */
import type { Headers } from "../identify/httpEvidence.js";
import type { Certificate, Observation } from "../pipeline/vocabulary.js";
import {
  certificateOf,
  isObject,
  num,
  observationFromHttp,
  observedAtOf,
  parseJsonObject,
  RecordError,
  requireIp,
  str,
  type RecordContext,
} from "./record.js";

function flattenHeaders(h: unknown): Headers {
  if (!isObject(h)) return {};
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === "unknown" && Array.isArray(v)) {
      for (const u of v) {
        if (!isObject(u)) continue;
        const key = str(u.key);
        const value = Array.isArray(u.value) ? u.value.filter((x): x is string => typeof x === "string") : str(u.value);
        if (key !== undefined && value !== undefined) out[key] = value;
      }
    } else if (Array.isArray(v)) {
      out[k] = v.filter((x): x is string => typeof x === "string");
    } else if (typeof v === "string") {
      out[k] = v;
    }
  }
  return out;
}

function portOf(url: Record<string, unknown> | undefined): { port: number; tls: boolean } {
  const scheme = str(url?.scheme)?.toLowerCase();
  const host = str(url?.host) ?? "";
  const m = /:(\d{1,5})$/.exec(host);
  const tls = scheme === "https";
  const port = m ? Number(m[1]) : tls ? 443 : 80;
  if (port > 65535) throw new RecordError(`bad port in request url host ${JSON.stringify(host.slice(0, 60))}`);
  return { port, tls };
}

function certificateFrom(request: Record<string, unknown> | undefined): Certificate | undefined {
  const log = isObject(request?.tls_log) ? request.tls_log : undefined;
  const hs = isObject(log?.handshake_log) ? log.handshake_log : undefined;
  const sc = isObject(hs?.server_certificates) ? hs.server_certificates : undefined;
  const cert = isObject(sc?.certificate) ? sc.certificate : undefined;
  const parsed = isObject(cert?.parsed) ? cert.parsed : undefined;
  if (!parsed) return undefined;
  const validity = isObject(parsed.validity) ? parsed.validity : {};
  const ext = isObject(parsed.extensions) ? parsed.extensions : {};
  const san = isObject(ext.subject_alt_name) ? ext.subject_alt_name : {};
  return certificateOf({
    subject: str(parsed.subject_dn),
    issuer: str(parsed.issuer_dn),
    sans: Array.isArray(san.dns_names) ? san.dns_names.filter((x): x is string => typeof x === "string") : [],
    validFrom: str(validity.start),
    validTo: str(validity.end),
    fingerprint256: str(parsed.fingerprint_sha256),
  });
}

export function parseZgrab2(text: string, ctx: RecordContext): Observation[] {
  const rec = parseJsonObject(text);
  const ip = requireIp(rec.ip);
  if (!isObject(rec.data)) throw new RecordError('no "data" object');
  const hostname = str(rec.domain) ?? null;
  const out: Observation[] = [];
  for (const scan of Object.values(rec.data)) {
    if (!isObject(scan)) continue;
    const result = isObject(scan.result) ? scan.result : undefined;
    const response = isObject(result?.response) ? result.response : undefined;
    if (!response) continue;
    const status = num(response.status_code);
    if (status === undefined) throw new RecordError("response without a numeric status_code");
    const request = isObject(response.request) ? response.request : undefined;
    const url = isObject(request?.url) ? request.url : undefined;
    const { port, tls } = portOf(url);
    const body = str(response.body);
    const certificate = certificateFrom(request);
    out.push(
      observationFromHttp(
        {
          ip,
          port,
          hostname,
          observedAt: observedAtOf(scan.timestamp ?? rec.timestamp, ctx),
          tls,
          path: str(url?.path) ?? "/",
          status,
          headers: flattenHeaders(response.headers),
          ...(body !== undefined ? { body } : {}),
          ...(certificate ? { certificate } : {}),
        },
        ctx,
      ),
    );
  }
  return out;
}

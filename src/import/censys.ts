/**
 * Censys host documents as JSON lines (Search 2.0 host export / BigQuery rows):
 * {"ip", "last_updated_at", "dns": {"names": []}, "services": [{"port", "service_name": "HTTP",
 *  "extended_service_name": "HTTPS", "http": {"request": {"uri"}, "response": {"status_code", "headers", "body"}},
 *  "tls": {"certificates": {"leaf_data": {"subject_dn", "issuer_dn"}}}, "software": [{"product", "version"}]}]}.
 * Censys gives headers as {"Name": {"headers": [..]}} or {"Name": [..]} or [{"key", "value": {"headers": [..]}}]:
 * all three are read. Each HTTP service becomes one Observation; other services an open-port Observation.
 */
import type { Headers } from "../identify/httpEvidence.js";
import type { Evidence, Observation } from "../pipeline/vocabulary.js";
import { bounded } from "../pipeline/vocabulary.js";
import { parseBuild } from "../knowledge/buildNumber.js";
import {
  bareObservation,
  certificateOf,
  isObject,
  num,
  observationFromHttp,
  observedAtOf,
  parseJsonObject,
  RecordError,
  requireIp,
  requirePort,
  str,
  type RecordContext,
} from "./record.js";

function values(v: unknown): string[] | undefined {
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (isObject(v)) return values(v.headers);
  return undefined;
}

function headersOf(h: unknown): Headers {
  const out: Record<string, string[]> = {};
  if (Array.isArray(h)) {
    for (const e of h) {
      if (!isObject(e)) continue;
      const k = str(e.key);
      const v = values(e.value);
      if (k !== undefined && v !== undefined) out[k] = v;
    }
  } else if (isObject(h)) {
    for (const [k, v] of Object.entries(h)) {
      const vs = values(v);
      if (vs !== undefined) out[k] = vs;
    }
  }
  return out;
}

export function parseCensys(text: string, ctx: RecordContext): Observation[] {
  const rec = parseJsonObject(text);
  const ip = requireIp(rec.ip);
  if (!Array.isArray(rec.services)) throw new RecordError('no "services" array');
  const dns = isObject(rec.dns) ? rec.dns : undefined;
  const names = Array.isArray(dns?.names) ? dns.names.filter((x): x is string => typeof x === "string") : [];
  const hostname = names[0] ?? null;
  const out: Observation[] = [];
  for (const s of rec.services) {
    if (!isObject(s)) continue;
    const port = requirePort(s.port);
    const observedAt = observedAtOf(s.observed_at ?? rec.last_updated_at, ctx);
    const http = isObject(s.http) ? s.http : undefined;
    const response = isObject(http?.response) ? http.response : undefined;
    if (!response) {
      out.push(bareObservation(ip, port, observedAt, ctx));
      continue;
    }
    const request = isObject(http?.request) ? http.request : undefined;
    let path = "/";
    const uri = str(request?.uri);
    if (uri) {
      try {
        path = new URL(uri).pathname;
      } catch {
        path = uri.startsWith("/") ? uri : "/";
      }
    }
    const extra: Evidence[] = [];
    for (const sw of Array.isArray(s.software) ? s.software : []) {
      if (!isObject(sw)) continue;
      const product = str(sw.product) ?? "";
      const version = str(sw.version);
      if (/exchange/i.test(product) && version) {
        const b = parseBuild(version);
        extra.push({
          probe: `import:${ctx.format}`,
          kind: "imported-build",
          field: "censys software product/version",
          value: bounded(`${product} ${version}`, 2048),
          ...(b && b.parts.length >= 2 ? { build: b.text } : {}),
        });
      }
    }
    const tls = isObject(s.tls) ? s.tls : undefined;
    const certs = isObject(tls?.certificates) ? tls.certificates : undefined;
    const leaf = isObject(certs?.leaf_data) ? certs.leaf_data : undefined;
    const body = str(response.body);
    out.push(
      observationFromHttp(
        {
          ip,
          port,
          hostname,
          observedAt,
          tls: tls !== undefined || /https/i.test(str(s.extended_service_name) ?? ""),
          path,
          status: num(response.status_code) ?? 0,
          headers: headersOf(response.headers),
          ...(body !== undefined ? { body } : {}),
          ...(leaf ? { certificate: certificateOf({ subject: str(leaf.subject_dn), issuer: str(leaf.issuer_dn), fingerprint256: str(leaf.fingerprint) }) } : {}),
          extra,
        },
        ctx,
      ),
    );
  }
  return out;
}

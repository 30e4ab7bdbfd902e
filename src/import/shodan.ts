/**
 * Shodan banners as JSON lines (`shodan download` / `shodan parse` output, the REST API's banner objects):
 * {"ip_str", "port", "timestamp", "hostnames": [], "data": "HTTP/1.1 200 OK\r\nHeader: v…",
 *  "http": {"status", "title", "html", "location"}, "ssl": {"cert": {"subject": {"CN"}, "issuer": {…}, "expires"}},
 *  "product", "version"}. The raw head in "data" gives the headers; "http.html" the body. A version Shodan parsed
 * for Microsoft Exchange is kept as lower-weight "imported-build" evidence.
 */
import type { Evidence, Observation } from "../pipeline/vocabulary.js";
import {
  bareObservation,
  certificateOf,
  isObject,
  num,
  observationFromHttp,
  observedAtOf,
  parseJsonObject,
  parseRawHttpHead,
  requireIp,
  requirePort,
  str,
  type RecordContext,
} from "./record.js";
import { parseBuild } from "../knowledge/buildNumber.js";
import { bounded } from "../pipeline/vocabulary.js";

function dn(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  return Object.entries(v)
    .filter(([, x]) => typeof x === "string")
    .map(([k, x]) => `${k}=${x as string}`)
    .join(", ");
}

export function parseShodan(text: string, ctx: RecordContext): Observation[] {
  const rec = parseJsonObject(text);
  const ip = requireIp(rec.ip_str ?? rec.ip_address ?? (typeof rec.ip === "string" ? rec.ip : undefined), "ip_str");
  const port = requirePort(rec.port);
  const observedAt = observedAtOf(rec.timestamp, ctx);
  const hostnames = Array.isArray(rec.hostnames) ? rec.hostnames.filter((h): h is string => typeof h === "string") : [];
  const http = isObject(rec.http) ? rec.http : undefined;
  const ssl = isObject(rec.ssl) ? rec.ssl : undefined;
  const data = str(rec.data) ?? "";
  const head = parseRawHttpHead(data);
  if (!http && !head) return [bareObservation(ip, port, observedAt, ctx)];
  const extra: Evidence[] = [];
  const product = str(rec.product);
  const version = str(rec.version);
  if (product && /exchange/i.test(product) && version) {
    const b = parseBuild(version);
    extra.push({
      probe: `import:${ctx.format}`,
      kind: "imported-build",
      field: "shodan product/version",
      value: bounded(`${product} ${version}`, 2048),
      ...(b && b.parts.length >= 2 ? { build: b.text } : {}),
    });
  }
  const cert = ssl && isObject(ssl.cert) ? ssl.cert : undefined;
  const body = str(http?.html);
  const location = str(http?.location) ?? "/";
  return [
    observationFromHttp(
      {
        ip,
        port,
        hostname: hostnames[0] ?? null,
        observedAt,
        tls: ssl !== undefined || port === 443,
        path: location.startsWith("/") ? location : "/",
        status: head?.status ?? num(http?.status) ?? 0,
        headers: head?.headers ?? {},
        ...(body !== undefined ? { body } : {}),
        ...(cert
          ? {
              certificate: certificateOf({
                subject: dn(cert.subject),
                issuer: dn(cert.issuer),
                validFrom: str(cert.issued),
                validTo: str(cert.expires),
                fingerprint256: isObject(cert.fingerprint) ? str(cert.fingerprint.sha256) : undefined,
              }),
            }
          : {}),
        extra,
      },
      ctx,
    ),
  ];
}

/**
 * masscan output: open ports only, so every host is `responded` with no Exchange evidence (product null).
 * JSON (-oJ): one host object per line, inside "[" … "]" lines and with trailing commas:
 *   {"ip": "192.0.2.1", "timestamp": "1614556800", "ports": [{"port": 443, "proto": "tcp", "status": "open"}]},
 * List (-oL): "open tcp 443 192.0.2.1 1614556800"; with --show closed, "closed tcp …" (a record without an open
 *   port); with --banners, "banner tcp 443 192.0.2.1 1614556800 <service> <banner>" adds nothing; "#" comments
 *   (masscan src/out-text.c).
 * Grepable (-oG): "Timestamp: 1614556800<TAB>Host: 192.0.2.1 ()<TAB>Ports: 443/open/tcp//https//"; banner lines
 *   "Host: 192.0.2.1 ()<TAB>Port: 443<TAB>Service: …<TAB>Banner: …" add nothing (masscan src/out-grepable.c).
 */
import type { Observation } from "../pipeline/vocabulary.js";
import { bareObservation, isObject, observedAtOf, parseJsonObject, RecordError, requireIp, requirePort, str, type RecordContext } from "./record.js";

/** null for lines that are not records (brackets, comments). */
export function parseMasscan(text: string, ctx: RecordContext): Observation[] | null {
  const t = text.trim();
  if (t === "[" || t === "]" || t === "," || t === "" || t.startsWith("#") || t === "{finished: 1}") return null;
  if (t.startsWith("{")) {
    const rec = parseJsonObject(t.endsWith(",") ? t.slice(0, -1) : t);
    const ip = requireIp(rec.ip);
    const observedAt = observedAtOf(rec.timestamp, ctx);
    if (!Array.isArray(rec.ports)) throw new RecordError('no "ports" array');
    return rec.ports
      .filter((p): p is Record<string, unknown> => isObject(p) && (str(p.status) ?? "open") === "open" && (str(p.proto) ?? "tcp") === "tcp")
      .map((p) => bareObservation(ip, requirePort(p.port), observedAt, ctx));
  }
  if (/^(Timestamp:|Host:)/.test(t)) {
    const host = /(?:^|\t)Host:\s*(\S+)/.exec(t)?.[1];
    const ports = /(?:^|\t)Ports:\s*(\d+)\/([a-z|]+)\/([a-z]+)\//.exec(t);
    if (!ports) {
      if (/(?:^|\t)Port:\s*\d+/.test(t)) return []; // a banner line: its port has a status line of its own
      throw new RecordError('not a masscan grepable line ("Host: <ip> ()<TAB>Ports: <port>/open/tcp//…")');
    }
    if (ports[2] !== "open" || ports[3] !== "tcp") return [];
    const ts = /^Timestamp:\s*(\d+)/.exec(t)?.[1];
    return [bareObservation(requireIp(host), requirePort(ports[1]), observedAtOf(ts, ctx), ctx)];
  }
  const f = t.split(/\s+/);
  if (f.length >= 5 && f[0] === "banner") return null; // its port has a status line of its own
  if (f.length < 4 || (f[0] !== "open" && f[0] !== "closed")) throw new RecordError('not a masscan list line ("open tcp <port> <ip> <time>")');
  if (f[1] !== "tcp" || f[0] !== "open") return [];
  return [bareObservation(requireIp(f[3]), requirePort(f[2]), observedAtOf(f[4], ctx), ctx)];
}

/**
 * nmap XML (-oX, nmap.dtd): the document is read host by host — the text from "<host" to "</host>" is parsed on
 * its own, so memory stays flat on any size and a broken host element is skipped and named by its first line.
 * Per open TCP port: the http-headers script output ("  Name: value" lines; nmap does not record the status
 * code, so it is 0 = unknown), http-title (title and redirect_url) and ssl-cert (subject, issuer, SANs, validity).
 */
import { XMLParser } from "fast-xml-parser";
import type { Observation } from "../pipeline/vocabulary.js";
import { bareObservation, certificateOf, isObject, observationFromHttp, observedAtOf, RecordError, requireIp, requirePort, str, type RecordContext } from "./record.js";
import type { RecordOutcome, RecordParser } from "./parser.js";

const MAX_HOST_CHARS = 8 * 1024 * 1024;

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseAttributeValue: false,
  parseTagValue: false,
  // nmap writes line breaks in script output as numeric character references (&#xa;).
  htmlEntities: true,
  isArray: (name) => ["address", "hostname", "port", "script", "elem", "table"].includes(name),
});

const asArray = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? v.filter(isObject) : isObject(v) ? [v] : []);

function elems(node: Record<string, unknown>): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of asArray(node.elem)) {
    const k = str(e["@key"]);
    const v = str(e["#text"]);
    if (k !== undefined && v !== undefined) m.set(k, v);
  }
  return m;
}

function table(node: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  return asArray(node.table).find((t) => t["@key"] === key);
}

function dnOf(t: Record<string, unknown> | undefined): string | undefined {
  if (!t) return undefined;
  return [...elems(t).entries()].map(([k, v]) => `${k}=${v}`).join(", ");
}

export function observationsFromHostXml(text: string, ctx: RecordContext): Observation[] {
  let doc: unknown;
  try {
    doc = xml.parse(text, true);
  } catch (err) {
    throw new RecordError(`bad XML: ${(err as Error).message.split("\n")[0]!.slice(0, 120)}`);
  }
  const host = isObject(doc) && isObject(doc.host) ? doc.host : undefined;
  if (!host) throw new RecordError("no <host> element");
  const address = asArray(host.address).find((a) => a["@addrtype"] === "ipv4" || a["@addrtype"] === "ipv6");
  if (!address) throw new RecordError("no ipv4/ipv6 <address>");
  const ip = requireIp(address["@addr"], "address@addr");
  const hostnames = isObject(host.hostnames) ? asArray(host.hostnames.hostname) : [];
  const hostname = str(hostnames[0]?.["@name"]) ?? null;
  const observedAt = observedAtOf(host["@starttime"] ?? host["@endtime"], ctx);
  const ports = isObject(host.ports) ? asArray(host.ports.port) : [];
  const out: Observation[] = [];
  for (const p of ports) {
    if ((str(p["@protocol"]) ?? "tcp") !== "tcp") continue;
    const state = isObject(p.state) ? str(p.state["@state"]) : undefined;
    if (state !== "open") continue;
    const port = requirePort(p["@portid"]);
    const service = isObject(p.service) ? p.service : {};
    const tls = service["@tunnel"] === "ssl" || /https|ssl/.test(str(service["@name"]) ?? "");
    const scripts = asArray(p.script);
    const byId = (id: string) => scripts.find((s) => s["@id"] === id);
    const headersScript = byId("http-headers");
    const titleScript = byId("http-title");
    const certScript = byId("ssl-cert");
    if (!headersScript && !titleScript) {
      const o = bareObservation(ip, port, observedAt, ctx);
      o.tls = tls;
      o.hostname = hostname;
      out.push(o);
      continue;
    }
    const headers: Record<string, string[]> = {};
    for (const line of (str(headersScript?.["@output"]) ?? "").split(/\r?\n/)) {
      const m = /^\s*([A-Za-z0-9-]{1,80}):\s?(.*)$/.exec(line);
      if (m) (headers[m[1]!.toLowerCase()] ??= []).push(m[2]!.trim());
    }
    let body: string | undefined;
    if (titleScript) {
      const e = elems(titleScript);
      const title = e.get("title") ?? str(titleScript["@output"]);
      if (title !== undefined) body = `<title>${title.replace(/[<>]/g, "")}</title>`;
      const redirect = e.get("redirect_url");
      if (redirect !== undefined && headers.location === undefined) headers.location = [redirect];
    }
    let certificate;
    if (certScript) {
      const validity = table(certScript, "validity");
      const v = validity ? elems(validity) : new Map<string, string>();
      const ext = asArray(table(certScript, "extensions")?.table).find((t) => elems(t).get("name") === "X509v3 Subject Alternative Name");
      const sans = (ext ? (elems(ext).get("value") ?? "") : "").split(/,\s*/).filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
      certificate = certificateOf({
        subject: dnOf(table(certScript, "subject")),
        issuer: dnOf(table(certScript, "issuer")),
        sans,
        validFrom: v.get("notBefore"),
        validTo: v.get("notAfter"),
        fingerprint256: elems(certScript).get("sha256"),
      });
    }
    out.push(
      observationFromHttp(
        { ip, port, hostname, observedAt, tls, path: "/", status: 0, headers, ...(body !== undefined ? { body } : {}), ...(certificate ? { certificate } : {}) },
        ctx,
      ),
    );
  }
  return out;
}

/** Collects host elements across lines; everything outside <host> (nmaprun, scaninfo, runstats) is ignored. */
export function nmapXmlParser(ctx: RecordContext): RecordParser {
  let buf = "";
  let startNo = 0;
  const outcome = (no: number, text: string): RecordOutcome => {
    try {
      return { no, observations: observationsFromHostXml(text, ctx) };
    } catch (err) {
      if (err instanceof RecordError) return { no, error: err.message };
      throw err;
    }
  };
  return {
    line(text, no) {
      const out: RecordOutcome[] = [];
      let rest = text;
      for (;;) {
        if (startNo === 0) {
          const s = rest.search(/<host[\s>]/);
          if (s < 0) return out;
          startNo = no;
          rest = rest.slice(s);
          buf = "";
        }
        const e = rest.indexOf("</host>");
        if (e < 0) {
          buf += rest + "\n";
          if (buf.length > MAX_HOST_CHARS) {
            out.push({ no: startNo, error: `<host> element longer than ${MAX_HOST_CHARS} characters` });
            startNo = 0;
            buf = "";
          }
          return out;
        }
        out.push(outcome(startNo, buf + rest.slice(0, e + 7)));
        startNo = 0;
        buf = "";
        rest = rest.slice(e + 7);
      }
    },
    end() {
      return startNo !== 0 ? [{ no: startNo, error: "<host> element not closed before the end of the file" }] : [];
    },
  };
}

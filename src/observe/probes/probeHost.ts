/**
 * The probe plan for one host:port. Fingerprinting only: every request is a GET a browser or Outlook could
 * send, nothing is changed on the server. Cheapest first, and it stops as soon as the build is exact. Every
 * request of the host (ECP candidates and the active check included) spends one unit of a per-host budget
 * (ProbeContext.maxRequests, default DEFAULT_MAX_REQUESTS).
 *
 *   HTTP(S):  the OWA logon page (markers, headers, build in resource paths) -> /EWS/Exchange.asmx (anonymous
 *             NTLM NEGOTIATE: names, Windows version) -> [no Exchange signal yet: each endpoint family once,
 *             until one shows Exchange — the Autodiscover 401 (X-OWA-Version, X-FEServer), ActiveSync, MAPI, the
 *             ECP export-tool manifest; still nothing: / for the title, stop] -> /owa/service (X-OWA-Version on
 *             2013+) -> the ECP export-tool manifest (4-part build) -> the Autodiscover 401 -> /ecp/<candidate>/
 *             exporttool/ for the candidates of a 3-part build, whichever probe stated it (the installed build
 *             answers 200) -> [--active-checks] the CVE-2021-26855 defender check.
 *   SMTP:     banner and EHLO.
 * Sources for the paths and headers: see src/identify/httpEvidence.ts and emulator/README.md.
 */
import { CLAIM_WEIGHTS } from "../../identify/fingerprint.js";
import { evidenceFromHttp } from "../../identify/httpEvidence.js";
import { parseBuild } from "../../knowledge/buildNumber.js";
import { negotiateMessage, parseChallengeHeader } from "../ntlm.js";
import { bounded, type Evidence, type NtlmInfo, type Observation } from "../../pipeline/vocabulary.js";
import { DEFAULT_LIMITS, HostClient, HttpProbeError, type HttpLimits, type HttpResult } from "../http/hostClient.js";
import { isExchangeSmtp, probeSmtp, smtpEvidence } from "./smtp.js";

export interface ProbeContext {
  limits: HttpLimits;
  /** Known 4-part builds for a 3-part prefix, newest first (from the knowledge base). */
  candidates: (prefix: string) => string[];
  activeChecks: boolean;
  /** Most ECP candidate paths asked per host. */
  maxCandidates: number;
  /** Most HTTP requests per host:port, over every probe including ECP candidates and the active check
   * (default DEFAULT_MAX_REQUESTS, clamped to 1…MAX_REQUESTS_PER_HOST). */
  maxRequests: number;
  /** Awaited before every request (global rate limit). */
  throttle?: () => Promise<void>;
}

/** Requests per host:port by default: enough for every probe of the plan (at most 8) plus 30 ECP candidates. */
export const DEFAULT_MAX_REQUESTS = 40;
/** Upper bound of the per-host request budget, whatever the context asks. */
export const MAX_REQUESTS_PER_HOST = 200;

export const DEFAULT_PROBE_CONTEXT: Omit<ProbeContext, "candidates"> = {
  limits: DEFAULT_LIMITS,
  activeChecks: false,
  maxCandidates: 30,
  maxRequests: DEFAULT_MAX_REQUESTS,
};

interface EndpointFamily {
  probe: string;
  path: string;
}

/** Autodiscover: the 401 of 2013+ carries X-OWA-Version (4 parts) and X-FEServer (emulator/README.md S5). */
const AUTODISCOVER: EndpointFamily = { probe: "autodiscover", path: "/autodiscover/autodiscover.json/v1.0/vigie@example.invalid?Protocol=Autodiscoverv1" };
/** The ECP export-tool ClickOnce manifest: the 4-part build in its assemblyIdentity (Metasploit exchange.rb). */
const EXPORT_TOOL: EndpointFamily = { probe: "exporttool", path: "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application" };

/**
 * The Exchange endpoint families asked, once each and in this order, when neither the logon page nor EWS showed
 * Exchange (a reverse proxy that blocks OWA may still pass what Outlook and phones use). Their 401s carry
 * Exchange's front-end headers (X-FEServer, X-OWA-Version on Autodiscover); see src/identify/httpEvidence.ts.
 */
const ENDPOINT_FAMILIES: readonly EndpointFamily[] = [
  AUTODISCOVER,
  { probe: "activesync", path: "/Microsoft-Server-ActiveSync" },
  { probe: "mapi", path: "/mapi/" },
  EXPORT_TOOL,
];

export const SMTP_PORTS = new Set([25, 465, 587, 2525]);
const PLAIN_HTTP_PORTS = new Set([80, 8080, 8000, 81]);

export interface ProbeTarget {
  ip: string;
  port: number;
  hostname: string | null;
}

/** Connection errors that mean nothing answered on the port. */
const NOT_RESPONDING = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "EADDRNOTAVAIL", "ENOTFOUND"]);

const EXCHANGE_SIGNALS = new Set<Evidence["kind"]>([
  "owa-version-header",
  "exchange-header",
  "exchange-endpoint",
  "logon-page-build",
  "owa-page",
  "exporttool-build",
  "ews-server-version",
]);

/** The MS-defender CVE-2021-26855 check (http-vuln-cve2021-26855.nse): a cookie asking the front end to route an
 * anonymous resource request to "localhost"; a vulnerable front end reports the target in X-CalculatedBETarget.
 * It only reads an answer header; nothing is executed or stored on the server. */
const CVE_2021_26855_COOKIE = "X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;";

export async function probeTarget(target: ProbeTarget, ctx: ProbeContext): Promise<Observation> {
  return SMTP_PORTS.has(target.port) ? probeSmtpTarget(target, ctx) : probeHttpTarget(target, ctx);
}

function newObservation(target: ProbeTarget, tls: boolean): Observation {
  return {
    ip: target.ip,
    port: target.port,
    hostname: target.hostname,
    source: "scan",
    observedAt: new Date().toISOString(),
    responded: false,
    tls,
    evidence: [],
    errors: [],
  };
}

async function probeSmtpTarget(target: ProbeTarget, ctx: ProbeContext): Promise<Observation> {
  const obs = newObservation(target, false);
  try {
    const answer = await probeSmtp(target.ip, target.port, ctx.limits.readTimeoutMs);
    obs.responded = true;
    obs.title = answer.banner;
    obs.evidence.push(...smtpEvidence(answer));
    if (isExchangeSmtp(answer.banner)) {
      obs.evidence.push({ probe: "smtp", kind: "exchange-endpoint", field: "SMTP banner of Exchange (Microsoft ESMTP MAIL Service ready at)", value: answer.banner });
    }
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    obs.responded = !NOT_RESPONDING.has(code);
    obs.errors.push(bounded(`smtp: ${(err as Error).message}`, 300));
  }
  return obs;
}

/** A per-host request counter: every request of one host:port (probes, ECP candidates, the active check) spends one. */
class RequestBudget {
  used = 0;
  constructor(readonly limit: number) {}
  take(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
}

/** The budget a context allows, clamped to [1, MAX_REQUESTS_PER_HOST]. */
export function requestLimit(ctx: Pick<ProbeContext, "maxRequests">): number {
  const n = Number.isFinite(ctx.maxRequests) ? Math.floor(ctx.maxRequests) : DEFAULT_MAX_REQUESTS;
  return Math.min(MAX_REQUESTS_PER_HOST, Math.max(1, n));
}

async function probeHttpTarget(target: ProbeTarget, ctx: ProbeContext): Promise<Observation> {
  const tls = !PLAIN_HTTP_PORTS.has(target.port);
  const obs = newObservation(target, tls);
  const client = new HostClient({ ...target, tls }, ctx.limits, ctx.throttle);
  const budget = new RequestBudget(requestLimit(ctx));
  let budgetNoted = false;
  const spend = (what: string): boolean => {
    if (budget.take()) return true;
    if (!budgetNoted) obs.errors.push(bounded(`request budget of ${budget.limit} per host spent: ${what} not asked`, 300));
    budgetNoted = true;
    return false;
  };
  const has = (kind: Evidence["kind"], parts = 2): boolean =>
    obs.evidence.some((e) => e.kind === kind && (e.build === undefined ? parts <= 0 : e.build.split(".").length >= parts));
  const exact = (): boolean =>
    obs.evidence.some((e) => e.build !== undefined && e.build.split(".").length === 4 && e.kind !== "ews-server-version");
  const exchangeSignal = (): boolean => obs.evidence.some((e) => EXCHANGE_SIGNALS.has(e.kind));
  const get = async (probe: string, path: string, headers?: Record<string, string>): Promise<HttpResult | undefined> => {
    if (!spend(`${probe} ${path}`)) return undefined;
    try {
      const r = await client.get(path, headers);
      obs.responded = true;
      const found = evidenceFromHttp({ probe, path, status: r.status, headers: r.headers, body: r.body });
      obs.evidence.push(...found.evidence);
      if (obs.title === undefined && found.title !== undefined) obs.title = found.title;
      if (r.truncated) obs.errors.push(bounded(`${probe} ${path}: body cut at ${ctx.limits.maxBodyBytes} bytes`, 300));
      return r;
    } catch (err) {
      const e = err instanceof HttpProbeError ? err : new HttpProbeError(String(err), "ERROR");
      if (!NOT_RESPONDING.has(e.code)) obs.responded = true;
      obs.errors.push(bounded(`${probe} ${path}: ${e.message}`, 300));
      return undefined;
    }
  };
  /** Status of each endpoint family asked (undefined: asked, no answer). */
  const asked = new Map<string, number | undefined>();
  const ask = async (family: EndpointFamily): Promise<HttpResult | undefined> => {
    const r = await get(family.probe, family.path);
    asked.set(family.probe, r?.status);
    return r;
  };
  try {
    // The logon page answers for every Exchange version: OWA markers, Exchange headers and the build in its
    // resource paths (4 parts on 2010, 3 on 2013+), all in one request.
    const logon = await get("logon-page", "/owa/auth/logon.aspx?url=%2fowa%2f&reason=0");
    if (!logon) return obs; // refused, TLS failure, tarpit, garbage: nothing more to learn here
    const ews = await get("ews", "/EWS/Exchange.asmx", { authorization: `NTLM ${negotiateMessage()}` });
    if (ews) readNtlm(obs, ews);
    if (!exchangeSignal()) {
      // Exchange's "Require SSL" 403 on plain HTTP shows nothing more on any path.
      if (!tls && logon.status === 403 && ews?.status === 403) return obs;
      // A reverse proxy may block OWA and EWS but pass the endpoints Outlook and phones use: ask each family once.
      for (const family of ENDPOINT_FAMILIES) {
        await ask(family);
        if (exchangeSignal()) break;
      }
      if (!exchangeSignal()) {
        await get("root", "/"); // not Exchange: the title of /
        return obs;
      }
    }
    if (!exact() && !has("owa-version-header", 4)) await get("owa-service", "/owa/service");
    if (!exact() && !asked.has(EXPORT_TOOL.probe)) await ask(EXPORT_TOOL);
    const exportToolStatus = asked.get(EXPORT_TOOL.probe);
    if (!exact() && !has("owa-version-header", 4) && !asked.has(AUTODISCOVER.probe)) await ask(AUTODISCOVER);
    if (!exact() && exportToolStatus !== 403) await pinCandidate(obs, ctx, get);
    if (ctx.activeChecks && spend("check-cve-2021-26855")) await checkCve202126855(obs, client);
  } finally {
    obs.certificate = client.certificate;
    if (obs.certificate === undefined) delete obs.certificate;
    await client.close();
  }
  return obs;
}

function readNtlm(obs: Observation, r: HttpResult): void {
  const header = r.headers["www-authenticate"];
  const values = Array.isArray(header) ? header : header !== undefined ? [header] : [];
  for (const v of values) {
    const info: NtlmInfo | undefined = parseChallengeHeader(v);
    if (info && r.status === 401) {
      obs.ntlm = info;
      // A real NTLM CHALLENGE from the EWS endpoint: a copied logon page cannot give one (look-alikes answer a
      // bare "NTLM" or Basic only).
      obs.evidence.push({ probe: "ews", kind: "exchange-endpoint", field: "GET /EWS/Exchange.asmx -> 401 with an NTLM CHALLENGE", value: bounded(v, 300) });
      obs.evidence.push({ probe: "ews", kind: "ntlm", field: "NTLM CHALLENGE target info", value: bounded(JSON.stringify(info), 2048) });
      return;
    }
  }
}

/**
 * The CU (3-part prefix) the evidence so far points to, whatever probe stated it (logon page resource paths,
 * X-OWA-Version, EWS ServerVersionInfo — which may name the back end — , an imported build): the prefix with the
 * most claim weight (src/identify/fingerprint.ts CLAIM_WEIGHTS). Undefined when none, or when two prefixes weigh
 * the same (a proxy in front of several versions: no candidate could be trusted to be the one answering).
 */
export function cuToPin(evidence: readonly Evidence[]): string | undefined {
  const weights = new Map<string, number>();
  for (const e of evidence) {
    const w = CLAIM_WEIGHTS[e.kind];
    if (w === undefined || e.build === undefined) continue;
    const parts = parseBuild(e.build)?.parts;
    if (!parts || parts.length < 3) continue;
    const prefix = parts.slice(0, 3).join(".");
    weights.set(prefix, (weights.get(prefix) ?? 0) + w);
  }
  const ranked = [...weights].sort((a, b) => b[1] - a[1]);
  if (ranked.length === 0 || (ranked.length > 1 && ranked[1]![1] === ranked[0]![1])) return undefined;
  return ranked[0]![0];
}

/**
 * A 3-part build to an exact one: ask /ecp/<candidate>/exporttool/ for each known update of that CU, newest
 * first; the installed build's folder answers 200. A made-up build is asked first: a server that answers 200 to
 * it answers 200 to anything, and then no candidate can be trusted.
 */
async function pinCandidate(
  obs: Observation,
  ctx: ProbeContext,
  get: (probe: string, path: string) => Promise<HttpResult | undefined>,
): Promise<void> {
  const cu = cuToPin(obs.evidence);
  if (cu === undefined) return;
  const candidates = ctx.candidates(cu).slice(0, ctx.maxCandidates);
  if (candidates.length === 0) return;
  const bogus = await get("ecp-candidate", `/ecp/${cu}.65534/exporttool/`);
  if (!bogus || bogus.status === 200) {
    if (bogus) obs.errors.push("ecp-candidate: the server answers 200 to a made-up build; candidates not trusted");
    return;
  }
  if (bogus.status === 403) return;
  for (const candidate of candidates) {
    const r = await get("ecp-candidate", `/ecp/${candidate}/exporttool/`);
    if (!r) return;
    if (r.status === 200) {
      const parsed = parseBuild(candidate)!;
      obs.evidence.push({ probe: "ecp-candidate", kind: "ecp-candidate-build", field: `GET /ecp/${candidate}/exporttool/ -> 200`, value: candidate, build: parsed.text });
      return;
    }
  }
}

async function checkCve202126855(obs: Observation, client: HostClient): Promise<void> {
  try {
    const r = await client.get("/owa/auth/x.js", { cookie: CVE_2021_26855_COOKIE });
    const target = r.headers["x-calculatedbetarget"];
    const value = Array.isArray(target) ? target.join(", ") : target;
    const vulnerable = value !== undefined && /localhost/i.test(value);
    obs.evidence.push({
      probe: "check-cve-2021-26855",
      kind: "check",
      field: `GET /owa/auth/x.js with X-AnonResource-Backend cookie -> ${r.status}, X-CalculatedBETarget ${value === undefined ? "absent" : "present"}`,
      value: vulnerable ? `vulnerable: X-CalculatedBETarget: ${bounded(value, 200)}` : "not vulnerable: the front end did not route to localhost",
    });
  } catch (err) {
    obs.errors.push(bounded(`check-cve-2021-26855: ${(err as Error).message}`, 300));
  }
}

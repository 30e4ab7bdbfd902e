/**
 * Evidence from one HTTP response, whoever fetched it: a live probe (src/observe/probes) or a record of an
 * internet-wide scan (src/import). One code path, so a scan and an import of the same server agree. Pure.
 *
 * Facts used (public sources):
 *  - X-OWA-Version carries the 4-part build (CSS-Exchange http-vuln-cve2021-26855.nse era write-ups; nuclei
 *    ms-exchange-server.yaml; vinhjaxt/proxynotshell main.go header set of a 2019 CU11 server).
 *  - X-FEServer, X-BEServer, X-CalculatedBETarget, X-DiagInfo, X-OWA-DiagnosticsInfo are Exchange front/back-end
 *    headers (same sources; 7RU7H/CTFs Lookback answers of a 2019 CU9 server).
 *  - The OWA logon page links its resources under /owa/auth/<build>/ (2013+) or /owa/<build>/ (2010), e.g.
 *    /owa/auth/15.1.2507/themes/resources/favicon.ico (Greenbone OWA detection; real pages quoted in public repos).
 *  - The ECP export tool ClickOnce manifest names its version: the 4-part build (Metasploit exchange.rb).
 *  - EWS answers carry <t:ServerVersionInfo MajorVersion MinorVersion MajorBuildNumber MinorBuildNumber>
 *    (MicrosoftDocs office-developer-exchange-docs).
 *  - The logon page's own form posts to /owa/auth.owa with username and password fields (Exchange's logon.aspx,
 *    2010 to 2019; 2007 posted to /owa/auth/owaauth.dll); it links its resources by path, on its own host.
 *  - Other webmail products name themselves in their login pages: Roundcube (rcmloginuser, rcube_webmail),
 *    Zimbra, SOGo, Horde, SmarterMail, Kerio Connect, IceWarp, Open-Xchange, Kopano, SquirrelMail, RainLoop,
 *    SnappyMail (the products' own login pages; test/fixtures/pages/README.md).
 *  - EWS (/EWS/Exchange.asmx), Autodiscover (/autodiscover/autodiscover.xml) and ActiveSync (/Microsoft-Server-ActiveSync) exist
 *    on every Exchange version since 2007: they answer 401, 403, 200 or a redirect, never 404.
 *  - Exchange's front end sets X-FEServer (and, on 2013+ Autodiscover, X-OWA-Version) on the 401 of every
 *    virtual directory it proxies, so the same headers are read on /autodiscover/, /Microsoft-Server-ActiveSync
 *    and /mapi/ (vinhjaxt/proxynotshell main.go: a 2019 CU11 Nov21SU Autodiscover 401; emulator/README.md).
 *  - ActiveSync answers may carry MS-Server-ActiveSync (server version) and MS-ASProtocolVersions ([MS-ASHTTP]
 *    2.2.4.1.2.2 and its response-header table, learn.microsoft.com/openspecs/exchange_server_protocols/ms-ashttp).
 *    Other ActiveSync servers implement the same protocol (SOGo's ActiveSync module, Z-Push), so these are kept
 *    as plain evidence, never as a sign of Exchange.
 */
import { parseBuild } from "../knowledge/buildNumber.js";
import { bounded, type Evidence } from "../pipeline/vocabulary.js";

export type HeaderValue = string | readonly string[] | undefined;
/** Header names in any case; zgrab2's lower_snake_case names are accepted too. */
export type Headers = Readonly<Record<string, HeaderValue>>;

export interface HttpResponseFacts {
  /** Probe or import name recorded with the evidence. */
  probe: string;
  method?: string;
  path: string;
  status: number;
  headers: Headers;
  /** Body text (already bounded and decoded by the caller); omitted when not read. */
  body?: string;
  /**
   * Names and addresses the answering host goes by (its IP, the record's host name, its certificate's names):
   * OWA resources linked on any other host are another host's.
   */
  hosts?: readonly (string | null | undefined)[];
}

export interface HttpEvidence {
  evidence: Evidence[];
  title?: string;
}

/** ActiveSync protocol headers: Exchange sets them, and so can any other ActiveSync server. */
const ACTIVESYNC_HEADERS = ["ms-server-activesync", "ms-asprotocolversions"];
const EXCHANGE_HEADERS = ["x-feserver", "x-beserver", "x-calculatedbetarget", "x-diaginfo", "x-owa-diagnosticsinfo", "x-owa-proxyuri", "x-exchange-server"];

function headerMap(headers: Headers): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase().replace(/_/g, "-");
    const value = typeof v === "string" ? v : v.join(", ");
    m.set(name, value);
  }
  return m;
}

/** A logon-page resource path with the build, optionally as an absolute URL ("//host/owa/…", "https://host/owa/…"). */
const LOGON_BUILD = /(?:(?:https?:)?\/\/([^\s"'<>/\\]{1,255}))?(\/owa\/(?:auth\/)?(\d{1,2}\.\d{1,2}\.\d{1,5}(?:\.\d{1,5})?)\/(?:themes|scripts|resources)\/)/gi;
/** The logon form: posting to /owa/auth.owa (2010+) or /owa/auth/owaauth.dll (2007), on this host or another. */
const LOGON_FORM = /<form\b[^>]{0,400}?\baction\s*=\s*["']?(?:(?:https?:)?\/\/([^\s"'<>/\\]{1,255}))?\/owa\/auth(?:\.owa|\/owaauth\.dll)\b/i;
const PASSWORD_FIELD = /<input\b[^>]{0,300}?\b(?:type\s*=\s*["']?password|name\s*=\s*["']?password\b)/i;
/**
 * Login pages of other webmail products (their own markers), each with the lower-case literals one of which any
 * match contains (see bodyLiterals).
 */
const OTHER_WEBMAIL: ReadonlyArray<readonly [string, RegExp, readonly string[]]> = [
  ["Roundcube", /\brcmloginuser\b|\brcube_webmail\b|\bRoundcube Webmail\b/i, ["rcmloginuser", "rcube_webmail", "roundcube webmail"]],
  ["Zimbra", /\bZimbra\b/, ["zimbra"]],
  ["SOGo", /\bSOGo\b/, ["sogo"]],
  ["Horde", /\bHorde\b.{0,40}\b(?:Log in|Login|imp)\b|\bhorde_login\b/i, ["horde"]],
  ["SmarterMail", /\bSmarterMail\b/i, ["smartermail"]],
  ["Kerio Connect", /\bKerio Connect\b/i, ["kerio connect"]],
  ["IceWarp", /\bIceWarp\b/i, ["icewarp"]],
  ["Open-Xchange", /\bOpen-Xchange\b|\bOX App Suite\b/i, ["open-xchange", "ox app suite"]],
  ["Kopano", /\bKopano WebApp\b/i, ["kopano webapp"]],
  ["SquirrelMail", /\bSquirrelMail\b/i, ["squirrelmail"]],
  ["RainLoop", /\bRainLoop\b/i, ["rainloop"]],
  ["SnappyMail", /\bSnappyMail\b/i, ["snappymail"]],
];
/** Exchange endpoints every version since 2007 has: a 404 there says the answering server is not Exchange. */
const EXCHANGE_ENDPOINT_PATH = /^\/(?:ews\/exchange\.asmx|autodiscover\/autodiscover\.xml|microsoft-server-activesync)(?:[/?]|$)/i;
const ECP_BUILD = /\/ecp\/(\d{1,2}\.\d{1,2}\.\d{1,5}(?:\.\d{1,5})?)\/(?:themes|scripts|resources|exporttool)\//i;
const EXPORTTOOL_VERSION = /<assemblyIdentity\b[^>]*\bname="microsoft\.exchange\.ediscovery\.exporttool(?:\.application)?"[^>]*\bversion="(\d+\.\d+\.\d+\.\d+)"/i;
const EXPORTTOOL_VERSION_ALT = /<assemblyIdentity\b[^>]*\bversion="(\d+\.\d+\.\d+\.\d+)"[^>]*\bname="microsoft\.exchange\.ediscovery\.exporttool(?:\.application)?"/i;
const EWS_VERSION = /<(?:\w+:)?ServerVersionInfo\b([^>]*)\/?>/i;
const TITLE = /<title[^>]*>([^<]{0,300})<\/title>/i;
const OWA_MARKERS = /\b(?:Outlook Web App|Outlook Web Access|OutlookSession|owaLgnBdy|flogon|\/owa\/auth\.owa|signInEnterPassword)\b/i;
/** Literals every OWA_MARKERS match contains ("/owa/auth.owa" holds "/owa/"). */
const OWA_MARKER_LITERALS = ["outlook", "owalgnbdy", "flogon", "/owa/", "signinenterpassword"];
const OWA = "/owa/";
const ECP = "/ecp/";
const EXPORTTOOL = "microsoft.exchange.ediscovery.exporttool";
const EWS = "serverversioninfo";
/**
 * Every literal the body expressions need, matched case-insensitively (JavaScript's /i without /u folds only
 * ASCII letters onto ASCII ones, so a case-sensitive or /i match of an expression holds its literal in this sense).
 * Longest first; a match also stands for the literals that are prefixes of it (IMPLIED), so a scan that resumes
 * one character after each match sees every occurrence of every literal.
 */
const BODY_LITERALS = [...new Set([...OTHER_WEBMAIL.flatMap(([, , l]) => l), ...OWA_MARKER_LITERALS, OWA, ECP, EXPORTTOOL, EWS])].sort((a, b) => b.length - a.length);
const IMPLIED = new Map(BODY_LITERALS.map((l) => [l, BODY_LITERALS.filter((p) => l.startsWith(p))]));
const BODY_LITERAL_SCAN = new RegExp(BODY_LITERALS.map((l) => l.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")).join("|"), "gi");

interface BodyLiterals {
  found: Set<string>;
  /** Where "/owa/" occurs (any case), ascending. */
  owa: number[];
}

/**
 * One pass over the body for all literals: the expressions are then tried only on bodies holding their literals
 * (same evidence, a fraction of the time: most bodies hold none of the other products' markers).
 */
function bodyLiterals(body: string): BodyLiterals {
  const found = new Set<string>();
  const owa: number[] = [];
  BODY_LITERAL_SCAN.lastIndex = 0;
  for (let m = BODY_LITERAL_SCAN.exec(body); m !== null; m = BODY_LITERAL_SCAN.exec(body)) {
    for (const l of IMPLIED.get(m[0].toLowerCase())!) {
      found.add(l);
      if (l === OWA) owa.push(m.index);
    }
    BODY_LITERAL_SCAN.lastIndex = m.index + 1;
  }
  return { found, owa };
}

const hasAny = (b: BodyLiterals, literals: readonly string[]): boolean => literals.some((l) => b.found.has(l));

/** The longest text LOGON_BUILD matches before its "/owa/": "https://" and a host name of 255 characters. */
const LOGON_BUILD_PREFIX = "https://".length + 255;

/**
 * The logon-page resource paths of a body, in order, as LOGON_BUILD finds them (at most `max`): each search starts
 * no earlier than LOGON_BUILD_PREFIX characters before the next "/owa/" (no match can start earlier).
 */
function* logonBuilds(body: string, owa: readonly number[], max: number): Generator<RegExpExecArray> {
  LOGON_BUILD.lastIndex = 0;
  let k = 0;
  for (let i = 0; i < max; i++) {
    while (k < owa.length && owa[k]! < LOGON_BUILD.lastIndex) k++;
    if (k === owa.length) return;
    LOGON_BUILD.lastIndex = Math.max(LOGON_BUILD.lastIndex, owa[k]! - LOGON_BUILD_PREFIX);
    const m = LOGON_BUILD.exec(body);
    if (m === null) return;
    yield m;
  }
}

/** "Mail.Example.ORG:443" -> "mail.example.org"; "[2001:db8::1]:443" -> "2001:db8::1". */
function hostName(h: string): string {
  const v = h.trim().toLowerCase();
  if (v.startsWith("[")) return v.slice(1, v.indexOf("]") > 0 ? v.indexOf("]") : undefined);
  return v.replace(/:\d+$/, "").replace(/\.$/, "");
}

/** Does a linked host name one of the answering host's names? A certificate name "*.example.org" covers one label. */
function isOwnHost(linked: string, own: readonly string[]): boolean {
  const h = hostName(linked);
  return own.some((o) => o === h || (o.startsWith("*.") && h.endsWith(o.slice(1)) && !h.slice(0, -(o.length - 1)).includes(".")));
}

function attr(attrs: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="(\\d{1,6})"`, "i").exec(attrs)?.[1];
}

export function evidenceFromHttp(r: HttpResponseFacts): HttpEvidence {
  const evidence: Evidence[] = [];
  const where = `${r.method ?? "GET"} ${bounded(r.path, 120)} -> ${r.status}`;
  const headers = headerMap(r.headers);
  const add = (kind: Evidence["kind"], field: string, value: string, build?: string): void => {
    const e: Evidence = { probe: r.probe, kind, field: bounded(`${where} ${field}`, 200), value: bounded(value, 2048) };
    if (build !== undefined) e.build = build;
    evidence.push(e);
  };

  const owaVersion = headers.get("x-owa-version");
  if (owaVersion !== undefined) {
    const parsed = parseBuild(owaVersion.split(",")[0]!.trim());
    add("owa-version-header", "header X-OWA-Version", owaVersion, parsed && parsed.parts.length >= 2 ? parsed.text : undefined);
  }
  for (const name of EXCHANGE_HEADERS) {
    const v = headers.get(name);
    if (v !== undefined) add("exchange-header", `header ${name}`, v);
  }
  for (const name of ACTIVESYNC_HEADERS) {
    const v = headers.get(name);
    if (v !== undefined) add("other", `header ${name} (ActiveSync protocol; not Exchange-only)`, v);
  }
  const server = headers.get("server");
  if (server !== undefined) add("http-server", "header Server", server);
  const auth = headers.get("www-authenticate");
  if (auth !== undefined && r.status === 401) add("other", "header WWW-Authenticate", auth);
  if (r.status === 404 && EXCHANGE_ENDPOINT_PATH.test(r.path)) {
    add("not-exchange", "Exchange endpoint absent (404): Exchange answers 401, 403, 200 or a redirect there", `${r.status}`);
  }
  const location = headers.get("location");
  if (location !== undefined && /\/owa\/auth\/logon\.aspx/i.test(location)) add("owa-page", "header Location", location);

  let title: string | undefined;
  const body = r.body;
  if (body !== undefined && body.length > 0) {
    const t = TITLE.exec(body)?.[1]?.trim();
    if (t) title = bounded(t, 300);
    const own = (r.hosts ?? []).filter((h): h is string => typeof h === "string" && h !== "").map(hostName);
    const lit = bodyLiterals(body);
    let logon: RegExpExecArray | undefined;
    let elsewhere: RegExpExecArray | undefined;
    if (lit.owa.length > 0) {
      for (const m of logonBuilds(body, lit.owa, 100)) {
        if (m[1] === undefined || isOwnHost(m[1], own)) logon ??= m;
        else elsewhere ??= m;
        if (logon && elsewhere) break;
      }
    }
    if (logon) {
      const b = parseBuild(logon[3]!)!;
      add("logon-page-build", `body resource path ${logon[2]!.slice(0, 80)}`, logon[0], b.text);
    }
    if (elsewhere) {
      add("not-exchange", `body links OWA resources on another host (${bounded(hostName(elsewhere[1]!), 80)})`, elsewhere[0]);
    }
    const form = lit.owa.length > 0 ? LOGON_FORM.exec(body) : null;
    if (form && PASSWORD_FIELD.test(body)) {
      if (form[1] === undefined || isOwnHost(form[1], own)) add("logon-form", "body logon form posting to /owa/auth.owa with a password field", form[0].slice(0, 300));
      else add("not-exchange", `body logon form posts to another host (${bounded(hostName(form[1]), 80)})`, form[0].slice(0, 300));
    }
    for (const [product, marker, literals] of OTHER_WEBMAIL) {
      const m = hasAny(lit, literals) ? marker.exec(body) : null;
      if (m) {
        add("not-exchange", `body login page of another webmail (${product})`, m[0]);
        break;
      }
    }
    const ecp = lit.found.has(ECP) ? ECP_BUILD.exec(body) : null;
    if (ecp) {
      const b = parseBuild(ecp[1]!)!;
      add("logon-page-build", `body resource path ${ecp[0].slice(0, 80)}`, ecp[0], b.text);
    }
    if (!logon && hasAny(lit, OWA_MARKER_LITERALS) && OWA_MARKERS.test(body)) add("owa-page", "body OWA markers", title ?? "OWA page");
    const tool = lit.found.has(EXPORTTOOL) ? (EXPORTTOOL_VERSION.exec(body) ?? EXPORTTOOL_VERSION_ALT.exec(body)) : null;
    if (tool && r.status === 200) add("exporttool-build", "body exporttool manifest version", tool[0].slice(0, 300), parseBuild(tool[1]!)!.text);
    const ews = lit.found.has(EWS) ? EWS_VERSION.exec(body) : null;
    if (ews) {
      const a = ews[1]!;
      const parts = [attr(a, "MajorVersion"), attr(a, "MinorVersion"), attr(a, "MajorBuildNumber"), attr(a, "MinorBuildNumber")];
      const known = parts.filter((p): p is string => p !== undefined);
      const build = known.length >= 2 && parts[0] !== undefined && parts[1] !== undefined ? parseBuild(known.join("."))?.text : undefined;
      add("ews-server-version", "body EWS ServerVersionInfo", ews[0].slice(0, 300), build);
    }
  }
  return title !== undefined ? { evidence, title } : { evidence };
}

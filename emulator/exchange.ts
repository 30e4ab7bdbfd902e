/**
 * HTTP(S) behaviour of emulated Exchange servers. Pages are our own text; the fragments scanners
 * key on (header names, paths, markers) are facts taken from the sources cited next to each one.
 *
 * Sources (S1..S12, also listed in emulator/README.md):
 *  S1  rapid7/metasploit-framework lib/msf/core/exploit/remote/http/exchange.rb — detection markers
 *      ("function IsOwaPremiumBrowser", "To use Outlook, browser settings must allow scripts to run."),
 *      X-OWA-Version read from /owa/service, logon page regex /owa/(auth/)?<4-part>, the exporttool
 *      ClickOnce assemblyIdentity (name, version, publicKeyToken b1d1a6c45aa418ce, 2013+ only) and
 *      /ecp/<build>/exporttool/ candidate probing (200 = installed build).
 *  S2  righel/ms-exchange-version-nse ms-exchange-version.nse — X-OWA-Version on GET /owa/, /owa/auth/<3-part>
 *      and /owa/<n.n.n> in the page, /ecp/Current/exporttool/... then /ecp/<build>/exporttool/... candidates.
 *  S3  Greenbone OWA detection NASL (OID 1.3.6.1.4.1.25623.1.0.105150, gb_owa_detect.nasl) — 2010:
 *      "X-OWA-Version: 14.3.513.0" and /owa/14.3.169.1/themes/resources/favicon.ico; 2013/2016/2019:
 *      /owa/auth/15.0.1365/, 15.1.845/, 15.2.330/ (3 parts); titles "Outlook Web App" / "Outlook";
 *      "<!-- OwaPage = ASP.auth_logon_aspx -->"; errorFE.aspx redirects.
 *  S4  7RU7H/CTFs TryHackMe/Markdown/Lookback/nuclei/ms-exchange-server-*.md — a 2019 CU9 logon.aspx
 *      answer: Cache-Control "no-cache, no-store", Pragma, Expires -1, Request-Id, X-Frame-Options
 *      SAMEORIGIN, X-AspNet-Version 4.0.30319, X-Powered-By ASP.NET, Server Microsoft-IIS/10.0, no
 *      X-OWA-Version; favicon/fonts under /owa/auth/15.2.858/themes/resources/; /owa/ redirect to
 *      /owa/auth/logon.aspx?url=https%3a%2f%2f<host>%2fowa%2f&reason=0 and ECP to ...replaceCurrent=1&url=.../ecp.
 *  S5  vinhjaxt/proxynotshell main.go (comment) — a 2019 CU11 Nov21SU 401 on /autodiscover/autodiscover.json:
 *      request-id, x-calculatedbetarget <fqdn>, x-aspnet-version, x-owa-version 15.2.986.14,
 *      WWW-Authenticate Negotiate / NTLM / Basic realm="<host>", x-powered-by, x-feserver <NETBIOS NAME>.
 *  S6  microsoft/CSS-Exchange Security/http-vuln-cve2021-26855.nse (as published March 2021; copies in
 *      many repos) — GET /owa/auth/x.js with Cookie "X-AnonResource=true; X-AnonResource-Backend=
 *      localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;", VULN when the
 *      answer header X-CalculatedBETarget contains "localhost". Metasploit auxiliary
 *      scanner/http/exchange_proxylogon: same cookie on /ecp/<x>.js, status 500/503 and
 *      X-CalculatedBETarget == "localhost". Public POCs also look for "NegotiateSecurityContext" in the body.
 *  S7  MicrosoftDocs/office-developer-exchange-docs docs/web-service-reference/serverversioninfo.md —
 *      ServerVersionInfo MajorVersion/MinorVersion/MajorBuildNumber/MinorBuildNumber/Version in the SOAP header,
 *      namespace http://schemas.microsoft.com/exchange/services/2006/types.
 *  S8  MicrosoftDocs/office-developer-exchange-docs (EWS HTTP response headers table) — X-FEServer (CAS that
 *      processed the request), X-TargetBEServer, X-DiagInfo, request-id; ActiveSyncWebResponse-style clients
 *      read X-FEServer, X-DiagInfo, X-CalculatedBETarget, X-BEServer.
 *  S9  Exchange virtual directories default to Require SSL (learn.microsoft.com "Default settings for
 *      Exchange virtual directories"), hence 403 on plain HTTP.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { threeParts } from "./builds.js";
import type { HostPlan } from "./hosts.js";
import { drain, escapeXml, hostHeader, lowerPath, requestId, send } from "./httputil.js";
import type { NtlmIdentity } from "./ntlm.js";
import { answerAuthorization } from "./ntlm.js";

/** Credential accepted by EWS so an authenticated scan can read ServerVersionInfo (documented in README). */
export const TEST_CREDENTIAL = { user: "vigie", password: "vigie-emulator" };

export function ntlmIdentity(plan: HostPlan): NtlmIdentity {
  const n = plan.truth.names!;
  return {
    netbiosDomain: n.netbiosDomain,
    netbiosComputer: n.computer,
    dnsDomain: n.dnsDomain,
    dnsComputer: n.fqdn,
    dnsTree: n.dnsDomain,
    osVersion: plan.truth.os!.version,
  };
}

const PROXY_STRIPPED = ["x-owa-version", "x-feserver", "x-beserver", "x-calculatedbetarget", "x-diaginfo", "x-aspnet-version", "x-powered-by"];

function baseHeaders(plan: HostPlan): OutgoingHttpHeaders {
  return {
    Server: `Microsoft-IIS/${plan.truth.os!.iis}`,
    "request-id": requestId(),
    "X-Powered-By": "ASP.NET",
  };
}

/** Sends through the (optional) reverse proxy that strips identifying headers. */
function reply(plan: HostPlan, res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string | Buffer = ""): void {
  if (plan.proxy) {
    for (const k of Object.keys(headers)) if (PROXY_STRIPPED.includes(k.toLowerCase())) delete headers[k];
    headers.Server = "nginx";
  }
  send(res, status, headers, body);
}

function iisError(plan: HostPlan, res: ServerResponse, status: 403 | 404, extra: OutgoingHttpHeaders = {}): void {
  const title = status === 404 ? "404 - File or directory not found." : "403 - Forbidden: Access is denied.";
  const body = `<!DOCTYPE html><html><head><title>${title.slice(0, 9)}</title></head><body><div id="header"><h1>Server Error</h1></div><div id="content"><fieldset><h2>${title}</h2></fieldset></div></body></html>`;
  reply(plan, res, status, { ...baseHeaders(plan), "Content-Type": "text/html", ...extra }, body);
}

function iisStart(plan: HostPlan, res: ServerResponse): void {
  const iis = plan.truth.os!.iis;
  const title = iis === "7.5" ? "IIS7" : "IIS Windows Server";
  const body = `<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1" /><title>${title}</title></head><body><div id="container"><a href="https://go.microsoft.com/fwlink/?linkid=66138&amp;clcid=0x409"><img src="iisstart.png" alt="IIS" width="960" height="600" /></a></div></body></html>`;
  reply(plan, res, 200, { ...baseHeaders(plan), "Content-Type": "text/html", "Accept-Ranges": "bytes" }, body);
}

/** The version segment that appears in logon page resource paths (S3, S4). */
export function resourceVersion(plan: HostPlan): string {
  const b = plan.truth.build!;
  return plan.truth.product === "2010" ? b : threeParts(b);
}

function logonPage(plan: HostPlan, url: string): string {
  const v = resourceVersion(plan);
  const is2010 = plan.truth.product === "2010";
  const res = is2010 ? `/owa/${v}/themes/resources` : `/owa/auth/${v}/themes/resources`;
  const scripts = is2010 ? `/owa/${v}/scripts/premium` : `/owa/auth/${v}/scripts/premium`;
  const title = is2010 || plan.truth.product === "2013" ? "Outlook Web App" : "Outlook";
  return [
    `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">`,
    `<!-- Emulated page (Vigie fleet emulator): not Microsoft's markup. -->`,
    `<!-- OwaPage = ASP.auth_logon_aspx -->`,
    `<html><head>`,
    `<meta http-equiv="X-UA-Compatible" content="IE=10" />`,
    `<link rel="shortcut icon" href="${res}/favicon.ico" type="image/x-icon">`,
    `<meta http-equiv="Content-Type" content="text/html; CHARSET=utf-8">`,
    `<meta name="Robots" content="NOINDEX, NOFOLLOW">`,
    `<title>${title}</title>`,
    `<style>@font-face { font-family: "emu_regular"; src: url("${res}/segoeui-regular.ttf") format("truetype"); }`,
    `body { font-family: "emu_regular", Tahoma, sans-serif; margin: 0 }</style>`,
    `<script type="text/javascript" src="${scripts}/flogon.js"></script>`,
    `<script type="text/javascript">`,
    `function IsOwaPremiumBrowser() { return typeof window.addEventListener === "function"; }`,
    `</script></head>`,
    `<body class="signInBg"><noscript><div>To use Outlook, browser settings must allow scripts to run. For information about how to allow scripts, consult the Help for your browser.</div></noscript>`,
    `<form action="/owa/auth.owa" method="POST" name="logonForm" autocomplete="off">`,
    `<input type="hidden" name="destination" value="${escapeXml(url)}">`,
    `<input type="hidden" name="flags" value="4"><input type="hidden" name="forcedownlevel" value="0">`,
    `<div class="signInHeader">${title}</div>`,
    `<label for="username">Domain\\user name:</label><input id="username" name="username" type="text">`,
    `<label for="password">Password:</label><input id="password" name="password" type="password">`,
    `<div class="signInEnter"><span class="signinTxt">sign in</span></div>`,
    `</form></body></html>`,
  ].join("\n");
}

function exportToolManifest(build: string): string {
  // ClickOnce deployment manifest shape; identity values per S1 (publicKeyToken, language, processorArchitecture).
  return [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<asmv1:assembly xsi:schemaLocation="urn:schemas-microsoft-com:asm.v1 assembly.adaptive.xsd" manifestVersion="1.0" xmlns:asmv1="urn:schemas-microsoft-com:asm.v1" xmlns="urn:schemas-microsoft-com:asm.v2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
    `  <assemblyIdentity name="microsoft.exchange.ediscovery.exporttool.application" version="${build}" publicKeyToken="b1d1a6c45aa418ce" language="neutral" processorArchitecture="msil" xmlns="urn:schemas-microsoft-com:asm.v1" />`,
    `  <description xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" asmv2:publisher="Microsoft Corporation" asmv2:product="Microsoft Exchange eDiscovery Export Tool" xmlns="urn:schemas-microsoft-com:asm.v1" />`,
    `  <deployment install="false" trustURLParameters="true" />`,
    `  <dependency>`,
    `    <dependentAssembly dependencyType="install" codebase="${build}\\microsoft.exchange.ediscovery.exporttool.exe.manifest">`,
    `      <assemblyIdentity name="microsoft.exchange.ediscovery.exporttool" version="${build}" publicKeyToken="b1d1a6c45aa418ce" language="neutral" processorArchitecture="msil" type="win32" />`,
    `    </dependentAssembly>`,
    `  </dependency>`,
    `</asmv1:assembly>`,
  ].join("\n");
}

/** EWS schema version names per product (S7 gives the attribute; values from EWS RequestServerVersion docs). */
function ewsSchemaVersion(product: string): string {
  switch (product) {
    case "2010":
      return "Exchange2010_SP2";
    case "2013":
      return "Exchange2013_SP1";
    case "2016":
      return "V2017_07_11";
    default:
      return "V2018_01_08";
  }
}

function serverVersionFault(plan: HostPlan): string {
  const [maj, min, mb, nb] = plan.truth.build!.split(".");
  return [
    `<?xml version="1.0" encoding="utf-8"?>`,
    `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>`,
    `<h:ServerVersionInfo MajorVersion="${maj}" MinorVersion="${min}" MajorBuildNumber="${mb}" MinorBuildNumber="${nb}" Version="${ewsSchemaVersion(plan.truth.product!)}" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types" xmlns="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>`,
    `</s:Header><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorSchemaValidation</faultcode>`,
    `<faultstring xml:lang="en-US">The request failed schema validation (emulated).</faultstring>`,
    `<detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorSchemaValidation</e:ResponseCode></detail>`,
    `</s:Fault></s:Body></s:Envelope>`,
  ].join("");
}

function isTestCredential(auth: string | undefined): boolean {
  if (!auth || !/^Basic\s+/i.test(auth)) return false;
  const dec = Buffer.from(auth.replace(/^Basic\s+/i, ""), "base64").toString("utf8");
  return dec === `${TEST_CREDENTIAL.user}:${TEST_CREDENTIAL.password}`;
}

/** 401 from an Integrated-auth virtual directory, answering NTLM NEGOTIATE with a CHALLENGE. */
function authChallenge(plan: HostPlan, req: IncomingMessage, res: ServerResponse, basicRealm: boolean, extra: OutgoingHttpHeaders = {}): void {
  const headers: OutgoingHttpHeaders = { ...baseHeaders(plan), "X-FEServer": plan.truth.names!.computer, ...extra };
  const auth = req.headers.authorization;
  const answer = auth ? answerAuthorization(auth, ntlmIdentity(plan)) : undefined;
  if (answer) headers["WWW-Authenticate"] = answer;
  else headers["WWW-Authenticate"] = basicRealm ? ["Negotiate", "NTLM", `Basic realm="${hostHeader(req, plan.truth.ip)}"`] : ["Negotiate", "NTLM"];
  reply(plan, res, 401, headers);
}

function hasAnonResourceCookie(req: IncomingMessage): boolean {
  const c = req.headers.cookie ?? "";
  return /X-AnonResource=true/i.test(c) && /X-AnonResource-Backend=localhost/i.test(c);
}

function anonResourceAnswer(plan: HostPlan, res: ServerResponse): void {
  // Vulnerable front end proxies to the attacker-named backend "localhost" and fails Kerberos to it (S6).
  const body = `<html><head><title>Emulated error</title></head><body>NegotiateSecurityContext failed with for host 'localhost' with status 'TargetUnknown'</body></html>`;
  reply(plan, res, 500, {
    ...baseHeaders(plan),
    "Content-Type": "text/html",
    "X-CalculatedBETarget": "localhost",
    "X-FEServer": plan.truth.names!.computer,
    "X-AspNet-Version": "4.0.30319",
  }, body);
}

export async function handleExchange(plan: HostPlan, req: IncomingMessage, res: ServerResponse, tls: boolean): Promise<void> {
  const path = lowerPath(req);
  const t = plan.truth;
  const is2010 = t.product === "2010";
  const host = hostHeader(req, t.ip);
  if (req.method === "POST" || req.method === "PUT") await drain(req);

  if (path === "/" || path === "/iisstart.htm") return iisStart(plan, res);
  if (!tls) return iisError(plan, res, 403); // S9: Require SSL on Exchange vdirs.

  const owaHeader: OutgoingHttpHeaders = t.exposes.owaVersionHeader ? { "X-OWA-Version": t.build! } : {};
  const segs = path.split("/").filter((s) => s.length > 0);
  const top = segs[0] ?? "";

  // CVE-2021-26855 defender check (S6): answer only on vulnerable builds.
  if (hasAnonResourceCookie(req) && t.vulnerable26855 === true && plan.owaPublished) {
    const owaJs = top === "owa" && segs[1] === "auth" && segs.length === 3 && segs[2]!.endsWith(".js");
    const ecpJs = top === "ecp" && plan.ecp === "open" && segs.length === 2 && segs[1]!.endsWith(".js");
    if (owaJs || ecpJs) return anonResourceAnswer(plan, res);
  }

  if (top === "owa") {
    if (!plan.owaPublished) return iisError(plan, res, 404);
    const logonUrl = `https://${host}/owa/`;
    if (segs.length === 1) {
      const loc = `https://${host}/owa/auth/logon.aspx?url=${encodeURIComponent(logonUrl).toLowerCase()}&reason=0`;
      return reply(plan, res, 302, { ...baseHeaders(plan), Location: loc, "Content-Type": "text/html; charset=utf-8", ...(is2010 ? owaHeader : {}), "X-FEServer": t.names!.computer }, `<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="${escapeXml(loc)}">here</a>.</h2></body></html>`);
    }
    if (path === "/owa/auth/logon.aspx") {
      const q = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
      return reply(plan, res, 200, {
        ...baseHeaders(plan),
        "Cache-Control": "no-cache, no-store",
        Pragma: "no-cache",
        Expires: "-1",
        "Content-Type": "text/html; charset=utf-8",
        "X-Frame-Options": "SAMEORIGIN",
        "X-AspNet-Version": "4.0.30319",
        ...(is2010 ? owaHeader : {}),
      }, logonPage(plan, q.get("url") ?? logonUrl));
    }
    if (path === "/owa/service" || path.startsWith("/owa/service.svc")) {
      // S1 reads X-OWA-Version here. 440 Login Timeout is what OWA returns to unauthenticated service calls.
      return reply(plan, res, 440, { ...baseHeaders(plan), ...owaHeader, "X-FEServer": t.names!.computer, "X-OWA-Error": "Microsoft.Exchange.Clients.Owa2.Server.Core.OwaInvalidCanary" });
    }
    const v = resourceVersion(plan);
    const resPrefix = is2010 ? `/owa/${v}/` : `/owa/auth/${v}/`;
    if (path.startsWith(resPrefix)) {
      if (path.endsWith("favicon.ico")) return reply(plan, res, 200, { ...baseHeaders(plan), "Content-Type": "image/x-icon", "Accept-Ranges": "bytes" }, FAKE_ICO);
      if (path.endsWith(".ttf")) return reply(plan, res, 200, { ...baseHeaders(plan), "Content-Type": "application/octet-stream" }, Buffer.from("emulated font"));
      if (path.endsWith(".js")) return reply(plan, res, 200, { ...baseHeaders(plan), "Content-Type": "application/javascript" }, "/* emulated */");
    }
    return iisError(plan, res, 404);
  }

  if (top === "ecp") {
    if (plan.ecp === "403") return iisError(plan, res, 403);
    if (plan.ecp === "404") return iisError(plan, res, 404);
    const fe = { "X-FEServer": t.names!.computer };
    if (segs.length === 1 || path === "/ecp/default.aspx") {
      const loc = `https://${host}/owa/auth/logon.aspx?replaceCurrent=1&url=${encodeURIComponent(`https://${host}/ecp/`).toLowerCase()}`;
      return reply(plan, res, 302, { ...baseHeaders(plan), ...fe, Location: loc, "Content-Type": "text/html; charset=utf-8" }, `<html><head><title>Object moved</title></head><body><h2>Object moved to <a href="${escapeXml(loc)}">here</a>.</h2></body></html>`);
    }
    if (!is2010 && segs[2] === "exporttool" && segs.length <= 4) {
      const file = segs[3];
      const okFile = file === undefined || file === "microsoft.exchange.ediscovery.exporttool.application";
      const isCurrent = segs[1] === "current";
      const matches = (isCurrent && plan.currentAlias && file !== undefined) || segs[1] === t.build;
      if (okFile && matches) {
        if (file === undefined) return reply(plan, res, 200, { ...baseHeaders(plan), ...fe, "Content-Type": "text/html" }, "<html><body>emulated exporttool folder</body></html>");
        return reply(plan, res, 200, { ...baseHeaders(plan), ...fe, "Content-Type": "application/x-ms-application" }, exportToolManifest(t.build!));
      }
      return iisError(plan, res, 404, fe);
    }
    return iisError(plan, res, 404, fe);
  }

  if (top === "ews") {
    if (isTestCredential(req.headers.authorization) && (path === "/ews/exchange.asmx")) {
      return reply(plan, res, 500, {
        ...baseHeaders(plan),
        "Content-Type": "text/xml; charset=utf-8",
        "X-FEServer": t.names!.computer,
        "X-BEServer": t.names!.computer,
        "X-CalculatedBETarget": t.names!.fqdn,
        "X-DiagInfo": t.names!.computer,
        "X-AspNet-Version": "4.0.30319",
      }, serverVersionFault(plan));
    }
    return authChallenge(plan, req, res, false);
  }
  if (top === "autodiscover") {
    if (path === "/autodiscover/autodiscover.json" && !is2010) {
      return authChallenge(plan, req, res, true, { ...owaHeader, "X-CalculatedBETarget": t.names!.fqdn, "X-AspNet-Version": "4.0.30319" });
    }
    return authChallenge(plan, req, res, true);
  }
  if (top === "mapi" && !is2010) return authChallenge(plan, req, res, false);
  if (top === "rpc" || top === "oab") return authChallenge(plan, req, res, false);
  if (top === "microsoft-server-activesync") {
    return reply(plan, res, 401, { ...baseHeaders(plan), "X-FEServer": t.names!.computer, "WWW-Authenticate": `Basic realm="${host}"` });
  }
  return iisError(plan, res, 404);
}

/** A tiny valid ICO header + 1x1 image; not Microsoft's icon. */
const FAKE_ICO = Buffer.from(
  "AAABAAEAAQEAAAEAIAAwAAAAFgAAACgAAAABAAAAAgAAAAEAIAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAD/cgD/AAAAAA==",
  "base64",
);

/**
 * Non-Exchange web servers and OWA look-alikes (honeypots).
 *
 * Look-alikes follow the public honeypots' documented behaviour (their code read, not copied):
 *  - joda32/owa-honeypot owa_pot.py: every answer carries "Server: Microsoft-IIS/7.5" and
 *    "X-Powered-By: ASP.NET" (IIS 7.5 = Windows Server 2008 R2, on which Exchange 2016 cannot run:
 *    the inconsistency a scanner can notice); logon.aspx resources under /owa/auth/15.1.1466/ (2016 CU9);
 *    "/", "/exchange", "/webmail" redirect to /owa/auth/logon.aspx?replaceCurrent=1&url=; /owa/auth.owa
 *    GET redirects with reason=3; /ecp/, /EWS/, /Autodiscover/, /Rpc/, ... answer 401 with
 *    `WWW-Authenticate: Basic realm="Login Required"` only (no Negotiate/NTLM, no X-FEServer, no request-id).
 *  - vinsiic/owa-honeypot owa_pot.py: resources under /owa/auth/15.1.2507/ (2016 CU23); 401 with both
 *    `Basic realm=...` and a bare `NTLM`, and an NTLM NEGOTIATE gets the same bare 401 again (no CHALLENGE).
 *    Server header set by its gunicorn config (we send Microsoft-IIS/10.0).
 * Neither serves /ecp/Current/exporttool/ nor /ecp/<build>/exporttool/ (404), nor X-OWA-Version.
 *
 * Web servers: titles and Server banners as fingerprinted by rapid7/recog xml/html_title.xml and
 * xml/http_servers.xml ("Welcome to nginx!", "Apache2 Ubuntu Default Page: It works", "IIS Windows Server",
 * Citrix Gateway login at /logon/LogonPoint/). Pages are our own minimal text.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HostPlan } from "./hosts.js";
import { drain, lowerPath, send } from "./httputil.js";

export async function handleWeb(plan: HostPlan, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = lowerPath(req);
  if (req.method === "POST") await drain(req);
  switch (plan.web) {
    case "nginx": {
      const h = { Server: "nginx/1.18.0 (Ubuntu)", "Content-Type": "text/html" };
      if (path === "/" || path === "/index.html") {
        return send(res, 200, h, `<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1><p>Default page of an emulated web server.</p></body></html>`);
      }
      return send(res, 404, h, `<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx/1.18.0 (Ubuntu)</center></body></html>`);
    }
    case "apache": {
      const h = { Server: "Apache/2.4.41 (Ubuntu)", "Content-Type": "text/html; charset=UTF-8" };
      if (path === "/" || path === "/index.html") {
        return send(res, 200, h, `<!DOCTYPE html><html><head><title>Apache2 Ubuntu Default Page: It works</title></head><body><h1>It works!</h1><p>Emulated default page.</p></body></html>`);
      }
      return send(res, 404, h, `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN"><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p><hr><address>Apache/2.4.41 (Ubuntu) Server</address></body></html>`);
    }
    case "iis": {
      const h = { Server: "Microsoft-IIS/10.0", "X-Powered-By": "ASP.NET", "Content-Type": "text/html" };
      if (path === "/" || path === "/iisstart.htm") {
        return send(res, 200, h, `<!DOCTYPE html><html><head><title>IIS Windows Server</title></head><body><div id="container"><img src="iisstart.png" alt="IIS" width="960" height="600" /></div></body></html>`);
      }
      return send(res, 404, h, `<!DOCTYPE html><html><head><title>404 - File or directory not found.</title></head><body><h2>404 - File or directory not found.</h2></body></html>`);
    }
    default: {
      // Citrix-like gateway
      const h = { "Content-Type": "text/html", "Cache-Control": "no-cache, no-store, must-revalidate" };
      if (path === "/") return send(res, 302, { ...h, Location: "/logon/LogonPoint/index.html" });
      if (path === "/logon/logonpoint/index.html" || path === "/vpn/index.html") {
        return send(res, 200, h, `<!DOCTYPE html><html><head><title>Citrix Gateway</title></head><body><div id="logonbox"><form action="/cgi/login" method="post"><input name="login"><input name="passwd" type="password"></form></div></body></html>`);
      }
      return send(res, 404, h, "<html><body>Not found</body></html>");
    }
  }
}

export async function handleLookalike(plan: HostPlan, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = lowerPath(req);
  if (req.method === "POST") await drain(req);
  const joda = plan.lookalike === "joda32";
  const ver = joda ? "15.1.1466" : "15.1.2507";
  const h = { Server: joda ? "Microsoft-IIS/7.5" : "Microsoft-IIS/10.0", "X-Powered-By": "ASP.NET", "Content-Type": "text/html; charset=utf-8" };
  if (path === "/" || path === "/exchange" || path === "/exchange/" || path === "/webmail" || path === "/webmail/" || path === "/owa" || path === "/owa/") {
    return send(res, 302, { ...h, Location: "/owa/auth/logon.aspx?replaceCurrent=1&url=" });
  }
  if (path === "/owa/auth.owa") return send(res, 302, { ...h, Location: "/owa/auth/logon.aspx?replaceCurrent=1&reason=3&url=" });
  if (path === "/owa/auth/logon.aspx") {
    return send(res, 200, h, [
      `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">`,
      `<!-- Emulated honeypot page: a copy of a logon page, served by something that is not Exchange. -->`,
      `<!-- OwaPage = ASP.auth_logon_aspx -->`,
      `<html><head><link rel="shortcut icon" href="/owa/auth/${ver}/themes/resources/favicon.ico" type="image/x-icon">`,
      `<title>Outlook</title><script>function IsOwaPremiumBrowser() { return true; }</script></head>`,
      `<body><noscript>To use Outlook, browser settings must allow scripts to run. For information about how to allow scripts, consult the Help for your browser.</noscript>`,
      `<form action="/owa/auth.owa" method="POST"><input name="username"><input name="password" type="password"></form></body></html>`,
    ].join("\n"));
  }
  if (path.startsWith(`/owa/auth/${ver}/themes/resources/`)) {
    return send(res, 200, { ...h, "Content-Type": "application/octet-stream" }, Buffer.from("emulated"));
  }
  const authDirs = ["abs", "aspnet_client", "autodiscover", "ecp", "ews", "microsoft-server-activesync", "oab", "powershell", "rpc", "mapi"];
  const top = path.split("/").filter(Boolean)[0] ?? "";
  if (authDirs.includes(top) && (path.endsWith("/") || !path.slice(1).includes("/"))) {
    const www = joda ? 'Basic realm="Login Required"' : ['Basic realm="Login Required"', "NTLM"];
    return send(res, 401, { ...h, "WWW-Authenticate": www }, "Authentication required (emulated honeypot).\n");
  }
  return send(res, 404, h, "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>");
}

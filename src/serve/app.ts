/**
 * `vigie serve`: the API (src/serve/routes/*) and the dashboard (dist/web, built by Vite from web/) in one
 * node:http server. Every API route except GET /api/health and the log-in needs a token or a session; roles and
 * constituencies are checked here and in the query layer. Strict CSP and nosniff on every answer, HSTS over TLS.
 * Route parameters are percent-decoded here for every route (400 and one log line when malformed); plain HTTP
 * on a non-loopback address is refused unless asked for (`insecureHttp`).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { BuildExplainer } from "../assess/explainBuild.js";
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import { packageRoot } from "../knowledge/load.js";
import type { Store } from "../store/store.js";
import { DEFAULT_LOGIN_POLICY, LoginGuard, type LoginPolicy } from "./auth/login.js";
import { authenticate, checkCsrf } from "./auth/request.js";
import type { AppContext, Route, ServeOptions } from "./context.js";
import { CursorSealer } from "./cursor.js";
import { DEFAULT_FAIR_SHARE, FairShare, type FairSharePolicy } from "./fairShare.js";
import { HttpError, securityHeaders, sendBytes, sendJson } from "./http.js";
import type { Clock } from "./limits.js";
import { openapiRoutes } from "./openapi.js";
import { AnswerCache } from "./query.js";
import { censusRoutes } from "./routes/census.js";
import { healthRoutes } from "./routes/health.js";
import { hostRoutes } from "./routes/hosts.js";
import { kbRoutes } from "./routes/kb.js";
import { remediationRoutes } from "./routes/remediation.js";
import { sessionRoutes } from "./routes/session.js";
import { snapshotRoutes } from "./routes/snapshots.js";
import { triageRoutes } from "./routes/triage.js";
import { userRoutes } from "./routes/users.js";

export const ROUTES: Route[] = [...healthRoutes, ...sessionRoutes, ...snapshotRoutes, ...censusRoutes, ...hostRoutes, ...kbRoutes, ...triageRoutes, ...remediationRoutes, ...userRoutes, ...openapiRoutes];

export const defaultWebDir = (): string => path.join(packageRoot(), "dist", "web");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
};

function serveStatic(webDir: string, pathname: string, res: ServerResponse): void {
  const index = path.join(webDir, "index.html");
  if (!existsSync(index)) {
    sendBytes(res, "text/plain; charset=utf-8", "The dashboard is not built: run `npm run build` (the API under /api works without it).\n");
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, "malformed percent-encoding in the path", { log: true });
  }
  const file = path.resolve(webDir, "." + path.posix.normalize(rel));
  const inside = file.startsWith(path.resolve(webDir) + path.sep);
  if (inside && rel !== "/" && existsSync(file) && statSync(file).isFile()) {
    const immutable = rel.startsWith("/assets/");
    sendBytes(res, TYPES[path.extname(file)] ?? "application/octet-stream", readFileSync(file), immutable ? "public, max-age=31536000, immutable" : "no-cache");
    return;
  }
  // The single-page app: every other page is index.html (it asks the API, which checks the login).
  sendBytes(res, "text/html; charset=utf-8", readFileSync(index), "no-cache");
}

/** The request as one log line: method, path (quoted, bounded: it is the client's text) and source address. */
const describe = (req: IncomingMessage): string => `${String(req.method ?? "?").slice(0, 10)} ${JSON.stringify(String(req.url ?? "").slice(0, 200))} from ${req.socket.remoteAddress ?? "?"}`;

export function createHandler(ctx: AppContext, webDir: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    securityHeaders(res);
    if (ctx.options.hsts) res.setHeader("Strict-Transport-Security", "max-age=31536000");
    handle(ctx, webDir, req, res).catch((caught: unknown) => {
      // A bad percent-encoding anywhere (decodeURIComponent) is the client's error, not ours.
      const err = caught instanceof URIError ? new HttpError(400, "malformed percent-encoding", { log: true }) : caught;
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) ctx.log(`vigie serve: ${describe(req)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      else if (err instanceof HttpError && err.options.log) ctx.log(`vigie serve: ${status} ${describe(req)}: ${err.message}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 413 || status === 408) res.setHeader("Connection", "close");
      if (err instanceof HttpError && err.options.retryAfter !== undefined) res.setHeader("Retry-After", String(err.options.retryAfter));
      sendJson(res, status, { error: status === 500 ? "internal error" : (err as Error).message });
    });
  };
}

/** Route parameters percent-decoded once, here, for every route: a malformed one is a 400 (one log line). */
function decodeParams(raw: string[]): string[] {
  return raw.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw new HttpError(400, "malformed percent-encoding in the path", { log: true });
    }
  });
}

async function handle(ctx: AppContext, webDir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const method = req.method ?? "GET";
  if (!url.pathname.startsWith("/api/")) {
    if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "method not allowed");
    serveStatic(webDir, url.pathname, res);
    return;
  }
  let pathMatched = false;
  for (const route of ROUTES) {
    const m = route.path.exec(url.pathname);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params = decodeParams(m.slice(1));
    const who = route.access === "public" ? undefined : await authenticate(req, ctx);
    if (route.access !== "public") {
      if (!who) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="vigie"');
        throw new HttpError(401, "log in or send Authorization: Bearer <token>");
      }
      if (!route.access.includes(who.user.role)) throw new HttpError(403, `role ${who.user.role} may not do this`);
      checkCsrf(req, who);
    }
    await route.handler({ req, res, url, params, ctx, who });
    return;
  }
  throw new HttpError(pathMatched ? 405 : 404, pathMatched ? "method not allowed" : "no such API route");
}

export interface StartOptions extends Partial<ServeOptions> {
  store: Store;
  kb: KnowledgeBase;
  host?: string;
  port?: number;
  webDir?: string;
  /** Serve HTTPS with this certificate and key (PEM); cookies are then Secure, and HSTS is sent. */
  tls?: { cert: Buffer; key: Buffer };
  /** Allow plain HTTP on an address other than loopback (refused otherwise). */
  insecureHttp?: boolean;
  loginPolicy?: Partial<LoginPolicy>;
  fairShare?: Partial<FairSharePolicy>;
  /** Milliseconds, for the budgets (Date.now by default). */
  clock?: Clock;
  log?: (line: string) => void;
}

/** 127.0.0.0/8, ::1 (and its IPv4-mapped forms), "localhost": reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Listening on a non-loopback address over plain HTTP without --insecure-http. */
export class InsecureListenError extends Error {}

export function checkListen(host: string, tls: boolean, insecureHttp: boolean): void {
  if (tls || insecureHttp || isLoopbackHost(host)) return;
  throw new InsecureListenError(
    `refusing to serve plain HTTP on ${host}: passwords, session cookies and tokens would cross the network in clear. ` +
      "Serve HTTPS (--tls-cert <pem> --tls-key <pem>), or listen on 127.0.0.1 behind a TLS proxy (--secure-cookies), " +
      "or pass --insecure-http if this network is trusted",
  );
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const listenHost = o.host ?? "127.0.0.1";
  checkListen(listenHost, o.tls !== undefined, o.insecureHttp === true);
  const clock = o.clock ?? Date.now;
  const ctx: AppContext = {
    store: o.store,
    explainer: new BuildExplainer(o.kb),
    cache: new AnswerCache(o.store),
    options: {
      maxUploadBytes: o.maxUploadBytes ?? 100 * 1024 * 1024,
      secureCookies: o.tls !== undefined || (o.secureCookies ?? false),
      hsts: o.tls !== undefined,
    },
    login: new LoginGuard({ ...DEFAULT_LOGIN_POLICY, ...o.loginPolicy }, clock),
    fair: new FairShare({ ...DEFAULT_FAIR_SHARE, ...o.fairShare }, clock),
    cursors: new CursorSealer(),
    log: o.log ?? ((line) => process.stderr.write(line + "\n")),
  };
  const handler = createHandler(ctx, o.webDir ?? defaultWebDir());
  const server: Server = o.tls ? createTlsServer({ cert: o.tls.cert, key: o.tls.key, minVersion: "TLSv1.2" }, handler) : createServer(handler);
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 8080, listenHost, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return {
    server,
    url: `${o.tls ? "https" : "http"}://${host}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

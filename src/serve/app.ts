/**
 * `vigie serve`: the API (src/serve/routes/*) and the dashboard (dist/web, built by Vite from web/) in one
 * node:http server. Every API route except GET /api/health and the log-in needs a token or a session; roles and
 * constituencies are checked here and in the query layer. Strict CSP and nosniff on every answer.
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
import { authenticate, checkCsrf } from "./auth/request.js";
import type { AppContext, Route, ServeOptions } from "./context.js";
import { HttpError, securityHeaders, sendBytes, sendJson } from "./http.js";
import { openapiRoutes } from "./openapi.js";
import { AnswerCache } from "./query.js";
import { censusRoutes } from "./routes/census.js";
import { healthRoutes } from "./routes/health.js";
import { hostRoutes } from "./routes/hosts.js";
import { kbRoutes } from "./routes/kb.js";
import { sessionRoutes } from "./routes/session.js";
import { snapshotRoutes } from "./routes/snapshots.js";
import { triageRoutes } from "./routes/triage.js";
import { userRoutes } from "./routes/users.js";

export const ROUTES: Route[] = [...healthRoutes, ...sessionRoutes, ...snapshotRoutes, ...censusRoutes, ...hostRoutes, ...kbRoutes, ...triageRoutes, ...userRoutes, ...openapiRoutes];

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
    throw new HttpError(400, "bad path");
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

export function createHandler(ctx: AppContext, webDir: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    securityHeaders(res);
    handle(ctx, webDir, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) process.stderr.write(`vigie serve: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 413) res.setHeader("Connection", "close");
      sendJson(res, status, { error: status === 500 ? "internal error" : (err as Error).message });
    });
  };
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
    const who = route.access === "public" ? undefined : await authenticate(req, ctx);
    if (route.access !== "public") {
      if (!who) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="vigie"');
        throw new HttpError(401, "log in or send Authorization: Bearer <token>");
      }
      if (!route.access.includes(who.user.role)) throw new HttpError(403, `role ${who.user.role} may not do this`);
      checkCsrf(req, who);
    }
    await route.handler({ req, res, url, params: m.slice(1), ctx, who });
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
  /** Serve HTTPS with this certificate and key (PEM); cookies are then Secure. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startServer(o: StartOptions): Promise<RunningServer> {
  const ctx: AppContext = {
    store: o.store,
    explainer: new BuildExplainer(o.kb),
    cache: new AnswerCache(o.store),
    options: { maxUploadBytes: o.maxUploadBytes ?? 100 * 1024 * 1024, secureCookies: o.tls !== undefined || (o.secureCookies ?? false) },
  };
  const handler = createHandler(ctx, o.webDir ?? defaultWebDir());
  const server: Server = o.tls ? createTlsServer({ cert: o.tls.cert, key: o.tls.key, minVersion: "TLSv1.2" }, handler) : createServer(handler);
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 8080, o.host ?? "127.0.0.1", () => resolve());
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

/** What every route handler gets: the store, the knowledge base, the answer cache, the caller. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { BuildExplainer } from "../assess/explainBuild.js";
import type { Role, User } from "../store/auth.js";
import type { Store } from "../store/store.js";
import type { Scope } from "./auth/constituency.js";
import type { LoginGuard } from "./auth/login.js";
import type { CursorSealer } from "./cursor.js";
import type { FairShare } from "./fairShare.js";
import type { AnswerCache } from "./query.js";

export interface ServeOptions {
  /** Largest triage upload accepted, in bytes. */
  maxUploadBytes: number;
  /** Set the Secure flag on cookies (served over TLS, or behind a TLS proxy). */
  secureCookies: boolean;
  /** Send Strict-Transport-Security (served over TLS). */
  hsts: boolean;
}

export interface AppContext {
  store: Store;
  explainer: BuildExplainer;
  cache: AnswerCache;
  options: ServeOptions;
  login: LoginGuard;
  fair: FairShare;
  cursors: CursorSealer;
  /** One line per malformed request or server error (stderr by default). */
  log: (line: string) => void;
}

export interface Principal {
  user: User;
  /** Undefined when the user sees everything. */
  scope: Scope | undefined;
  via: "token" | "session";
  sessionId?: string;
  csrf?: string;
}

export interface RouteArgs {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
  ctx: AppContext;
  /** Undefined only on routes marked public. */
  who: Principal | undefined;
}

export interface Route {
  method: "GET" | "POST" | "DELETE";
  path: RegExp;
  /** Roles allowed; "public" routes need no login (health, login). */
  access: "public" | readonly Role[];
  handler: (a: RouteArgs) => Promise<void> | void;
}

export const ANY_ROLE: readonly Role[] = ["admin", "analyst", "viewer"];

/** The principal of an authenticated route (the router checked it). */
export function principal(a: RouteArgs): Principal {
  if (!a.who) throw new Error("route needs a principal");
  return a.who;
}

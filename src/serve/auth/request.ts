/**
 * Who is calling: `Authorization: Bearer <token>` (API), or the session cookie (dashboard). A session caller's
 * state-changing requests must carry the session's CSRF token in `X-CSRF-Token`; the cookie is HttpOnly and
 * SameSite=Strict (and Secure over TLS), so another site can neither read nor send it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";
import type { User } from "../../store/store.js";
import type { AppContext, Principal } from "../context.js";
import { HttpError, parseCookies } from "../http.js";
import { Scope } from "./constituency.js";

const scopes = new Map<string, Scope>();

export function scopeOf(user: User): Scope | undefined {
  if (user.constituency.length === 0) return undefined;
  const key = JSON.stringify(user.constituency);
  let s = scopes.get(key);
  if (!s) {
    s = Scope.parse(user.constituency);
    scopes.set(key, s);
  }
  return s;
}

export const cookieName = (secure: boolean): string => (secure ? "__Host-vigie_session" : "vigie_session");

export function sessionCookie(ctx: AppContext, id: string, maxAgeSeconds: number): string {
  const secure = ctx.options.secureCookies;
  return `${cookieName(secure)}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

export async function authenticate(req: IncomingMessage, ctx: AppContext): Promise<Principal | undefined> {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,200})$/.exec(auth);
    if (!m) return undefined;
    const user = await ctx.store.accounts.userForToken(m[1]!);
    return user ? { user, scope: scopeOf(user), via: "token" } : undefined;
  }
  const id = parseCookies(req.headers.cookie).get(cookieName(ctx.options.secureCookies));
  if (!id || !/^[A-Za-z0-9_-]{20,100}$/.test(id)) return undefined;
  const s = await ctx.store.accounts.sessionUser(id);
  return s ? { user: s.user, scope: scopeOf(s.user), via: "session", sessionId: id, csrf: s.csrf } : undefined;
}

/** Session callers must send the CSRF token with anything that changes state. */
export function checkCsrf(req: IncomingMessage, who: Principal): void {
  if (who.via !== "session" || req.method === "GET" || req.method === "HEAD") return;
  const sent = req.headers["x-csrf-token"];
  const want = Buffer.from(who.csrf ?? "");
  const got = Buffer.from(typeof sent === "string" ? sent : "");
  if (want.length === 0 || got.length !== want.length || !timingSafeEqual(got, want)) throw new HttpError(403, "missing or wrong X-CSRF-Token");
}

export function clearSessionCookie(res: ServerResponse, ctx: AppContext): void {
  res.setHeader("Set-Cookie", sessionCookie(ctx, "", 0));
}

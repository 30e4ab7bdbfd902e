/** Dashboard log-in and log-out: POST /api/session {user,password} sets the session cookie; GET says who; DELETE ends it. */
import { z } from "zod";
import { SESSION_TTL_MS } from "../../store/auth.js";
import { clearSessionCookie, sessionCookie } from "../auth/request.js";
import { ANY_ROLE, principal, type Route } from "../context.js";
import { HttpError, readJson, sendJson } from "../http.js";

const loginSchema = z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict();

/** Failed log-ins per user name in the last minute (a small brake on guessing). */
const failures = new Map<string, number[]>();

export const sessionRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/api\/session$/,
    access: "public",
    handler: async ({ req, res, ctx }) => {
      // JSON only: a cross-site form cannot send it without a CORS preflight this server never grants.
      const body = await readJson(req, loginSchema, 4096);
      const now = Date.now();
      const recent = (failures.get(body.user) ?? []).filter((t) => now - t < 60_000);
      if (recent.length >= 10) throw new HttpError(429, "too many failed log-ins for this user; wait a minute");
      const user = await ctx.store.accounts.verifyLogin(body.user, body.password);
      if (!user) {
        recent.push(now);
        failures.set(body.user, recent);
        if (failures.size > 10_000) failures.clear();
        throw new HttpError(401, "wrong user name or password");
      }
      failures.delete(body.user);
      const s = await ctx.store.accounts.createSession(user.name);
      res.setHeader("Set-Cookie", sessionCookie(ctx, s.id, Math.floor(SESSION_TTL_MS / 1000)));
      sendJson(res, 200, { user: user.name, role: user.role, constituency: user.constituency, csrf: s.csrf });
    },
  },
  {
    method: "GET",
    path: /^\/api\/session$/,
    access: ANY_ROLE,
    handler: (a) => {
      const who = principal(a);
      sendJson(a.res, 200, { user: who.user.name, role: who.user.role, constituency: who.user.constituency, csrf: who.csrf ?? null });
    },
  },
  {
    method: "DELETE",
    path: /^\/api\/session$/,
    access: ANY_ROLE,
    handler: async (a) => {
      const who = principal(a);
      if (who.sessionId) await a.ctx.store.accounts.deleteSession(who.sessionId);
      clearSessionCookie(a.res, a.ctx);
      sendJson(a.res, 200, { ok: true });
    },
  },
];

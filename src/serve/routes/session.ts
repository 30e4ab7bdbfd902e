/**
 * Dashboard log-in and log-out: POST /api/session {user,password} sets the session cookie; GET says who; DELETE
 * ends it. Log-ins go through the budgets of src/serve/auth/login.ts (429/503 with Retry-After).
 */
import { z } from "zod";
import { SESSION_TTL_MS } from "../../store/auth.js";
import { clearSessionCookie, sessionCookie } from "../auth/request.js";
import { ANY_ROLE, principal, type Route } from "../context.js";
import { readJson, sendJson } from "../http.js";

const loginSchema = z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict();

export const sessionRoutes: Route[] = [
  {
    method: "POST",
    path: /^\/api\/session$/,
    access: "public",
    handler: async ({ req, res, ctx }) => {
      // JSON only: a cross-site form cannot send it without a CORS preflight this server never grants.
      const body = await readJson(req, loginSchema, 4096);
      // Budgets per address, overall and per name, then scrypt off the event loop (src/serve/auth/login.ts).
      const user = await ctx.login.attempt(body.user, req.socket.remoteAddress, () => ctx.store.accounts.verifyLogin(body.user, body.password));
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

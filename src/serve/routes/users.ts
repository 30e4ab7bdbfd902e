/** GET /api/users (admins only): accounts and their token ids (never secrets). Accounts are changed with the CLI. */
import type { Route } from "../context.js";
import { sendJson } from "../http.js";

export const userRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/users$/,
    access: ["admin"],
    handler: async ({ res, ctx }) => {
      const tokens = await ctx.store.accounts.listTokens();
      sendJson(res, 200, {
        users: (await ctx.store.accounts.listUsers()).map((u) => ({ ...u, tokens: tokens.filter((t) => t.user === u.name).map((t) => ({ id: t.id, createdAt: t.createdAt, revokedAt: t.revokedAt })) })),
      });
    },
  },
];

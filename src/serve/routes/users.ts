/** GET /api/users (admins only): accounts and their token ids (never secrets). Accounts are changed with the CLI. */
import { listTokens, listUsers } from "../../store/auth.js";
import type { Route } from "../context.js";
import { sendJson } from "../http.js";

export const userRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/users$/,
    access: ["admin"],
    handler: ({ res, ctx }) => {
      const tokens = listTokens(ctx.store);
      sendJson(res, 200, {
        users: listUsers(ctx.store).map((u) => ({ ...u, tokens: tokens.filter((t) => t.user === u.name).map((t) => ({ id: t.id, createdAt: t.createdAt, revokedAt: t.revokedAt })) })),
      });
    },
  },
];

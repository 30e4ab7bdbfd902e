/** GET /api/health: the only anonymous API route. Says nothing about the data. */
import type { Route } from "../context.js";
import { sendJson } from "../http.js";

export const healthRoutes: Route[] = [{ method: "GET", path: /^\/api\/health$/, access: "public", handler: ({ res }) => sendJson(res, 200, { status: "ok" }) }];

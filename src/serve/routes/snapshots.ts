/** GET /api/snapshots: every snapshot, oldest first (their names and dates, not their contents). */
import { ANY_ROLE, type Route } from "../context.js";
import { sendJson } from "../http.js";

export const snapshotRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/snapshots$/,
    access: ANY_ROLE,
    handler: async ({ res, ctx }) => {
      const list = await ctx.store.listSnapshots();
      sendJson(res, 200, { snapshots: list.map((s) => ({ id: s.id, kind: s.kind, date: s.date, createdAt: s.createdAt, finishedAt: s.finishedAt, status: s.status })) });
    },
  },
];

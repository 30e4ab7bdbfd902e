/** Knowledge-base look-ups: GET /api/kb/cves (the advisories), GET /api/kb/explain?build= (a build -> product, CU, verdicts). */
import { z } from "zod";
import { ANY_ROLE, type Route } from "../context.js";
import { parseQuery, sendJson } from "../http.js";

const explainQuery = z.object({ build: z.string().min(1).max(64) }).strict();

export const kbRoutes: Route[] = [
  {
    method: "GET",
    path: /^\/api\/kb\/cves$/,
    access: ANY_ROLE,
    handler: ({ res, ctx }) =>
      sendJson(res, 200, {
        cves: ctx.explainer.kb.advisories.map((x) => ({
          id: x.id,
          title: x.title,
          campaign: x.campaign ?? null,
          published: x.published,
          cvss: x.cvss ?? null,
          affects: x.affects,
          kev: x.kev !== null,
          summary: x.summary,
        })),
      }),
  },
  {
    method: "GET",
    path: /^\/api\/kb\/explain$/,
    access: ANY_ROLE,
    handler: ({ res, url, ctx }) => {
      const q = parseQuery(url, explainQuery);
      sendJson(res, 200, ctx.explainer.explain(q.build));
    },
  },
];

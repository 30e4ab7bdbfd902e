/** The OpenAPI 3.1 description of the API, served at GET /api/openapi.json (logged-in users). */
import { ANY_ROLE, type Route } from "./context.js";
import { sendJson } from "./http.js";

const q = (name: string, description: string, schema: object = { type: "string" }, required = false) => ({ name, in: "query", required, description, schema });
const json = (description: string, schema: object = { type: "object" }) => ({ description, content: { "application/json": { schema } } });
const errors = {
  "400": json("bad parameter", { $ref: "#/components/schemas/Error" }),
  "401": json("no valid token or session", { $ref: "#/components/schemas/Error" }),
  "403": json("role not allowed, or outside the caller's constituency", { $ref: "#/components/schemas/Error" }),
  "429": json("the caller's budget for this is spent (log-ins, exports, uncached queries, uploads): see Retry-After", { $ref: "#/components/schemas/Error" }),
};
const countGroups = { type: "object", additionalProperties: { type: "object", properties: { vulnerable: { type: "integer" }, patched: { type: "integer" }, unknown: { type: "integer" } } } };

export const OPENAPI = {
  openapi: "3.1.0",
  info: {
    title: "Vigie API",
    version: "0.1.0",
    description:
      "Exposure and compromise of on-premises Exchange servers, from the Vigie store. Authenticate with `Authorization: Bearer <token>` (`vigie token create --user <name>`). " +
      "Users limited to a constituency get answers computed only over hosts inside it, and 403 for anything outside it. Every string that came from a scanned server or a bundle is data: show it as text.",
  },
  servers: [{ url: "/" }],
  security: [{ bearer: [] }, { session: [] }],
  components: {
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer" },
      session: { type: "apiKey", in: "cookie", name: "vigie_session", description: "dashboard session; state-changing requests also need X-CSRF-Token" },
    },
    schemas: {
      Error: { type: "object", properties: { error: { type: "string" } }, required: ["error"] },
      Census: {
        type: "object",
        properties: {
          snapshot: { type: "string" },
          by: { enum: ["country", "asn", "product", "cu", "cve"] },
          groups: {
            type: "array",
            items: {
              type: "object",
              properties: {
                key: { type: "string" },
                exposed: { type: "integer" },
                cves: countGroups,
                confidence: {
                  type: "object",
                  description: "servers by identification confidence (low: e.g. a single answer, the OWA logon page only); they add up to exposed",
                  properties: { high: { type: "integer" }, medium: { type: "integer" }, low: { type: "integer" } },
                },
                endOfSupport: {
                  type: "object",
                  description: "servers by Microsoft support of their product on the snapshot's date (knowledge/lifecycle.json); the three add up to exposed",
                  properties: { outOfSupport: { type: "integer" }, supported: { type: "integer" }, unknown: { type: "integer" } },
                },
              },
            },
          },
        },
      },
    },
  },
  paths: {
    "/api/health": { get: { summary: "liveness (no login)", security: [], responses: { "200": json("ok") } } },
    "/api/session": {
      post: {
        summary: "log in (dashboard): sets an HttpOnly SameSite=Strict cookie, returns the CSRF token",
        security: [],
        requestBody: { content: { "application/json": { schema: { type: "object", properties: { user: { type: "string" }, password: { type: "string" } } } } } },
        responses: {
          "200": json("logged in"),
          "401": json("wrong user or password"),
          "429": json("too many failed log-ins from this address, for this name, or on the server: see Retry-After"),
          "503": json("too many log-ins being checked at once: retry after Retry-After"),
        },
      },
      get: { summary: "who am I", responses: { "200": json("user, role, constituency, csrf"), ...errors } },
      delete: { summary: "log out", responses: { "200": json("logged out"), ...errors } },
    },
    "/api/snapshots": { get: { summary: "snapshots, oldest first", responses: { "200": json("snapshots"), ...errors } } },
    "/api/census": {
      get: {
        summary: "census: the JSON of `vigie census --json`",
        parameters: [q("by", "country|asn|product|cu|cve (default country)"), q("snapshot", "default: the newest"), q("country", "ISO 3166 alpha-2"), q("cve", "only this CVE"), q("min_confidence", "high|medium|low: only servers identified at least this surely (default low: all)")],
        responses: { "200": json("census", { $ref: "#/components/schemas/Census" }), "404": json("no such snapshot"), ...errors },
      },
    },
    "/api/census/diff": { get: { summary: "the JSON of `vigie census diff --json`", parameters: [q("from", "earlier snapshot", { type: "string" }, true), q("to", "later snapshot", { type: "string" }, true), q("by", "group"), q("country", "country"), q("cve", "CVE")], responses: { "200": json("diff"), ...errors } } },
    "/api/census/trend": { get: { summary: "the JSON of `vigie census trend --json`", parameters: [q("country", "country"), q("cve", "CVE")], responses: { "200": json("trend"), ...errors } } },
    "/api/census/map.svg": { get: { summary: "world map of vulnerable servers per country (SVG)", parameters: [q("snapshot", "snapshot"), q("cve", "CVE (default: the most vulnerable)")], responses: { "200": { description: "SVG", content: { "image/svg+xml": {} } }, ...errors } } },
    "/api/census/trend.svg": { get: { summary: "trend lines per CVE (SVG)", parameters: [q("country", "country"), q("cve", "CVE")], responses: { "200": { description: "SVG", content: { "image/svg+xml": {} } }, ...errors } } },
    "/api/hosts": {
      get: {
        summary: "hosts of a snapshot, filtered, sorted, paged",
        parameters: [
          q("snapshot", "default: the newest"),
          q("status", "vulnerable|patched|not_affected|unknown (with cve: that CVE)"),
          q("cve", "CVE id"),
          q("country", "ISO 3166 alpha-2"),
          q("asn", "AS number"),
          q("exchange", "true|false"),
          q("ip", "address prefix"),
          q("sort", "id|ip|country|asn|product|build|observed"),
          q("order", "asc|desc"),
          q("limit", "1-500 (default 50)", { type: "integer" }),
          q("offset", "default 0 (deep offsets cost: prefer after)", { type: "integer" }),
          q("after", "keyset paging (any sort, no offset): the opaque `next` of the previous page, valid for the same user, filters and order until the server restarts", { type: "string" }),
        ],
        responses: { "200": json("{snapshot,total,offset,limit,next,hosts:[…]}; next is null on the last page; each host has endOfSupport (its product's last day of support) and outOfSupport (on the snapshot's date, null: not known)"), ...errors },
      },
    },
    "/api/hosts.csv": {
      get: {
        summary: "every host matching the filters as CSV (same filters and sort as /api/hosts, no paging); strings from servers starting with = + - @ are prefixed with '",
        responses: { "200": { description: "CSV", content: { "text/csv": {} } }, ...errors },
      },
    },
    "/api/hosts/{ip}/{port}": {
      get: {
        summary: "one host: observation (evidence), identification, verdicts with remediation, build explanation, history",
        parameters: [{ name: "ip", in: "path", required: true, schema: { type: "string" } }, { name: "port", in: "path", required: true, schema: { type: "integer" } }, q("snapshot", "default: the newest")],
        responses: { "200": json("host"), "404": json("not in this snapshot"), ...errors },
      },
    },
    "/api/kb/cves": { get: { summary: "the advisories of the knowledge base", responses: { "200": json("cves"), ...errors } } },
    "/api/kb/explain": { get: { summary: "a build -> product, CU, per-CVE verdicts", parameters: [q("build", "15.1.2176.2, 15.1.2176 or 15.1", { type: "string" }, true)], responses: { "200": json("explanation"), ...errors } } },
    "/api/triage": {
      post: {
        summary: "upload a bundle (.zip or .tar.gz, bounded in size; analyst/admin) -> verdict and findings, attached to the server it names",
        parameters: [q("name", "label for the report"), q("host", "the server's IP address (repeatable), for bundles whose manifest does not name it")],
        requestBody: { content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
        responses: {
          "201": json("report"),
          "408": json("the body arrived too slowly (a minimum transfer rate applies)"),
          "413": json("too large"),
          "415": json("not a zip or tar.gz"),
          "503": json("the server's upload slots are taken: retry after Retry-After"),
          ...errors,
        },
      },
      get: { summary: "triage reports (constituency-limited users: their own)", responses: { "200": json("reports"), ...errors } },
    },
    "/api/triage/{id}": { get: { summary: "one triage report, findings in timeline order", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { "200": json("report"), "404": json("none"), ...errors } } },
    "/api/remediation": {
      get: {
        summary: "remediation per group: the JSON of `vigie remediation --by … --json` (constituency-limited users: their notified servers only)",
        parameters: [q("by", "org|country|asn (default org)"), q("cve", "only this CVE")],
        responses: { "200": json("{by, groups:[{key,notified,remediated,stillVulnerable,unknown,gone,medianDaysToFix,p90DaysToFix}]}"), ...errors },
      },
    },
    "/api/remediation/overdue": {
      get: {
        summary: "the escalation list: the JSON of `vigie remediation --overdue N --json`",
        parameters: [q("overdueDays", "days since the notice (default 14)", { type: "integer" }), q("cve", "only this CVE"), q("at", "ISO time the days are measured at (default now)")],
        responses: { "200": json("{overdueDays, servers:[{organisation,ip,port,hostname,cve,country,asn,notifiedAt,daysSinceNotice,snapshot,snapshotDate}]}"), ...errors },
      },
    },
    "/api/remediation/series": {
      get: {
        summary: "notified servers still vulnerable per snapshot, one series per group, with the timeline events of the notified CVEs and their sources",
        parameters: [q("by", "org|country|asn (default org)"), q("cve", "only this CVE")],
        responses: { "200": json("{by, cves, snapshots:[{id,date,kind}], series:[{key, points:[{snapshot,date,notified,stillVulnerable}]}], events:[…], sources:{…}}"), ...errors },
      },
    },
    "/api/remediation/series.svg": {
      get: { summary: "the series as a chart (SVG), timeline events marked", parameters: [q("by", "org|country|asn"), q("cve", "CVE")], responses: { "200": { description: "SVG", content: { "image/svg+xml": {} } }, ...errors } },
    },
    "/api/notices": {
      get: {
        summary: "notices recorded, newest first, with recipients (delivery state, relay reply) and (server, CVE) items; constituency-limited users: notices with items inside, those items only",
        parameters: [q("snapshot", "only notices of this snapshot"), q("kind", "notice|reminder")],
        responses: { "200": json("{notices:[…]}"), ...errors },
      },
    },
    "/api/notices/{id}/raw": {
      get: {
        summary: "one message as sent (RFC 5322), as text/plain (analysts and admins; a constituency-limited one only when every server of the notice is inside)",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }],
        responses: { "200": { description: "the message", content: { "text/plain": {} } }, "404": json("no such notice"), ...errors },
      },
    },
    "/api/notices/dry-run": {
      post: {
        summary: "the notices `vigie notify` would send now for a contacts file, composed but NOT sent and NOT recorded (analysts and admins; constituency-limited: servers inside only)",
        requestBody: {
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["contacts", "from"],
                properties: {
                  contacts: { type: "string", description: "the contacts CSV (scope,organisation,email,language) as text; the whole body at most 1 MiB" },
                  from: { type: "string", description: 'sender, e.g. "CERT Example <cert@example.org>"' },
                  snapshot: { type: "string", description: "default: the newest" },
                  cves: { type: "array", items: { type: "string" } },
                  unknown: { type: "boolean", description: "also servers whose verdict is unknown" },
                  at: { type: "string", description: "notice time (ISO), default now" },
                  organisation: { type: "string", description: "only this organisation's message in full" },
                  limit: { type: "integer", description: "messages in full, 1-500 (default 100); every organisation is summarised in `organisations`" },
                },
              },
            },
          },
        },
        responses: {
          "200": json("{dryRun:true, snapshot, at, contacts:{organisations,rows,skipped,badRows:[{line,reason}]}, unowned, alreadyNotified, total, organisations:[{organisation,recipients,language,servers,items}], messages:[{organisation,recipients,language,subject,messageId,servers,items,text,attachment:{filename,contentType,content}}]}"),
          "413": json("body larger than 1 MiB"),
          "415": json("not application/json"),
          ...errors,
        },
      },
    },
    "/api/users": { get: { summary: "accounts and their token ids (admins only)", responses: { "200": json("users"), ...errors } } },
    "/api/openapi.json": { get: { summary: "this document", responses: { "200": json("OpenAPI") } } },
  },
} as const;

export const openapiRoutes: Route[] = [{ method: "GET", path: /^\/api\/openapi\.json$/, access: ANY_ROLE, handler: ({ res }) => sendJson(res, 200, OPENAPI) }];

// The probe plan against servers that expose only part of Exchange (a reverse proxy that blocks OWA but passes
// Autodiscover, ActiveSync, MAPI, EWS or ECP), and against plain web servers. The servers are written here, on
// real loopback sockets, from public descriptions of Exchange's answers — not the emulator, which shares Vigie's
// beliefs. The scans run through the built `vigie scan` CLI on a real SQLite file.
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/observe/http/hostClient.js";
import { DEFAULT_MAX_REQUESTS, DEFAULT_PROBE_CONTEXT, MAX_REQUESTS_PER_HOST, probeTarget, requestLimit } from "../../src/observe/probes/probeHost.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import type { HostRecord } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";

interface Answer {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string;
}

interface TestServer {
  ip: string;
  /** Every request path received, in order. */
  paths: string[];
  server: Server;
}

const IIS = { Server: "Microsoft-IIS/10.0", "X-Powered-By": "ASP.NET" };
const NOT_FOUND: Answer = { status: 404, headers: { ...IIS, "Content-Type": "text/html" }, body: "<html><body>404 - File or directory not found.</body></html>" };

/** A 401 of Exchange's front end: request-id, X-FEServer, Negotiate/NTLM/Basic (vinhjaxt/proxynotshell main.go,
 * a 2019 CU11 Nov21SU server's answer on /autodiscover/autodiscover.json; emulator/README.md S5). */
function frontEnd401(extra: Record<string, string> = {}): Answer {
  return {
    status: 401,
    headers: {
      ...IIS,
      "request-id": "0f6f6e5c-1b7e-4a51-9a3e-6d1f2c3b4a59",
      "X-FEServer": "EXCH01",
      "WWW-Authenticate": ["Negotiate", "NTLM", 'Basic realm="mail.example.test"'],
      ...extra,
    },
    body: "",
  };
}

const SERVERS: Record<string, { ip: string; answer: (p: string) => Answer }> = {
  // Only /autodiscover/ passes the proxy; its 401 carries X-OWA-Version 15.2.986.14.
  autodiscover: {
    ip: "127.41.0.1",
    answer: (p) => (p.startsWith("/autodiscover/") ? frontEnd401({ "X-OWA-Version": "15.2.986.14", "X-CalculatedBETarget": "exch01.example.test" }) : NOT_FOUND),
  },
  // Only ActiveSync: the unauthenticated GET is refused with Exchange's front-end headers, no version.
  activesync: { ip: "127.41.0.2", answer: (p) => (p === "/microsoft-server-activesync" ? frontEnd401() : NOT_FOUND) },
  // Only MAPI over HTTP.
  mapi: { ip: "127.41.0.3", answer: (p) => (p.startsWith("/mapi/") ? frontEnd401() : NOT_FOUND) },
  // A plain web server: 404 on everything.
  notFound: { ip: "127.41.0.4", answer: () => ({ status: 404, headers: { Server: "nginx" }, body: "<html><head><title>404 Not Found</title></head></html>" }) },
  // A catch-all site: the same 200 page for every path.
  samePage: { ip: "127.41.0.5", answer: () => ({ status: 200, headers: { Server: "nginx", "Content-Type": "text/html" }, body: "<html><head><title>Welcome</title></head><body>Hello</body></html>" }) },
  // Only EWS and ECP pass: EWS names the build in its SOAP header (4 parts, but possibly the back end's), and
  // the installed build's ECP folder answers 200 (the candidate paths pin it).
  ewsEcp: {
    ip: "127.41.0.6",
    answer: (p) => {
      if (p === "/ews/exchange.asmx") {
        return {
          status: 500,
          headers: { ...IIS, "Content-Type": "text/xml; charset=utf-8", "X-FEServer": "EXCH01" },
          body: '<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="2" MajorBuildNumber="986" MinorBuildNumber="14" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body/></s:Envelope>',
        };
      }
      if (p === "/ecp/15.2.986.14/exporttool/") return { status: 200, headers: IIS, body: "" };
      return NOT_FOUND;
    },
  },
  // Another ActiveSync server (not Exchange): the protocol's own headers, no Exchange front-end header.
  otherActiveSync: {
    ip: "127.41.0.7",
    answer: (p): Answer =>
      p === "/microsoft-server-activesync"
        ? { status: 401, headers: { Server: "Apache", "MS-Server-ActiveSync": "14.1", "MS-ASProtocolVersions": "2.5,12.0,12.1,14.0,14.1", "WWW-Authenticate": 'Basic realm="ActiveSync"' }, body: "" }
        : { status: 404, headers: { Server: "Apache" }, body: "" },
  },
};

const servers = new Map<string, TestServer>();
let records: Map<string, HostRecord>;
let scanStdout = "";

function listen(ip: string, answer: (p: string) => Answer): Promise<TestServer> {
  const t: TestServer = { ip, paths: [], server: createServer() };
  t.server.on("request", (req, res) => {
    const url = req.url ?? "/";
    t.paths.push(url);
    const a = answer(url.split("?")[0]!.toLowerCase());
    res.writeHead(a.status, a.headers ?? {});
    res.end(a.body ?? "");
  });
  return new Promise((resolve, reject) => {
    t.server.once("error", reject);
    t.server.listen(80, ip, () => resolve(t));
  });
}

beforeAll(async () => {
  for (const [name, s] of Object.entries(SERVERS)) servers.set(name, await listen(s.ip, s.answer));
  const db = path.join(mkdtempSync(path.join(tmpdir(), "vigie-probeplan-")), "scan.db");
  const targets = Object.values(SERVERS).map((s) => `${s.ip}:80`);
  const r = await runCli(["scan", ...targets, "--db", db, "--json", "--no-progress", "--connect-timeout", "1000", "--read-timeout", "2000", "--request-timeout", "3000"]);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  scanStdout = r.stdout;
  const store = await openSqliteStore(db);
  try {
    const snapshot = await store.latestSnapshot();
    records = new Map();
    for await (const h of store.hosts({ snapshotId: snapshot!.id })) records.set(h.ip, h);
  } finally {
    await store.close();
  }
}, 120_000);

afterAll(async () => {
  for (const t of servers.values()) await new Promise<void>((resolve) => t.server.close(() => resolve()));
});

const record = (name: string): HostRecord => {
  const r = records.get(SERVERS[name]!.ip);
  expect(r, `${name} has a host record`).toBeDefined();
  return r!;
};
const paths = (name: string): string[] => servers.get(name)!.paths;

describe("a server behind a proxy that passes only Autodiscover", () => {
  it("is identified as Exchange Server 2019 CU11 Nov21SU, exactly", () => {
    const r = record("autodiscover");
    expect(r.isExchange).toBe(true);
    expect(r.build).toBe("15.2.986.14");
    expect(r.precision).toBe("exact");
    expect(r.product).toBe("Exchange Server 2019");
    expect(r.cu).toMatch(/^CU11\b/);
    expect(r.observation.evidence.some((e) => e.probe === "autodiscover" && e.kind === "owa-version-header" && e.build === "15.2.986.14")).toBe(true);
    expect(scanStdout).toContain('"15.2.986.14"');
  });

  it("gets the verdicts Microsoft's advisories give for 15.2.986.14", () => {
    // Written by hand, not from Vigie's explainer. 15.2.986.14 is Exchange 2019 CU11 + the November 2021 SU
    // (KB5007409; learn.microsoft.com/en-us/exchange/new-features/build-numbers-and-release-dates).
    const expected: [cve: string, status: string, source: string][] = [
      // ProxyLogon: fixed by the March 2021 SUs; CU11 (September 2021) includes the fix.
      ["CVE-2021-26855", "patched", "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2021-26855"],
      // ProxyShell: fixed by the April 2021 SUs; included in every later CU, CU11 among them.
      ["CVE-2021-34473", "patched", "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2021-34473"],
      // Fixed by the November 2021 SU itself (KB5007409, https://support.microsoft.com/help/5007409).
      ["CVE-2021-42321", "patched", "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2021-42321"],
      // ProxyNotShell: fixed for 2019 CU11 by the November 2022 SU 15.2.986.36 (KB5019758).
      ["CVE-2022-41040", "vulnerable", "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2022-41040"],
      ["CVE-2022-41082", "vulnerable", "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2022-41082"],
      // Microsoft lists only Exchange 2010 as affected.
      ["CVE-2020-17144", "not_affected", "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2020-17144"],
    ];
    const got = new Map(record("autodiscover").cves.map((c) => [c.id, c.status]));
    for (const [cve, status, source] of expected) expect(got.get(cve), `${cve} (${source})`).toBe(status);
  });
});

describe("servers that answer on one other Exchange endpoint only", () => {
  it("a proxy passing only ActiveSync is Exchange (X-FEServer on its 401)", () => {
    const r = record("activesync");
    expect(r.isExchange).toBe(true);
    expect(r.observation.evidence.some((e) => e.probe === "activesync" && e.kind === "exchange-header")).toBe(true);
  });

  it("a proxy passing only MAPI is Exchange", () => {
    const r = record("mapi");
    expect(r.isExchange).toBe(true);
    expect(r.observation.evidence.some((e) => e.probe === "mapi" && e.kind === "exchange-header")).toBe(true);
  });

  it("a 3-part build from EWS is pinned through the ECP candidate paths", () => {
    const r = record("ewsEcp");
    expect(r.build).toBe("15.2.986.14");
    expect(r.precision).toBe("exact");
    expect(r.observation.evidence.some((e) => e.kind === "ecp-candidate-build" && e.build === "15.2.986.14")).toBe(true);
    // A made-up build first, then the CU's known updates newest first, stopping at the one that answers.
    const ecp = paths("ewsEcp").filter((p) => /^\/ecp\/15\.2\.986\.\d+\/exporttool\/$/.test(p));
    expect(ecp[0]).toBe("/ecp/15.2.986.65534/exporttool/");
    expect(ecp.at(-1)).toBe("/ecp/15.2.986.14/exporttool/");
    expect(paths("ewsEcp").length).toBeLessThanOrEqual(DEFAULT_MAX_REQUESTS);
  });
});

describe("plain web servers", () => {
  // logon page, EWS, then each endpoint family once (Autodiscover, ActiveSync, MAPI, ECP), then / for the title.
  const PLAN = ["/owa/auth/logon.aspx", "/EWS/Exchange.asmx", "/autodiscover/", "/Microsoft-Server-ActiveSync", "/mapi/", "/ecp/Current/exporttool/", "/"];

  for (const name of ["notFound", "samePage", "otherActiveSync"]) {
    it(`${name}: not Exchange, after asking each endpoint family once`, () => {
      expect(record(name).isExchange).toBe(false);
      const asked = paths(name);
      expect(asked).toHaveLength(PLAN.length);
      asked.forEach((p, i) => expect(p.startsWith(PLAN[i]!), `${p} is request ${i + 1} of the plan`).toBe(true));
      expect(asked.length).toBeLessThanOrEqual(DEFAULT_MAX_REQUESTS);
    });
  }

  it("the ActiveSync protocol headers of a non-Exchange server are kept, not taken for Exchange", () => {
    const ev = record("otherActiveSync").observation.evidence.filter((e) => /ms-server-activesync|ms-asprotocolversions/i.test(e.field));
    expect(ev.map((e) => e.kind)).toEqual(["other", "other"]);
  });
});

describe("the per-host request budget", () => {
  it("bounds every request of the host, whatever the plan wants", async () => {
    const t = servers.get("notFound")!;
    const before = t.paths.length;
    const obs = await probeTarget(
      { ip: t.ip, port: 80, hostname: null },
      { ...DEFAULT_PROBE_CONTEXT, limits: { ...DEFAULT_LIMITS, connectTimeoutMs: 1000 }, candidates: () => [], maxRequests: 3 },
    );
    expect(t.paths.length - before).toBe(3);
    expect(obs.errors.some((e) => /request budget of 3 per host spent/.test(e))).toBe(true);
  });

  it("is clamped to 1…MAX_REQUESTS_PER_HOST", () => {
    expect(requestLimit({ maxRequests: 0 })).toBe(1);
    expect(requestLimit({ maxRequests: 10_000 })).toBe(MAX_REQUESTS_PER_HOST);
    expect(requestLimit({ maxRequests: Number.NaN })).toBe(DEFAULT_MAX_REQUESTS);
    expect(DEFAULT_PROBE_CONTEXT.maxRequests).toBe(DEFAULT_MAX_REQUESTS);
  });
});

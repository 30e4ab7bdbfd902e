// `vigie scan --max-requests`: the built CLI against a server written here on a loopback socket, which counts what
// it is asked. The server looks like an Exchange 2019 CU11 front end that shows only its 3-part build (the OWA
// logon page's resource paths) and answers 404 on every ECP candidate path, so the probe plan wants more requests
// than a small budget allows (18 requests with the default budget of 40).
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_REQUESTS } from "../../src/observe/probes/probeHost.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import type { HostRecord } from "../../src/store/store.js";
import { runCli } from "../helpers/cli.js";

const IP = "127.41.1.1";
const IIS = { Server: "Microsoft-IIS/10.0", "X-Powered-By": "ASP.NET" };
/** The logon page's markers and its 3-part resource path, as on the 2019 CU9 capture (emulator/README.md S1). */
const LOGON = `<!DOCTYPE html><html><head><title>Outlook</title>
<link rel="shortcut icon" href="/owa/auth/15.2.986/themes/resources/favicon.ico" type="image/x-icon">
<!-- OwaPage = ASP.auth_logon_aspx --></head>
<body><script>function IsOwaPremiumBrowser(){return true;}</script>
<form action="/owa/auth.owa" method="POST" name="logonForm"><input id="username" name="username"></form></body></html>`;

let server: Server;
let asked = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    asked++;
    const p = (req.url ?? "/").split("?")[0]!.toLowerCase();
    const headers = { ...IIS, "request-id": "0f6f6e5c-1b7e-4a51-9a3e-6d1f2c3b4a59" };
    if (p === "/owa/auth/logon.aspx") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html; charset=utf-8" });
      res.end(LOGON);
    } else if (p === "/ews/exchange.asmx") {
      // Exchange's front end refuses the anonymous NEGOTIATE with its own headers (test/scan/probePlan.test.ts).
      res.writeHead(401, { ...headers, "X-FEServer": "EXCH01", "WWW-Authenticate": ["Negotiate", "NTLM"] });
      res.end();
    } else {
      res.writeHead(404, { ...headers, "Content-Type": "text/html" });
      res.end("<html><body>404 - File or directory not found.</body></html>");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(80, IP, () => resolve());
  });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** One `vigie scan` of the server; returns the requests the server received and the stored record. */
async function scan(extra: string[]): Promise<{ requests: number; record: HostRecord }> {
  const db = path.join(mkdtempSync(path.join(tmpdir(), "vigie-maxreq-")), "scan.db");
  const before = asked;
  const r = await runCli(["scan", `${IP}:80`, "--db", db, "--json", "--no-progress", "--connect-timeout", "1000", "--read-timeout", "2000", ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const store = await openSqliteStore(db);
  try {
    const snapshot = await store.latestSnapshot();
    const records: HostRecord[] = [];
    for await (const h of store.hosts({ snapshotId: snapshot!.id })) records.push(h);
    expect(records).toHaveLength(1);
    return { requests: asked - before, record: records[0]! };
  } finally {
    await store.close();
  }
}

describe("vigie scan --max-requests", () => {
  it("the server gets exactly the budget when the plan wants more, and the record says the budget was spent", async () => {
    const unbounded = await scan([]);
    expect(unbounded.record.isExchange).toBe(true);
    expect(unbounded.record.build).toBe("15.2.986");
    expect(unbounded.requests).toBeGreaterThan(12);
    expect(unbounded.requests).toBeLessThanOrEqual(DEFAULT_MAX_REQUESTS);
    for (const n of [5, 12]) {
      const { requests, record } = await scan(["--max-requests", String(n)]);
      expect(requests, `--max-requests ${n}`).toBe(n);
      expect(record.observation.errors.some((e) => e.includes(`request budget of ${n} per host spent`)), record.observation.errors.join("; ")).toBe(true);
      expect(record.isExchange).toBe(true);
    }
  }, 60_000);

  it("refuses a budget that is not a whole number from 1 to 200, naming the option", async () => {
    for (const bad of ["0", "201", "2.5", "many"]) {
      const before = asked;
      const r = await runCli(["scan", `${IP}:80`, "--db", path.join(mkdtempSync(path.join(tmpdir(), "vigie-maxreq-")), "x.db"), "--max-requests", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--max-requests: "${bad}" is not a whole number from 1 to 200`);
      expect(asked - before, "no request sent").toBe(0);
    }
  });
});

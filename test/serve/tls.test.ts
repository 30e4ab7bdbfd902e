// vigie serve over TLS (--tls-cert/--tls-key): the session cookie is Secure with the __Host- prefix; HSTS is sent.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/serve/app.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import { buildFixture, type Fixture } from "./fixture.js";

let fx: Fixture;
let srv: RunningServer;
let cert: Buffer;

beforeAll(async () => {
  fx = await buildFixture();
  const key = path.join(fx.dir, "key.pem");
  const crt = path.join(fx.dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "pipe" });
  cert = readFileSync(crt);
  srv = await startServer({ store: await openSqliteStore(fx.db), kb: fx.kb, port: 0, tls: { cert, key: readFileSync(key) } });
}, 60_000);
afterAll(async () => {
  await srv?.close();
});

function call(p: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(srv.url + p, { method, headers, ca: cert }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("vigie serve over TLS", () => {
  it("sets a Secure __Host- session cookie and accepts it back, with HSTS", async () => {
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const login = await call("/api/session", "POST", { "Content-Type": "application/json" }, JSON.stringify({ user: "viewer", password: "viewer-password" }));
    expect(login.status).toBe(200);
    expect(login.headers["strict-transport-security"]).toBe("max-age=31536000");
    const setCookie = String(login.headers["set-cookie"] ?? "");
    expect(setCookie).toMatch(/^__Host-vigie_session=/);
    expect(setCookie).toMatch(/; Secure/);
    expect(setCookie).toMatch(/HttpOnly/);
    const me = await call("/api/session", "GET", { Cookie: setCookie.split(";")[0]! });
    expect(me.status).toBe(200);
    expect((await call("/api/census", "GET", {})).status).toBe(401);
  });
});

import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Duplex } from "node:stream";
import { createGunzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFleet } from "../../emulator/fleet.js";
import type { Fleet } from "../../emulator/fleet.js";
import type { HostileKind, HostTruth } from "../../emulator/hosts.js";
import { buildNegotiate } from "../../emulator/ntlm.js";
import { get, onlyMix } from "./helpers.js";

describe("web servers and OWA look-alikes", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ hosts: 40, seed: 3, baseAddress: "127.21.2.1", mix: onlyMix("web", "lookalike") });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("web flavours show their own banners and no Exchange markers", async () => {
    // Each flavour's own banner, checked on every host of that flavour (and every flavour is in the fleet).
    const banner: Record<string, (r: Awaited<ReturnType<typeof get>>) => void> = {
      nginx: (r) => expect(r.body).toContain("Welcome to nginx!"),
      apache: (r) => expect(String(r.headers.server)).toMatch(/^Apache\//),
      iis: (r) => expect(r.body).toContain("IIS Windows Server"),
      citrix: (r) => expect(r.headers.location).toBe("/logon/LogonPoint/index.html"),
    };
    const web = fleet.hosts.filter((x) => x.kind === "web");
    expect(new Set(web.map((h) => h.variant))).toEqual(new Set(Object.keys(banner)));
    for (const h of web) {
      const r = await get(h.ip, "/", { tls: h.variant !== "nginx" });
      expect(r.headers["x-owa-version"]).toBeUndefined();
      expect(r.body).not.toContain("OwaPage");
      banner[h.variant!]!(r);
      expect(h.knowablePrecision).toBe("none");
    }
  });

  it("look-alikes copy the logon page but not Exchange's headers or NTLM", async () => {
    const looks = fleet.hosts.filter((x) => x.kind === "lookalike");
    expect(new Set(looks.map((h) => h.variant))).toEqual(new Set(["joda32", "vinsiic"]));
    for (const h of looks) {
      const logon = await get(h.ip, "/owa/auth/logon.aspx");
      expect(logon.status).toBe(200);
      expect(logon.body).toMatch(/\/owa\/auth\/15\.1\.(1466|2507)\/themes\/resources\/favicon\.ico/);
      expect(logon.headers["request-id"]).toBeUndefined();
      // joda32 sends IIS 7.5 on every answer; the vinsiic honeypot's gunicorn config sends IIS 10.0 (emulator/others.ts).
      expect(logon.headers.server, `${h.ip} ${h.variant}`).toBe(h.variant === "joda32" ? "Microsoft-IIS/7.5" : "Microsoft-IIS/10.0");
      const ews = await get(h.ip, "/EWS/", { headers: { Authorization: `NTLM ${buildNegotiate().toString("base64")}` } });
      expect(ews.status).toBe(401);
      const www = ([] as string[]).concat(ews.headers["www-authenticate"] ?? []);
      expect(www.some((w) => /^Basic realm=/.test(w))).toBe(true);
      expect(www.some((w) => /^NTLM \S+/.test(w))).toBe(false); // never a CHALLENGE
      expect(ews.headers["x-feserver"]).toBeUndefined();
      expect((await get(h.ip, "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application")).status).toBe(404);
      expect(h.product).toBeNull();
      expect(h.knowableBuild).toBeNull();
    }
  });
});

/** Connects (TLS on 443) and sends a request; collects what comes back for `ms`. */
function probe(h: HostTruth, port: number, ms: number, max = 1 << 20): Promise<{ data: Buffer; error?: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let error: string | undefined;
    let closed = false;
    const s: Duplex =
      port === 443
        ? tlsConnect({ host: h.ip, port, rejectUnauthorized: false }, () => s.write(`GET / HTTP/1.1\r\nHost: ${h.ip}\r\n\r\n`))
        : netConnect({ host: h.ip, port }, () => s.write(`GET / HTTP/1.1\r\nHost: ${h.ip}\r\n\r\n`));
    s.on("data", (c: Buffer) => {
      n += c.length;
      if (n <= max) chunks.push(c);
      else s.destroy();
    });
    s.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on("close", () => (closed = true));
    setTimeout(() => {
      s.destroy();
      resolve({ data: Buffer.concat(chunks), error, closed });
    }, ms);
  });
}

describe("hostile hosts", () => {
  let fleet: Fleet;
  const byKind = new Map<HostileKind, HostTruth>();
  beforeAll(async () => {
    fleet = await startFleet({ hosts: 48, seed: 9, baseAddress: "127.21.3.1", mix: onlyMix("hostile"), slowDelayMs: 50 });
    for (const h of fleet.hosts) if (!byKind.has(h.hostile!)) byKind.set(h.hostile!, h);
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("has every hostile kind", () => {
    expect(byKind.size).toBe(8);
    for (const h of fleet.hosts) {
      expect(h.kind).toBe("hostile");
      expect(h.knowablePrecision).toBe("none");
    }
  });

  it("reset: connection reset at once", async () => {
    const r = await probe(byKind.get("reset")!, 80, 300);
    expect(r.data.length).toBe(0);
    expect(r.closed).toBe(true);
  });

  it("tarpit: accepts and never answers", async () => {
    const r = await probe(byKind.get("tarpit")!, 443, 400);
    expect(r.data.length).toBe(0);
    expect(r.error).toBeUndefined();
  });

  it("tls-garbage: the TLS handshake fails", async () => {
    const r = await probe(byKind.get("tls-garbage")!, 443, 500);
    expect(r.error).toBeDefined();
  });

  it("binary-garbage: random bytes instead of HTTP", async () => {
    await expect(get(byKind.get("binary-garbage")!.ip, "/", { timeoutMs: 1500 })).rejects.toThrow();
    const r = await probe(byKind.get("binary-garbage")!, 80, 300);
    expect(r.data.length).toBe(4096);
    expect(r.data.subarray(0, 5).toString("latin1")).not.toBe("HTTP/");
  });

  it("slowloris: a byte at a time", async () => {
    const r = await probe(byKind.get("slowloris")!, 443, 600);
    expect(r.data.length).toBeGreaterThan(2);
    expect(r.data.length).toBeLessThan(20);
    expect("HTTP/1.1 200 OK".startsWith(r.data.toString("latin1").slice(0, 8))).toBe(true);
    await expect(get(byKind.get("slowloris")!.ip, "/", { timeoutMs: 500 })).rejects.toThrow(/timeout/);
  });

  it("endless-headers: the header block never ends", async () => {
    await expect(get(byKind.get("endless-headers")!.ip, "/", { timeoutMs: 3000 })).rejects.toThrow(/Parse Error|overflow|HPE_HEADER_OVERFLOW/i);
    const r = await probe(byKind.get("endless-headers")!, 80, 300, 200_000);
    expect(r.data.toString("latin1")).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(r.data.indexOf("\r\n\r\n")).toBe(-1);
  });

  it("gzip-bomb: a small gzip body that inflates to gigabytes", async () => {
    const r = await probe(byKind.get("gzip-bomb")!, 80, 1500, 4 << 20);
    const sep = r.data.indexOf("\r\n\r\n");
    const head = r.data.subarray(0, sep).toString("latin1");
    expect(head).toMatch(/Content-Encoding: gzip/);
    const len = Number(/Content-Length: (\d+)/.exec(head)![1]);
    expect(len).toBeLessThan(4 << 20);
    const body = r.data.subarray(sep + 4);
    // Inflate only the first 64 MiB, then stop: the ratio already shows the bomb.
    let out = 0;
    await new Promise<void>((resolve) => {
      const g = createGunzip();
      g.on("data", (c: Buffer) => {
        out += c.length;
        if (out > 64 << 20) {
          g.destroy();
          resolve();
        }
      });
      g.on("error", () => resolve());
      g.on("close", () => resolve());
      g.end(body);
    });
    expect(out).toBeGreaterThan(64 << 20);
    expect(out / body.length).toBeGreaterThan(30);
  });

  it("huge-body: announces hundreds of MB and streams them lazily", async () => {
    const r = await probe(byKind.get("huge-body")!, 443, 500, 1 << 20);
    const head = r.data.subarray(0, r.data.indexOf("\r\n\r\n")).toString("latin1");
    expect(Number(/Content-Length: (\d+)/.exec(head)![1])).toBeGreaterThanOrEqual(400 * 1024 * 1024);
  });
});

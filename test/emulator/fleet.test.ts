import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertLoopbackRange, ipToInt, startFleet, truthJsonl } from "../../emulator/fleet.js";
import type { Fleet } from "../../emulator/fleet.js";
import { get } from "./helpers.js";

const BASE = "127.21.0.1";

describe("fleet lifecycle", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ hosts: 60, seed: 11, baseAddress: BASE, smtp: true });
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("gives each host a consecutive loopback address and a truth record", () => {
    expect(fleet.hosts).toHaveLength(60);
    fleet.hosts.forEach((h, i) => {
      expect(ipToInt(h.ip)).toBe(ipToInt(BASE) + i);
      expect(h.ip.startsWith("127.")).toBe(true);
      expect(h.ip).not.toBe("127.0.0.1");
    });
    expect(fleet.buildSource).toBe("knowledge");
    const kinds = new Set(fleet.hosts.map((h) => h.kind));
    expect(kinds.has("exchange")).toBe(true);
    const lines = truthJsonl(fleet.hosts).trim().split("\n");
    expect(lines).toHaveLength(60);
    expect(JSON.parse(lines[0]!).ip).toBe(BASE);
  });

  it("is reproducible from the seed", async () => {
    const again = await startFleet({ hosts: 5, seed: 11, baseAddress: "127.21.0.101" });
    try {
      expect(again.hosts.map((h) => [h.kind, h.build, h.hostile ?? null])).toEqual(
        fleet.hosts.slice(0, 5).map((h) => [h.kind, h.build, h.hostile ?? null]),
      );
    } finally {
      await again.close();
    }
  });

  it("only non-hostile hosts answer HTTP, SMTP only where the truth says so", async () => {
    const web = fleet.hosts.find((h) => h.kind === "web")!;
    const a = await get(web.ip, "/", { tls: false });
    expect(a.status).toBeGreaterThanOrEqual(200);
    const noSmtp = fleet.hosts.find((h) => h.kind === "web")!;
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: noSmtp.ip, port: 25 });
        s.on("connect", () => resolve("connected"));
        s.on("error", reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it("runs only the Exchange builds it is given, and refuses a build it does not know", async () => {
    const builds = ["15.2.986.14", "15.1.2176.2"];
    const f = await startFleet({ hosts: 40, seed: 3, baseAddress: "127.21.0.151", builds });
    try {
      const exchange = f.hosts.filter((h) => h.kind === "exchange");
      expect(exchange.length).toBeGreaterThan(10);
      expect(new Set(exchange.map((h) => h.build))).toEqual(new Set(builds));
      expect(new Set(exchange.map((h) => h.product))).toEqual(new Set(["2019", "2016"]));
    } finally {
      await f.close();
    }
    await expect(startFleet({ hosts: 2, baseAddress: "127.21.0.191", builds: ["15.2.986.14", "15.9.9999.9"] })).rejects.toThrow(/15\.9\.9999\.9/);
  });

  it("refuses addresses outside 127.0.0.0/8 and 127.0.0.1 itself", async () => {
    expect(() => assertLoopbackRange("127.0.0.1", 1)).toThrow();
    expect(() => assertLoopbackRange("126.255.255.255", 2)).toThrow();
    expect(() => assertLoopbackRange("10.0.0.1", 1)).toThrow();
    expect(() => assertLoopbackRange("127.255.255.250", 10)).toThrow();
    await expect(startFleet({ hosts: 1, baseAddress: "192.168.1.1" })).rejects.toThrow(/127\.0\.0\.2/);
  });

  it("closes cleanly and frees its ports", async () => {
    const f = await startFleet({ hosts: 3, seed: 2, baseAddress: "127.21.0.201" });
    await f.close();
    const g = await startFleet({ hosts: 3, seed: 2, baseAddress: "127.21.0.201" });
    await g.close();
    await expect(get("127.21.0.201", "/", { tls: false, timeoutMs: 1000 })).rejects.toThrow(/ECONNREFUSED/);
  });
});

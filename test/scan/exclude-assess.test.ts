// Exclusions are never contacted; stored observations are re-judged by `vigie assess` after a KB update, with no traffic.
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { assessObservation } from "../../src/pipeline/assessObservation.js";
import { startScan } from "../../src/pipeline/scan.js";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import { runCli } from "../helpers/cli.js";
import { FAST } from "../helpers/scanSettings.js";

const explainer = new BuildExplainer(loadKnowledgeBase({ overlayDir: null }));

async function listen(ip: string, port: number, onConnection: () => void): Promise<net.Server> {
  const server = net.createServer((s) => {
    onConnection();
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(port, ip, r));
  return server;
}

describe("exclusions", () => {
  it("an excluded address, range or file entry is never contacted", async () => {
    const counts = new Map<string, number>();
    const servers: net.Server[] = [];
    for (const ip of ["127.34.0.1", "127.34.0.2", "127.34.0.3", "127.34.0.4", "127.34.0.5"]) {
      servers.push(await listen(ip, 8443, () => counts.set(ip, (counts.get(ip) ?? 0) + 1)));
    }
    try {
      const dir = mkdtempSync(path.join(tmpdir(), "vigie-excl-"));
      const file = path.join(dir, "exclude.txt");
      writeFileSync(file, "# never\n127.34.0.5\n");
      const r = await runCli([
        "scan", "127.34.0.1-127.34.0.5", "--ports", "8443", "--exclude", "127.34.0.2,127.34.0.3/32", "--exclude-file", file,
        "--db", path.join(dir, "x.db"), "--json", "--read-timeout", "500", "--request-timeout", "800",
      ]);
      expect(r.code).toBe(0);
      expect(counts.get("127.34.0.1")).toBeGreaterThan(0);
      expect(counts.get("127.34.0.4")).toBeGreaterThan(0);
      expect(counts.get("127.34.0.2")).toBeUndefined();
      expect(counts.get("127.34.0.3")).toBeUndefined();
      expect(counts.get("127.34.0.5")).toBeUndefined();
    } finally {
      for (const s of servers) s.close();
    }
  });

  it("bad target lines stop the scan before any traffic, naming each", async () => {
    const r = await runCli(["scan", "127.34.0.1", "300.1.1.1", "10.0.0.0/33", "--db", path.join(mkdtempSync(path.join(tmpdir(), "vigie-bad-")), "b.db")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/target #2: "300\.1\.1\.1"/);
    expect(r.stderr).toMatch(/target #3: "10\.0\.0\.0\/33"/);
  });
});

describe("vigie assess", () => {
  it("re-judges stored observations with the current knowledge base, without traffic", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigie-assess-"));
    const db = path.join(dir, "a.db");
    const store = await openSqliteStore(db);
    await store.createSnapshot({ id: "s1", kind: "scan", date: "2026-11-28", spec: {} });
    // A server showing a build newer than the shipped tables (as after a new security update).
    const observation = {
      ip: "127.35.0.1", port: 443, hostname: null, source: "scan", observedAt: "2026-11-28T10:00:00Z", responded: true, tls: true,
      evidence: [{ probe: "owa-service", kind: "owa-version-header" as const, field: "GET /owa/service -> 200 header X-OWA-Version", value: "15.2.1748.99", build: "15.2.1748.99" }],
      errors: [],
    };
    await store.saveBatch("s1", [assessObservation(explainer, "s1", observation)], []);
    await store.close();
    const before = (await runCli(["hosts", "--db", db, "--json"])).stdout;
    expect(before).toMatch(/"status":"unknown"/);
    const kbDir = path.join(dir, "kb");
    const csv = path.join(dir, "b.csv");
    writeFileSync(csv, "product,build,line,update,kind,releaseDate\n2019,15.2.1748.99,CU15,Dec26SU,su,2026-12-08\n");
    expect((await runCli(["kb", "update", "--builds", csv, "--kb-dir", kbDir])).code).toBe(0);
    const r = await runCli(["assess", "--db", db, "--kb-dir", kbDir]);
    expect(r.stdout).toMatch(/s1: 1 host:ports re-assessed, 1 with changed verdicts/);
    const after = JSON.parse((await runCli(["hosts", "--db", db, "--json"])).stdout.trim()) as { cves: Array<{ id: string; status: string }> };
    expect(after.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe("patched");
  });
});

describe("SMTP", () => {
  it("reads the Exchange banner and EHLO of emulated servers", async () => {
    const { startFleet } = await import("../../emulator/fleet.js");
    const fleet = await startFleet({ hosts: 12, seed: 21, baseAddress: "127.36.0.1", smtp: true, mix: { hostile: 0, web: 0, lookalike: 0 } });
    const store = await openSqliteStore(path.join(mkdtempSync(path.join(tmpdir(), "vigie-smtp-")), "s.db"));
    try {
      const { id } = await startScan(store, explainer, ["127.36.0.1-127.36.0.12"], { ...FAST, ports: [25] });
      const rows = [];
      for await (const h of store.hosts({ snapshotId: id })) rows.push(h);
      const withSmtp = fleet.hosts.filter((h) => h.exposes.smtp);
      expect(withSmtp.length).toBeGreaterThan(0);
      for (const t of withSmtp) {
        const r = rows.find((x) => x.ip === t.ip)!;
        expect(r.observation.evidence.find((e) => e.kind === "smtp-banner")?.value, t.ip).toMatch(/Microsoft ESMTP MAIL Service/);
        expect(r.isExchange).toBe(true);
      }
    } finally {
      await store.close();
      await fleet.close();
    }
  });
});

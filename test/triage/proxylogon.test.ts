import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriage } from "../../src/cli/commands/triage.js";
import { triage } from "../../src/triage/scan.js";
import { buildBundle, type Planted } from "./bundleFixture.js";

let tmp: string;
let attacked: string;
let clean: string;
let planted: Planted[];

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-triage-"));
  attacked = path.join(tmp, "attacked");
  clean = path.join(tmp, "clean");
  planted = buildBundle(attacked, true);
  buildBundle(clean, false);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("ProxyLogon bundle", () => {
  it("is judged compromised, with every planted indicator at its file and line", async () => {
    const r = await triage(attacked);
    expect(r.verdict).toBe("compromised");
    for (const p of planted) {
      const hit = r.findings.find((f) => f.rule === p.rule && f.file === p.file && (p.line === null || f.line === p.line));
      expect(hit, `${p.rule} at ${p.file}:${p.line}`).toBeDefined();
    }
    // nothing else fires: the normal traffic around the traces is quiet
    const unexpected = r.findings.filter((f) => !planted.some((p) => p.rule === f.rule && p.file === f.file));
    expect(unexpected).toEqual([]);
    expect(r.problems).toEqual([]);
  });

  it("reports time, source address and an escaped excerpt, in time order", async () => {
    const r = await triage(attacked);
    const ssrf = r.findings.find((f) => f.rule === "proxylogon.cve-2021-26855.httpproxy-ssrf-success")!;
    expect(ssrf.timestamp).toBe("2021-03-03T06:01:58.311Z");
    expect(ssrf.sourceIp).toBe("104.140.114.110");
    expect(ssrf.cve).toBe("CVE-2021-26855");
    expect(ssrf.excerpt).toContain("ServerInfo~a]@ex01.contoso.local:444/ecp/proxyLogon.ecp");
    const ecp = r.findings.find((f) => f.rule === "proxylogon.cve-2021-27065.ecp-script-in-url")!;
    expect(ecp.sourceIp).toBe("104.140.114.110");
    const iis = r.findings.find((f) => f.rule === "webshell.iis.post-unexpected-aspx")!;
    expect(iis.timestamp).toBe("2021-03-03T06:05:00.000Z");
    const times = r.findings.map((f) => f.timestamp).filter((t): t is string => t !== null);
    expect([...times].sort()).toEqual(times);
    // the archive in ProgramData is a benign look-alike, raised because log evidence corroborates it
    const zip = r.findings.find((f) => f.rule === "proxylogon.suspicious-file.programdata-archive" && f.line === 4)!;
    expect(zip.effect).toBe("compromised");
    expect(zip.corroborated).toBe(true);
    // an antivirus archive written two years earlier is reported (a CVE check hit) but stays suspicious
    const mcafee = r.findings.find((f) => f.rule === "proxylogon.suspicious-file.programdata-archive" && f.line === 3)!;
    expect(mcafee.effect).toBe("suspicious");
  });

  it("reports coverage beside the verdict", async () => {
    const r = await triage(clean);
    const iis = r.coverage.find((c) => c.logType === "iis")!;
    expect(iis.files).toBe(12);
    expect(iis.first).toBe("2021-02-24T00:00:00.000Z");
    expect(iis.days).toBeGreaterThan(11);
    expect(r.coverage.find((c) => c.logType === "eventlog")!.lines).toBe(40);
  });

  it("the same bundle without the traces gives no-indicators (exit 0), the attacked one exit 3", async () => {
    const r = await triage(clean);
    expect(r.findings).toEqual([]);
    expect(r.verdict).toBe("no-indicators");
    const text = await runTriage(clean, {});
    expect(text.exitCode).toBe(0);
    expect(text.output).toMatch(/NO INDICATORS in the 1\d\.\d days the logs cover/);
    const j = await runTriage(attacked, { json: true });
    expect(j.exitCode).toBe(3);
    const parsed = JSON.parse(j.output) as { verdict: string; findings: Array<Record<string, unknown>> };
    expect(parsed.verdict).toBe("compromised");
    for (const k of ["rule", "severity", "cve", "file", "line", "timestamp", "sourceIp", "excerpt"]) expect(parsed.findings[0]).toHaveProperty(k);
  });

  it("suspicious files without a CVE check hit are set aside, not counted (Test-ProxyLogon since PR #386)", async () => {
    const { writeFileSync } = await import("node:fs");
    const dir = path.join(tmp, "archive-only");
    buildBundle(dir, false);
    writeFileSync(
      path.join(dir, "listings", "programdata.csv"),
      '"Path","Length","LastWriteTimeUtc","SHA256"\r\n"C:\\ProgramData\\AppRecovery\\InstallerCache\\Agent\\configuration.zip","10","2021-03-01T00:00:00Z",""\r\n',
    );
    writeFileSync(path.join(dir, "listings", "lsass-dumps.csv"), '"Path","Length","LastWriteTimeUtc","SHA256"\r\n"C:\\Windows\\Temp\\lsass.DMP","10","2021-03-01T00:00:00Z",""\r\n');
    const r = await runTriage(dir, { json: true });
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.output) as { verdict: string; setAside: Array<{ rule: string }> };
    expect(j.verdict).toBe("no-indicators");
    expect(j.setAside.map((f) => f.rule).sort()).toEqual(["proxylogon.suspicious-file.lsass-dump", "proxylogon.suspicious-file.programdata-archive"]);
    expect((await runTriage(dir, {})).output).toMatch(/Set aside \(2\)/);
  });
});

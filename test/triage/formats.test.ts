import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriage } from "../../src/cli/commands/triage.js";
import { loadTriageRules, parseRuleFile } from "../../src/triage/load.js";
import { triage } from "../../src/triage/scan.js";
import { buildBundle } from "./bundleFixture.js";
import { buildEvtx } from "./evtxWriter.js";

let tmp: string;
let attacked: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-formats-"));
  attacked = path.join(tmp, "attacked");
  buildBundle(attacked, true);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An Application log .evtx (real binary XML, from the test encoder) with one UM error among other events. */
function makeEvtx(records: Array<{ id: number; time: Date; provider: string; level: number; strings: string[] }>): Buffer {
  return buildEvtx(
    records.map((r) => ({
      recordId: r.id,
      time: r.time,
      provider: r.provider,
      eventId: 100,
      level: r.level,
      channel: "Application",
      computer: "EX01.corp.example",
      data: r.strings.map((v, i): [string, string] => [`Data${i + 1}`, v]),
    })),
  );
}

describe("event logs and report formats", () => {
  it("finds CVE-2021-26857 in a binary .evtx", async () => {
    const dir = path.join(tmp, "evtx", "eventlog");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, "Application.evtx"),
      makeEvtx([
        { id: 7, time: new Date("2021-03-02T10:00:00Z"), provider: "MSExchange ADAccess", level: 4, strings: ["Topology discovery completed"] },
        { id: 8, time: new Date("2021-03-03T06:05:12Z"), provider: "MSExchange Unified Messaging", level: 2, strings: ["System.InvalidCastException: Unable to cast object"] },
      ]),
    );
    const r = await triage(path.join(tmp, "evtx"));
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ rule: "proxylogon.cve-2021-26857.um-invalidcast", timestamp: "2021-03-03T06:05:12.000Z", file: "eventlog/Application.evtx", channel: "Application" });
    expect(r.findings[0]!.excerpt).toMatch(/^record 8: /);
    expect(r.coverage.find((c) => c.logType === "eventlog")).toMatchObject({ lines: 2, first: "2021-03-02T10:00:00.000Z" });
  });

  it("--sarif is SARIF 2.1.0 with one result per finding and its line", async () => {
    const r = await runTriage(attacked, { sarif: true });
    const s = JSON.parse(r.output) as { version: string; runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { region?: { startLine: number } } }> }>; properties: { verdict: string } }> };
    expect(s.version).toBe("2.1.0");
    expect(s.runs[0]!.properties.verdict).toBe("compromised");
    const json = JSON.parse((await runTriage(attacked, { json: true })).output) as { findings: unknown[] };
    expect(s.runs[0]!.results).toHaveLength(json.findings.length);
    expect(r.exitCode).toBe(3);
  });

  it("--stix is a STIX 2.1 bundle: indicators, vulnerabilities, sightings and a report", async () => {
    const r = await runTriage(attacked, { stix: true });
    const b = JSON.parse(r.output) as { type: string; objects: Array<{ type: string; id: string; spec_version?: string; sighting_of_ref?: string }> };
    expect(b.type).toBe("bundle");
    const types = new Set(b.objects.map((o) => o.type));
    for (const t of ["identity", "indicator", "vulnerability", "sighting", "report", "relationship"]) expect(types.has(t)).toBe(true);
    const ids = new Set(b.objects.map((o) => o.id));
    for (const o of b.objects) {
      expect(o.spec_version).toBe("2.1");
      expect(o.id).toMatch(/^[a-z-]+--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      if (o.type === "sighting") expect(ids.has(o.sighting_of_ref!)).toBe(true);
    }
  });

  it("user YARA rules from --rules are run; broken rule files are usage errors", async () => {
    const rules = path.join(tmp, "my.yar");
    writeFileSync(rules, 'rule Local_Marker { meta: severity = "medium" strings: $a = "Inherits=\\"Microsoft.Exchange.HttpProxy.Logon\\"" condition: $a }\n');
    const r = await triage(attacked, { rules: [rules] });
    const hit = r.findings.find((f) => f.rule === "yara:Local_Marker");
    expect(hit).toMatchObject({ severity: "medium", effect: "suspicious" });
    const bad = path.join(tmp, "bad.yar");
    writeFileSync(bad, "rule { nope");
    await expect(runTriage(attacked, { rules: [bad] })).rejects.toThrow(/do not compile/);
  });

  it("rule files are validated with zod: a rule without a source is refused with the field named", () => {
    const text = JSON.stringify({ logRules: [{ id: "x.y", title: "t", severity: "high", effect: "suspicious", cve: null, technique: null, logTypes: ["iis"], anyOf: ["abc"], sources: [] }] });
    expect(() => parseRuleFile("r.json", text)).toThrow(/logRules\[0\]\.sources: every rule cites at least one source/);
    const badRe = JSON.stringify({ logRules: [{ id: "x.y", title: "t", severity: "high", effect: "suspicious", cve: null, technique: null, logTypes: ["iis"], anyOf: ["abc"], lineRegex: "(", sources: [{ title: "s", url: "https://example.org" }] }] });
    expect(() => parseRuleFile("r.json", badRe)).toThrow(/invalid regex/);
  });

  it("every built-in rule cites a source", () => {
    const { rules } = loadTriageRules();
    expect(rules.logRules.length).toBeGreaterThan(10);
    for (const m of rules.meta.values()) expect(m.sources.length).toBeGreaterThan(0);
  });
});

describe("optional rules", () => {
  it("the Volexity address list loads with --rules knowledge/triage/optional", async () => {
    const r = await triage(attacked, { rules: [path.join(process.cwd(), "knowledge", "triage", "optional")] });
    const hits = r.findings.filter((f) => f.rule === "hafnium.iis.volexity-ip");
    // 2 IIS lines, and 2 HttpProxy rows in the original and in each of its 4 UTF-16 copies
    expect(hits.length).toBe(12);
    expect(hits.every((h) => h.sourceIp === "104.140.114.110")).toBe(true);
  });
});

/**
 * Nothing examined is not "clean": a .tar.gz that is not a tar, an empty folder, or a bundle without a log the rules
 * can read gives `not-examined` (exit 4) and says what could not be examined; days per log family are in every
 * report format. And `vigie triage` run as a process (the shipped CLI, worker threads on 2+ cores) gives the
 * verdicts and findings of the library.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateBundle } from "../../bench/triage/generate.js";
import { runTriage } from "../../src/cli/commands/triage.js";
import { renderJson } from "../../src/triage/report/json.js";
import { triage } from "../../src/triage/scan.js";
import { runCli } from "../helpers/cli.js";
import { buildBundle } from "./bundleFixture.js";

let tmp: string;
let attacked: string;
let clean: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-notexamined-"));
  attacked = path.join(tmp, "attacked");
  clean = path.join(tmp, "clean");
  buildBundle(attacked, true);
  buildBundle(clean, false);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(rel: string, data: string | Buffer): string {
  const p = path.join(tmp, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, data);
  return p;
}

describe("not examined", () => {
  it("a .tar.gz that is not a tar: not-examined, exit 4, naming the damage", async () => {
    const gz = put("notatar.tar.gz", gzipSync(Buffer.from("just text, not a tar\n".repeat(40))));
    const r = await runTriage(gz, { json: true });
    expect(r.exitCode).toBe(4);
    const j = JSON.parse(r.output) as { verdict: string; notExamined: string };
    expect(j.verdict).toBe("not-examined");
    expect(j.notExamined).toMatch(/no log the rules can read.*archive damaged or truncated/);
    const text = await runTriage(gz, {});
    expect(text.output).toMatch(/Verdict: NOT EXAMINED — no log the rules can read/);
    expect(text.output).toMatch(/not a clean result/);
  });

  it("an empty folder: not-examined", async () => {
    const dir = path.join(tmp, "empty");
    mkdirSync(dir);
    const r = await triage(dir);
    expect(r.verdict).toBe("not-examined");
    expect(r.notExamined).toMatch(/no file could be read/);
    expect((await runTriage(dir, {})).exitCode).toBe(4);
  });

  it("a bundle with no log the rules can read: not-examined, naming the files", async () => {
    put("nologs/README.txt", "notes\n");
    put("nologs/listings/programdata.csv", '"Path","Length","LastWriteTimeUtc","SHA256"\r\n"C:\\ProgramData\\Veeam\\x.json","1","2021-03-01T00:00:00Z",""\r\n');
    put("nologs/logs/W3SVC1/u_ex210303.log", "");
    const r = await triage(path.join(tmp, "nologs"));
    expect(r.verdict).toBe("not-examined");
    expect(r.notExamined).toContain('"README.txt"');
    expect(r.notExamined).toContain("3 file(s) read");
    // a web shell is still a compromise without logs
    put("nologs/files/C/inetpub/wwwroot/aspnet_client/system_web/log.aspx", '<%@ Page Language="Jscript"%><%eval(Request.Item["z"],"unsafe");%>');
    expect((await triage(path.join(tmp, "nologs"))).verdict).toBe("compromised");
  });

  it("a clean bundle with the benign twins is no-indicators (exit 0); days per log family are in every format", async () => {
    const r = await triage(clean);
    expect(r.verdict).toBe("no-indicators");
    expect(r.findings).toEqual([]);
    expect(r.setAside.map((f) => f.rule)).toEqual(["proxylogon.suspicious-file.programdata-archive"]);
    const fams = r.families.map((f) => f.family);
    expect(fams).toEqual(["ecp", "eventlog", "httpproxy/Ecp", "iis", "oabgen"]);
    for (const f of r.families) expect(f.days).toBeGreaterThan(10);
    const text = await runTriage(clean, {});
    expect(text.exitCode).toBe(0);
    expect(text.output).toMatch(/Per log family:\n\s+ecp\s+1\d\.\d days/);
    expect(text.output).toMatch(/httpproxy\/Ecp\s+1\d\.\d days/);
    const json = JSON.parse((await runTriage(clean, { json: true })).output) as { families: unknown[] };
    expect(json.families).toEqual(JSON.parse(JSON.stringify(r.families)));
    const sarif = JSON.parse((await runTriage(clean, { sarif: true })).output) as { runs: Array<{ properties: { families: unknown[] } }> };
    expect(sarif.runs[0]!.properties.families).toEqual(json.families);
    const stix = JSON.parse((await runTriage(clean, { stix: true })).output) as { objects: Array<{ type: string; description?: string }> };
    expect(stix.objects.find((o) => o.type === "report")!.description).toMatch(/Coverage: ecp 1\d(\.\d)? days \(12 file\(s\)\), eventlog/);
  });
});

describe("vigie triage as a process", () => {
  it("gives the library's result on directory bundles, with worker threads by default on 2+ cores", async () => {
    // Log files of 256 KiB and more go to worker threads: 16 MB over 30 days makes the IIS logs about 290 KB each.
    const big = path.join(tmp, "big");
    const planted = generateBundle(big, 16);
    const cli = await runCli(["triage", "--json", big], { timeoutMs: 120_000 });
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(3);
    const lib = await triage(big, { workers: 0 });
    expect(cli.stdout).toBe(renderJson(lib));
    const found = (JSON.parse(cli.stdout) as { findings: Array<{ file: string; line: number }> }).findings;
    for (const p of planted) expect(found.some((f) => f.file === p.file && f.line === p.line), `${p.what} at ${p.file}:${p.line}`).toBe(true);
    // the files that go to worker threads when there are 2+ cores
    const workerSized = lib.coverage.filter((c) => c.files && c.bytes / c.files >= 256 * 1024);
    expect(workerSized.length).toBeGreaterThan(0);
    if (availableParallelism() < 2) console.warn("one core: the CLI scanned sequentially");
  }, 180_000);

  it("exit codes: 0 clean, 3 compromised, 4 not examined, 2 usage error", async () => {
    expect((await runCli(["triage", clean])).code).toBe(0);
    expect((await runCli(["triage", attacked])).code).toBe(3);
    const empty = path.join(tmp, "empty2");
    mkdirSync(empty);
    const r = await runCli(["triage", empty]);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/NOT EXAMINED/);
    expect((await runCli(["triage", path.join(tmp, "missing")])).code).toBe(2);
  }, 60_000);
});

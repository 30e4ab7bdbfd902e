/**
 * Worker threads must not change anything: a directory bundle scanned with workers gives exactly the findings,
 * problems, coverage and stats of a sequential scan. Vitest runs the sources as TypeScript, which a worker thread
 * cannot load, so the triage modules are transpiled to a temporary folder for the worker.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateBundle } from "../../bench/triage/generate.js";
import { iisHeader, PROXYLOGON_TRACES as T } from "../../bench/triage/synth.js";
import { LogMatcher } from "../../src/triage/match.js";
import { loadTriageRules } from "../../src/triage/load.js";
import { triage, type TriageOutput } from "../../src/triage/scan.js";
import { scanFileJob } from "../../src/triage/worker.js";

let tmp: string;
let workerScript: URL;
const srcDir = path.resolve(__dirname, "../../src/triage");

function transpileTree(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const full = path.join(from, name);
    if (statSync(full).isDirectory()) {
      transpileTree(full, path.join(to, name));
      continue;
    }
    if (!name.endsWith(".ts")) continue;
    const out = ts.transpileModule(readFileSync(full, "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    mkdirSync(to, { recursive: true });
    writeFileSync(path.join(to, name.replace(/\.ts$/, ".js")), out.outputText);
  }
}

function comparable(r: TriageOutput): string {
  return JSON.stringify({ ...r, rules: [...r.rules.keys()] });
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-parallel-"));
  const build = path.join(tmp, "build");
  transpileTree(srcDir, build);
  writeFileSync(path.join(build, "package.json"), '{"type":"module"}\n');
  workerScript = pathToFileURL(path.join(build, "worker.js"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("parallel scan", () => {
  it("gives exactly the sequential result on a generated bundle with planted traces", async () => {
    const dir = path.join(tmp, "bundle");
    const planted = generateBundle(dir, 3);
    // Harder cases next to the ordinary logs: an overlong line with an indicator, a UTF-16 log, an unreadable entry.
    const day = new Date(Date.UTC(2021, 2, 3));
    const w3 = path.join(dir, "logs", "W3SVC2");
    mkdirSync(w3, { recursive: true });
    writeFileSync(path.join(w3, "u_ex210303.log"), `${iisHeader(day)}${"x".repeat(3 << 20)}${T.iisWebshellPost(day, 60)}${T.iisStaticPost(day, 70)}`);
    writeFileSync(path.join(w3, "u_ex210304.log"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${iisHeader(day)}${T.iisWebshellPost(day, 90)}`, "utf16le")]));

    const seq = await triage(dir, { workers: 0, yara: false });
    const par = await triage(dir, { workers: 2, workerScript, workerMinBytes: 0, yara: false });
    expect(planted.length).toBeGreaterThan(0);
    expect(seq.findings.length).toBeGreaterThan(planted.length);
    expect(seq.problems.some((p) => /longer than 1 MiB/.test(p.message))).toBe(true);
    expect(comparable(par)).toBe(comparable(seq));
  });

  it("keeps the sequential limit behaviour (entry and bundle byte limits)", async () => {
    const dir = path.join(tmp, "bundle");
    for (const limits of [{ maxTotalBytes: 1_500_000 }, { maxEntryBytes: 40_000 }]) {
      const seq = await triage(dir, { workers: 0, yara: false, limits });
      const par = await triage(dir, { workers: 2, workerScript, workerMinBytes: 0, yara: false, limits });
      expect(seq.problems.some((p) => /exceeds/.test(p.message))).toBe(true);
      expect(comparable(par)).toBe(comparable(seq));
    }
  });

  it("a worker that cannot start is reported as a read problem, not a hang", async () => {
    const dir = path.join(tmp, "bundle", "logs", "W3SVC2");
    const broken = pathToFileURL(path.join(tmp, "no-such-worker.js"));
    const r = await triage(dir, { workers: 1, workerScript: broken, workerMinBytes: 0, yara: false });
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems.every((p) => /cannot read \(scan worker/.test(p.message))).toBe(true);
  });

  it("a worker stops at the entry limit with the directory reader's message", () => {
    const file = path.join(tmp, "bundle", "logs", "W3SVC2", "u_ex210303.log");
    const matcher = new LogMatcher(loadTriageRules().rules, "iis", ["#Fields:"]);
    const job = { id: 1, path: file, file: "x.log", logType: "iis" as const, chunkBytes: 1 << 20, entryLimit: "E", totalLimit: "T" };
    const r = scanFileJob({ ...job, maxEntryBytes: 1.5 * (1 << 20), maxBytes: 1e12 }, matcher);
    expect(r).toMatchObject({ limit: "E", metered: 2 << 20, bytes: 1 << 20 });
    expect(scanFileJob({ ...job, maxEntryBytes: 1e12, maxBytes: 2.5 * (1 << 20) }, matcher)).toMatchObject({ limit: "T", metered: 3 << 20 });
    expect(scanFileJob({ ...job, path: `${file}.missing`, maxEntryBytes: 1e12, maxBytes: 1e12 }, matcher)).toMatchObject({ errorCode: "ENOENT", lines: 0 });
    const full = scanFileJob({ ...job, maxEntryBytes: 1e12, maxBytes: 1e12 }, matcher);
    expect(full.limit).toBeNull();
    expect(full.findings.length).toBeGreaterThan(0);
    expect(full.overlongLines).toBe(1);
  });
});

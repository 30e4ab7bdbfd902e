/**
 * The same findings whatever the encoding: a log in UTF-16 LE or BE, with or without BOM, gives exactly the findings
 * of the same log in UTF-8 — rule, file, line, offset, time, source address, excerpt — on the sequential path and on
 * the worker-thread path, and when it arrives one byte at a time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ecpLine, httpProxyHeader, httpProxyLine, iisHeader, iisLine, oabLine, PROXYLOGON_TRACES as T, Rng } from "../../bench/triage/synth.js";
import { loadTriageRules } from "../../src/triage/load.js";
import { LogFileScanner } from "../../src/triage/logs/scanner.js";
import { LogMatcher } from "../../src/triage/match.js";
import { triage, type TriageOutput } from "../../src/triage/scan.js";
import { utf16Variants } from "./bundleFixture.js";
import { buildWorker } from "./transpileWorker.js";

let tmp: string;
let workerScript: URL;
const day = new Date(Date.UTC(2021, 2, 3));
const ECP_HEADER = "#Software: Microsoft Exchange Server\r\n#Fields: TimeStamp,ServerName,EventID,EventData\r\n";
const OAB_HEADER = "#Software: Microsoft Exchange Server\r\n#Log-type: OABGenerator Log\r\n";

/** About `kb` KiB of ordinary lines with the traces planted in the middle, and a non-ASCII line before them. */
function log(header: string, kb: number, gen: (rng: Rng, sec: number) => string, traces: string[]): string {
  const rng = new Rng(9);
  const parts = [header];
  let size = header.length;
  let planted = false;
  for (let sec = 0; size < kb * 1024; sec = (sec + 7) % 86400) {
    if (!planted && size > (kb * 1024) / 2) {
      parts.push(gen(rng, sec).replace(/jdoe|asmith|bmartin/g, "jürgen.größe"));
      parts.push(...traces);
      planted = true;
    }
    const l = gen(rng, sec);
    parts.push(l);
    size += l.length;
  }
  return parts.join("");
}

const FILES: Record<string, string> = {};

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-encodings-"));
  workerScript = buildWorker(path.join(tmp, "build"));
  FILES["logs/W3SVC1/u_ex210303.log"] = log(iisHeader(day), 300, (r, s) => iisLine(r, day, s), [T.iisStaticPost(day, 21600), T.iisWebshellPost(day, 22000)]);
  FILES["logs/HttpProxy/Ecp/HttpProxy_2021030300-1.LOG"] = log(httpProxyHeader(), 300, (r, s) => httpProxyLine(r, day, s), [T.httpProxySsrf(day, 21598), T.httpProxyResetVdir(day, 21700)]);
  FILES["logs/ECP/Server/ECPServer_2021030300-1.LOG"] = log(ECP_HEADER, 300, (r, s) => ecpLine(r, day, s), [T.ecpSetOab(day, 22100).replace("python-requests", "pýthon-requests")]);
  FILES["logs/OABGeneratorLog/OABGenerator_2021030300-1.LOG"] = log(OAB_HEADER, 40, (r, s) => oabLine(r, day, s), [T.oabDownloadFailed(day, 43200)]);
  const write = (dir: string, encode: (text: string) => Buffer): void => {
    for (const [rel, text] of Object.entries(FILES)) {
      mkdirSync(path.dirname(path.join(tmp, dir, rel)), { recursive: true });
      writeFileSync(path.join(tmp, dir, rel), encode(text));
    }
  };
  write("utf8", (t) => Buffer.from(t, "utf8"));
  for (const v of utf16Variants("")) write(v.name, (t) => utf16Variants(t).find((x) => x.name === v.name)!.data);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Everything a reader of the report sees, except byte counts (a UTF-16 file is bigger). */
function seen(r: TriageOutput): string {
  return JSON.stringify({
    verdict: r.verdict,
    findings: r.findings,
    coverage: r.coverage.map(({ bytes: _bytes, ...c }) => c),
    families: r.families,
    problems: r.problems,
  });
}

describe("UTF-16 logs", () => {
  it("give exactly the findings of their UTF-8 original, line numbers included, sequentially and on worker threads", async () => {
    const utf8 = await triage(path.join(tmp, "utf8"), { workers: 0, yara: false });
    expect(utf8.verdict).toBe("compromised");
    const rules = new Set(utf8.findings.map((f) => f.rule));
    for (const r of [
      "proxylogon.iis.post-static-resource",
      "webshell.iis.post-unexpected-aspx",
      "proxylogon.cve-2021-26855.httpproxy-ssrf-success",
      "proxylogon.cve-2021-27065.httpproxy-reset-vdir",
      "proxylogon.cve-2021-27065.ecp-script-in-url",
      "proxylogon.cve-2021-26858.oabgen-download-failed",
    ])
      expect(rules.has(r), r).toBe(true);
    expect(utf8.findings.every((f) => f.line !== null && f.line > 100 && f.offset !== null && f.offset > 0)).toBe(true);
    expect(utf8.findings.some((f) => f.excerpt.includes("pýthon"))).toBe(true);
    const parUtf8 = await triage(path.join(tmp, "utf8"), { workers: 2, workerScript, workerMinBytes: 0, yara: false });
    expect(seen(parUtf8)).toBe(seen(utf8));
    for (const v of ["utf16le-bom", "utf16le", "utf16be-bom", "utf16be"]) {
      const seq = await triage(path.join(tmp, v), { workers: 0, yara: false });
      expect(seen(seq), `${v} sequential`).toBe(seen(utf8));
      const par = await triage(path.join(tmp, v), { workers: 2, workerScript, workerMinBytes: 0, yara: false });
      expect(seen(par), `${v} worker threads`).toBe(seen(utf8));
    }
  });

  it("are decoded the same when they arrive a few bytes at a time (archive streams)", () => {
    const { rules } = loadTriageRules();
    const text = FILES["logs/OABGeneratorLog/OABGenerator_2021030300-1.LOG"]!;
    const run = (data: Buffer, step: number): string => {
      const sc = new LogFileScanner("x.log", new LogMatcher(rules, "oabgen", ["#Fields:"]));
      for (let i = 0; i < data.length; i += step) sc.push(data.subarray(i, i + step));
      sc.end();
      return JSON.stringify({ f: sc.findings, lines: sc.lines, first: sc.first, last: sc.last });
    };
    const want = run(Buffer.from(text, "utf8"), 1 << 20);
    expect(JSON.parse(want).f.length).toBe(1);
    for (const v of utf16Variants(text)) for (const step of [1, 3, 7, 4096]) expect(run(v.data, step), `${v.name} in ${step}-byte pieces`).toBe(want);
  });
});

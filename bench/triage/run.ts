/**
 * Triage throughput bench: Vigie against ripgrep on the same files with the same indicator literals.
 * Usage (see run.sh): node bench/out/build/bench/triage/run.js [--size-mb 100] [--keep]
 * Prints a table with wall time, MB/s, the ratio and peak RSS (from /usr/bin/time, else from /proc).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadTriageRules } from "../../src/triage/load.js";
import { generateBundle, type PlantedTrace } from "./generate.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../../../.."); // bench/out/build/bench/triage -> repo
const args = process.argv.slice(2);
const sizeMb = Number(args[args.indexOf("--size-mb") + 1] ?? 100) || 100;
const keep = args.includes("--keep");
const out = path.join(repo, "bench", "out", `triage-${sizeMb}mb`);
const cli = path.join(repo, "bench", "out", "build", "src", "cli", "main.js");

function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return n;
}

function timed(cmd: string, argv: string[]): { ms: number; rssKb: number | null; status: number | null; stdout: string } {
  const useTime = existsSync("/usr/bin/time");
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync("/usr/bin/time", ["-f", "VIGIE_MAXRSS_KB=%M", cmd, ...argv], { encoding: "utf8", maxBuffer: 1 << 28 })
    : spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /VIGIE_MAXRSS_KB=(\d+)/.exec(r.stderr ?? "");
  return { ms, rssKb: m ? Number(m[1]) : null, status: r.status, stdout: r.stdout ?? "" };
}

if (!existsSync(cli)) {
  console.error(`build first: npx tsc -p tsconfig.json --outDir bench/out/build (missing ${cli})`);
  process.exit(2);
}
if (!existsSync(out)) {
  const t0 = Date.now();
  const planted = generateBundle(out, sizeMb);
  writeFileSync(path.join(out, "..", `triage-${sizeMb}mb.planted.json`), JSON.stringify(planted, null, 2));
  console.log(`generated ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${planted.length} planted traces`);
}
const bytes = du(out);
const mb = bytes / 1024 / 1024;

// The same indicator literals Vigie's fast path looks for, case-insensitive, fixed strings.
const { rules } = loadTriageRules();
const lits = [...new Set(rules.logRules.flatMap((r) => r.anyOf))];
const patFile = path.join(repo, "bench", "out", "triage-patterns.txt");
writeFileSync(patFile, `${lits.join("\n")}\n`);

// Warm the page cache so both read from memory.
spawnSync("rg", ["-c", "zzzz-never-zzzz", out]);
const rg = timed("rg", ["-i", "-F", "-n", "--no-messages", "-f", patFile, out]);
const vg = timed(process.execPath, [cli, "triage", "--json", out]);
let verdict = "?";
let findings = 0;
const found = new Set<string>();
let parseError: string | null = null;
try {
  const j = JSON.parse(vg.stdout) as { verdict: string; findings: Array<{ file: string; line: number | null }> };
  verdict = j.verdict;
  findings = j.findings.length;
  for (const f of j.findings) if (f.line !== null) found.add(`${f.file}:${f.line}`);
} catch (err) {
  parseError = (err as Error).message;
}
const rgHits = rg.stdout.split("\n").filter(Boolean).length;
const row = (name: string, ms: number, rss: number | null, extra: string): string =>
  `| ${name.padEnd(16)} | ${(ms / 1000).toFixed(2).padStart(7)} s | ${(mb / (ms / 1000)).toFixed(0).padStart(6)} MB/s | ${rss !== null ? `${(rss / 1024).toFixed(0)} MB` : "n/a"} | ${extra} |`;
console.log(`\nbundle: ${out} (${mb.toFixed(0)} MB, ${lits.length} indicator literals)`);
console.log("| tool             |   time    |  throughput | peak RSS | result |");
console.log("|------------------|-----------|-------------|----------|--------|");
console.log(row(`ripgrep ${(spawnSync("rg", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "").split(" ")[1] ?? ""}`, rg.ms, rg.rssKb, `${rgHits} matching lines`));
console.log(row("vigie triage", vg.ms, vg.rssKb, `verdict ${verdict}, ${findings} findings, exit ${vg.status}`));
console.log(`\nvigie / ripgrep time ratio: ${(vg.ms / rg.ms).toFixed(2)}x (goal <= 2x); vigie peak RSS ${vg.rssKb !== null ? (vg.rssKb / 1024).toFixed(0) : "n/a"} MB (goal < 300 MB)`);
// A bench whose tools did not do the job measures nothing: every planted trace must be found by both.
const plantedFile = path.join(out, "..", `triage-${sizeMb}mb.planted.json`);
const planted = JSON.parse(readFileSync(plantedFile, "utf8")) as PlantedTrace[];
const rgLines = new Set(rg.stdout.split("\n").map((l) => /^(.*?):(\d+):/.exec(l)).filter((m): m is RegExpExecArray => m !== null).map((m) => `${path.relative(out, m[1]!).split(path.sep).join("/")}:${m[2]}`));
const missedByVigie = planted.filter((p) => !found.has(`${p.file}:${p.line}`));
const missedByRg = planted.filter((p) => !rgLines.has(`${p.file}:${p.line}`));
const problems: string[] = [];
if (parseError !== null) problems.push(`vigie's output is not JSON (${parseError}); exit ${vg.status}`);
if (vg.status !== 3 || verdict !== "compromised") problems.push(`vigie: expected verdict compromised with exit 3, got ${verdict} with exit ${vg.status}`);
if (rg.status !== 0) problems.push(`ripgrep exited ${rg.status}`);
if (missedByVigie.length > 0) problems.push(`vigie missed ${missedByVigie.length} of ${planted.length} planted traces, e.g. ${missedByVigie.slice(0, 3).map((p) => `${p.file}:${p.line} (${p.what})`).join(", ")}`);
if (missedByRg.length > 0) console.log(`note: ripgrep's literals miss ${missedByRg.length} of ${planted.length} planted traces (those need field-aware rules)`);
console.log(`planted traces found: vigie ${planted.length - missedByVigie.length}/${planted.length}, ripgrep ${planted.length - missedByRg.length}/${planted.length}`);
if (problems.length > 0) {
  for (const p of problems) console.error(`bench FAILED: ${p}`);
  process.exitCode = 1;
}
if (!keep && sizeMb > 200) rmSync(out, { recursive: true, force: true });

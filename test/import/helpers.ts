// Shared by the import and census tests: a temp folder, the built CLI with an empty data folder (so the
// shipped geo databases answer), and the bench generator for realistic zgrab2 files with ground truth.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, type CliResult } from "../helpers/cli.js";

export const tmp = (prefix: string): string => mkdtempSync(path.join(tmpdir(), `vigie-${prefix}-`));

export function cli(dir: string, args: string[], input?: string): Promise<CliResult> {
  return runCli(args, { env: { VIGIE_DATA_DIR: path.join(dir, "data"), VIGIE_KB_DIR: path.join(dir, "kb") }, ...(input !== undefined ? { input } : {}), timeoutMs: 120_000 });
}

export interface Truth {
  records: number;
  malformedLines: number[];
  exchangeServers: number;
  byCountry: Record<string, { exposed: number; cves: Record<string, { vulnerable: number; patched: number; unknown: number }> }>;
  byCve: Record<string, { vulnerable: number; patched: number; unknown: number }>;
}

export function generate(dir: string, records: number, extra: string[] = []): { file: string; truth: Truth } {
  const file = path.join(dir, extra.includes("--gzip") ? "scan.jsonl.gz" : "scan.jsonl");
  const truthFile = path.join(dir, "truth.json");
  execFileSync(process.execPath, [path.resolve("dist/bench/census/generate.js"), "--records", String(records), "--out", file, "--truth", truthFile, ...extra], { stdio: "pipe" });
  return { file, truth: JSON.parse(readFileSync(truthFile, "utf8")) as Truth };
}

export const fixture = (name: string): string => path.resolve("test/fixtures/import", name);

/** Reading the triage rules from disk (knowledge/triage/*.json and *.yar). Every JSON file is validated with zod. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { compileRules, ruleFileSchema, type RuleFileData, type RuleSet } from "./rules.js";

export class RuleLoadError extends Error {
  override readonly name = "RuleLoadError";
}

/** knowledge/triage next to package.json, found by walking up from this module (works from src/ and dist/). */
export function builtinTriageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, "knowledge", "triage");
    if (existsSync(path.join(dir, "package.json")) && existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new RuleLoadError("cannot find Vigie's knowledge/triage folder next to its package.json");
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(top level)"}: ${i.message}`)
    .join("; ");
}

export function parseRuleFile(file: string, text: string): RuleFileData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RuleLoadError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ruleFileSchema.safeParse(json);
  if (!parsed.success) throw new RuleLoadError(`${file}: ${describe(parsed.error)}`);
  return parsed.data;
}

export interface LoadedRules {
  rules: RuleSet;
  /** YARA source files, built-in first. */
  yaraFiles: string[];
}

/** Built-in rules plus the user's `--rules` files or folders (.json rule files, .yar/.yara YARA files). */
export function loadTriageRules(extra: string[] = [], builtinDir = builtinTriageDir()): LoadedRules {
  const jsonFiles: string[] = [];
  const yaraFiles: string[] = [];
  const add = (p: string, fromUser: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      throw new RuleLoadError(`${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (/\.(json|yara?)$/i.test(name)) add(path.join(p, name), fromUser);
      }
      return;
    }
    if (/\.json$/i.test(p)) jsonFiles.push(p);
    else if (/\.yara?$/i.test(p)) yaraFiles.push(p);
    else if (fromUser) throw new RuleLoadError(`${p}: rule files end in .json, .yar or .yara`);
  };
  add(builtinDir, false);
  for (const e of extra) add(e, true);
  const data: RuleFileData[] = [];
  for (const f of jsonFiles) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (err) {
      throw new RuleLoadError(`${f}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    data.push(parseRuleFile(f, text));
  }
  try {
    return { rules: compileRules(data), yaraFiles };
  } catch (err) {
    throw new RuleLoadError((err as Error).message);
  }
}

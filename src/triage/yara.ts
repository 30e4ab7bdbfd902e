/** Web shell scanning with YARA-X (@litko/yara-x): built-in rules plus the user's; each rule's meta is validated. */
import { readFileSync } from "node:fs";
import { compile, type RuleMatch, type YaraX } from "@litko/yara-x";
import { z } from "zod";
import type { RuleMeta } from "./rules.js";
import type { Finding } from "./types.js";
import { escapeExcerpt } from "./logs/text.js";

export class YaraLoadError extends Error {
  override readonly name = "YaraLoadError";
}

const metaSchema = z
  .object({
    description: z.string().optional(),
    severity: z.enum(["critical", "high", "medium", "low"]).default("high"),
    effect: z.enum(["compromised", "suspicious"]).default("suspicious"),
    cve: z.string().regex(/^CVE-\d{4}-\d{4,7}$/).optional(),
    technique: z.string().regex(/^T\d{4}(\.\d{3})?$/).optional(),
    source_title: z.string().optional(),
    source_url: z.string().optional(),
    /** "webroot": `effect` holds only for files in an Exchange or IIS web folder; elsewhere the match is suspicious. */
    scope: z.enum(["webroot", "anywhere"]).default("anywhere"),
  })
  .passthrough();

export interface YaraEngine {
  /** `inWebFolder`: the file's server path is in an Exchange or IIS web folder (see scan.ts isWebFolder). */
  scan(data: Buffer, file: string, inWebFolder?: boolean): Finding[];
  /** Metadata of the rules that fired so far (for reports). */
  meta: Map<string, RuleMeta>;
}

export function buildYara(files: string[]): YaraEngine | null {
  if (!files.length) return null;
  const sources: string[] = [];
  for (const f of files) {
    try {
      sources.push(`// file: ${f}\n${readFileSync(f, "utf8")}`);
    } catch (err) {
      throw new YaraLoadError(`${f}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  let scanner: YaraX;
  try {
    // One compilation unit: rule names must be unique across files, as YARA requires within a namespace.
    scanner = compile(sources.join("\n"), { ignoreModules: [], enableIncludes: false }) as unknown as YaraX;
  } catch (err) {
    throw new YaraLoadError(`YARA rules do not compile: ${(err as Error).message}`);
  }
  scanner.setMaxMatchesPerPattern(16);
  const meta = new Map<string, RuleMeta>();
  return {
    meta,
    scan(data: Buffer, file: string, inWebFolder = true): Finding[] {
      let matches: RuleMatch[];
      try {
        matches = scanner.scan(data);
      } catch {
        return [];
      }
      return matches.map((m) => {
        const parsed = metaSchema.safeParse(m.meta);
        const md = parsed.success ? parsed.data : metaSchema.parse({});
        const id = `yara:${m.ruleIdentifier}`;
        if (!meta.has(id))
          meta.set(id, {
            id,
            title: md.description ?? m.ruleIdentifier,
            severity: md.severity,
            effect: md.effect,
            cve: md.cve ?? null,
            technique: md.technique ?? null,
            sources: md.source_url ? [{ title: md.source_title ?? md.source_url, url: md.source_url }] : [],
          });
        const first = m.matches[0];
        const excerpt = first
          ? `${first.identifier} at ${first.offset}: ${escapeExcerpt(data.subarray(first.offset, first.offset + Math.min(first.length, 200)).toString("latin1"), 200)}`
          : `rule ${m.ruleIdentifier} matched (condition only)`;
        const effect = md.scope === "webroot" && !inWebFolder ? "suspicious" : md.effect;
        return {
          rule: id,
          title: md.description ?? m.ruleIdentifier,
          severity: md.severity,
          effect,
          cve: md.cve ?? null,
          technique: md.technique ?? null,
          file,
          line: first ? lineOf(data, first.offset) : null,
          offset: first ? first.offset : null,
          timestamp: null,
          sourceIp: null,
          excerpt,
        } satisfies Finding;
      });
    },
  };
}

function lineOf(data: Buffer, offset: number): number {
  let n = 1;
  let p = data.indexOf(10);
  while (p !== -1 && p < offset) {
    n++;
    p = data.indexOf(10, p + 1);
  }
  return n;
}

/**
 * Schemas of the triage rule files (knowledge/triage/*.json) and their compiled form.
 * Every rule cites at least one source. Regexes are compiled at load: a rule that does not compile refuses the file.
 * Pure: the caller reads the files (see load.ts).
 */
import { z } from "zod";
import type { Effect, LogType, Severity, SourceRef } from "./types.js";

const sourceSchema = z.object({ title: z.string().min(1), url: z.string().url() }).strict();
const severitySchema = z.enum(["critical", "high", "medium", "low"]);
const effectSchema = z.enum(["compromised", "suspicious"]);
const cveSchema = z.string().regex(/^CVE-\d{4}-\d{4,7}$/, "expected CVE-YYYY-NNNN").nullable();
const techniqueSchema = z.string().regex(/^T\d{4}(\.\d{3})?$/, "expected a MITRE ATT&CK id like T1505.003").nullable();
const ruleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "expected a lower-case dotted id");

const regexString = z.string().min(1).superRefine((s, ctx) => {
  try {
    new RegExp(s, "i");
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid regex: ${(err as Error).message}` });
  }
});

const fieldConditionSchema = z
  .object({
    /** Column name as the log's header spells it (compared case-insensitively), e.g. "AnchorMailbox", "cs-uri-stem". */
    field: z.string().min(1),
    /** The value must match (case-insensitive). */
    regex: regexString.optional(),
    /** The value must match none of these. */
    notRegex: z.array(regexString).optional(),
    /** The value must be empty (or "-", IIS's empty). */
    empty: z.boolean().optional(),
  })
  .strict();

const commonShape = {
  id: ruleIdSchema,
  title: z.string().min(1),
  severity: severitySchema,
  effect: effectSchema,
  cve: cveSchema,
  technique: techniqueSchema,
  sources: z.array(sourceSchema).min(1, "every rule cites at least one source"),
  note: z.string().optional(),
};

export const logRuleSchema = z
  .object({
    ...commonShape,
    logTypes: z.array(z.enum(["httpproxy", "iis", "ecp", "oabgen", "eventlog"])).min(1),
    /** Fast path: a line is looked at only if it contains one of these (case-insensitive). */
    anyOf: z.array(z.string().min(3)).min(1),
    /** And all of these (case-insensitive). */
    allOf: z.array(z.string().min(3)).optional(),
    /** And the raw line matches (case-insensitive). */
    lineRegex: regexString.optional(),
    /** And these parsed columns satisfy their conditions (CSV / W3C logs). A missing column fails the rule. */
    fields: z.array(fieldConditionSchema).optional(),
    /**
     * And the first group of `regex` (case-insensitive, on the raw line) exists and matches none of `notRegex`: for
     * exclusions on a value inside free text, e.g. the path in an OAB generator message.
     */
    capture: z
      .object({ regex: regexString.refine((s) => /\((?!\?)/.test(s), "needs a capturing group"), notRegex: z.array(regexString).min(1) })
      .strict()
      .optional(),
  })
  .strict();

export const fileRuleSchema = z
  .object({
    ...commonShape,
    /** Matched against the server path, lower-cased with "/" separators, e.g. "c:/inetpub/wwwroot/aspnet_client/x.aspx". */
    pathRegex: regexString.optional(),
    notPathRegex: z.array(regexString).optional(),
    /** Known-bad SHA-256 values (lower-case hex). */
    sha256: z.array(z.string().regex(/^[0-9a-f]{64}$/)).optional(),
    /** Benign software leaves such files too: suspicious unless a log indicator corroborates them. */
    benignLookalike: z.boolean().default(false),
    /**
     * Reported only when a CVE check on the logs hit (Test-ProxyLogon lists its "suspicious files" only then, since
     * CSS-Exchange PR #386): without such a hit the finding is set aside, not counted in the verdict.
     */
    requiresCveHit: z.boolean().default(false),
  })
  .strict()
  .refine((r) => r.pathRegex !== undefined || (r.sha256 !== undefined && r.sha256.length > 0), {
    message: "a file rule needs pathRegex or sha256",
  });

export const ruleFileSchema = z
  .object({
    description: z.string().optional(),
    logRules: z.array(logRuleSchema).default([]),
    fileRules: z.array(fileRuleSchema).default([]),
  })
  .strict();

export type LogRuleData = z.infer<typeof logRuleSchema>;
export type FileRuleData = z.infer<typeof fileRuleSchema>;
export type RuleFileData = z.infer<typeof ruleFileSchema>;

export interface RuleMeta {
  id: string;
  title: string;
  severity: Severity;
  effect: Effect;
  cve: string | null;
  technique: string | null;
  sources: SourceRef[];
}

export interface CompiledFieldCondition {
  field: string;
  regex: RegExp | null;
  notRegex: RegExp[];
  empty: boolean;
}

export interface CompiledLogRule extends RuleMeta {
  logTypes: LogType[];
  anyOf: string[];
  allOf: string[];
  lineRegex: RegExp | null;
  fields: CompiledFieldCondition[];
  capture: { regex: RegExp; notRegex: RegExp[] } | null;
}

export interface CompiledFileRule extends RuleMeta {
  pathRegex: RegExp | null;
  notPathRegex: RegExp[];
  sha256: Set<string>;
  benignLookalike: boolean;
  requiresCveHit: boolean;
}

export interface RuleSet {
  logRules: CompiledLogRule[];
  fileRules: CompiledFileRule[];
  /** Every rule's metadata by id, YARA rules included once they are known. */
  meta: Map<string, RuleMeta>;
}

function metaOf(r: LogRuleData | FileRuleData): RuleMeta {
  return {
    id: r.id,
    title: r.title,
    severity: r.severity,
    effect: r.effect,
    cve: r.cve,
    technique: r.technique,
    sources: r.sources,
  };
}

export function compileRules(files: RuleFileData[]): RuleSet {
  const set: RuleSet = { logRules: [], fileRules: [], meta: new Map() };
  for (const f of files) {
    for (const r of f.logRules) {
      if (set.meta.has(r.id)) throw new Error(`duplicate rule id ${r.id}`);
      const m = metaOf(r);
      set.meta.set(r.id, m);
      set.logRules.push({
        ...m,
        logTypes: r.logTypes,
        anyOf: r.anyOf.map((s) => s.toLowerCase()),
        allOf: (r.allOf ?? []).map((s) => s.toLowerCase()),
        lineRegex: r.lineRegex ? new RegExp(r.lineRegex, "i") : null,
        fields: (r.fields ?? []).map((c) => ({
          field: c.field.toLowerCase(),
          regex: c.regex ? new RegExp(c.regex, "i") : null,
          notRegex: (c.notRegex ?? []).map((x) => new RegExp(x, "i")),
          empty: c.empty ?? false,
        })),
        capture: r.capture ? { regex: new RegExp(r.capture.regex, "i"), notRegex: r.capture.notRegex.map((x) => new RegExp(x, "i")) } : null,
      });
    }
    for (const r of f.fileRules) {
      if (set.meta.has(r.id)) throw new Error(`duplicate rule id ${r.id}`);
      const m = metaOf(r);
      set.meta.set(r.id, m);
      set.fileRules.push({
        ...m,
        pathRegex: r.pathRegex ? new RegExp(r.pathRegex, "i") : null,
        notPathRegex: (r.notPathRegex ?? []).map((x) => new RegExp(x, "i")),
        sha256: new Set(r.sha256 ?? []),
        benignLookalike: r.benignLookalike,
        requiresCveHit: r.requiresCveHit,
      });
    }
  }
  return set;
}

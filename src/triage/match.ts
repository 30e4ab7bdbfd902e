/**
 * The matching core: log rules applied to one line (or event record) of a known log type, file rules applied to
 * a file's facts. Pure: no I/O; the streaming scanners feed it lines.
 */
import type { CompiledFileRule, CompiledLogRule, RuleSet } from "./rules.js";
import type { Finding, LogType } from "./types.js";
import { escapeExcerpt, excerptAround } from "./logs/text.js";

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Parsed columns of a structured line, by lower-cased column name. */
export interface LineFields {
  get(name: string): string | undefined;
}

export interface LineHit {
  rule: CompiledLogRule;
  /** Where in the line the rule's evidence starts (for the excerpt window). */
  at: number;
}

export class LogMatcher {
  readonly rules: CompiledLogRule[];
  /** One case-insensitive alternation of every rule's `anyOf` literals: the fast path over whole blocks. */
  readonly prefilter: RegExp | null;
  readonly needsFields: boolean;

  constructor(ruleSet: Pick<RuleSet, "logRules">, readonly logType: LogType, extraLiterals: string[] = []) {
    this.rules = ruleSet.logRules.filter((r) => r.logTypes.includes(logType));
    const lits = new Set<string>();
    for (const r of this.rules) for (const l of r.anyOf) lits.add(l);
    for (const l of extraLiterals) lits.add(l.toLowerCase());
    // Longer literals first so the alternation reports the most specific one; duplicates removed.
    const sorted = [...lits].sort((a, b) => b.length - a.length);
    this.prefilter = sorted.length ? new RegExp(sorted.map(escapeRegex).join("|"), "gi") : null;
    this.needsFields = this.rules.some((r) => r.fields.length > 0);
  }

  /** Every rule that holds on `line`. `fields` is computed lazily, only if a rule that passed the cheap checks needs columns. */
  match(line: string, fields: () => LineFields | null): LineHit[] {
    let lower: string | null = null;
    const hits: LineHit[] = [];
    for (const r of this.rules) {
      lower ??= line.toLowerCase();
      let at = -1;
      for (const lit of r.anyOf) {
        const i = lower.indexOf(lit);
        if (i !== -1) {
          at = i;
          break;
        }
      }
      if (at === -1) continue;
      if (r.allOf.length && !r.allOf.every((lit) => lower!.includes(lit))) continue;
      if (r.lineRegex) {
        const m = r.lineRegex.exec(line);
        if (!m) continue;
        at = m.index;
      }
      if (r.capture) {
        const m = r.capture.regex.exec(line);
        const v = m?.[1];
        if (v === undefined || r.capture.notRegex.some((x) => x.test(v))) continue;
      }
      if (r.fields.length) {
        const f = fields();
        if (!f) continue;
        let ok = true;
        for (const c of r.fields) {
          const raw = f.get(c.field);
          if (raw === undefined) {
            ok = false;
            break;
          }
          const v = raw.trim();
          if (c.empty && !(v === "" || v === "-")) ok = false;
          else if (c.regex && !c.regex.test(v)) ok = false;
          else if (c.notRegex.some((x) => x.test(v))) ok = false;
          if (!ok) break;
        }
        if (!ok) continue;
      }
      hits.push({ rule: r, at });
    }
    return hits;
  }
}

export function logFinding(
  hit: LineHit,
  ctx: { file: string; line: number | null; offset: number | null; timestamp: string | null; sourceIp: string | null; text: string },
): Finding {
  const r = hit.rule;
  return {
    rule: r.id,
    title: r.title,
    severity: r.severity,
    effect: r.effect,
    cve: r.cve,
    technique: r.technique,
    file: ctx.file,
    line: ctx.line,
    offset: ctx.offset,
    timestamp: ctx.timestamp,
    sourceIp: ctx.sourceIp,
    excerpt: excerptAround(ctx.text, hit.at),
  };
}

/** What is known about one file on the server: from a collector listing row or from a copy in the bundle. */
export interface FileFacts {
  /** Server path, lower-cased, "/" separators (e.g. "c:/inetpub/wwwroot/aspnet_client/x.aspx"). */
  serverPath: string;
  displayPath: string;
  sha256: string | null;
  lastWrite: string | null;
  size: number | null;
}

export function normalizeServerPath(p: string): string {
  return p.replace(/\\/g, "/").replace(/\/{2,}/g, "/").toLowerCase();
}

export function matchFileRules(
  rules: CompiledFileRule[],
  facts: FileFacts,
  where: { file: string; line: number | null },
): Finding[] {
  const out: Finding[] = [];
  for (const r of rules) {
    let why: string | null = null;
    if (facts.sha256 && r.sha256.has(facts.sha256)) why = `sha256 ${facts.sha256}`;
    else if (r.pathRegex && r.pathRegex.test(facts.serverPath) && !r.notPathRegex.some((x) => x.test(facts.serverPath))) why = "path";
    if (!why) continue;
    const detail = [facts.displayPath, facts.size !== null ? `${facts.size} bytes` : null, facts.lastWrite ? `last write ${facts.lastWrite}` : null, why !== "path" ? why : null]
      .filter((x): x is string => x !== null)
      .join(" | ");
    out.push({
      rule: r.id,
      title: r.title,
      severity: r.severity,
      effect: r.effect,
      cve: r.cve,
      technique: r.technique,
      file: where.file,
      line: where.line,
      offset: null,
      timestamp: facts.lastWrite,
      sourceIp: null,
      excerpt: escapeExcerpt(detail),
      benignLookalike: r.benignLookalike || undefined,
      requiresCveHit: r.requiresCveHit || undefined,
    });
  }
  return out;
}

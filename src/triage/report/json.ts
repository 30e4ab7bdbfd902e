/** `--json`: one object, {"verdict", "findings": [...]} plus coverage, problems and the rules that fired. */
import type { TriageOutput } from "../scan.js";

export function toJson(r: TriageOutput): object {
  return {
    verdict: r.verdict,
    findings: r.findings.map((f) => ({
      rule: f.rule,
      severity: f.severity,
      cve: f.cve,
      file: f.file,
      line: f.line,
      timestamp: f.timestamp,
      sourceIp: f.sourceIp,
      excerpt: f.excerpt,
      title: f.title,
      effect: f.effect,
      technique: f.technique,
      offset: f.offset,
      ...(f.corroborated ? { corroborated: true } : {}),
    })),
    coverage: r.coverage,
    problems: r.problems,
    stats: r.stats,
    rules: Object.fromEntries([...r.rules].map(([id, m]) => [id, { title: m.title, severity: m.severity, effect: m.effect, cve: m.cve, technique: m.technique, sources: m.sources }])),
  };
}

export function renderJson(r: TriageOutput): string {
  return `${JSON.stringify(toJson(r), null, 2)}\n`;
}

/** `--json`: one object, {"verdict", "findings": [...]} plus coverage, problems and the rules that fired. */
import type { TriageOutput } from "../scan.js";
import type { Finding } from "../types.js";

function findingJson(f: Finding): object {
  return {
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
      ...(f.channel ? { channel: f.channel } : {}),
  };
}

export function toJson(r: TriageOutput): object {
  return {
    verdict: r.verdict,
    server: r.server,
    ...(r.notExamined ? { notExamined: r.notExamined } : {}),
    findings: r.findings.map(findingJson),
    coverage: r.coverage,
    families: r.families,
    setAside: r.setAside.map(findingJson),
    problems: r.problems,
    stats: r.stats,
    rules: Object.fromEntries([...r.rules].map(([id, m]) => [id, { title: m.title, severity: m.severity, effect: m.effect, cve: m.cve, technique: m.technique, sources: m.sources }])),
  };
}

export function renderJson(r: TriageOutput): string {
  return `${JSON.stringify(toJson(r), null, 2)}\n`;
}

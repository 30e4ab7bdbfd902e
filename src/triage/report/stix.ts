/**
 * `--stix`: a STIX 2.1 bundle. Vigie is the identity; each rule that fired is an indicator (pattern_type "pcre"
 * for log rules, "yara" for YARA rules, with its sources as external references); each CVE a vulnerability;
 * each finding a sighting of its indicator; a report carries the verdict and refers to everything.
 * Identifiers are UUIDv5-style hashes of their content, so the same bundle gives the same ids.
 */
import { createHash } from "node:crypto";
import type { TriageOutput } from "../scan.js";

function stableId(type: string, ...parts: string[]): string {
  const h = createHash("sha1").update(`vigie-triage\u0000${type}\u0000${parts.join("\u0000")}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${type}--${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function toStix(r: TriageOutput, now = new Date()): object {
  const ts = now.toISOString();
  const identity = {
    type: "identity",
    spec_version: "2.1",
    id: stableId("identity", "vigie"),
    created: "2025-01-01T00:00:00.000Z",
    modified: "2025-01-01T00:00:00.000Z",
    name: "Vigie triage",
    identity_class: "system",
  };
  const objects: Record<string, unknown>[] = [identity];
  const indicatorId = new Map<string, string>();
  const vulnIds = new Map<string, string>();
  for (const [id, m] of r.rules) {
    const ind = stableId("indicator", id);
    indicatorId.set(id, ind);
    objects.push({
      type: "indicator",
      spec_version: "2.1",
      id: ind,
      created_by_ref: identity.id,
      created: ts,
      modified: ts,
      name: m.title,
      description: `Vigie rule ${id} (${m.severity}, ${m.effect})`,
      indicator_types: [m.effect === "compromised" ? "compromised" : "anomalous-activity"],
      pattern_type: id.startsWith("yara:") ? "yara" : "pcre",
      pattern: id.startsWith("yara:") ? `rule ${id.slice(5)}` : id,
      valid_from: ts,
      external_references: [
        ...m.sources.map((s) => ({ source_name: s.title, url: s.url })),
        ...(m.technique ? [{ source_name: "mitre-attack", external_id: m.technique }] : []),
      ],
    });
    if (m.cve && !vulnIds.has(m.cve)) {
      const v = stableId("vulnerability", m.cve);
      vulnIds.set(m.cve, v);
      objects.push({
        type: "vulnerability",
        spec_version: "2.1",
        id: v,
        created: ts,
        modified: ts,
        name: m.cve,
        external_references: [{ source_name: "cve", external_id: m.cve }],
      });
    }
    if (m.cve)
      objects.push({
        type: "relationship",
        spec_version: "2.1",
        id: stableId("relationship", id, m.cve),
        created: ts,
        modified: ts,
        relationship_type: "indicates",
        source_ref: ind,
        target_ref: vulnIds.get(m.cve),
      });
  }
  r.findings.forEach((f, i) => {
    const when = f.timestamp ?? ts;
    objects.push({
      type: "sighting",
      spec_version: "2.1",
      id: stableId("sighting", String(i), f.rule, f.file, String(f.line ?? f.offset ?? "")),
      created_by_ref: identity.id,
      created: ts,
      modified: ts,
      first_seen: when,
      last_seen: when,
      count: 1,
      sighting_of_ref: indicatorId.get(f.rule),
      where_sighted_refs: [identity.id],
      description: `${f.severity} ${f.effect}: ${f.file}${f.line !== null ? `:${f.line}` : ""}${f.sourceIp ? ` from ${f.sourceIp}` : ""} — ${f.excerpt}`,
    });
  });
  const report = {
    type: "report",
    spec_version: "2.1",
    id: stableId("report", r.bundle, ts),
    created_by_ref: identity.id,
    created: ts,
    modified: ts,
    name: `Vigie triage: ${r.verdict}`,
    description: `Verdict ${r.verdict} for ${r.bundle}; ${r.findings.length} finding(s).${r.notExamined ? ` Not examined: ${r.notExamined}.` : ""} Coverage: ${
      r.families.map((c) => `${c.family} ${c.days ?? 0} days (${c.files} file(s))`).join(", ") || "no logs"
    }.`,
    report_types: ["threat-report"],
    published: ts,
    object_refs: objects.map((o) => o.id as string),
    labels: [`verdict:${r.verdict}`],
  };
  objects.push(report);
  return { type: "bundle", id: stableId("bundle", r.bundle, ts), objects };
}

export function renderStix(r: TriageOutput): string {
  return `${JSON.stringify(toStix(r), null, 2)}\n`;
}

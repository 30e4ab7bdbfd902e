/** `--sarif`: SARIF 2.1.0, one run, one result per finding; the verdict and coverage in the run's properties. */
import type { TriageOutput } from "../scan.js";
import type { Severity } from "../types.js";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = { critical: "error", high: "error", medium: "warning", low: "note" };
const SECURITY_SEVERITY: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" };

export function toSarif(r: TriageOutput, version = "0.1.0"): object {
  const ids = [...r.rules.keys()];
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "vigie",
            version,
            informationUri: "https://github.com/",
            rules: ids.map((id) => {
              const m = r.rules.get(id)!;
              return {
                id,
                name: id.replace(/[^A-Za-z0-9]+/g, "_"),
                shortDescription: { text: m.title },
                helpUri: m.sources[0]?.url,
                defaultConfiguration: { level: LEVEL[m.severity] },
                properties: {
                  "security-severity": SECURITY_SEVERITY[m.severity],
                  effect: m.effect,
                  cve: m.cve,
                  technique: m.technique,
                  sources: m.sources,
                  tags: ["security", ...(m.cve ? [m.cve] : [])],
                },
              };
            }),
          },
        },
        invocations: [
          {
            // Not examined: the run did not do its job (no log could be read), which SARIF consumers should see.
            executionSuccessful: r.verdict !== "not-examined",
            toolExecutionNotifications: [
              ...(r.notExamined ? [{ level: "error", message: { text: `not examined: ${r.notExamined}` } }] : []),
              ...r.problems.slice(0, 1000).map((p) => ({ level: "warning", message: { text: `${p.file}: ${p.message}` } })),
            ],
          },
        ],
        results: r.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ids.indexOf(f.rule),
          level: LEVEL[f.severity],
          message: { text: `${f.title}: ${f.excerpt}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file.split("/").map(encodeURIComponent).join("/"), uriBaseId: "BUNDLEROOT" },
                ...(f.line !== null ? { region: { startLine: f.line } } : f.offset !== null ? { region: { byteOffset: f.offset } } : {}),
              },
            },
          ],
          properties: { effect: f.effect, cve: f.cve, technique: f.technique, timestamp: f.timestamp, sourceIp: f.sourceIp, corroborated: f.corroborated ?? false },
        })),
        properties: { verdict: r.verdict, notExamined: r.notExamined, coverage: r.coverage, families: r.families, setAside: r.setAside.length },
      },
    ],
  };
}

export function renderSarif(r: TriageOutput): string {
  return `${JSON.stringify(toSarif(r), null, 2)}\n`;
}

/** The readable report: verdict with log coverage beside it, then the timeline, then what could not be read. */
import type { TriageOutput } from "../scan.js";
import type { FamilyCoverage, LogCoverage, LogType } from "../types.js";
import { escapeExcerpt } from "../logs/text.js";

const LABEL: Record<LogType, string> = {
  httpproxy: "HttpProxy logs",
  iis: "IIS W3SVC logs",
  ecp: "ECP server logs",
  oabgen: "OAB generator logs",
  eventlog: "Event logs",
};

function coverageLine(c: LogCoverage): string {
  if (!c.files) return `  ${LABEL[c.logType].padEnd(22)} absent`;
  const span = c.first && c.last ? `${c.days?.toFixed(1)} days (${c.first.slice(0, 10)} → ${c.last.slice(0, 10)})` : "no timestamps found";
  const unit = c.logType === "eventlog" ? "records" : "lines";
  const head = `  ${LABEL[c.logType].padEnd(22)} ${span}, ${c.files} file(s), ${c.lines} ${unit}`;
  // Event logs are named by the channel their records give (System/Channel), not by their file names.
  const channels = (c.channels ?? []).map((ch) => {
    const s = ch.first && ch.last ? `${ch.days?.toFixed(1)} days (${ch.first.slice(0, 10)} → ${ch.last.slice(0, 10)})` : "no timestamps found";
    return `    ${escapeExcerpt(ch.channel, 80)}: ${s}, ${ch.files} file(s), ${ch.records} records`;
  });
  return [head, ...channels].join("\n");
}

function familyLine(f: FamilyCoverage): string {
  const span = f.first && f.last ? `${(f.days ?? 0).toFixed(1)} days (${f.first.slice(0, 10)} → ${f.last.slice(0, 10)})` : "no timestamps found";
  return `    ${escapeExcerpt(f.family, 60).padEnd(24)} ${span}, ${f.files} file(s)`;
}

/** Which server: what the collector's manifest (and --host) say, or that nothing names it. */
function serverLine(r: TriageOutput): string {
  const s = r.server;
  if (!s) return "Server: not named (no collector manifest; give --host <address> to attach the report to a host)";
  const name = [s.hostname, s.fqdn && s.fqdn !== s.hostname ? `(${s.fqdn})` : null].filter(Boolean).join(" ");
  const addrs = s.addresses.length ? s.addresses.join(", ") : "no IP address";
  return `Server: ${escapeExcerpt(name || "(no name)", 200)}, ${escapeExcerpt(addrs, 400)}`;
}

export function renderText(r: TriageOutput): string {
  const out: string[] = [];
  const covered = r.coverage.filter((c) => c.files && c.days !== null);
  const maxDays = covered.length ? Math.max(...covered.map((c) => c.days ?? 0)) : 0;
  out.push(`Bundle: ${escapeExcerpt(r.bundle, 300)}`);
  out.push(serverLine(r));
  if (r.verdict === "compromised") out.push("Verdict: COMPROMISED — evidence of a successful intrusion. Start incident response.");
  else if (r.verdict === "suspicious") out.push("Verdict: SUSPICIOUS — indicators that need a look; none proves an intrusion on its own.");
  else if (r.verdict === "not-examined")
    out.push(`Verdict: NOT EXAMINED — ${escapeExcerpt(r.notExamined ?? "no log the rules can read", 600)}. This is not a clean result.`);
  else
    out.push(
      covered.length
        ? `Verdict: NO INDICATORS in the ${maxDays.toFixed(1)} days the logs cover — not the same as clean: older activity is not in this bundle.`
        : "Verdict: NO INDICATORS — but the bundle holds no dated logs, so this says little.",
    );
  out.push("", "Log coverage:");
  for (const c of r.coverage) out.push(coverageLine(c));
  if (r.families.length) {
    out.push("  Per log family:");
    for (const f of r.families) out.push(familyLine(f));
  }
  out.push(`  Files checked: ${r.stats.files} (${r.stats.yaraFiles} YARA-scanned, ${r.stats.listedFiles} listed with hashes)`);
  if (r.findings.length) {
    out.push("", `Findings (${r.findings.length}), in time order:`);
    for (const f of r.findings) {
      const where = `${f.file}${f.line !== null ? `:${f.line}` : f.offset !== null ? `@${f.offset}` : ""}`;
      out.push(
        `  ${f.timestamp ?? "(no time)".padEnd(24)}  ${f.severity.toUpperCase().padEnd(8)} ${f.effect === "compromised" ? "compromise" : "suspicious"}  ${f.cve ?? f.technique ?? ""}`,
        `    ${f.title}${f.corroborated ? " [corroborated by log evidence]" : ""}`,
        `    at ${escapeExcerpt(where, 300)}${f.channel ? ` (${escapeExcerpt(f.channel, 80)})` : ""}${f.sourceIp ? `  from ${escapeExcerpt(f.sourceIp, 60)}` : ""}  [${f.rule}]`,
        `    ${f.excerpt}`,
      );
    }
  }
  if (r.setAside.length) {
    out.push("", `Set aside (${r.setAside.length}): files that Test-ProxyLogon reports only after a CVE check hit, and none did:`);
    for (const f of r.setAside.slice(0, 50)) out.push(`  ${f.title}: ${f.excerpt}  [${f.rule}]`);
    if (r.setAside.length > 50) out.push(`  … and ${r.setAside.length - 50} more (see --json)`);
  }
  if (r.problems.length) {
    out.push("", `Not fully read (${r.problems.length}):`);
    for (const p of r.problems.slice(0, 200)) out.push(`  ${escapeExcerpt(p.file, 200)}: ${escapeExcerpt(p.message, 300)}`);
    if (r.problems.length > 200) out.push(`  … and ${r.problems.length - 200} more (see --json)`);
  }
  if (r.rules.size) {
    out.push("", "Rule sources:");
    for (const [id, m] of r.rules) out.push(`  ${id}: ${m.sources.map((s) => s.url).join(" ; ") || "(user rule)"}`);
  }
  return `${out.join("\n")}\n`;
}

/**
 * `vigie triage <dir|bundle.zip|bundle.tar.gz>`: was this Exchange server hit? Reads a bundle gathered by
 * collector/Collect-VigieBundle.ps1 (or any copy of the same folders) and gives a verdict with its evidence.
 * Exit codes: 0 no-indicators, 1 suspicious, 3 compromised, 4 not examined (no log the rules can read); 2 usage errors.
 */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { BundleInputError } from "../../triage/bundle/index.js";
import { RuleLoadError } from "../../triage/load.js";
import { renderJson } from "../../triage/report/json.js";
import { renderSarif } from "../../triage/report/sarif.js";
import { renderStix } from "../../triage/report/stix.js";
import { renderText } from "../../triage/report/text.js";
import { triage } from "../../triage/scan.js";
import { EXIT_CODES } from "../../triage/verdict.js";
import { YaraLoadError } from "../../triage/yara.js";
import { userInfo } from "node:os";
import path from "node:path";
import { attachTriageReport } from "../../triage/attach.js";
import { normalizeAddress } from "../../triage/server.js";
import { openStore } from "../storeOption.js";

export interface TriageCliOptions {
  json?: boolean;
  sarif?: boolean;
  stix?: boolean;
  rules?: string[];
  yara?: boolean;
  /** The server's IP address(es), for bundles whose manifest does not name them. */
  host?: string[];
  /** Keep the report in this store, attached to the server's host records. */
  db?: string;
}

/**
 * Run the command; returns the exit code, the report, and a notice for stderr (where the report was stored),
 * without touching process state (tests call this).
 */
export async function runTriage(input: string, opts: TriageCliOptions): Promise<{ exitCode: number; output: string; notice?: string }> {
  const formats = [opts.json, opts.sarif, opts.stix].filter(Boolean).length;
  if (formats > 1) throw new UsageError("choose one of --json, --sarif, --stix");
  for (const h of opts.host ?? []) if (normalizeAddress(h) === null) throw new UsageError(`--host ${h}: not an IPv4 or IPv6 address`);
  let result;
  try {
    result = await triage(input, { rules: opts.rules ?? [], yara: opts.yara !== false, hosts: opts.host ?? [] });
  } catch (err) {
    if (err instanceof BundleInputError || err instanceof RuleLoadError || err instanceof YaraLoadError) throw new UsageError(err.message);
    throw err;
  }
  let notice: string | undefined;
  if (opts.db !== undefined) {
    if (!result.server?.addresses.length) {
      throw new UsageError(`${input}: the bundle names no server address (no collector manifest with ipAddresses): give --host <address> to attach the report`);
    }
    const store = await openStore(opts.db);
    try {
      const a = await attachTriageReport(store, result, { source: "cli", user: currentUser(), name: path.basename(input) });
      const unknown = a.addresses.filter((ip) => !a.known.includes(ip));
      notice =
        `vigie triage: report ${a.id} (${result.verdict}) stored in ${store.label}, attached to ${a.addresses.join(", ")}` +
        (a.snapshot === null ? "; the store holds no snapshot yet\n" : `; in snapshot ${a.snapshot}: ${a.known.length ? `host ${a.known.join(", ")}` : "no host with these addresses"}${unknown.length && a.known.length ? ` (not there: ${unknown.join(", ")})` : ""}\n`);
    } finally {
      await store.close();
    }
  }
  const output = opts.json ? renderJson(result) : opts.sarif ? renderSarif(result) : opts.stix ? renderStix(result) : renderText(result);
  return { exitCode: EXIT_CODES[result.verdict], output, ...(notice ? { notice } : {}) };
}

function currentUser(): string {
  try {
    return userInfo().username || "cli";
  } catch {
    return "cli";
  }
}

export function registerTriage(program: Command): void {
  program
    .command("triage")
    .description(
      "judge an evidence bundle from an Exchange server: compromised, suspicious, no-indicators or not-examined (exit 3, 1, 0, 4; 2 usage error)",
    )
    .argument("<bundle>", "a directory, .zip or .tar.gz gathered by collector/Collect-VigieBundle.ps1")
    .option("--json", "print one JSON object {verdict, findings, coverage, ...}")
    .option("--sarif", "print SARIF 2.1.0")
    .option("--stix", "print a STIX 2.1 bundle")
    .option("--rules <path...>", "extra rule files or folders: .json log/file rules, .yar/.yara YARA rules")
    .option("--no-yara", "skip the YARA scan of files in the bundle")
    .option("--host <address...>", "the server's IP address (for bundles whose manifest.json does not name it); used first when attaching")
    .option("--db <file-or-url>", "also keep the report in this store (SQLite file or postgres:// URL), attached to the server's host records by IP")
    .action(async (bundle: string, opts: TriageCliOptions) => {
      const { exitCode, output, notice } = await runTriage(bundle, opts);
      if (notice) process.stderr.write(notice);
      await new Promise<void>((resolve) => process.stdout.write(output, () => resolve()));
      process.exitCode = exitCode;
    });
}

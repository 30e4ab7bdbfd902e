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

export interface TriageCliOptions {
  json?: boolean;
  sarif?: boolean;
  stix?: boolean;
  rules?: string[];
  yara?: boolean;
}

/** Run the command; returns the exit code and the report, without touching process state (tests call this). */
export async function runTriage(input: string, opts: TriageCliOptions): Promise<{ exitCode: number; output: string }> {
  const formats = [opts.json, opts.sarif, opts.stix].filter(Boolean).length;
  if (formats > 1) throw new UsageError("choose one of --json, --sarif, --stix");
  let result;
  try {
    result = await triage(input, { rules: opts.rules ?? [], yara: opts.yara !== false });
  } catch (err) {
    if (err instanceof BundleInputError || err instanceof RuleLoadError || err instanceof YaraLoadError) throw new UsageError(err.message);
    throw err;
  }
  const output = opts.json ? renderJson(result) : opts.sarif ? renderSarif(result) : opts.stix ? renderStix(result) : renderText(result);
  return { exitCode: EXIT_CODES[result.verdict], output };
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
    .action(async (bundle: string, opts: TriageCliOptions) => {
      const { exitCode, output } = await runTriage(bundle, opts);
      await new Promise<void>((resolve) => process.stdout.write(output, () => resolve()));
      process.exitCode = exitCode;
    });
}

/**
 * `vigie kb …`: the knowledge base. explain builds, list builds, list CVEs, import newer data.
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { BuildExplainer } from "../../assess/explainBuild.js";
import type { BuildExplanation } from "../../assess/types.js";
import { parseBuild } from "../../knowledge/buildNumber.js";
import type { KnowledgeBase } from "../../knowledge/knowledgeBase.js";
import { builtinKnowledgeDir, defaultOverlayDir, KnowledgeError, loadKnowledgeBase } from "../../knowledge/load.js";
import { PRODUCT_KEYS, type ProductKey } from "../../knowledge/schema.js";
import { updateBuilds, updateKev, type UpdateReport } from "../../knowledge/update.js";
import { UsageError } from "../errors.js";
import { renderTable, safe, terminalWidth, wrapText } from "../format/terminal.js";

export interface KbDirOption {
  kbDir?: string;
}

/** Load the knowledge base for a command; a broken data file is a usage-level error with its path. */
export function openKnowledgeBase(options: KbDirOption = {}): KnowledgeBase {
  try {
    return loadKnowledgeBase({ overlayDir: options.kbDir ?? defaultOverlayDir() });
  } catch (err) {
    throw new UsageError(`knowledge base: ${(err as Error).message}`);
  }
}

async function* readStdinLines(): AsyncGenerator<string> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    const t = line.trim();
    if (t !== "" && !t.startsWith("#")) yield t;
  }
}

function explanationText(e: BuildExplanation): string {
  const what = e.product
    ? [e.product, e.cu, e.update && e.update !== e.cu ? e.update : null].filter(Boolean).join(" ")
    : "unknown product";
  const date = e.releaseDate ? `, released ${e.releaseDate}` : "";
  const n = e.candidates.length;
  const cands = e.precision !== "exact" && n > 0 ? `, ${n} candidate build${n === 1 ? "" : "s"}` : "";
  const head = `${safe(e.build, 80)}: ${what}${date} (precision: ${e.precision}${cands})`;
  const width = terminalWidth();
  const table = renderTable(e.cves, [
    { header: "CVE", value: (v) => v.id },
    { header: "STATUS", value: (v) => v.status },
    { header: "FIXED IN", value: (v) => v.fixedIn ?? "-" },
    { header: "WHY / WHAT TO DO", value: (v) => (v.remediation ? `${v.reason}. ${v.remediation}` : v.reason), wrap: true },
  ], { width });
  return `${wrapText(head, width).join("\n")}\n${table}\n`;
}

/** Exit status of `kb update --builds` when the file offered changes to known builds that were not taken. */
export const EXIT_CONFLICTS_KEPT = 3;

function printReport(r: UpdateReport, verbose: boolean): void {
  const out = process.stdout;
  const list = (label: string, mark: string, items: string[]): void => {
    out.write(`${label}: ${items.length}\n`);
    for (const i of items) out.write(`  ${mark} ${safe(i, 300)}\n`);
  };
  out.write(`${r.kind === "kev" ? "KEV feed" : "Builds table"} ${safe(r.file, 300)}${r.written ? "" : " (dry run: nothing written)"}\n`);
  list("added", "+", r.added);
  if (r.kind === "kev") {
    list("changed", "~", r.changed);
    list("removed", "-", r.removed);
  } else {
    const kept = r.conflicts.filter((c) => !c.accepted);
    const accepted = r.conflicts.filter((c) => c.accepted);
    out.write(`conflicts kept: ${kept.length}${kept.length > 0 ? " (the knowledge base keeps its value; --accept-changes takes the file's)" : ""}\n`);
    for (const c of kept) {
      out.write(
        `  ! ${c.build} ${c.field}: keeps ${c.current || "(none)"} (sources: ${c.currentSources.join(", ")}); the file offers ${safe(c.offered, 80)}\n`,
      );
      if (c.currentNote) out.write(`      note: ${safe(c.currentNote, 400)}\n`);
    }
    out.write(`accepted: ${accepted.length}\n`);
    for (const c of accepted) out.write(`  ~ ${c.build} ${c.field}: ${c.current || "(none)"} -> ${safe(c.offered, 80)} (was from: ${c.currentSources.join(", ")})\n`);
    for (const s of r.skipped) out.write(`skipped: ${s.rows} row(s) of ${s.reason}\n`);
  }
  out.write(`unchanged: ${r.unchanged}\n`);
  if (r.kind === "kev" && r.kept.length > 0) {
    out.write(`kept: ${r.kept.length} CVE(s) absent from the feed were kept (pass --allow-removals to drop them): ${r.kept.join(", ")}\n`);
  } else if (r.kind === "builds") {
    out.write(`not in the file: ${r.kept.length} known build(s), kept (an import never removes builds)\n`);
    if (verbose) for (const b of r.kept) out.write(`  = ${b}\n`);
  }
}

export function registerKb(program: Command): void {
  const kb = program.command("kb").description("the knowledge base: Exchange builds and exploited CVEs");
  const kbDir = "--kb-dir <dir>";
  const kbDirHelp = `folder of imported updates (default $VIGIE_KB_DIR or ${defaultOverlayDir()})`;

  kb.command("explain")
    .description("explain Exchange builds: product, CU, update, and a verdict per CVE (use - to read builds from stdin)")
    .argument("<build...>", "build numbers of any precision: 15.1.2176.9, 15.1.2176, 15.1, or - for stdin")
    .option("--json", "one JSON object per build (JSON Lines), in input order")
    .option(kbDir, kbDirHelp)
    .addHelpText("after", "\nThe table wraps the WHY / WHAT TO DO column to the terminal width ($COLUMNS, or 100, when stdout is not a\nterminal); --json carries the full text.")
    .action(async (builds: string[], opts: { json?: boolean } & KbDirOption) => {
      const explainer = new BuildExplainer(openKnowledgeBase(opts));
      const bad: string[] = [];
      let index = 0;
      const emit = (input: string): void => {
        index++;
        const e = explainer.explain(input);
        if (!parseBuild(input)) bad.push(`#${index} "${safe(input, 80)}" is not an Exchange build number`);
        process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : `${explanationText(e)}\n`);
      };
      for (const b of builds) {
        if (b === "-") for await (const line of readStdinLines()) emit(line);
        else emit(b);
      }
      if (bad.length > 0) throw new UsageError(bad.join("\n"));
    });

  kb.command("list")
    .description("list known builds")
    .option("--product <product>", `only one product: ${PRODUCT_KEYS.join(", ")}`)
    .option("--json", "JSON Lines, one build per line")
    .option(kbDir, kbDirHelp)
    .action((opts: { product?: string; json?: boolean } & KbDirOption) => {
      const base = openKnowledgeBase(opts);
      let product: ProductKey | undefined;
      if (opts.product !== undefined) {
        const p = PRODUCT_KEYS.find((k) => k.toLowerCase() === opts.product!.toLowerCase());
        if (!p) throw new UsageError(`--product: "${safe(opts.product, 40)}" is not one of ${PRODUCT_KEYS.join(", ")}`);
        product = p;
      }
      const builds = base.builds.filter((b) => product === undefined || b.product === product);
      if (opts.json) {
        for (const b of builds) {
          process.stdout.write(
            `${JSON.stringify({
              build: b.build,
              product: b.productName,
              cu: b.line,
              update: b.update,
              kind: b.kind,
              releaseDate: b.releaseDate,
              dateApproximate: b.dateApproximate,
              kb: b.kb ?? null,
              cumulative: b.cumulative,
              sources: b.sources.map((s) => s.id),
            })}\n`,
          );
        }
        return;
      }
      process.stdout.write(
        `${renderTable(builds, [
          { header: "BUILD", value: (b) => b.build },
          { header: "PRODUCT", value: (b) => b.productName },
          { header: "CU", value: (b) => b.line },
          { header: "UPDATE", value: (b) => b.update + (b.cumulative ? "" : " (special)") },
          { header: "RELEASED", value: (b) => b.releaseDate + (b.dateApproximate ? "~" : "") },
          { header: "KB", value: (b) => b.kb ?? "" },
          { header: "SOURCES", value: (b) => b.sources.map((s) => s.id).join(",") },
        ])}\n${builds.length} builds\n`,
      );
    });

  kb.command("cves")
    .description("list the exploited Exchange CVEs the knowledge base judges")
    .option("--json", "JSON Lines, one advisory per line")
    .option(kbDir, kbDirHelp)
    .action((opts: { json?: boolean } & KbDirOption) => {
      const base = openKnowledgeBase(opts);
      if (opts.json) {
        for (const a of base.advisories) {
          process.stdout.write(
            `${JSON.stringify({
              id: a.id,
              title: a.title,
              campaign: a.campaign ?? null,
              published: a.published,
              cvss: a.cvss ?? null,
              affects: a.affects.map((p) => base.products.get(p)?.name ?? p),
              kev: a.kev,
              fixData: a.fixData ?? "known",
              fixes: a.fixes.map((f) => ({ product: f.product, cu: f.line, fixedIn: f.fixedIn, update: f.update, kb: f.kb ?? null })),
              summary: a.summary,
              sources: a.sources.map((s) => s.url),
            })}\n`,
          );
        }
        return;
      }
      process.stdout.write(
        `${renderTable(base.advisories, [
          { header: "CVE", value: (a) => a.id },
          { header: "CAMPAIGN", value: (a) => a.campaign ?? "" },
          { header: "CVSS", value: (a) => (a.cvss === undefined ? "" : String(a.cvss)) },
          { header: "KEV ADDED", value: (a) => a.kev?.dateAdded ?? "-" },
          { header: "RANSOMWARE", value: (a) => a.kev?.knownRansomwareCampaignUse ?? "-" },
          { header: "AFFECTS", value: (a) => a.affects.join(",") },
          { header: "FIXED LINES", value: (a) => (a.fixData === "unknown" ? "no fix data" : String(a.fixes.length)) },
          { header: "TITLE", value: (a) => a.title, max: 70 },
        ])}\n`,
      );
    });

  kb.command("update")
    .description("import a newer CISA KEV feed (JSON) or builds table (CSV or JSON) without a new release")
    .option("--kev <file>", "CISA known_exploited_vulnerabilities.json")
    .option(
      "--builds <file>",
      "builds table: CSV with columns product,build,line,update,kind,releaseDate[,kb,cumulative,namedFixes,note], Microsoft's ExchangeBuildNumbers.csv (Product Name,Build Number,Date,KB,Blog), or JSON",
    )
    .option("--dry-run", "show what would change, write nothing")
    .option("--allow-removals", "drop KEV data of CVEs the feed no longer lists (otherwise kept and reported)")
    .option("--accept-changes", "builds: take the file's value where it differs from a known build (otherwise the current value is kept and the difference reported as a conflict)")
    .option("--verbose", "list every build kept")
    .option(kbDir, kbDirHelp)
    .addHelpText(
      "after",
      `
New builds are added. A known build the file describes differently (another KB, date, CU or update name) is a
conflict: the knowledge base keeps its value, and the report shows it with its sources and the file's value.
Exit status: 0 imported (or nothing to do); ${EXIT_CONFLICTS_KEPT} imported, but conflicts were kept (rerun with
--accept-changes to take them); 2 the file was refused (every bad row named) and nothing was written.`,
    )
    .action((opts: { kev?: string; builds?: string; dryRun?: boolean; allowRemovals?: boolean; acceptChanges?: boolean; verbose?: boolean } & KbDirOption) => {
      if (!opts.kev && !opts.builds) throw new UsageError("kb update needs --kev <file> or --builds <file>");
      const options = {
        builtinDir: builtinKnowledgeDir(),
        overlayDir: opts.kbDir ?? defaultOverlayDir(),
        dryRun: opts.dryRun ?? false,
        allowRemovals: opts.allowRemovals ?? false,
        acceptChanges: opts.acceptChanges ?? false,
      };
      try {
        if (opts.kev) printReport(updateKev(opts.kev, options), opts.verbose ?? false);
        if (opts.builds) {
          const report = updateBuilds(opts.builds, options);
          printReport(report, opts.verbose ?? false);
          if (report.conflicts.some((c) => !c.accepted)) process.exitCode = EXIT_CONFLICTS_KEPT;
        }
      } catch (err) {
        if (err instanceof KnowledgeError || (err instanceof Error && err.name === "KnowledgeConsistencyError")) {
          throw new UsageError(`${err.message}\nthe knowledge base was not changed`);
        }
        throw err;
      }
    });
}

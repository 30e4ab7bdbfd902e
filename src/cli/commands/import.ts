/** `vigie import <file> --format …`: scan data from zgrab2, Shodan, Censys, nmap, masscan or Vigie JSON lines. */
import { existsSync, statSync } from "node:fs";
import { Option, type Command } from "commander";
import { BuildExplainer } from "../../assess/explainBuild.js";
import { openGeo } from "../../enrich/load.js";
import { IMPORT_FORMATS, type ImportFormat } from "../../import/record.js";
import { DATE, importFile, NothingReadError, type ImportSummary } from "../../pipeline/importDriver.js";
import { UsageError } from "../errors.js";
import { importProgressLine, throttled } from "../format/progress.js";
import { safe } from "../format/terminal.js";
import { addDbOption, openStore } from "../storeOption.js";
import { openKnowledgeBase } from "./kb.js";

interface ImportCliOptions {
  format: ImportFormat;
  snapshot?: string;
  date?: string;
  db?: string;
  geo: boolean;
  json?: boolean;
  quiet?: boolean;
  kbDir?: string;
  workers?: number;
  progress?: boolean;
}

function parseWorkers(v: string): number {
  if (!/^\d{1,2}$/.test(v)) throw new UsageError(`--workers ${v}: expected a number of threads from 0 to 99`);
  return Number(v);
}

/** At most this many malformed records are named on stderr; all are counted. */
const MAX_NAMED = 1000;

export function registerImport(program: Command): void {
  const cmd = program
    .command("import")
    .description("import internet-wide scan data into a snapshot (one code path with the live scanner); - reads stdin; .gz accepted")
    .argument("<file>", "scan file, gzip-compressed or not, or - for stdin")
    .addOption(new Option("--format <format>", "record format").choices([...IMPORT_FORMATS]).makeOptionMandatory())
    .option("--snapshot <name>", "snapshot to write (default import-<date>-<file name>); importing again into it replaces records, never doubles them")
    .option("--date <YYYY-MM-DD>", "the day the data describes (default today); also the time of records without a timestamp")
    .option("--no-geo", "do not look up country and ASN")
    .option("--json", "print the summary as one JSON object")
    .option("--quiet", "do not name malformed records on stderr (they are still counted)")
    .option("--kb-dir <dir>", "knowledge-base overlay folder")
    .option("--workers <n>", "parser threads (default: one per core, at most 4; 0 parses on the main thread; nmap-xml always does)", parseWorkers)
    .option("--no-progress", "no progress line (records, MB/s, ETA; it is shown on stderr only when that is a terminal anyway)")
    .addHelpText("after", "\nExit status: 0 imported; 2 bad arguments, or nothing of the input could be read (then no snapshot is created\nand an earlier import into the same snapshot is left as it was).");
  addDbOption(cmd).action(async (file: string, o: ImportCliOptions) => {
    const date = o.date ?? new Date().toISOString().slice(0, 10);
    if (!DATE.test(date) || Number.isNaN(Date.parse(date))) throw new UsageError(`--date ${o.date}: expected YYYY-MM-DD`);
    if (file !== "-" && !existsSync(file)) throw new UsageError(`${file}: no such file`);
    if (o.snapshot !== undefined && (o.snapshot.trim() === "" || o.snapshot.length > 200)) throw new UsageError("--snapshot: a name of 1 to 200 characters");
    const explainer = new BuildExplainer(openKnowledgeBase(o.kbDir !== undefined ? { kbDir: o.kbDir } : {}));
    const geo = o.geo ? openGeo() : null;
    const store = await openStore(o.db);
    let named = 0;
    const showProgress = o.progress !== false && process.stderr.isTTY === true;
    const startedAt = Date.now();
    const totalBytes = file === "-" ? null : statSync(file).size;
    const progress = throttled((p: ImportSummary) => process.stderr.write(`\r${importProgressLine(p, totalBytes, startedAt)}`));
    try {
      const s = await importFile({
        file,
        format: o.format,
        date,
        ...(o.snapshot !== undefined ? { snapshotId: o.snapshot } : {}),
        store,
        explainer,
        geo,
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        ...(showProgress ? { onProgress: progress.update } : {}),
        onMalformed: (m) => {
          if (o.quiet) return;
          // On a terminal, the progress line is cleared first so the message is not written into it.
          if (progress.drawn()) process.stderr.write("\r\u001b[2K");
          if (named < MAX_NAMED) process.stderr.write(`vigie import: ${safe(file === "-" ? "stdin" : file, 200)}:${m.line}: skipped: ${safe(m.reason, 300)}\n`);
          else if (named === MAX_NAMED) process.stderr.write(`vigie import: more malformed records: only counted from here on\n`);
          named++;
        },
      });
      if (progress.drawn()) process.stderr.write(`\r${importProgressLine(s, totalBytes, startedAt)}\n`);
      if (o.json) {
        process.stdout.write(JSON.stringify({ ...s, seconds: Math.round(s.seconds * 1000) / 1000, geo: geo?.sources ?? null }) + "\n");
      } else {
        process.stdout.write(
          `${s.reimport ? "Re-imported" : "Imported"} ${safe(file, 200)} (${s.format}) into snapshot ${safe(s.snapshot, 200)}\n` +
            `  lines ${s.lines}, records ${s.records}, observations ${s.observations}, Exchange ${s.exchange}, malformed (skipped) ${s.malformed}\n` +
            `  ${s.seconds.toFixed(2)} s${geo ? `; country: ${safe(geo.sources.country, 200)}; ASN: ${safe(geo.sources.asn, 200)}` : "; no geo lookup"}\n`,
        );
      }
    } catch (err) {
      if (progress.drawn()) process.stderr.write("\n");
      if (err instanceof UsageError) throw err;
      if (err instanceof NothingReadError) throw new UsageError(err.message);
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOENT" || e.code === "EACCES" || e.code === "Z_DATA_ERROR" || e.code === "EISDIR") throw new UsageError(`${file}: ${e.message}`);
      if (/exists and is a/.test(e.message)) throw new UsageError(e.message);
      throw err;
    } finally {
      await store.close();
    }
  });
}

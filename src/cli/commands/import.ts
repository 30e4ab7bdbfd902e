/** `vigie import <file> --format …`: scan data from zgrab2, Shodan, Censys, nmap, masscan or Vigie JSON lines. */
import { existsSync } from "node:fs";
import { Option, type Command } from "commander";
import { BuildExplainer } from "../../assess/explainBuild.js";
import { openGeo } from "../../enrich/load.js";
import { IMPORT_FORMATS, type ImportFormat } from "../../import/record.js";
import { DATE, importFile } from "../../pipeline/importDriver.js";
import { UsageError } from "../errors.js";
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
    .option("--workers <n>", "parser threads (default: one per core, at most 4; 0 parses on the main thread; nmap-xml always does)", parseWorkers);
  addDbOption(cmd).action(async (file: string, o: ImportCliOptions) => {
    const date = o.date ?? new Date().toISOString().slice(0, 10);
    if (!DATE.test(date) || Number.isNaN(Date.parse(date))) throw new UsageError(`--date ${o.date}: expected YYYY-MM-DD`);
    if (file !== "-" && !existsSync(file)) throw new UsageError(`${file}: no such file`);
    if (o.snapshot !== undefined && (o.snapshot.trim() === "" || o.snapshot.length > 200)) throw new UsageError("--snapshot: a name of 1 to 200 characters");
    const explainer = new BuildExplainer(openKnowledgeBase(o.kbDir !== undefined ? { kbDir: o.kbDir } : {}));
    const geo = o.geo ? openGeo() : null;
    const store = await openStore(o.db);
    let named = 0;
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
        onMalformed: (m) => {
          if (o.quiet) return;
          if (named < MAX_NAMED) process.stderr.write(`vigie import: ${safe(file === "-" ? "stdin" : file, 200)}:${m.line}: skipped: ${safe(m.reason, 300)}\n`);
          else if (named === MAX_NAMED) process.stderr.write(`vigie import: more malformed records: only counted from here on\n`);
          named++;
        },
      });
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
      if (err instanceof UsageError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOENT" || e.code === "EACCES" || e.code === "Z_DATA_ERROR" || e.code === "EISDIR") throw new UsageError(`${file}: ${e.message}`);
      if (/exists and is a/.test(e.message)) throw new UsageError(e.message);
      throw err;
    } finally {
      await store.close();
    }
  });
}

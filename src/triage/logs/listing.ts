/**
 * The collector's file listings (listings/*.csv: Path, Length, LastWriteTimeUtc, SHA256 as Export-Csv writes them,
 * with or without the "#TYPE" line). Each row becomes FileFacts and goes through the file rules. Pure, chunk-fed.
 */
import type { CompiledFileRule } from "../rules.js";
import type { Finding } from "../types.js";
import { matchFileRules, normalizeServerPath } from "../match.js";
import { TextLineReader } from "./lines.js";
import { splitCsv } from "./text.js";

const PATH_COLS = ["path", "fullname"];
const SIZE_COLS = ["length", "size"];
const TIME_COLS = ["lastwritetimeutc", "lastwritetime"];
const HASH_COLS = ["sha256", "hash"];

export class ListingScanner {
  readonly findings: Finding[] = [];
  readonly problems: string[] = [];
  rows = 0;
  private readonly reader: TextLineReader;
  private cols: { path: number; size: number; time: number; hash: number } | null = null;

  constructor(
    readonly file: string,
    private readonly rules: CompiledFileRule[],
  ) {
    this.reader = new TextLineReader((line, lineNo, partial) => this.onLine(line, lineNo, partial), 64 * 1024);
  }

  get bytes(): number {
    return this.reader.bytes;
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  end(): void {
    this.reader.end();
    if (!this.cols) this.problems.push("no header with a Path column; listing not checked");
  }

  private onLine(line: string, lineNo: number, partial: boolean): void {
    if (partial || !line.trim() || line.startsWith("#")) return;
    const cells = splitCsv(line);
    if (!this.cols) {
      const names = cells.map((c) => c.trim().toLowerCase());
      const find = (opts: string[]): number => names.findIndex((n) => opts.includes(n));
      const path = find(PATH_COLS);
      if (path === -1) return;
      this.cols = { path, size: find(SIZE_COLS), time: find(TIME_COLS), hash: find(HASH_COLS) };
      return;
    }
    const c = this.cols;
    const raw = cells[c.path]?.trim();
    if (!raw) return;
    this.rows++;
    const size = c.size >= 0 ? Number(cells[c.size]) : NaN;
    const t = c.time >= 0 ? Date.parse(cells[c.time] ?? "") : NaN;
    const hash = c.hash >= 0 ? (cells[c.hash] ?? "").trim().toLowerCase() : "";
    const found = matchFileRules(
      this.rules,
      {
        serverPath: normalizeServerPath(raw),
        displayPath: raw,
        sha256: /^[0-9a-f]{64}$/.test(hash) ? hash : null,
        lastWrite: Number.isNaN(t) ? null : new Date(t).toISOString(),
        size: Number.isFinite(size) ? size : null,
      },
      { file: this.file, line: lineNo },
    );
    for (const f of found) if (this.findings.length < 10000) this.findings.push(f);
  }
}

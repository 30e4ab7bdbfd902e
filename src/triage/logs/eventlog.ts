/**
 * Application event log evidence: the XML export (wevtutil qe /f:xml, Get-WinEvent ToXml) and the binary .evtx file.
 * The .evtx reader walks the file's 64 KiB chunks and their records (magic 0x2a2a) and checks the UTF-16 strings of
 * each record: provider names and message insertion strings are stored there as text. It does not render the
 * BinXML templates, so rules on event logs use text (anyOf/allOf/lineRegex), not columns. Pure, chunk-fed.
 */
import type { LineFields, LogMatcher } from "../match.js";
import { logFinding } from "../match.js";
import type { Finding } from "../types.js";
import { TextLineReader } from "./lines.js";
import { isoFromFiletime } from "./text.js";

interface Sink {
  findings: Finding[];
  records: number;
  first: string | null;
  last: string | null;
}

function widen(sink: Sink, ts: string | null): void {
  if (!ts) return;
  if (sink.first === null || ts < sink.first) sink.first = ts;
  if (sink.last === null || ts > sink.last) sink.last = ts;
}

const MAX_RECORD_CHARS = 1 << 20;
const MAX_FINDINGS = 5000;

export class EventXmlScanner implements Sink {
  findings: Finding[] = [];
  records = 0;
  first: string | null = null;
  last: string | null = null;
  problems: string[] = [];
  private readonly reader: TextLineReader;
  private record = "";
  private recordLine = 0;

  constructor(
    readonly file: string,
    private readonly matcher: LogMatcher,
  ) {
    this.reader = new TextLineReader((line, lineNo) => this.onLine(line, lineNo));
  }

  get bytes(): number {
    return this.reader.bytes;
  }
  get lines(): number {
    return this.reader.lines;
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  end(): void {
    this.reader.end();
    if (this.record) this.problems.push(`unterminated <Event> record at line ${this.recordLine}`);
  }

  private onLine(line: string, lineNo: number): void {
    let rest = line;
    while (rest.length) {
      if (!this.record) {
        const start = rest.search(/<Event[\s>]/);
        if (start === -1) return;
        this.recordLine = lineNo;
        rest = rest.slice(start);
      }
      const end = rest.indexOf("</Event>");
      if (end === -1) {
        this.record += `${rest}\n`;
        if (this.record.length > MAX_RECORD_CHARS) {
          this.problems.push(`event record at line ${this.recordLine} exceeds ${MAX_RECORD_CHARS} characters; checked in part`);
          this.check(this.record);
          this.record = "";
        }
        return;
      }
      this.check(this.record + rest.slice(0, end + 8));
      this.record = "";
      rest = rest.slice(end + 8);
    }
  }

  private check(xml: string): void {
    this.records++;
    const ts = /<TimeCreated\s+SystemTime=['"]([^'"]+)['"]/.exec(xml)?.[1] ?? null;
    const iso = ts && !Number.isNaN(Date.parse(ts)) ? new Date(Date.parse(ts)).toISOString() : null;
    widen(this, iso);
    const pre = this.matcher.prefilter;
    if (!pre) return;
    pre.lastIndex = 0;
    if (!pre.test(xml)) return;
    const flat = xml.replace(/\s+/g, " ");
    const fields = (): LineFields => {
      const map = new Map<string, string>([
        ["provider", /<Provider\s+Name=['"]([^'"]*)['"]/.exec(xml)?.[1] ?? ""],
        ["level", /<Level>(\d+)<\/Level>/.exec(xml)?.[1] ?? ""],
        ["eventid", /<EventID[^>]*>(\d+)<\/EventID>/.exec(xml)?.[1] ?? ""],
        ["computer", /<Computer>([^<]*)<\/Computer>/.exec(xml)?.[1] ?? ""],
      ]);
      return { get: (n) => map.get(n) };
    };
    for (const hit of this.matcher.match(flat, fields)) {
      if (this.findings.length >= MAX_FINDINGS) return;
      this.findings.push(logFinding(hit, { file: this.file, line: this.recordLine, offset: null, timestamp: iso, sourceIp: null, text: flat }));
    }
  }
}

const CHUNK = 65536;
const HEADER = 4096;

/** Binary .evtx: file header (4 KiB, "ElfFile\0"), then 64 KiB chunks ("ElfChnk\0") holding records from offset 512. */
export class EvtxScanner implements Sink {
  findings: Finding[] = [];
  records = 0;
  first: string | null = null;
  last: string | null = null;
  problems: string[] = [];
  bytes = 0;
  readonly lines = 0;
  private buf = Buffer.alloc(CHUNK);
  private fill = 0;
  private pos = 0; // file offset of buf[0]
  private headerDone = false;
  private invalid = false;
  private badChunks = 0;

  constructor(
    readonly file: string,
    private readonly matcher: LogMatcher,
  ) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.invalid) return;
    let off = 0;
    while (off < chunk.length) {
      const want = (this.headerDone ? CHUNK : HEADER) - this.fill;
      const n = Math.min(want, chunk.length - off);
      chunk.copy(this.buf, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === (this.headerDone ? CHUNK : HEADER)) {
        if (!this.headerDone) {
          if (this.buf.toString("latin1", 0, 8) !== "ElfFile\0") {
            this.invalid = true;
            this.problems.push("not an EVTX file (no ElfFile header); skipped");
            return;
          }
          this.headerDone = true;
        } else this.chunk(this.buf);
        this.pos += this.fill;
        this.fill = 0;
      }
    }
  }

  end(): void {
    if (!this.invalid && !this.headerDone && this.bytes > 0) this.problems.push("truncated EVTX file (shorter than its header)");
    if (this.headerDone && this.fill > 0) this.problems.push(`EVTX file ends inside a chunk (${this.fill} bytes not read)`);
    if (this.badChunks) this.problems.push(`${this.badChunks} EVTX chunk(s) without ElfChnk signature skipped`);
  }

  private chunk(c: Buffer): void {
    if (c.toString("latin1", 0, 8) !== "ElfChnk\0") {
      if (c.some((b) => b !== 0)) this.badChunks++;
      return;
    }
    let p = 512;
    while (p + 28 <= CHUNK) {
      if (c.readUInt32LE(p) !== 0x00002a2a) break;
      const size = c.readUInt32LE(p + 4);
      if (size < 28 || p + size > CHUNK) break;
      const recordId = c.readUInt32LE(p + 8) + c.readUInt32LE(p + 12) * 4294967296;
      const ts = isoFromFiletime(c.readUInt32LE(p + 16), c.readUInt32LE(p + 20));
      this.record(c.subarray(p + 24, p + size - 4), recordId, ts, this.pos + p);
      this.records++;
      widen(this, ts);
      p += size;
    }
  }

  private record(payload: Buffer, recordId: number, ts: string | null, offset: number): void {
    const text = `${printable(payload.toString("utf16le"))} ${printable(payload.subarray(1).toString("utf16le"))}`;
    const pre = this.matcher.prefilter;
    if (!pre) return;
    pre.lastIndex = 0;
    if (!pre.test(text)) return;
    for (const hit of this.matcher.match(text, () => null)) {
      if (this.findings.length >= MAX_FINDINGS) return;
      const f = logFinding(hit, { file: this.file, line: null, offset, timestamp: ts, sourceIp: null, text });
      f.excerpt = `record ${recordId}: ${f.excerpt}`;
      this.findings.push(f);
    }
  }
}

/** Keep runs of 4+ printable characters (the strings of a BinXML record), joined by spaces. */
function printable(s: string): string {
  return (s.match(/[\x20-\x7e\u00a0-\u024f\t]{4,}/g) ?? []).join(" ");
}

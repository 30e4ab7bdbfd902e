/**
 * Streaming scan of one text log (IIS W3C, HttpProxy CSV, ECP server, OAB generator) against the log rules.
 * Fed chunk by chunk; memory stays bounded by the chunk size plus one line (lines over `maxLineBytes` are
 * scanned in pieces). Fast path: the rules' literals, joined in one case-insensitive regex, run over whole
 * blocks of complete lines; only the lines they hit are split, decoded and checked rule by rule. Pure.
 */
import { TextDecoder } from "node:util";
import type { LineFields, LogMatcher } from "../match.js";
import { logFinding } from "../match.js";
import type { Finding, LogType } from "../types.js";
import { latin1ToUtf8, leadingTimestamp, sniffEncoding, splitCsv } from "./text.js";

/** The columns Exchange writes when a file's own header is missing (IIS defaults as Exchange setup configures them). */
const DEFAULT_COLUMNS: Partial<Record<LogType, string[]>> = {
  iis: "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken".split(" "),
  httpproxy:
    "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors".split(
      ",",
    ),
};

const SOURCE_IP_COLUMN: Partial<Record<LogType, string>> = { iis: "c-ip", httpproxy: "clientipaddress" };
const ECP_SRCIP = /S:SRCIP=([0-9a-fA-F.:[\]]+)/;
const SNIFF_BYTES = 512;
const CSV_HEADER = /^[A-Za-z][\w-]*(,[A-Za-z][\w()-]*){3,},?$/;

export interface ScannerOptions {
  maxLineBytes: number;
  /** Findings kept per rule and file; more are counted, not listed. */
  maxFindingsPerRule: number;
}

export const DEFAULT_SCANNER_OPTIONS: ScannerOptions = { maxLineBytes: 1 << 20, maxFindingsPerRule: 1000 };

export class LogFileScanner {
  readonly findings: Finding[] = [];
  /** Hits not listed because a rule reached its cap in this file, by rule id. */
  readonly suppressed = new Map<string, number>();
  lines = 0;
  bytes = 0;
  overlongLines = 0;
  first: string | null = null;
  last: string | null = null;

  private started = false;
  private head: Buffer | null = null;
  private decoder: TextDecoder | null = null;
  private carry: Buffer | null = null;
  private lineNo = 1;
  private offset = 0;
  private inOverlong = false;
  private columns: Map<string, number> | null = null;
  private readonly sep: string;
  /** Rules already reported for the line being read in pieces (overlong lines only). */
  private dedupeLine = -1;
  private readonly dedupeRules = new Set<string>();
  private readonly perRule = new Map<string, number>();

  constructor(
    readonly file: string,
    private readonly matcher: LogMatcher,
    private readonly opts: ScannerOptions = DEFAULT_SCANNER_OPTIONS,
  ) {
    this.sep = matcher.logType === "iis" ? " " : ",";
    const cols = DEFAULT_COLUMNS[matcher.logType];
    if (cols) this.setColumns(cols);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    if (!this.started) {
      // The encoding is decided on the first 512 bytes, however the file arrives (archive streams can start small).
      this.head = this.head ? Buffer.concat([this.head, chunk]) : Buffer.from(chunk);
      if (this.head.length < SNIFF_BYTES) return;
      chunk = this.startDecoding();
    }
    this.feed(chunk);
  }

  private startDecoding(): Buffer {
    this.started = true;
    let chunk = this.head ?? Buffer.alloc(0);
    this.head = null;
    const { encoding, bomLength } = sniffEncoding(chunk);
    if (bomLength) chunk = chunk.subarray(bomLength);
    if (encoding !== "utf8") this.decoder = new TextDecoder(encoding === "utf16le" ? "utf-16le" : "utf-16be");
    return chunk;
  }

  private feed(chunk: Buffer): void {
    if (this.decoder) chunk = Buffer.from(this.decoder.decode(chunk, { stream: true }), "utf8");
    let data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    const lastNl = data.lastIndexOf(10);
    if (lastNl !== -1) {
      this.block(data.toString("latin1", 0, lastNl + 1));
      data = data.subarray(lastNl + 1);
    }
    if (data.length > this.opts.maxLineBytes) {
      this.overlongPiece(data.toString("latin1"));
    } else if (data.length) {
      this.carry = Buffer.from(data); // copy: do not pin the whole chunk
    }
  }

  end(): void {
    if (!this.started && this.head) this.feed(this.startDecoding());
    if (this.decoder) {
      const tail = this.decoder.decode();
      this.decoder = null;
      if (tail) this.feed(Buffer.from(tail, "utf8"));
    }
    if (this.carry && this.carry.length) {
      this.block(`${this.carry.toString("latin1")}\n`);
      this.carry = null;
    }
    this.lines = this.lineNo - 1;
  }

  private setColumns(names: string[]): void {
    this.columns = new Map(names.map((n, i) => [n.trim().toLowerCase(), i]));
  }

  /** Complete lines (the string ends with "\n"). */
  private block(s: string): void {
    const startLine = this.lineNo;
    const base = this.offset;
    let counted = 0;
    let lineNo = startLine;
    if (startLine === 1 && !this.inOverlong) this.headLines(s);
    if (this.first === null) this.first = this.firstTimestamp(s);
    const lastStart = s.lastIndexOf("\n", s.length - 2) + 1;
    const lastTs = leadingTimestamp(s.slice(lastStart, Math.min(s.length, lastStart + 64)));
    if (lastTs) this.last = lastTs;

    const re = this.matcher.prefilter;
    if (re) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(s)) !== null) {
        const ls = s.lastIndexOf("\n", m.index - 1) + 1;
        let le = s.indexOf("\n", m.index);
        if (le === -1) le = s.length;
        lineNo += countNewlines(s, counted, ls);
        counted = ls;
        this.line(s.slice(ls, le), lineNo, base + ls, this.inOverlong && lineNo === startLine);
        re.lastIndex = le + 1;
      }
    }
    const nl = countNewlines(s, counted, s.length);
    this.lineNo = lineNo + nl;
    if (nl > 0) this.inOverlong = false;
    this.offset = base + s.length;
  }

  /** Line 1 and the comment lines after it: column headers. (Header lines never match rules.) */
  private headLines(s: string): void {
    let pos = 0;
    for (let i = 0; i < 64 && pos < s.length; i++) {
      const end = s.indexOf("\n", pos);
      if (end === -1) break;
      const line = s.slice(pos, end).replace(/\r$/, "");
      if (line.startsWith("#")) {
        if (/^#Fields:/i.test(line)) this.setColumns(line.slice(8).trim().split(this.sep === " " ? /\s+/ : ","));
      } else if (i === 0 && this.sep === "," && CSV_HEADER.test(line)) {
        this.setColumns(line.split(","));
      } else break;
      pos = end + 1;
    }
  }

  private firstTimestamp(s: string): string | null {
    let pos = 0;
    for (let i = 0; i < 64 && pos < s.length; i++) {
      const end = s.indexOf("\n", pos);
      const line = s.slice(pos, end === -1 ? s.length : end);
      if (!line.startsWith("#")) {
        const ts = leadingTimestamp(line.slice(0, 64));
        if (ts) return ts;
      }
      if (end === -1) break;
      pos = end + 1;
    }
    return null;
  }

  private overlongPiece(s: string): void {
    if (!this.inOverlong) this.overlongLines++;
    const lineNo = this.lineNo;
    const re = this.matcher.prefilter;
    if (re) {
      re.lastIndex = 0;
      if (re.exec(s)) this.line(s, lineNo, this.offset, true);
    }
    this.inOverlong = true;
    this.offset += s.length;
  }

  private line(raw: string, lineNo: number, offset: number, partial: boolean): void {
    let l = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (l.startsWith("#")) {
      if (/^#Fields:/i.test(l)) this.setColumns(l.slice(8).trim().split(this.sep === " " ? /\s+/ : ","));
      return;
    }
    l = latin1ToUtf8(l);
    let parsed: string[] | null = null;
    const fields = (): LineFields | null => {
      if (!this.columns || partial) return null;
      parsed ??= this.sep === " " ? l.split(" ") : splitCsv(l);
      const cols = this.columns;
      const p = parsed;
      return { get: (name: string) => { const i = cols.get(name); return i === undefined ? undefined : p[i]; } };
    };
    const hits = this.matcher.match(l, fields);
    if (!hits.length) return;
    const timestamp = leadingTimestamp(l.slice(0, 64));
    let sourceIp: string | null = null;
    const ipCol = SOURCE_IP_COLUMN[this.matcher.logType];
    if (ipCol) {
      const v = fields()?.get(ipCol)?.trim().split(/\s+/)[0];
      if (v && v !== "-") sourceIp = v;
    } else if (this.matcher.logType === "ecp") {
      sourceIp = ECP_SRCIP.exec(l)?.[1] ?? null;
    }
    for (const hit of hits) {
      if (partial) {
        if (this.dedupeLine !== lineNo) {
          this.dedupeLine = lineNo;
          this.dedupeRules.clear();
        }
        if (this.dedupeRules.has(hit.rule.id)) continue;
        this.dedupeRules.add(hit.rule.id);
      }
      const n = (this.perRule.get(hit.rule.id) ?? 0) + 1;
      this.perRule.set(hit.rule.id, n);
      if (n > this.opts.maxFindingsPerRule) {
        this.suppressed.set(hit.rule.id, (this.suppressed.get(hit.rule.id) ?? 0) + 1);
        continue;
      }
      this.findings.push(logFinding(hit, { file: this.file, line: lineNo, offset, timestamp, sourceIp, text: l }));
    }
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  let p = s.indexOf("\n", from);
  while (p !== -1 && p < to) {
    n++;
    p = s.indexOf("\n", p + 1);
  }
  return n;
}

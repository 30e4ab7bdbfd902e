/**
 * Event log evidence: the XML export (wevtutil qe /f:xml, Get-WinEvent ToXml) and the binary .evtx file, decoded
 * record by record (evtx/reader.ts: chunks, records, binary XML templates and values). Each event is matched as one
 * line ("Channel | Provider | EventID n | Computer | Name: value | …"), and rules with `fields` read the System
 * fields (provider, eventid, level, channel, computer) and the named EventData values (Sysmon's image,
 * parentimage, commandline, parentcommandline, …). Each file is named by the channel its records give. Pure, chunk-fed.
 */
import type { LineFields, LogMatcher } from "../match.js";
import { logFinding } from "../match.js";
import type { Finding } from "../types.js";
import { eventFields, eventLine, type EventView } from "./evtx/event.js";
import { EvtxReader, type EvtxRecord } from "./evtx/reader.js";
import { TextLineReader } from "./lines.js";

/** Records, time span and findings of one channel within one file. */
export interface ChannelSpan {
  records: number;
  first: string | null;
  last: string | null;
}

interface Sink {
  findings: Finding[];
  records: number;
  first: string | null;
  last: string | null;
  channels: Map<string, ChannelSpan>;
}

function widen(sink: { first: string | null; last: string | null }, ts: string | null): void {
  if (!ts) return;
  if (sink.first === null || ts < sink.first) sink.first = ts;
  if (sink.last === null || ts > sink.last) sink.last = ts;
}

/** Count one event in its channel ("(no channel)" when the record names none). */
function tally(sink: Sink, channel: string | null, ts: string | null): void {
  const key = channel || "(no channel)";
  let c = sink.channels.get(key);
  if (!c) {
    if (sink.channels.size >= 64) return;
    c = { records: 0, first: null, last: null };
    sink.channels.set(key, c);
  }
  c.records++;
  widen(c, ts);
}

/** The channel most of a file's records name: what the file is. */
export function mainChannel(channels: ReadonlyMap<string, ChannelSpan>): string | null {
  let best: string | null = null;
  let n = -1;
  for (const [k, c] of channels) if (c.records > n) [best, n] = [k, c.records];
  return best;
}

function isoOf(ts: string | null): string | null {
  if (!ts) return null;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** Match one decoded event: its one-line text against every rule, its fields for the rules that read columns. */
function matchEvent(
  sink: Sink,
  matcher: LogMatcher,
  v: EventView,
  where: { file: string; line: number | null; offset: number | null; timestamp: string | null; label: string },
): void {
  const pre = matcher.prefilter;
  if (!pre) return;
  const text = eventLine(v);
  pre.lastIndex = 0;
  if (!pre.test(text)) return;
  let map: Map<string, string> | null = null;
  const fields = (): LineFields => {
    map ??= eventFields(v);
    const m = map;
    return { get: (n) => m.get(n) };
  };
  for (const hit of matcher.match(text, fields)) {
    if (sink.findings.length >= MAX_FINDINGS) return;
    // The excerpt starts at the event's head (channel, provider, id, then image and command lines), not at the hit.
    const f = logFinding({ ...hit, at: 0 }, { file: where.file, line: where.line, offset: where.offset, timestamp: where.timestamp, sourceIp: null, text });
    f.excerpt = `${where.label}: ${f.excerpt}`;
    if (v.channel) f.channel = v.channel;
    sink.findings.push(f);
  }
}

const MAX_RECORD_CHARS = 1 << 20;
const MAX_FINDINGS = 5000;

export class EventXmlScanner implements Sink {
  findings: Finding[] = [];
  records = 0;
  first: string | null = null;
  last: string | null = null;
  channels = new Map<string, ChannelSpan>();
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
    const view = xmlEventView(xml);
    const iso = isoOf(view.timeCreated);
    widen(this, iso);
    tally(this, view.channel, iso);
    matchEvent(this, this.matcher, view, { file: this.file, line: this.recordLine, offset: null, timestamp: iso, label: `event ${view.recordId ?? "?"}` });
  }
}


const unescapeXml = (s: string): string =>
  s.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-f]+));/gi, (m, name: string, dec?: string, hx?: string) => {
    if (dec) return String.fromCodePoint(Math.min(Number(dec), 0x10ffff));
    if (hx) return String.fromCodePoint(Math.min(parseInt(hx, 16), 0x10ffff));
    return ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" } as Record<string, string>)[name.toLowerCase()] ?? m;
  });

/** The same view of an event as the .evtx decoder gives, read from one <Event> of an XML export. */
export function xmlEventView(xml: string): EventView {
  const one = (re: RegExp): string | null => {
    const m = re.exec(xml);
    return m ? unescapeXml(m[1]!) : null;
  };
  const data: Array<[string, string]> = [];
  const dataRe = /<Data(?:\s+Name=['"]([^'"]*)['"])?\s*(?:\/>|>([\s\S]*?)<\/Data>)/g;
  let unnamed = 0;
  for (let m = dataRe.exec(xml); m && data.length < 512; m = dataRe.exec(xml)) data.push([m[1] ? unescapeXml(m[1]) : `Data${++unnamed}`, unescapeXml(m[2] ?? "")]);
  return {
    provider: one(/<Provider\s+Name=['"]([^'"]*)['"]/),
    eventId: one(/<EventID[^>]*>(\d+)<\/EventID>/),
    level: one(/<Level>(\d+)<\/Level>/),
    timeCreated: one(/<TimeCreated\s+SystemTime=['"]([^'"]+)['"]/),
    recordId: one(/<EventRecordID>(\d+)<\/EventRecordID>/),
    channel: one(/<Channel>([^<]*)<\/Channel>/),
    computer: one(/<Computer>([^<]*)<\/Computer>/),
    data,
  };
}

/** Binary .evtx: every record decoded (see evtx/reader.ts), then matched as one event. */
export class EvtxScanner implements Sink {
  findings: Finding[] = [];
  first: string | null = null;
  last: string | null = null;
  channels = new Map<string, ChannelSpan>();
  readonly lines = 0;
  private readonly reader: EvtxReader;

  constructor(
    readonly file: string,
    private readonly matcher: LogMatcher,
  ) {
    this.reader = new EvtxReader((r) => this.onRecord(r));
  }

  get bytes(): number {
    return this.reader.bytes;
  }
  get records(): number {
    return this.reader.records;
  }
  get problems(): string[] {
    return this.reader.problems;
  }

  push(chunk: Buffer): void {
    this.reader.push(chunk);
  }

  end(): void {
    this.reader.end();
  }

  private onRecord(r: EvtxRecord): void {
    // The event's own time (System/TimeCreated); the record's written time when the event has none.
    const ts = isoOf(r.view.timeCreated) ?? r.written;
    widen(this, ts);
    tally(this, r.view.channel, ts);
    matchEvent(this, this.matcher, r.view, { file: this.file, line: null, offset: r.offset, timestamp: ts, label: `record ${r.recordId}` });
  }
}

/** Small text helpers shared by the log parsers: encodings, CSV splitting, timestamps, safe excerpts. Pure. */

export type TextEncoding = "utf8" | "utf16le" | "utf16be";

/** Decide a file's encoding from its first bytes: BOMs first, then the NUL pattern of BOM-less UTF-16 text. */
export function sniffEncoding(head: Buffer): { encoding: TextEncoding; bomLength: number } {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: "utf8", bomLength: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: "utf16le", bomLength: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: "utf16be", bomLength: 2 };
  const n = Math.min(head.length, 512) & ~1;
  if (n >= 8) {
    let evenNul = 0;
    let oddNul = 0;
    for (let i = 0; i < n; i += 2) {
      if (head[i] === 0) evenNul++;
      if (head[i + 1] === 0) oddNul++;
    }
    const pairs = n / 2;
    if (oddNul > pairs * 0.6 && evenNul < pairs * 0.1) return { encoding: "utf16le", bomLength: 0 };
    if (evenNul > pairs * 0.6 && oddNul < pairs * 0.1) return { encoding: "utf16be", bomLength: 0 };
  }
  return { encoding: "utf8", bomLength: 0 };
}

/** Split one CSV line (Exchange logs quote fields that hold commas or quotes, doubling inner quotes). */
export function splitCsv(line: string): string[] {
  if (line.indexOf('"') === -1) return line.split(",");
  const out: string[] = [];
  let cur = "";
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuotes) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else inQuotes = false;
      } else cur += c;
    } else if (c === '"') inQuotes = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const TS = /^\s*"?(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,7})?(Z|[+-]\d{2}:?\d{2})?/;

/** The ISO timestamp a log line starts with ("2021-03-02 10:15:32" as IIS writes it, or "2021-03-02T10:15:32.123Z"). Times without zone are UTC, as IIS and Exchange log. */
export function leadingTimestamp(line: string): string | null {
  const m = TS.exec(line);
  if (!m) return null;
  const frac = m[3] ? m[3].slice(0, 4).padEnd(4, "0") : ".000";
  const zone = m[4];
  const iso = `${m[1]}T${m[2]}${frac}${zone && zone !== "Z" ? zone : "Z"}`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** Printable, bounded evidence: control characters, DEL/C1 and lone surrogates escaped, backslashes doubled. */
export function escapeExcerpt(text: string, max = 400): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  let out = "";
  for (const ch of cut) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += `\\u${cp.toString(16)}`;
    else if (cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) out += `\\u${cp.toString(16)}`;
    else out += ch;
  }
  return text.length > max ? `${out}…` : out;
}

/** A window of `line` around position `at`, escaped. */
export function excerptAround(line: string, at: number, max = 400): string {
  if (line.length <= max) return escapeExcerpt(line, max);
  const start = Math.max(0, Math.min(at - Math.floor(max / 3), line.length - max));
  const body = escapeExcerpt(line.slice(start, start + max), max);
  return `${start > 0 ? "…" : ""}${body}${start + max < line.length ? "…" : ""}`;
}

/** Bytes read as latin1 back to UTF-8 text, only when needed (the scan runs on latin1 strings for speed). */
export function latin1ToUtf8(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s;
}

export function isoFromFiletime(lo: number, hi: number): string | null {
  // FILETIME: 100 ns ticks since 1601-01-01.
  const ticks = hi * 4294967296 + lo;
  const ms = ticks / 10000 - 11644473600000;
  if (!Number.isFinite(ms) || ms < 0 || ms > 4102444800000) return null;
  return new Date(Math.floor(ms)).toISOString();
}

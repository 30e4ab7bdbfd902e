/**
 * Minimal RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. Streams line by line through parseCsvLine
 * for large files; a quoted field spanning lines is refused (callers report the line).
 *
 * Every CSV Vigie writes goes through csvField, which neutralises text a spreadsheet would run as a formula
 * (a cell starting with =, +, -, @, tab or carriage return gets a leading apostrophe, as OWASP's "CSV
 * injection" page advises). Numbers and booleans are written as they are: a negative number stays a number.
 */

/** Split one CSV record. Throws on an unterminated quote. */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i <= n) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error("unterminated quoted field");
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(value);
      if (i < n && line[i] !== ",") throw new Error(`unexpected character after quoted field at column ${i + 1}`);
      i++;
    } else {
      const c = line.indexOf(",", i);
      const end = c < 0 ? n : c;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

const FORMULA_START = /^[=+\-@\t\r]/;

/** Text a spreadsheet would evaluate (leading =, +, -, @, tab, CR) gets a leading apostrophe; other text is kept. */
export function neutraliseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** Quote a value for CSV output when needed; text is neutralised first (see neutraliseFormula). */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? neutraliseFormula(value) : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return values.map(csvField).join(",");
}

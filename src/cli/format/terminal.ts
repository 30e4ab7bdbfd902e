/**
 * Text for a terminal. Anything that came from a server, a file or the user is passed through `safe` so that
 * control characters (escape sequences that could rewrite the screen) are shown, not obeyed.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function safe(text: string, maxLength = 500): string {
  const cleaned = text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`).replace(/\n/g, "\\n");
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength)}…` : cleaned;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Longest width before the cell is cut with an ellipsis (default 60). */
  max?: number;
}

/** A plain aligned table: header, rule, rows. Cells are made safe. */
export function renderTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>): string {
  const cells = rows.map((r) => columns.map((c) => safe(c.value(r), c.max ?? 60)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]): string => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

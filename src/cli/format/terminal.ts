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
  /** Longest width before the cell is cut with an ellipsis (default 60; a wrapped column: 4,000). */
  max?: number;
  /**
   * Wrap this (last) column to the table width instead of cutting it: continuation lines start under the
   * column. Needs `width` in the table options.
   */
  wrap?: boolean;
}

export interface TableOptions {
  /** Total line width a wrapped column must fit in (see `terminalWidth`). */
  width?: number;
}

const GAP = "  ";
/** A wrapped column never gets narrower than this, however narrow the terminal (words are then split). */
const MIN_WRAP_WIDTH = 20;

/**
 * Width to lay text out in: the terminal's columns when stdout is one; otherwise $COLUMNS (as shells export it);
 * otherwise 100.
 */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (stream.isTTY && stream.columns !== undefined && stream.columns > 0) return stream.columns;
  const fromEnv = Number.parseInt(env.COLUMNS ?? "", 10);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 100;
}

/** Break text into lines of at most `width` characters at spaces; a word longer than the width is split. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  for (const word of text.split(/ +/).filter((w) => w !== "")) {
    let rest = word;
    while (rest.length > width) {
      if (current !== "") {
        lines.push(current);
        current = "";
      }
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    if (current === "") current = rest;
    else if (current.length + 1 + rest.length <= width) current += ` ${rest}`;
    else {
      lines.push(current);
      current = rest;
    }
  }
  if (current !== "" || lines.length === 0) lines.push(current);
  return lines;
}

/** A plain aligned table: header, rule, rows. Cells are made safe. */
export function renderTable<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>, options: TableOptions = {}): string {
  const cells = rows.map((r) => columns.map((c) => safe(c.value(r), c.max ?? (c.wrap ? 4000 : 60))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const last = columns.length - 1;
  const wrapped = columns[last]?.wrap === true && options.width !== undefined;
  if (wrapped) {
    const before = widths.slice(0, last).reduce((sum, w) => sum + w + GAP.length, 0);
    widths[last] = Math.min(widths[last]!, Math.max(MIN_WRAP_WIDTH, options.width! - before));
  }
  const indent = " ".repeat(widths.slice(0, last).reduce((sum, w) => sum + w + GAP.length, 0));
  const line = (values: string[]): string => {
    const head = values.slice(0, last).map((v, i) => v.padEnd(widths[i]!));
    const tail = values[last] ?? "";
    if (!wrapped) return [...head, tail].join(GAP).trimEnd();
    const [first = "", ...more] = wrapText(tail, widths[last]!);
    return [[...head, first].join(GAP).trimEnd(), ...more.map((m) => `${indent}${m}`)].join("\n");
  };
  return [line(columns.map((c) => c.header)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

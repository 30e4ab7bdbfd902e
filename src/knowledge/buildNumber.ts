/**
 * Exchange build numbers: parsing the forms servers and admins show, and ordering them.
 * Pure functions, no I/O.
 *
 * Accepted forms (any surrounding whitespace):
 *   15.1.2176.9        short format (1 to 4 parts)
 *   15.01.2176.009     long format (leading zeros)
 *   Version 15.1 (Build 2176.9)   AdminDisplayVersion
 */

export interface ParsedBuild {
  /** Normalised text without leading zeros, as many parts as were given: "15.1.2176.9", "15.1.2176". */
  text: string;
  parts: number[];
}

const DOTTED = /^\d{1,6}(?:\.\d{1,6}){0,3}$/;
const ADMIN_DISPLAY = /^Version\s+(\d{1,3})\.(\d{1,3})\s*\(Build\s+(\d{1,6})\.(\d{1,6})\)$/i;

/** Parse a build string; undefined when it is not a build number at all. */
export function parseBuild(input: string): ParsedBuild | undefined {
  const s = input.trim();
  if (s.length === 0 || s.length > 64) return undefined;
  let parts: number[];
  const admin = ADMIN_DISPLAY.exec(s);
  if (admin) {
    parts = admin.slice(1, 5).map((p) => Number(p));
  } else if (DOTTED.test(s)) {
    parts = s.split(".").map((p) => Number(p));
  } else {
    return undefined;
  }
  return { text: parts.join("."), parts };
}

/**
 * A number that orders 4-part builds like a version comparison (a.b.c.d with b < 100, c < 100000, d < 1000000).
 * Missing parts count as 0.
 */
export function buildKey(parts: readonly number[]): number {
  const [a = 0, b = 0, c = 0, d = 0] = parts;
  return ((a * 100 + b) * 100_000 + c) * 1_000_000 + d;
}

/** "15.1.2176.9" -> "15.1.2176" */
export function threePartPrefix(build: string): string {
  return build.split(".").slice(0, 3).join(".");
}

// readPieces + splitPiece (the parallel import's reader) give exactly the lines of readLines (the one-thread reader)
// on a real file several chunks long: the same texts, the same over-long lines with the same byte counts, CRLF,
// empty lines, lines spanning chunk borders, a last line without a newline; plain and gzip.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { readLines, readPieces, splitPiece } from "../../src/import/lines.js";
import { tmp } from "./helpers.js";

/** mulberry32, seeded: the same file every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function content(seed: number): string {
  const r = rng(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < 5_000_000) {
    const x = r();
    // Mostly short lines, some empty, some long (some over the 200,000-byte limit used below), some with CR.
    const len = x < 0.05 ? 0 : x < 0.995 ? Math.floor(r() * 3000) : Math.floor(150_000 + r() * 1_500_000);
    const line = "é".repeat(Math.floor(len / 20)) + "a".repeat(len - 2 * Math.floor(len / 20)) + (r() < 0.1 ? "\r" : "");
    parts.push(line);
    n += line.length + 1;
  }
  return parts.join("\n") + (seed % 2 === 0 ? "\n" : "");
}

type Got = Array<string | number>;

async function viaLines(file: string, max: number): Promise<Got> {
  const out: Got = [];
  for await (const l of readLines(file, { maxLineBytes: max })) out.push(l.tooLong !== undefined ? l.tooLong : l.text);
  return out;
}

async function viaPieces(file: string, max: number, pieceBytes: number): Promise<Got> {
  const out: Got = [];
  for await (const p of readPieces(file, { maxLineBytes: max, pieceBytes })) {
    if (p.kind === "tooLong") out.push(p.bytes);
    else for (const l of splitPiece(p.buf, max)) out.push("tooLong" in l ? l.tooLong : l.text);
  }
  return out;
}

describe("readPieces = readLines", () => {
  const dir = tmp("pieces");
  for (const seed of [1, 2]) {
    it(`seed ${seed}: plain and gzip, small and large pieces`, async () => {
      const text = content(seed);
      const plain = path.join(dir, `f${seed}.txt`);
      const gz = path.join(dir, `f${seed}.txt.gz`);
      writeFileSync(plain, text);
      writeFileSync(gz, gzipSync(text));
      const want = await viaLines(plain, 200_000);
      expect(want.some((x) => typeof x === "number")).toBe(true);
      expect(want.length).toBeGreaterThan(500);
      for (const f of [plain, gz]) {
        expect(await viaPieces(f, 200_000, 1)).toEqual(want);
        expect(await viaPieces(f, 200_000, 1 << 20)).toEqual(want);
      }
    }, 60_000);
  }
});

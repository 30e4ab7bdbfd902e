/** Open whatever the user pointed at: a directory, a .zip, a .tar.gz/.tgz or a .tar. */
import { open, stat } from "node:fs/promises";
import { readDirBundle } from "./dir.js";
import { readTarBundle } from "./tar.js";
import type { BundleLimits, EntryVisitor, ProblemSink } from "./types.js";
import { readZipBundle } from "./zip.js";

export type BundleKind = "dir" | "zip" | "tar.gz" | "tar";

export class BundleInputError extends Error {
  override readonly name = "BundleInputError";
}

export async function detectBundle(input: string): Promise<BundleKind> {
  let st;
  try {
    st = await stat(input);
  } catch (err) {
    throw new BundleInputError(`cannot open ${input} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (st.isDirectory()) return "dir";
  if (!st.isFile()) throw new BundleInputError(`${input} is neither a directory nor a file`);
  const head = Buffer.alloc(512);
  let n = 0;
  try {
    const fh = await open(input, "r");
    try {
      n = (await fh.read(head, 0, 512, 0)).bytesRead;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new BundleInputError(`cannot read ${input} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (n >= 4 && head.readUInt32LE(0) === 0x04034b50) return "zip";
  if (n >= 4 && head.readUInt32LE(0) === 0x06054b50) return "zip"; // empty zip
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tar.gz";
  if (n >= 262 && head.toString("latin1", 257, 262) === "ustar") return "tar";
  throw new BundleInputError(`${input}: not a directory, .zip, .tar.gz or .tar bundle`);
}

export async function readBundle(
  input: string,
  kind: BundleKind,
  limits: BundleLimits,
  visit: EntryVisitor,
  problem: ProblemSink,
): Promise<number> {
  switch (kind) {
    case "dir":
      return readDirBundle(input, limits, visit, problem);
    case "zip":
      return readZipBundle(input, limits, visit, problem);
    case "tar.gz":
      return readTarBundle(input, true, limits, visit, problem);
    case "tar":
      return readTarBundle(input, false, limits, visit, problem);
  }
}

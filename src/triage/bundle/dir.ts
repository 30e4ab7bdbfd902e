/** A directory bundle: regular files only; symbolic links and special files are not followed (they could lead outside). */
import { createReadStream, type ReadStream } from "node:fs";
import { lstat, opendir } from "node:fs/promises";
import path from "node:path";
import { Budget, type BundleLimits, type EntryVisitor, LimitError, type ProblemSink } from "./types.js";

/** Read size of one chunk of a directory bundle's file (worker threads read with the same size, see scan.ts). */
export const DIR_CHUNK_BYTES = 1 << 20;

export async function readDirBundle(root: string, limits: BundleLimits, visit: EntryVisitor, problem: ProblemSink): Promise<number> {
  const budget = new Budget(limits);
  let entries = 0;
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    if (depth > limits.maxDepth) {
      problem(rel || ".", `deeper than ${limits.maxDepth} levels; not read`);
      return;
    }
    let names: string[];
    try {
      const d = await opendir(dir);
      names = [];
      for await (const e of d) names.push(e.name);
    } catch (err) {
      problem(rel || ".", `cannot list directory (${errCode(err)})`);
      return;
    }
    names.sort();
    for (const name of names) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      let st;
      try {
        st = await lstat(full);
      } catch (err) {
        problem(r, `cannot stat (${errCode(err)})`);
        continue;
      }
      if (st.isSymbolicLink()) {
        problem(r, "symbolic link not followed");
        continue;
      }
      if (st.isDirectory()) {
        await walk(full, r, depth + 1);
        continue;
      }
      if (!st.isFile()) {
        problem(r, "not a regular file; skipped");
        continue;
      }
      if (++entries > limits.maxEntries) {
        if (entries === limits.maxEntries + 1) problem(r, `more than ${limits.maxEntries} files; the rest are not read`);
        continue;
      }
      // Opened only if the visitor reads the chunks (it may hand the file to a worker thread instead).
      let stream: ReadStream | null = null;
      const chunks = {
        [Symbol.asyncIterator]: (): AsyncIterator<Buffer> => {
          stream ??= createReadStream(full, { highWaterMark: DIR_CHUNK_BYTES });
          return (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
        },
      };
      try {
        await visit({ path: r, size: st.size, local: { path: full, budget } }, budget.meter(chunks, null));
      } catch (err) {
        problem(r, err instanceof LimitError ? err.message : `cannot read (${errCode(err)})`);
      } finally {
        (stream as ReadStream | null)?.destroy();
      }
    }
  };
  await walk(root, "", 0);
  return Math.min(entries, limits.maxEntries);
}

export function errCode(err: unknown): string {
  if (err && typeof err === "object" && "code" in err && typeof err.code === "string") return err.code;
  return err instanceof Error ? err.message : String(err);
}

/** Write a file so that readers see the old or the new content, never half of it. */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

export function writeFileAtomic(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

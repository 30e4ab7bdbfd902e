/** Atomic writes of bytes (the util helper takes text). */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

export function writeFileAtomicBytes(file: string, content: Buffer): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/**
 * Vitest runs the sources as TypeScript, which a worker thread cannot load: the triage modules are transpiled to a
 * temporary folder so `triage(..., { workerScript })` runs the real worker code.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

function transpileTree(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const full = path.join(from, name);
    if (statSync(full).isDirectory()) {
      transpileTree(full, path.join(to, name));
      continue;
    }
    if (!name.endsWith(".ts")) continue;
    const out = ts.transpileModule(readFileSync(full, "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    mkdirSync(to, { recursive: true });
    writeFileSync(path.join(to, name.replace(/\.ts$/, ".js")), out.outputText);
  }
}

/** Transpile src/triage into `dir` and return the worker module's URL. */
export function buildWorker(dir: string): URL {
  transpileTree(path.resolve(__dirname, "../../src/triage"), dir);
  writeFileSync(path.join(dir, "package.json"), '{"type":"module"}\n');
  return pathToFileURL(path.join(dir, "worker.js"));
}

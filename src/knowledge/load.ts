/**
 * Reading the knowledge base from disk: the data shipped in knowledge/ plus the user's overlay
 * (what `vigie kb update` imported). Every file is validated; an invalid file is refused whole with its path
 * and the field named. This is the I/O edge; the indexed KnowledgeBase itself is pure.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { KnowledgeBase } from "./knowledgeBase.js";
import { overlayKevSchema, type OverlayKev } from "./overlay.js";
import {
  advisorySchema,
  lifecycleFileSchema,
  platformsFileSchema,
  productBuildsFileSchema,
  type Advisory,
  type LifecycleFile,
  type PlatformsFile,
  type ProductBuildsFile,
} from "./schema.js";

export class KnowledgeError extends Error {
  override readonly name = "KnowledgeError";
}

/** The folder that holds package.json: data files ship beside the code. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "knowledge"))) return dir;
    dir = path.dirname(dir);
  }
  throw new KnowledgeError("cannot find Vigie's knowledge/ folder next to its package.json");
}

export function builtinKnowledgeDir(): string {
  return path.join(packageRoot(), "knowledge");
}

/** Where `vigie kb update` keeps what it imported: $VIGIE_KB_DIR, else $XDG_DATA_HOME/vigie/knowledge. */
export function defaultOverlayDir(): string {
  if (process.env.VIGIE_KB_DIR) return process.env.VIGIE_KB_DIR;
  const data = process.env.XDG_DATA_HOME || path.join(homedir(), ".local", "share");
  return path.join(data, "vigie", "knowledge");
}

/** Describe a zod failure with the field path, e.g. "builds[12].releaseDate: expected a date YYYY-MM-DD". */
export function describeZodError(error: z.ZodError, max = 5): string {
  const lines = error.issues.slice(0, max).map((i) => {
    const where = i.path.reduce<string>(
      (acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
      "",
    );
    return `${where || "(top level)"}: ${i.message}`;
  });
  if (error.issues.length > max) lines.push(`… and ${error.issues.length - max} more`);
  return lines.join("; ");
}

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new KnowledgeError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new KnowledgeError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, file: string): T {
  const result = schema.safeParse(readJsonFile(file));
  if (!result.success) throw new KnowledgeError(`${file}: ${describeZodError(result.error)}`);
  return result.data;
}

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface KnowledgeFiles {
  builds: ProductBuildsFile[];
  advisories: Advisory[];
  overlayBuilds: ProductBuildsFile[];
  overlayKev: OverlayKev | undefined;
  /** knowledge/lifecycle.json: end-of-support dates; absent in a knowledge base that has none. */
  lifecycle?: LifecycleFile | undefined;
  /** knowledge/platforms.json: the Windows (and IIS) versions each product runs on; absent in a knowledge base that has none. */
  platforms?: PlatformsFile | undefined;
}

export function readKnowledgeFiles(builtinDir: string, overlayDir: string | undefined): KnowledgeFiles {
  const builds = jsonFiles(path.join(builtinDir, "builds")).map((f) => parseWith(productBuildsFileSchema, f));
  const advisories = jsonFiles(path.join(builtinDir, "advisories")).map((f) => parseWith(advisorySchema, f));
  if (builds.length === 0) throw new KnowledgeError(`${builtinDir}/builds: no build tables found`);
  const lifecycleFile = path.join(builtinDir, "lifecycle.json");
  const lifecycle = existsSync(lifecycleFile) ? parseWith(lifecycleFileSchema, lifecycleFile) : undefined;
  const platformsFile = path.join(builtinDir, "platforms.json");
  const platforms = existsSync(platformsFile) ? parseWith(platformsFileSchema, platformsFile) : undefined;
  let overlayBuilds: ProductBuildsFile[] = [];
  let overlayKev: OverlayKev | undefined;
  if (overlayDir !== undefined) {
    overlayBuilds = jsonFiles(path.join(overlayDir, "builds")).map((f) => parseWith(productBuildsFileSchema, f));
    const kevFile = path.join(overlayDir, "kev.json");
    if (existsSync(kevFile)) overlayKev = parseWith(overlayKevSchema, kevFile);
  }
  return { builds, advisories, overlayBuilds, overlayKev, lifecycle, platforms };
}

export interface LoadOptions {
  /** Data shipped with Vigie; default knowledge/ beside package.json. */
  builtinDir?: string;
  /** The user's imported updates; default defaultOverlayDir(); null for the shipped data alone. */
  overlayDir?: string | null;
}

/** Load, validate and index the knowledge base. Throws KnowledgeError naming the file and field at fault. */
export function loadKnowledgeBase(options: LoadOptions = {}): KnowledgeBase {
  const builtinDir = options.builtinDir ?? builtinKnowledgeDir();
  const overlayDir = options.overlayDir === null ? undefined : (options.overlayDir ?? defaultOverlayDir());
  return KnowledgeBase.fromFiles(readKnowledgeFiles(builtinDir, overlayDir));
}

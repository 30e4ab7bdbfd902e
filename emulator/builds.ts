/**
 * Build catalogue for the emulator: which Exchange builds hosts may run, and whether a build is
 * vulnerable to CVE-2021-26855 (ProxyLogon SSRF).
 *
 * Primary source: the project's knowledge base (knowledge/builds/*.json and
 * knowledge/advisories/CVE-2021-26855.json, validated with src/knowledge/schema.ts). Those files cite
 * Microsoft's "Exchange Server build numbers and release dates" page
 * (MicrosoftDocs/OfficeDocs-Exchange Exchange/ExchangeServer/new-features/build-numbers-and-release-dates.md)
 * and microsoft/CSS-Exchange Shared/Get-ExchangeBuildVersionInformation.ps1.
 *
 * The vulnerability decision is computed here independently of src/ (the emulator is the oracle the
 * scanner is tested against, so it must not reuse the code under test), following the rule documented
 * on `advisorySchema.fixes` in src/knowledge/schema.ts.
 *
 * FALLBACK_BUILDS is used only when the knowledge files are missing or do not validate.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { advisorySchema, productBuildsFileSchema } from "../src/knowledge/schema.js";
import type { LineFix } from "../src/knowledge/schema.js";

export type Product = "2010" | "2013" | "2016" | "2019" | "SE";
export const PRODUCTS: readonly Product[] = ["2010", "2013", "2016", "2019", "SE"];

export interface EmuBuild {
  product: Product;
  build: string;
  line: string;
  update: string;
  releaseDate: string;
}

export interface BuildCatalogue {
  source: "knowledge" | "fallback";
  byProduct: Record<Product, EmuBuild[]>;
  /** true / false for 2013/2016/2019; null where the product is not affected (2010, SE). */
  vulnerable26855(b: EmuBuild): boolean | null;
}

/**
 * Small built-in list, from Microsoft's build-numbers page (URL above), used only until/unless the
 * knowledge files load. Mar21SU builds are the CVE-2021-26855 fixes for their CU line.
 */
const FALLBACK_BUILDS: EmuBuild[] = [
  { product: "2010", build: "14.3.496.0", line: "SP3", update: "RU30", releaseDate: "2020-02-11" },
  { product: "2010", build: "14.3.509.0", line: "SP3", update: "RU31", releaseDate: "2020-12-01" },
  { product: "2010", build: "14.3.513.0", line: "SP3", update: "RU32", releaseDate: "2021-03-02" },
  { product: "2013", build: "15.0.1497.2", line: "CU23", update: "CU23", releaseDate: "2019-06-18" },
  { product: "2013", build: "15.0.1497.12", line: "CU23", update: "Mar21SU", releaseDate: "2021-03-02" },
  { product: "2016", build: "15.1.2106.2", line: "CU18", update: "CU18", releaseDate: "2020-09-15" },
  { product: "2016", build: "15.1.2106.13", line: "CU18", update: "Mar21SU", releaseDate: "2021-03-02" },
  { product: "2016", build: "15.1.2176.2", line: "CU19", update: "CU19", releaseDate: "2020-12-15" },
  { product: "2016", build: "15.1.2176.9", line: "CU19", update: "Mar21SU", releaseDate: "2021-03-02" },
  { product: "2016", build: "15.1.2242.4", line: "CU20", update: "CU20", releaseDate: "2021-03-16" },
  { product: "2016", build: "15.1.2375.7", line: "CU22", update: "CU22", releaseDate: "2021-09-28" },
  { product: "2019", build: "15.2.721.2", line: "CU7", update: "CU7", releaseDate: "2020-09-15" },
  { product: "2019", build: "15.2.721.13", line: "CU7", update: "Mar21SU", releaseDate: "2021-03-02" },
  { product: "2019", build: "15.2.792.3", line: "CU8", update: "CU8", releaseDate: "2020-12-15" },
  { product: "2019", build: "15.2.792.10", line: "CU8", update: "Mar21SU", releaseDate: "2021-03-02" },
  { product: "2019", build: "15.2.858.5", line: "CU9", update: "CU9", releaseDate: "2021-03-16" },
  { product: "2019", build: "15.2.986.5", line: "CU11", update: "CU11", releaseDate: "2021-09-28" },
  { product: "SE", build: "15.2.2562.17", line: "RTM", update: "RTM", releaseDate: "2025-07-01" },
];

/** Per-line fixes of CVE-2021-26855 for the fallback list (Mar21SU on each line above; CU20/CU9 shipped fixed). */
const FALLBACK_FIXES: Pick<LineFix, "product" | "line" | "fixedIn">[] = [
  { product: "2013", line: "CU23", fixedIn: "15.0.1497.12" },
  { product: "2016", line: "CU18", fixedIn: "15.1.2106.13" },
  { product: "2016", line: "CU19", fixedIn: "15.1.2176.9" },
  { product: "2016", line: "CU20", fixedIn: "15.1.2242.4" },
  { product: "2019", line: "CU7", fixedIn: "15.2.721.13" },
  { product: "2019", line: "CU8", fixedIn: "15.2.792.10" },
  { product: "2019", line: "CU9", fixedIn: "15.2.858.5" },
];

export function buildParts(b: string): number[] {
  return b.split(".").map((x) => Number.parseInt(x, 10));
}

export function compareBuild(a: string, b: string): number {
  const x = buildParts(a);
  const y = buildParts(b);
  for (let i = 0; i < 4; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function threeParts(b: string): string {
  return b.split(".").slice(0, 3).join(".");
}

function makeCatalogue(
  source: "knowledge" | "fallback",
  builds: EmuBuild[],
  fixes: Pick<LineFix, "product" | "line" | "fixedIn">[],
  affects: readonly Product[],
): BuildCatalogue {
  const byProduct = { "2010": [], "2013": [], "2016": [], "2019": [], SE: [] } as Record<Product, EmuBuild[]>;
  for (const b of builds) byProduct[b.product].push(b);
  for (const p of PRODUCTS) byProduct[p].sort((a, b) => compareBuild(a.build, b.build));
  // First build of each line (to place unlisted lines before/after the product's newest fix).
  const lineFirst = new Map<string, string>();
  for (const b of builds) {
    const k = `${b.product}/${b.line}`;
    const cur = lineFirst.get(k);
    if (cur === undefined || compareBuild(b.build, cur) < 0) lineFirst.set(k, b.build);
  }
  const fixByLine = new Map<string, string>();
  const newestFix = new Map<Product, string>();
  for (const f of fixes) {
    fixByLine.set(`${f.product}/${f.line}`, f.fixedIn);
    const cur = newestFix.get(f.product);
    if (cur === undefined || compareBuild(f.fixedIn, cur) > 0) newestFix.set(f.product, f.fixedIn);
  }
  return {
    source,
    byProduct,
    vulnerable26855(b) {
      if (!affects.includes(b.product)) return null;
      const fixed = fixByLine.get(`${b.product}/${b.line}`);
      if (fixed !== undefined) return compareBuild(b.build, fixed) < 0;
      // Line not listed: older than the newest fix => never fixed; newer => shipped with the fix.
      const newest = newestFix.get(b.product);
      const first = lineFirst.get(`${b.product}/${b.line}`) ?? b.build;
      if (newest === undefined) return null;
      return compareBuild(first, newest) < 0;
    },
  };
}

let cached: BuildCatalogue | undefined;

/** Loads the catalogue from `<root>/knowledge` (default: the repository's), else the fallback list. */
export function loadCatalogue(knowledgeDir?: string): BuildCatalogue {
  if (knowledgeDir === undefined && cached) return cached;
  const dir = knowledgeDir ?? join(new URL("../..", import.meta.url).pathname, "knowledge");
  const dirFromSrc = join(new URL("..", import.meta.url).pathname, "knowledge");
  const kdir = existsSync(join(dir, "builds")) ? dir : dirFromSrc;
  let cat: BuildCatalogue;
  try {
    const builds: EmuBuild[] = [];
    for (const f of readdirSync(join(kdir, "builds")).filter((n) => n.endsWith(".json")).sort()) {
      const file = productBuildsFileSchema.parse(JSON.parse(readFileSync(join(kdir, "builds", f), "utf8")));
      for (const b of file.builds) {
        builds.push({ product: file.product, build: b.build, line: b.line, update: b.update, releaseDate: b.releaseDate });
      }
    }
    const adv = advisorySchema.parse(
      JSON.parse(readFileSync(join(kdir, "advisories", "CVE-2021-26855.json"), "utf8")),
    );
    const products = new Set(builds.map((b) => b.product));
    if (!PRODUCTS.every((p) => products.has(p))) throw new Error("knowledge lacks a product");
    cat = makeCatalogue("knowledge", builds, adv.fixes, adv.affects);
  } catch {
    cat = makeCatalogue("fallback", FALLBACK_BUILDS, FALLBACK_FIXES, ["2013", "2016", "2019"]);
  }
  if (knowledgeDir === undefined) cached = cat;
  return cat;
}

/**
 * The catalogue narrowed to some builds (e.g. the builds of a hand-written test oracle): hosts run only those.
 * Throws on a build the catalogue does not hold, so a test never silently checks fewer builds than it lists.
 */
export function restrictCatalogue(cat: BuildCatalogue, builds: readonly string[]): BuildCatalogue {
  const wanted = new Set(builds);
  const byProduct = { "2010": [], "2013": [], "2016": [], "2019": [], SE: [] } as Record<Product, EmuBuild[]>;
  for (const p of PRODUCTS) byProduct[p] = cat.byProduct[p].filter((b) => wanted.has(b.build));
  const held = new Set(PRODUCTS.flatMap((p) => byProduct[p].map((b) => b.build)));
  const missing = [...wanted].filter((b) => !held.has(b));
  if (missing.length > 0) throw new Error(`builds not in the emulator's catalogue (${cat.source}): ${missing.join(", ")}`);
  return { source: cat.source, byProduct, vulnerable26855: (b) => cat.vulnerable26855(b) };
}

export function fallbackCatalogue(): BuildCatalogue {
  return makeCatalogue("fallback", FALLBACK_BUILDS, FALLBACK_FIXES, ["2013", "2016", "2019"]);
}

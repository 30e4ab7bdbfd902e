/**
 * The indexed knowledge base: every known build with its product and CU line, and every advisory.
 * Pure: built from already-parsed files (see load.ts), checked for consistency, then read-only.
 */
import { buildKey, parseBuild, threePartPrefix } from "./buildNumber.js";
import type { KnowledgeFiles } from "./load.js";
import type { PlatformTable, ProductPlatform } from "../pipeline/vocabulary.js";
import type { OverlayKevEntry } from "./overlay.js";
import type {
  Advisory,
  BuildRecord,
  LifecycleFile,
  LineFix,
  PlatformsFile,
  ProductBuildsFile,
  ProductKey,
  Source,
  UpdateKind,
} from "./schema.js";

export interface KnownBuild {
  product: ProductKey;
  productName: string;
  build: string;
  key: number;
  line: string;
  update: string;
  kind: UpdateKind;
  releaseDate: string;
  dateApproximate: boolean;
  kb: string | undefined;
  /** False for an update that carries only its named fixes (March 2021 SUs for old CUs). */
  cumulative: boolean;
  namedFixes: ReadonlySet<string>;
  sources: readonly Source[];
  note: string | undefined;
  /** Why a build resting on one third-party source is kept (see the builds README). */
  audit: string | undefined;
}

/** A reported version that is not a release build, resolved to the installed build. */
export interface KnownAlias {
  reported: string;
  build: KnownBuild;
  seenIn: string;
  note: string;
  sources: readonly Source[];
}

export interface CuLine {
  product: ProductKey;
  name: string;
  /** Builds of the line, oldest first; builds[0] is the CU (or RTM/SP/RU base) itself. */
  builds: KnownBuild[];
  firstKey: number;
}

export interface ProductInfo {
  key: ProductKey;
  name: string;
  major: string;
  /** Lines, oldest first. */
  lines: CuLine[];
  /** The newest build of the newest line: what an admin of this product should end up on. */
  latest: KnownBuild;
  /** Last day of Microsoft's support (knowledge/lifecycle.json); null when it has none or the data lacks it. */
  endOfSupport: string | null;
  endOfSupportSources: readonly Source[];
  /** Windows Server versions Microsoft supports it on, with their IIS versions (knowledge/platforms.json); empty when the data lacks it. */
  windows: ReadonlyArray<{ name: string; iis: number }>;
  platformSources: readonly Source[];
}

/** An advisory with its per-line fixes resolved to known builds. */
export interface IndexedAdvisory extends Advisory {
  fixByLine: ReadonlyMap<string, { fix: LineFix; build: KnownBuild }>;
  /** Per product, the key of the newest build listed as a fix: lines whose first build is newer shipped with the fix. */
  newestFixKey: ReadonlyMap<ProductKey, number>;
  /** Per line, the first build on which the protecting setting (configurationFix) exists. */
  configByLine: ReadonlyMap<string, { fix: LineFix; build: KnownBuild }>;
  newestConfigKey: ReadonlyMap<ProductKey, number>;
  /** Out-of-support products Microsoft nevertheless assessed and found not affected. */
  notAffectedAfterAssessment: ReadonlyMap<ProductKey, string>;
}

export class KnowledgeConsistencyError extends Error {
  override readonly name = "KnowledgeConsistencyError";
}

const lineId = (product: ProductKey, line: string): string => `${product}/${line}`;

export class KnowledgeBase {
  readonly products = new Map<ProductKey, ProductInfo>();
  readonly builds: KnownBuild[] = [];
  readonly byBuild = new Map<string, KnownBuild>();
  readonly byPrefix = new Map<string, KnownBuild[]>();
  readonly lines = new Map<string, CuLine>();
  readonly advisories: IndexedAdvisory[] = [];
  /** Products by "major.minor" prefix: "15.2" -> [2019, SE]. */
  readonly productsByMajor = new Map<string, ProductInfo[]>();
  /** Reported versions that are not release builds ("15.2.858.2" -> 2019 CU9 15.2.858.5). */
  readonly aliases = new Map<string, KnownAlias>();

  private constructor() {}

  static fromFiles(files: KnowledgeFiles): KnowledgeBase {
    const kb = new KnowledgeBase();
    const merged = mergeBuildFiles(files.builds, files.overlayBuilds);
    kb.indexBuilds(merged);
    kb.indexAliases(merged);
    if (files.lifecycle) kb.indexLifecycle(files.lifecycle);
    if (files.platforms) kb.indexPlatforms(files.platforms);
    const advisories = mergeKev(files.advisories, files.overlayKev?.entries ?? [], files.overlayKev?.withdrawn ?? []);
    for (const advisory of advisories) kb.advisories.push(kb.indexAdvisory(advisory));
    kb.advisories.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
    return kb;
  }

  private indexBuilds(files: ProductBuildsFile[]): void {
    for (const file of files) {
      if (this.products.has(file.product)) {
        throw new KnowledgeConsistencyError(`product ${file.product} has two build tables`);
      }
      const sourceById = new Map(file.sources.map((s) => [s.id, s]));
      const lines = new Map<string, KnownBuild[]>();
      for (const record of file.builds) {
        const known = toKnownBuild(file, record, sourceById);
        if (!known.build.startsWith(`${file.major}.`)) {
          throw new KnowledgeConsistencyError(`${file.name}: build ${known.build} does not start with ${file.major}`);
        }
        if (this.byBuild.has(known.build)) {
          throw new KnowledgeConsistencyError(`build ${known.build} is listed twice`);
        }
        this.byBuild.set(known.build, known);
        this.builds.push(known);
        const list = lines.get(record.line) ?? [];
        list.push(known);
        lines.set(record.line, list);
      }
      const cuLines: CuLine[] = [];
      for (const [name, builds] of lines) {
        builds.sort((a, b) => a.key - b.key);
        const line: CuLine = { product: file.product, name, builds, firstKey: builds[0]!.key };
        cuLines.push(line);
        this.lines.set(lineId(file.product, name), line);
      }
      cuLines.sort((a, b) => a.firstKey - b.firstKey);
      const newestLine = cuLines[cuLines.length - 1]!;
      const info: ProductInfo = {
        key: file.product,
        name: file.name,
        major: file.major,
        lines: cuLines,
        latest: newestLine.builds[newestLine.builds.length - 1]!,
        endOfSupport: null,
        endOfSupportSources: [],
        windows: [],
        platformSources: [],
      };
      this.products.set(file.product, info);
      const sameMajor = this.productsByMajor.get(file.major) ?? [];
      sameMajor.push(info);
      this.productsByMajor.set(file.major, sameMajor);
    }
    this.builds.sort((a, b) => a.key - b.key);
    for (const b of this.builds) {
      const prefix = threePartPrefix(b.build);
      const list = this.byPrefix.get(prefix) ?? [];
      list.push(b);
      this.byPrefix.set(prefix, list);
    }
  }

  private indexAliases(files: ProductBuildsFile[]): void {
    for (const file of files) {
      const sourceById = new Map(file.sources.map((s) => [s.id, s]));
      for (const a of file.reportedAliases ?? []) {
        const where = `${file.name}: reported alias ${a.reported}`;
        if (this.byBuild.has(a.reported)) throw new KnowledgeConsistencyError(`${where} is also listed as a build`);
        if (this.aliases.has(a.reported)) throw new KnowledgeConsistencyError(`${where} is listed twice`);
        const build = this.byBuild.get(a.build);
        if (!build || build.product !== file.product) {
          throw new KnowledgeConsistencyError(`${where}: build ${a.build} is not a ${file.name} build in the tables`);
        }
        const sources = a.sources.map((id) => {
          const s = sourceById.get(id);
          if (!s) throw new KnowledgeConsistencyError(`${where}: unknown source id "${id}"`);
          return s;
        });
        this.aliases.set(a.reported, { reported: a.reported, build, seenIn: a.seenIn, note: a.note, sources });
      }
    }
  }

  private indexPlatforms(file: PlatformsFile): void {
    const sourceById = new Map(file.sources.map((s) => [s.id, s]));
    const source = (where: string, id: string): Source => {
      const s = sourceById.get(id);
      if (!s) throw new KnowledgeConsistencyError(`platforms: ${where}: unknown source id "${id}"`);
      return s;
    };
    const windows = new Map<string, number>();
    for (const w of file.windows) {
      if (windows.has(w.name)) throw new KnowledgeConsistencyError(`platforms: ${w.name} is listed twice`);
      w.sources.forEach((id) => source(w.name, id));
      windows.set(w.name, Number(w.iis));
    }
    const seen = new Set<string>();
    for (const p of file.products) {
      if (seen.has(p.product)) throw new KnowledgeConsistencyError(`platforms: product ${p.product} is listed twice`);
      seen.add(p.product);
      const info = this.products.get(p.product);
      const list = p.windows.map((name) => {
        const iis = windows.get(name);
        if (iis === undefined) throw new KnowledgeConsistencyError(`platforms: ${p.product}: "${name}" is not in the windows list`);
        return { name, iis };
      });
      const sources = p.sources.map((id) => source(p.product, id));
      if (!info) continue;
      info.windows = list;
      info.platformSources = sources;
    }
  }

  /**
   * The product line of a build (14.x is Exchange 2010; 2019 and SE share 15.2) and the IIS versions of every
   * Windows version Microsoft supports it on; undefined for a line that is not known or has no platform data.
   */
  platformFor(build: string): ProductPlatform | undefined {
    const parts = build.split(".").map(Number);
    if (parts.length < 2 || parts.some((n) => !Number.isInteger(n))) return undefined;
    const products = parts[0] === 14 ? [...this.products.values()].filter((p) => p.key === "2010") : (this.productsByMajor.get(`${parts[0]}.${parts[1]}`) ?? []);
    const withData = products.filter((p) => p.windows.length > 0);
    if (withData.length === 0) return undefined;
    const windows = [...new Set(withData.flatMap((p) => p.windows.map((w) => w.name)))];
    const iis = [...new Set(withData.flatMap((p) => p.windows.map((w) => w.iis)))].sort((a, b) => a - b);
    return { product: withData.map((p) => p.name).join(" or "), windows, iis };
  }

  private platforms: PlatformTable | undefined;

  /** Every product line's platform ("14", "15.0", …), as plain data for the identification (see identify()). */
  platformTable(): PlatformTable {
    if (!this.platforms) {
      const table: Record<string, ProductPlatform> = {};
      for (const line of ["14", ...this.productsByMajor.keys()]) {
        if (line.startsWith("14.")) continue;
        const p = this.platformFor(line === "14" ? "14.0" : line);
        if (p) table[line] = p;
      }
      this.platforms = table;
    }
    return this.platforms;
  }

  private indexLifecycle(file: LifecycleFile): void {
    const sourceById = new Map(file.sources.map((s) => [s.id, s]));
    for (const p of file.products) {
      const info = this.products.get(p.product);
      if (!info) continue;
      if (info.endOfSupportSources.length > 0) throw new KnowledgeConsistencyError(`lifecycle: product ${p.product} is listed twice`);
      info.endOfSupport = p.endOfSupport;
      info.endOfSupportSources = p.sources.map((id) => {
        const s = sourceById.get(id);
        if (!s) throw new KnowledgeConsistencyError(`lifecycle: ${p.product}: unknown source id "${id}"`);
        return s;
      });
    }
  }

  private indexLineBuilds(
    advisory: Advisory,
    list: readonly LineFix[],
    what: string,
  ): { byLine: Map<string, { fix: LineFix; build: KnownBuild }>; newest: Map<ProductKey, number> } {
    const byLine = new Map<string, { fix: LineFix; build: KnownBuild }>();
    const newest = new Map<ProductKey, number>();
    const sourceIds = new Set(advisory.sources.map((s) => s.id));
    for (const fix of list) {
      const where = `${advisory.id}: ${what} for ${fix.product} ${fix.line}`;
      if (!advisory.affects.includes(fix.product)) {
        throw new KnowledgeConsistencyError(`${where}: product ${fix.product} is not in affects`);
      }
      const build = this.byBuild.get(fix.fixedIn);
      if (!build) throw new KnowledgeConsistencyError(`${where}: build ${fix.fixedIn} is not in the build tables`);
      if (build.product !== fix.product || build.line !== fix.line) {
        throw new KnowledgeConsistencyError(
          `${where}: build ${fix.fixedIn} belongs to ${build.product} ${build.line}, not ${fix.product} ${fix.line}`,
        );
      }
      for (const s of fix.sources) {
        if (!sourceIds.has(s)) throw new KnowledgeConsistencyError(`${where}: unknown source id "${s}"`);
      }
      const id = lineId(fix.product, fix.line);
      if (byLine.has(id)) throw new KnowledgeConsistencyError(`${where}: listed twice`);
      byLine.set(id, { fix, build });
      newest.set(fix.product, Math.max(newest.get(fix.product) ?? 0, build.key));
    }
    return { byLine, newest };
  }

  private indexAdvisory(advisory: Advisory): IndexedAdvisory {
    const fixes = this.indexLineBuilds(advisory, advisory.fixes, "fix");
    const config = this.indexLineBuilds(advisory, advisory.configurationAvailableFrom ?? [], "setting available");
    if (advisory.configurationAvailableFrom && advisory.configurationFix === undefined) {
      throw new KnowledgeConsistencyError(`${advisory.id}: configurationAvailableFrom needs configurationFix`);
    }
    const sourceIds = new Set(advisory.sources.map((s) => s.id));
    const assessedNotAffected = new Map<ProductKey, string>();
    for (const n of advisory.assessedNotAffected ?? []) {
      if (advisory.affects.includes(n.product)) {
        throw new KnowledgeConsistencyError(`${advisory.id}: assessedNotAffected ${n.product} is also in affects`);
      }
      for (const s of n.sources) {
        if (!sourceIds.has(s)) throw new KnowledgeConsistencyError(`${advisory.id}: assessedNotAffected ${n.product}: unknown source id "${s}"`);
      }
      assessedNotAffected.set(n.product, n.note);
    }
    return {
      ...advisory,
      fixByLine: fixes.byLine,
      newestFixKey: fixes.newest,
      configByLine: config.byLine,
      newestConfigKey: config.newest,
      notAffectedAfterAssessment: assessedNotAffected,
    };
  }

  line(product: ProductKey, line: string): CuLine | undefined {
    return this.lines.get(lineId(product, line));
  }

  fixOnLine(advisory: IndexedAdvisory, product: ProductKey, line: string): { fix: LineFix; build: KnownBuild } | undefined {
    return advisory.fixByLine.get(lineId(product, line));
  }

  /** The line with exactly this 3-part prefix, if known. */
  lineForPrefix(prefix: string): CuLine | undefined {
    const b = this.byPrefix.get(prefix)?.[0];
    return b ? this.line(b.product, b.line) : undefined;
  }
}

function toKnownBuild(file: ProductBuildsFile, r: BuildRecord, sourceById: Map<string, Source>): KnownBuild {
  const parsed = parseBuild(r.build)!;
  const sources = r.sources.map((id) => {
    const s = sourceById.get(id);
    if (!s) throw new KnowledgeConsistencyError(`${file.name} ${r.build}: unknown source id "${id}"`);
    return s;
  });
  return {
    product: file.product,
    productName: file.name,
    build: parsed.text,
    key: buildKey(parsed.parts),
    line: r.line,
    update: r.update,
    kind: r.kind,
    releaseDate: r.releaseDate,
    dateApproximate: r.dateApproximate ?? false,
    kb: r.kb,
    cumulative: r.cumulative ?? true,
    namedFixes: new Set(r.namedFixes ?? []),
    sources,
    note: r.note,
    audit: r.audit ? `${r.audit.decision}: ${r.audit.reason}` : undefined,
  };
}

/** Imported builds are added to the shipped tables; an imported record with a known build number corrects it. */
export function mergeBuildFiles(builtin: ProductBuildsFile[], overlay: ProductBuildsFile[]): ProductBuildsFile[] {
  const merged = new Map<ProductKey, ProductBuildsFile>();
  for (const f of builtin) merged.set(f.product, { ...f, sources: [...f.sources], builds: [...f.builds] });
  for (const f of overlay) {
    const base = merged.get(f.product);
    if (!base) {
      merged.set(f.product, f);
      continue;
    }
    const known = new Set(base.sources.map((s) => s.id));
    for (const s of f.sources) if (!known.has(s.id)) base.sources.push(s);
    if (f.reportedAliases) base.reportedAliases = [...(base.reportedAliases ?? []), ...f.reportedAliases];
    const byBuild = new Map(base.builds.map((b, i) => [b.build, i]));
    for (const b of f.builds) {
      const i = byBuild.get(b.build);
      if (i === undefined) base.builds.push(b);
      else base.builds[i] = b;
    }
  }
  return [...merged.values()];
}

/**
 * KEV entries from an import replace the shipped KEV data of the same CVE; an Exchange entry with no advisory
 * becomes a KEV-only advisory whose builds are all judged `unknown` until fix data is added.
 */
export function mergeKev(advisories: Advisory[], entries: OverlayKevEntry[], withdrawn: readonly string[] = []): Advisory[] {
  const out = advisories.map((a) => (withdrawn.includes(a.id) ? { ...a, kev: null } : a));
  const byId = new Map(out.map((a) => [a.id, a]));
  for (const e of entries) {
    const kev = {
      dateAdded: e.dateAdded,
      dueDate: e.dueDate,
      knownRansomwareCampaignUse: e.knownRansomwareCampaignUse,
      vulnerabilityName: e.vulnerabilityName,
      requiredAction: e.requiredAction,
    };
    const existing = byId.get(e.cveID);
    if (existing) {
      out[out.indexOf(existing)] = { ...existing, kev };
      continue;
    }
    out.push({
      id: e.cveID,
      title: e.vulnerabilityName,
      published: e.dateAdded,
      affects: ["2010", "2013", "2016", "2019", "SE"],
      kev,
      fixes: [],
      fixData: "unknown",
      summary: e.shortDescription || e.vulnerabilityName,
      sources: [{ id: "cisa-kev-import", title: "CISA Known Exploited Vulnerabilities catalog (imported)", url: "https://www.cisa.gov/known-exploited-vulnerabilities-catalog" }],
    });
  }
  return out;
}

/**
 * `vigie kb update`: import a newer CISA KEV feed or a builds table into the user's overlay folder.
 * A file is validated in full before anything is written; an invalid file is refused and the knowledge base
 * stays as it was. Each import reports what it added, changed and removed: a knowledge base never shrinks
 * silently (removals from the KEV catalog are applied only when asked for).
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { parseCsvLine } from "../util/csv.js";
import { fromMicrosoftRow, isMicrosoftBuildCsvHeader, MS_CSV_COLUMNS } from "./msBuildCsv.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { KnowledgeBase, mergeBuildFiles } from "./knowledgeBase.js";
import { describeZodError, KnowledgeError, readKnowledgeFiles } from "./load.js";
import { overlayKevSchema, type OverlayKev, type OverlayKevEntry } from "./overlay.js";
import {
  buildRecordSchema,
  PRODUCT_KEYS,
  productKeySchema,
  type BuildRecord,
  type ProductBuildsFile,
  type ProductKey,
} from "./schema.js";

const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

/** A field of a build the knowledge base has that an imported file gives another value. */
export interface BuildConflict {
  build: string;
  product: ProductKey;
  field: ComparedField;
  /** The knowledge base's value ("" where it has none). */
  current: string;
  /** The sources the knowledge base cites for that build. */
  currentSources: string[];
  /** The build's note, where it explains its value (e.g. why Microsoft's CSV KB was not taken). */
  currentNote?: string;
  offered: string;
  /** True with --accept-changes: the file's value replaced the current one. */
  accepted: boolean;
}

export interface UpdateReport {
  kind: "kev" | "builds";
  file: string;
  added: string[];
  /** KEV: entries whose dates changed. Builds: builds whose conflicting fields were accepted (--accept-changes). */
  changed: string[];
  /** Builds only: every field that differs from the knowledge base, kept or accepted. */
  conflicts: BuildConflict[];
  /** Builds only: rows of products or lines Vigie does not judge, by reason, with their count. */
  skipped: Array<{ reason: string; rows: number }>;
  removed: string[];
  /** Entries the current knowledge base has that the file lacks, kept (not removed). */
  kept: string[];
  unchanged: number;
  written: boolean;
}

function readImportText(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw new KnowledgeError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (size > MAX_IMPORT_BYTES) throw new KnowledgeError(`${file}: ${size} bytes is more than the ${MAX_IMPORT_BYTES}-byte limit`);
  return readFileSync(file, "utf8");
}

// ---------------------------------------------------------------- KEV feed

const kevFeedEntrySchema = z
  .object({
    cveID: z.string().regex(/^CVE-\d{4}-\d{4,7}$/),
    vendorProject: z.string(),
    product: z.string(),
    vulnerabilityName: z.string(),
    dateAdded: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    shortDescription: z.string(),
    requiredAction: z.string(),
    dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    knownRansomwareCampaignUse: z.enum(["Known", "Unknown"]),
  })
  .passthrough();

const kevFeedSchema = z
  .object({
    catalogVersion: z.string(),
    dateReleased: z.string(),
    count: z.number().int().nonnegative(),
    vulnerabilities: z.array(kevFeedEntrySchema),
  })
  .passthrough();

export function isExchangeKevEntry(e: { vendorProject: string; product: string }): boolean {
  return /microsoft/i.test(e.vendorProject) && /exchange/i.test(e.product);
}

/** Parse and check a KEV feed file; returns its Exchange entries. */
export function parseKevFeed(file: string, text: string): { feed: z.infer<typeof kevFeedSchema>; exchange: OverlayKevEntry[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KnowledgeError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = kevFeedSchema.safeParse(json);
  if (!parsed.success) {
    throw new KnowledgeError(`${file}: not a CISA KEV feed: ${describeZodError(parsed.error)}`);
  }
  const feed = parsed.data;
  if (feed.count !== feed.vulnerabilities.length) {
    throw new KnowledgeError(
      `${file}: the feed says count ${feed.count} but holds ${feed.vulnerabilities.length} entries (truncated or edited?)`,
    );
  }
  const seen = new Set<string>();
  for (const v of feed.vulnerabilities) {
    if (seen.has(v.cveID)) throw new KnowledgeError(`${file}: ${v.cveID} is listed twice`);
    seen.add(v.cveID);
  }
  const exchange = feed.vulnerabilities.filter(isExchangeKevEntry).map(
    (v): OverlayKevEntry => ({
      cveID: v.cveID,
      vendorProject: v.vendorProject,
      product: v.product,
      vulnerabilityName: v.vulnerabilityName,
      dateAdded: v.dateAdded,
      dueDate: v.dueDate,
      knownRansomwareCampaignUse: v.knownRansomwareCampaignUse,
      requiredAction: v.requiredAction,
      shortDescription: v.shortDescription,
    }),
  );
  return { feed, exchange };
}

export interface UpdateOptions {
  builtinDir: string;
  overlayDir: string;
  dryRun?: boolean;
  /** Apply removals from the KEV catalog (otherwise they are reported and kept). */
  allowRemovals?: boolean;
  /** Builds: take the file's value where it differs from a known build (otherwise the current value is kept). */
  acceptChanges?: boolean;
  now?: Date;
}

export function updateKev(file: string, options: UpdateOptions): UpdateReport {
  const { exchange, feed } = parseKevFeed(file, readImportText(file));
  const current = KnowledgeBase.fromFiles(readKnowledgeFiles(options.builtinDir, options.overlayDir));
  const before = new Map(current.advisories.filter((a) => a.kev !== null).map((a) => [a.id, a.kev!]));
  const incoming = new Map(exchange.map((e) => [e.cveID, e]));
  const report: UpdateReport = { kind: "kev", file, added: [], changed: [], conflicts: [], skipped: [], removed: [], kept: [], unchanged: 0, written: false };
  for (const e of exchange) {
    const old = before.get(e.cveID);
    if (!old) report.added.push(e.cveID);
    else if (
      old.dateAdded !== e.dateAdded ||
      old.dueDate !== e.dueDate ||
      old.knownRansomwareCampaignUse !== e.knownRansomwareCampaignUse
    ) {
      report.changed.push(e.cveID);
    } else report.unchanged++;
  }
  for (const id of before.keys()) {
    if (!incoming.has(id)) (options.allowRemovals ? report.removed : report.kept).push(id);
  }
  // Entries kept despite their absence from the file stay as they are in the overlay.
  const previous = readKnowledgeFiles(options.builtinDir, options.overlayDir).overlayKev;
  const keptEntries = (previous?.entries ?? []).filter((e) => report.kept.includes(e.cveID));
  const overlay: OverlayKev = overlayKevSchema.parse({
    importedAt: (options.now ?? new Date()).toISOString(),
    importedFrom: path.resolve(file),
    catalogVersion: feed.catalogVersion,
    dateReleased: feed.dateReleased,
    entries: [...exchange, ...keptEntries],
    ...(report.removed.length > 0 ? { withdrawn: [...(previous?.withdrawn ?? []), ...report.removed] } : {}),
  });
  // The merged knowledge base must still load before anything is written.
  const files = readKnowledgeFiles(options.builtinDir, options.overlayDir);
  KnowledgeBase.fromFiles({ ...files, overlayKev: overlay });
  if (!options.dryRun) {
    writeFileAtomic(path.join(options.overlayDir, "kev.json"), `${JSON.stringify(overlay, null, 2)}\n`);
    report.written = true;
  }
  return report;
}

// ---------------------------------------------------------------- builds table

const PRODUCT_ALIASES: Record<string, ProductKey> = {
  "2010": "2010",
  "2013": "2013",
  "2016": "2016",
  "2019": "2019",
  se: "SE",
  exchangese: "SE",
  subscriptionedition: "SE",
  exchangeserversubscriptionedition: "SE",
};

function productFrom(raw: string): ProductKey | undefined {
  const k = raw.toLowerCase().replace(/[^a-z0-9]/g, "").replace(/^(microsoft)?exchange(server)?/, "");
  return PRODUCT_ALIASES[k] ?? PRODUCT_ALIASES[raw.toLowerCase().replace(/[^a-z0-9]/g, "")];
}

const importRowSchema = z.object({ product: productKeySchema }).passthrough();

/** Fields of a known build an import may offer another value for. */
export const COMPARED_FIELDS = ["line", "update", "kind", "releaseDate", "kb", "cumulative"] as const;
export type ComparedField = (typeof COMPARED_FIELDS)[number];

interface ImportedRow {
  product: ProductKey;
  record: BuildRecord;
  /** The fields the file gave a value for (a missing KB is not an offer to remove one). */
  given: ReadonlySet<string>;
  where: string;
}

interface ParsedRows {
  rows: ImportedRow[];
  errors: string[];
  skipped: Map<string, number>;
}

const CSV_COLUMNS = ["product", "build", "line", "update", "kind", "releaseDate", "kb", "cumulative", "namedFixes", "note"];

function rowsFromCsv(file: string, text: string, sourceId: string): ParsedRows {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = parseCsvLine(lines[0] ?? "").map((h) => h.trim());
  const microsoft = isMicrosoftBuildCsvHeader(header);
  const missing = ["product", "build", "line", "update", "kind", "releaseDate"].filter((c) => !header.includes(c));
  if (!microsoft && missing.length > 0) {
    throw new KnowledgeError(
      `${file}:1: the header lacks column(s) ${missing.join(", ")} (expected ${CSV_COLUMNS.join(",")}, or Microsoft's ${MS_CSV_COLUMNS.join(",")})`,
    );
  }
  const rows: ImportedRow[] = [];
  const errors: string[] = [];
  const skipped = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) continue;
    let cells: string[];
    try {
      cells = parseCsvLine(line);
    } catch (err) {
      errors.push(`${file}:${i + 1}: ${(err as Error).message}`);
      continue;
    }
    const obj: Record<string, unknown> = {};
    header.forEach((h, j) => {
      const v = cells[j]?.trim() ?? "";
      if (v !== "") obj[h] = v;
    });
    const where = `${file}:${i + 1}`;
    if (microsoft) {
      const m = fromMicrosoftRow(obj as Record<string, string>);
      if ("skip" in m) skipped.set(m.skip, (skipped.get(m.skip) ?? 0) + 1);
      else if ("error" in m) errors.push(`${where}: ${m.error}`);
      else pushRow(toRow({ ...m.row }, where, sourceId), rows, errors);
      continue;
    }
    if (typeof obj.cumulative === "string") obj.cumulative = obj.cumulative.toLowerCase() === "true";
    if (typeof obj.namedFixes === "string") obj.namedFixes = obj.namedFixes.split(/[;| ]+/).filter(Boolean);
    pushRow(toRow(obj, where, sourceId), rows, errors);
  }
  return { rows, errors, skipped };
}

function pushRow(r: ImportedRow | string, rows: ImportedRow[], errors: string[]): void {
  if (typeof r === "string") errors.push(r);
  else rows.push(r);
}

function toRow(obj: Record<string, unknown>, where: string, sourceId: string): ImportedRow | string {
  const product = typeof obj.product === "string" ? productFrom(obj.product) : undefined;
  if (!product) return `${where}: product "${String(obj.product ?? "")}" is not one of ${PRODUCT_KEYS.join(", ")}`;
  const { product: _p, source: _s, ...rest } = obj;
  const parsed = buildRecordSchema.safeParse({ ...rest, sources: [sourceId] });
  if (!parsed.success) return `${where}: ${describeZodError(parsed.error)}`;
  const given = new Set(Object.keys(rest).filter((k) => rest[k] !== undefined && rest[k] !== null && rest[k] !== ""));
  return { product, record: parsed.data, given, where };
}

function rowsFromJson(file: string, text: string, sourceId: string): ParsedRows {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KnowledgeError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const rows: ImportedRow[] = [];
  const errors: string[] = [];
  const skipped = new Map<string, number>();
  // Either a product table as shipped in knowledge/builds, or an array of rows each naming its product.
  if (json !== null && typeof json === "object" && !Array.isArray(json) && "builds" in json) {
    const table = json as { product?: unknown; builds?: unknown };
    const product = importRowSchema.safeParse({ product: table.product });
    if (!product.success) throw new KnowledgeError(`${file}: product: must be one of ${PRODUCT_KEYS.join(", ")}`);
    if (!Array.isArray(table.builds)) throw new KnowledgeError(`${file}: builds: expected an array`);
    table.builds.forEach((b: unknown, i) => {
      const r = toRow({ ...(b as Record<string, unknown>), product: table.product }, `${file}: builds[${i}]`, sourceId);
      pushRow(r, rows, errors);
    });
    return { rows, errors, skipped };
  }
  if (!Array.isArray(json)) throw new KnowledgeError(`${file}: expected an array of build rows or a product build table`);
  json.forEach((b: unknown, i) => {
    if (b === null || typeof b !== "object") {
      errors.push(`${file}: [${i}]: expected an object`);
      return;
    }
    pushRow(toRow(b as Record<string, unknown>, `${file}: [${i}]`, sourceId), rows, errors);
  });
  return { rows, errors, skipped };
}

function fieldText(record: BuildRecord, field: ComparedField): string {
  if (field === "cumulative") return String(record.cumulative ?? true);
  return record[field] ?? "";
}

/** The fields the file gives that differ from the known record. */
function differences(known: BuildRecord, offered: ImportedRow): ComparedField[] {
  return COMPARED_FIELDS.filter((f) => offered.given.has(f) && fieldText(known, f) !== fieldText(offered.record, f));
}

export function updateBuilds(file: string, options: UpdateOptions): UpdateReport {
  const text = readImportText(file);
  const now = options.now ?? new Date();
  const sourceId = `import-${now.toISOString().slice(0, 10)}-${path.basename(file).toLowerCase().replace(/[^a-z0-9]+/g, "-")}`.replace(/-+$/, "");
  const isJson = /^\s*[[{]/.test(text);
  const { rows, errors, skipped } = isJson ? rowsFromJson(file, text, sourceId) : rowsFromCsv(file, text, sourceId);
  if (rows.length === 0 && errors.length === 0) {
    const why = skipped.size > 0 ? ` Vigie judges (${[...skipped.keys()].join("; ")})` : "";
    throw new KnowledgeError(`${file}: no build rows${why}`);
  }
  const files = readKnowledgeFiles(options.builtinDir, options.overlayDir);
  const current = KnowledgeBase.fromFiles(files);
  const seen = new Map<string, string>();
  for (const r of rows) {
    const major = current.products.get(r.product)?.major;
    if (major && !r.record.build.startsWith(`${major}.`)) {
      errors.push(`${r.where}: build ${r.record.build} is not a ${r.product} build (${major}.x)`);
    }
    const prior = seen.get(r.record.build);
    if (prior) errors.push(`${r.where}: build ${r.record.build} is listed twice (also at ${prior})`);
    seen.set(r.record.build, r.where);
  }
  if (errors.length > 0) {
    const shown = errors.slice(0, 20).join("\n  ");
    throw new KnowledgeError(
      `${file}: refused, ${errors.length} invalid row(s); the knowledge base is unchanged:\n  ${shown}${errors.length > 20 ? "\n  …" : ""}`,
    );
  }
  const report: UpdateReport = {
    kind: "builds",
    file,
    added: [],
    changed: [],
    conflicts: [],
    skipped: [...skipped].map(([reason, n]) => ({ reason, rows: n })),
    removed: [],
    kept: [],
    unchanged: 0,
    written: false,
  };
  // The records as they are now (shipped tables with earlier imports applied), to compare and to amend.
  const currentRecords = new Map(mergeBuildFiles(files.builds, files.overlayBuilds).flatMap((t) => t.builds.map((b) => [b.build, b] as const)));
  const byProduct = new Map<ProductKey, BuildRecord[]>();
  const write = (product: ProductKey, record: BuildRecord): void => {
    const list = byProduct.get(product) ?? [];
    list.push(record);
    byProduct.set(product, list);
  };
  for (const r of rows) {
    const known = currentRecords.get(r.record.build);
    if (!known) {
      report.added.push(`${r.record.build} (${r.product} ${r.record.line} ${r.record.update})`);
      write(r.product, r.record);
      continue;
    }
    const fields = differences(known, r);
    if (fields.length === 0) {
      report.unchanged++;
      continue;
    }
    const accepted = options.acceptChanges === true;
    for (const field of fields) {
      report.conflicts.push({
        build: r.record.build,
        product: r.product,
        field,
        current: fieldText(known, field),
        currentSources: [...known.sources],
        ...(known.note ? { currentNote: known.note } : {}),
        offered: fieldText(r.record, field),
        accepted,
      });
    }
    if (!accepted) continue;
    report.changed.push(`${r.record.build} (${r.product} ${fields.map((f) => `${f} ${fieldText(known, f) || "(none)"} -> ${fieldText(r.record, f)}`).join(", ")})`);
    // The file's values replace the conflicting fields; the record now rests on the imported file alone.
    const { audit: _audit, note: _note, ...rest } = known;
    const amended: BuildRecord = { ...rest, sources: [sourceId] };
    for (const f of fields) Object.assign(amended, { [f]: r.record[f] });
    if (fields.includes("releaseDate")) delete amended.dateApproximate;
    amended.note = `${fields.map((f) => `${f} was ${fieldText(known, f) || "(none)"}`).join(", ")} (sources: ${known.sources.join(", ")}) before vigie kb update --accept-changes took ${path.basename(file)}'s value`;
    write(r.product, amended);
  }
  const inFile = new Set(rows.map((r) => r.record.build));
  report.kept = current.builds.filter((b) => !inFile.has(b.build)).map((b) => b.build);
  const source = { id: sourceId, title: `Imported with vigie kb update from ${path.basename(file)}`, url: `file://${path.resolve(file)}`, retrieved: now.toISOString().slice(0, 10) };
  const newOverlay: ProductBuildsFile[] = mergeBuildFiles(
    files.overlayBuilds,
    [...byProduct].map(([product, builds]) => {
      const p = current.products.get(product);
      return {
        product,
        name: p?.name ?? `Exchange Server ${product}`,
        major: p?.major ?? builds[0]!.build.split(".").slice(0, 2).join("."),
        sources: [source],
        builds,
      };
    }),
  );
  // The merged knowledge base must load (advisories still point at existing builds on the right lines).
  KnowledgeBase.fromFiles({ ...files, overlayBuilds: newOverlay });
  if (!options.dryRun) {
    for (const table of newOverlay) {
      if (!byProduct.has(table.product)) continue;
      writeFileAtomic(path.join(options.overlayDir, "builds", `exchange-${table.product.toLowerCase()}.json`), `${JSON.stringify(table, null, 2)}\n`);
    }
    report.written = true;
  }
  return report;
}

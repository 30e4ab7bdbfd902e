/**
 * Rows of Microsoft's own build list, `ExchangeBuildNumbers.csv` of github.com/microsoft/Get-ExchangeBuildNumber
 * (header `Product Name,Build Number,Date,KB,Blog`; names like "Exchange 2016 CU23 Aug23SUv2", "Exchange 2010 SP3
 * RU32", "Exchange SE RTM Aug25SU"; builds sometimes zero-padded, "15.01.1779.002"; dates M/D/YYYY).
 * Each row becomes a row in Vigie's own shape, or a reason it is skipped (a product or line Vigie does not judge).
 * Pure: no I/O.
 */
import type { ProductKey, UpdateKind } from "./schema.js";

export const MS_CSV_COLUMNS = ["Product Name", "Build Number", "Date", "KB"] as const;

export function isMicrosoftBuildCsvHeader(header: readonly string[]): boolean {
  return MS_CSV_COLUMNS.every((c) => header.includes(c));
}

export interface MicrosoftRow {
  product: ProductKey;
  build: string;
  line: string;
  update: string;
  kind: UpdateKind;
  releaseDate: string;
  kb?: string;
}

/** A row of a product or line Vigie does not judge: skipped, with a reason; an unreadable row is an error. */
export type MicrosoftRowResult = { row: MicrosoftRow } | { skip: string } | { error: string };

const PRODUCTS: Record<string, ProductKey> = { "2010": "2010", "2013": "2013", "2016": "2016", "2019": "2019", SE: "SE" };

function kindOf(line: string, update: string): UpdateKind | undefined {
  if (update === line) return line === "RTM" ? "rtm" : line.startsWith("CU") ? "cu" : "sp";
  if (/^[A-Z][a-z]{2}\d{2}SU(v\d)?$/.test(update)) return "su";
  if (/^[A-Z][a-z]{2}\d{2}HU(v\d)?$/.test(update)) return "hu";
  if (/^RU\d{1,2}(v\d)?$/.test(update)) return "ru";
  return undefined;
}

/** "15.01.1779.002" -> "15.1.1779.2"; undefined unless four numeric parts. */
export function normaliseBuild(raw: string): string | undefined {
  const parts = raw.trim().split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,6}$/.test(p))) return undefined;
  return parts.map((p) => String(Number.parseInt(p, 10))).join(".");
}

/** "3/2/2021" or "02/14/2023" -> "2021-03-02". */
export function usDate(raw: string): string | undefined {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(raw.trim());
  if (!m) return undefined;
  return `${m[3]}-${m[1]!.padStart(2, "0")}-${m[2]!.padStart(2, "0")}`;
}

export function fromMicrosoftRow(cells: Record<string, string>): MicrosoftRowResult {
  const name = (cells["Product Name"] ?? "").trim();
  // "Exchange 2019 CU13 (2023H1)": the parenthesis is a nickname.
  const m = /^Exchange (?:Server )?(\d{4}|SE) (\S+)(?: (\S+))?$/.exec(name.replace(/\s*\([^)]*\)\s*$/, ""));
  if (!m) return { error: `product name "${name}" is not "Exchange <version> <CU/SP/RTM> [<update>]"` };
  const product = PRODUCTS[m[1]!];
  if (!product) return { skip: `Exchange ${m[1]} (not judged by Vigie)` };
  const line = m[2]!;
  if (line === "Preview") return { skip: "preview builds" };
  // Exchange 2010 is judged on SP3 only (14.3): "Exchange 2010 RU1" (RTM's rollups), SP1 and SP2 are not its lines.
  if (product === "2010" && line !== "SP3") return { skip: "Exchange 2010 before SP3 (not judged by Vigie)" };
  if (!/^(RTM|CU\d{1,2}|SP\d)$/.test(line)) return { error: `"${name}": "${line}" is not a CU, SP or RTM` };
  // "Exchange 2010 SP3 RTM" is the service pack itself.
  const update = m[3] === undefined || m[3] === "RTM" ? line : m[3];
  const kind = kindOf(line, update);
  if (!kind) return { error: `"${name}": update "${update}" is not an SU, HU or rollup name` };
  const build = normaliseBuild(cells["Build Number"] ?? "");
  if (!build) return { error: `"${name}": build "${cells["Build Number"] ?? ""}" is not a 4-part build` };
  const releaseDate = usDate(cells.Date ?? "");
  if (!releaseDate) return { error: `"${name}": date "${cells.Date ?? ""}" is not M/D/YYYY` };
  const kb = (cells.KB ?? "").trim();
  return { row: { product, build, line, update, kind, releaseDate, ...(kb !== "" ? { kb } : {}) } };
}

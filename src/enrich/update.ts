/**
 * `vigie geo update`: check user-provided databases (each must open and answer for well-known addresses of the
 * right kind) and copy them into the data folder, replacing the previous ones atomically.
 */
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { geoDir } from "./dataDir.js";
import { openAsn, openCountry } from "./load.js";

/** Addresses whose country/ASN every database knows (large, long-stable allocations). */
const PROBES = ["8.8.8.8", "1.1.1.1", "193.51.224.1", "81.169.145.1", "2001:4860:4860::8888"];

export interface GeoUpdateResult {
  kind: "country" | "asn";
  from: string;
  to: string;
  type: "mmdb" | "csv";
  answered: number;
  sample: Record<string, string | null>;
}

function typeOf(file: string): "mmdb" | "csv" {
  if (/\.mmdb$/i.test(file)) return "mmdb";
  if (/\.csv$/i.test(file)) return "csv";
  throw new Error(`${file}: expected a .mmdb or .csv file`);
}

export function updateGeo(kind: "country" | "asn", file: string, env: NodeJS.ProcessEnv = process.env): GeoUpdateResult {
  const type = typeOf(file);
  const sample: Record<string, string | null> = {};
  let answered = 0;
  try {
    if (kind === "country") {
      const src = openCountry(file, type);
      for (const ip of PROBES) {
        sample[ip] = src.country(ip);
        if (sample[ip] !== null) answered++;
      }
    } else {
      const src = openAsn([file], type);
      for (const ip of PROBES) {
        const a = src.asn(ip);
        sample[ip] = a ? `AS${a.asn}${a.org ? ` ${a.org}` : ""}` : null;
        if (a) answered++;
      }
    }
  } catch (err) {
    throw new Error(`${file}: not a readable ${kind} ${type.toUpperCase()} database: ${(err as Error).message}`);
  }
  if (answered === 0) throw new Error(`${file}: answers no ${kind} for any of ${PROBES.join(", ")}: not a ${kind} database?`);
  const dir = geoDir(env);
  mkdirSync(dir, { recursive: true });
  const to = path.join(dir, `${kind}.${type}`);
  const tmp = `${to}.${process.pid}.tmp`;
  copyFileSync(file, tmp);
  renameSync(tmp, to);
  // The other format of the same kind would shadow or be shadowed: remove it.
  rmSync(path.join(dir, `${kind}.${type === "mmdb" ? "csv" : "mmdb"}`), { force: true });
  writeFileSync(path.join(dir, `${kind}.source.json`), JSON.stringify({ from: path.resolve(file), type, copiedAt: new Date().toISOString() }, null, 2) + "\n");
  return { kind, from: file, to, type, answered, sample };
}

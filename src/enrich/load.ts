/**
 * Open the geo databases: the user's (from `vigie geo update`, in the data folder) where present, else the ones
 * npm ships. Loaded once per process. The ASN CSV takes about a second to load, so it is read only when asked.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { geoDir, shippedGeoFiles, shippedGeoVersion } from "./dataDir.js";
import { combine, type AsnSource, type CountrySource, type GeoLookup } from "./geo.js";
import { mmdbAsn, mmdbCountry } from "./mmdb.js";
import { RangeTable } from "./rangeCsv.js";

export interface GeoFiles {
  country: { file: string; type: "mmdb" | "csv" };
  asn: { files: string[]; type: "mmdb" | "csv" };
  shipped: { country: boolean; asn: boolean };
}

export function activeGeoFiles(env: NodeJS.ProcessEnv = process.env): GeoFiles {
  const dir = geoDir(env);
  const shipped = shippedGeoFiles();
  const pick = (base: string): { file: string; type: "mmdb" | "csv" } | undefined => {
    for (const type of ["mmdb", "csv"] as const) {
      const f = path.join(dir, `${base}.${type}`);
      if (existsSync(f)) return { file: f, type };
    }
    return undefined;
  };
  const country = pick("country");
  const asn = pick("asn");
  return {
    country: country ?? { file: shipped.country, type: "mmdb" },
    asn: asn ? { files: [asn.file], type: asn.type } : { files: [shipped.asnV4, shipped.asnV6], type: "csv" },
    shipped: { country: !country, asn: !asn },
  };
}

export function openCountry(file: string, type: "mmdb" | "csv"): CountrySource {
  return type === "mmdb" ? mmdbCountry(file) : RangeTable.load(file, "country").finish().asCountrySource();
}

export function openAsn(files: string[], type: "mmdb" | "csv"): AsnSource {
  if (type === "mmdb") return mmdbAsn(files[0]!);
  if (files.length === 2) {
    // The shipped pair: IPv4 now, IPv6 (a second second of loading) only when an IPv6 address comes.
    const v4 = RangeTable.load(files[0]!, "asn").finish().asAsnSource();
    let v6: AsnSource | undefined;
    return {
      asn: (ip) => {
        if (!ip.includes(":")) return v4.asn(ip);
        v6 ??= RangeTable.load(files[1]!, "asn").finish().asAsnSource();
        return v6.asn(ip);
      },
    };
  }
  const t = new RangeTable("asn");
  for (const f of files) RangeTable.load(f, "asn", t);
  return t.finish().asAsnSource();
}

export function openGeo(env: NodeJS.ProcessEnv = process.env): GeoLookup {
  const f = activeGeoFiles(env);
  const describe = (file: string, shipped: boolean) => (shipped ? `${shippedGeoVersion()} (shipped)` : file);
  return combine(openCountry(f.country.file, f.country.type), openAsn(f.asn.files, f.asn.type), {
    country: describe(f.country.file, f.shipped.country),
    asn: describe(f.asn.files[0]!, f.shipped.asn),
  });
}

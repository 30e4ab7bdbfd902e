/** Country and network owner of an address, offline. Implementations: MMDB (maxmind reader) and CSV range tables. */
import type { Enrichment } from "../pipeline/assessObservation.js";

export { asnNumber, isoCountry } from "./util.js";

export type GeoInfo = Enrichment;

export interface CountrySource {
  country(ip: string): string | null;
}

export interface AsnSource {
  asn(ip: string): { asn: number; org: string | null } | null;
}

export interface GeoLookup {
  lookup(ip: string): GeoInfo;
  /** Which databases answer, for `vigie geo show` and import summaries. */
  readonly sources: { country: string; asn: string };
}

export const NO_GEO: GeoInfo = { country: null, asn: null, asOrg: null };

export function combine(country: CountrySource, asn: AsnSource, sources: GeoLookup["sources"]): GeoLookup {
  return {
    sources,
    lookup(ip) {
      const a = asn.asn(ip);
      return { country: country.country(ip), asn: a?.asn ?? null, asOrg: a?.org ?? null };
    },
  };
}

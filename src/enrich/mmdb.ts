/**
 * MMDB files (MaxMind GeoLite2, DB-IP lite, IPinfo, ip-location-db) through the `maxmind` reader. The record
 * shapes differ; each is read:
 *  country: {country: {iso_code}} (GeoLite2, DB-IP), {country_code} (ip-location-db), {country: "FR"} (IPinfo)
 *  ASN:     {autonomous_system_number, autonomous_system_organization} (GeoLite2, DB-IP), {asn: "AS3215", as_name|name} (IPinfo)
 */
import { readFileSync } from "node:fs";
import { Reader } from "maxmind";
import { asnNumber, isObject, isoCountry } from "./util.js";
import type { AsnSource, CountrySource } from "./geo.js";

export function openMmdb(file: string): Reader<Record<string, unknown>> {
  const buf = readFileSync(file);
  return new Reader<Record<string, unknown>>(buf);
}

export function countryOfRecord(r: Record<string, unknown> | null): string | null {
  if (!r) return null;
  if (r.country_code !== undefined) return isoCountry(r.country_code);
  if (typeof r.country === "string") return isoCountry(r.country);
  if (isObject(r.country)) return isoCountry(r.country.iso_code);
  if (isObject(r.registered_country)) return isoCountry(r.registered_country.iso_code);
  return null;
}

export function asnOfRecord(r: Record<string, unknown> | null): { asn: number; org: string | null } | null {
  if (!r) return null;
  const asn = asnNumber(r.autonomous_system_number ?? r.asn);
  if (asn === null) return null;
  const org = r.autonomous_system_organization ?? r.as_name ?? r.name ?? r.org ?? r.as_org;
  return { asn, org: typeof org === "string" ? org : null };
}

const safeGet = (reader: Reader<Record<string, unknown>>, ip: string): Record<string, unknown> | null => {
  try {
    return reader.get(ip);
  } catch {
    return null;
  }
};

export function mmdbCountry(file: string): CountrySource {
  const reader = openMmdb(file);
  return { country: (ip) => countryOfRecord(safeGet(reader, ip)) };
}

export function mmdbAsn(file: string): AsnSource {
  const reader = openMmdb(file);
  return { asn: (ip) => asnOfRecord(safeGet(reader, ip)) };
}

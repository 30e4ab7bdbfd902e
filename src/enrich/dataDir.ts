/**
 * Where Vigie keeps data a user gives it: $VIGIE_DATA_DIR, else $XDG_DATA_HOME/vigie, else ~/.local/share/vigie.
 * Geo databases go in <data>/geo/: country.mmdb or country.csv, asn.mmdb or asn.csv, and sources.json.
 */
import { createRequire } from "node:module";
import { homedir } from "node:os";
import path from "node:path";

export function vigieDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIGIE_DATA_DIR) return env.VIGIE_DATA_DIR;
  const xdg = env.XDG_DATA_HOME || path.join(homedir(), ".local", "share");
  return path.join(xdg, "vigie");
}

export function geoDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(vigieDataDir(env), "geo");
}

const require = createRequire(import.meta.url);
const packageDir = (name: string): string => path.dirname(require.resolve(`${name}/package.json`));

/** The databases npm ships (frozen at the pinned version): ip-location-db's country MMDB and ASN CSV tables. */
export function shippedGeoFiles(): { country: string; asnV4: string; asnV6: string } {
  const asn = packageDir("@ip-location-db/asn");
  return {
    country: path.join(packageDir("@ip-location-db/geo-whois-asn-country-mmdb"), "geo-whois-asn-country.mmdb"),
    asnV4: path.join(asn, "asn-ipv4-num.csv"),
    asnV6: path.join(asn, "asn-ipv6-num.csv"),
  };
}

export function shippedGeoVersion(): string {
  const v = (require("@ip-location-db/asn/package.json") as { version?: string }).version;
  return `ip-location-db ${v ?? "?"}`;
}

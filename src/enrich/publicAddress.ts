/**
 * Addresses no geo/ASN database can place (loopback, private, link-local, shared, documentation, multicast…),
 * from IANA's special-purpose address registries (RFC 6890 and updates). Looking them up is wasted work.
 */
import { ipToBigInt } from "../observe/targets.js";
import type { GeoInfo, GeoLookup } from "./geo.js";
import { NO_GEO } from "./geo.js";

const SPECIAL_V4: Array<[string, number]> = [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["198.51.100.0", 24],
  ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
];
const SPECIAL_V6: Array<[string, number]> = [
  ["::", 128], ["::1", 128], ["::ffff:0:0", 96], ["64:ff9b:1::", 48], ["100::", 64], ["2001:db8::", 32], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8],
];

function ranges(list: Array<[string, number]>, width: number): Array<[bigint, bigint]> {
  return list.map(([base, bits]) => {
    const v = ipToBigInt(base)!.value;
    const size = 1n << BigInt(width - bits);
    return [v, v + size - 1n];
  });
}
const V4 = ranges(SPECIAL_V4, 32);
const V6 = ranges(SPECIAL_V6, 128);

export function isPublicAddress(ip: string): boolean {
  const a = ipToBigInt(ip);
  if (!a) return false;
  return !(a.family === 4 ? V4 : V6).some(([lo, hi]) => a.value >= lo && a.value <= hi);
}

/** A lookup that opens its databases on the first public address only, and answers nothing for the others. */
export function lazyPublicGeo(open: () => GeoLookup): { lookup(ip: string): GeoInfo } {
  let geo: GeoLookup | undefined;
  return {
    lookup(ip: string): GeoInfo {
      if (!isPublicAddress(ip)) return NO_GEO;
      geo ??= open();
      return geo.lookup(ip);
    },
  };
}

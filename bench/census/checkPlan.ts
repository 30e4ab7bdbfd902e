/**
 * Checks the census bench's address plan (truthPlan.ts) against the shipped country MMDB, every address of every
 * block (walking the database's prefixes), read with maxmind directly (not through src/enrich):
 *   node dist/bench/census/checkPlan.js        exits 1 and names the block when the data disagrees with the plan
 * Run it when the pinned @ip-location-db version changes; replace a block that no longer agrees (don't paper over).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Reader } from "maxmind";
import { COUNTRY_PLAN, cidrRange } from "./truthPlan.js";

const file = createRequire(import.meta.url).resolve("@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country-ipv4.mmdb");
const reader = new Reader<Record<string, unknown>>(readFileSync(file));
const ip = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
let bad = 0;
for (const c of COUNTRY_PLAN) {
  for (const [cidr, holder] of c.blocks) {
    const [first, size] = cidrRange(cidr);
    const seen = new Map<string, number>();
    for (let n = first; n < first + size; ) {
      const [rec, len] = reader.getWithPrefixLength(ip(n));
      const cc = typeof rec?.country_code === "string" ? rec.country_code : "none";
      const span = 2 ** (32 - len);
      seen.set(cc, (seen.get(cc) ?? 0) + Math.min(span, first + size - n));
      n = (Math.floor(n / span) + 1) * span;
    }
    const ok = seen.size === 1 && seen.has(c.cc);
    if (!ok) bad++;
    console.log(`${ok ? "ok " : "BAD"} ${c.cc} ${cidr} (${holder}): ${[...seen].map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
}
if (bad > 0) {
  console.error(`${bad} block(s) disagree with the shipped country data`);
  process.exitCode = 1;
}

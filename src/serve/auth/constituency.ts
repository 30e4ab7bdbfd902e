/**
 * Constituencies: a user limited to address ranges (CIDR, one address) and/or ASNs sees only hosts inside them.
 * Enforced by the store in its queries (a StoreScope: src/store/sql/scope.ts): every query a limited user runs
 * (host list, host page, census, diff, trend, map) carries it.
 */
import { Constituencies } from "../../report/owners.js";
import type { StoreScope } from "../../store/store.js";

export class Scope implements StoreScope {
  readonly asns: readonly number[];

  private constructor(
    readonly id: string,
    readonly cidrs: readonly string[],
    private readonly ranges: Constituencies | undefined,
    private readonly asnSet: ReadonlySet<number>,
  ) {
    this.asns = [...asnSet].sort((a, b) => a - b);
  }

  /** Parse "192.0.2.0/24", "2001:db8::/32", "198.51.100.7", "AS64500" or "64500". Throws on anything else. */
  static parse(entries: readonly string[]): Scope {
    const cidrs: string[] = [];
    const asns = new Set<number>();
    for (const raw of entries) {
      const e = raw.trim();
      const asn = /^(?:AS)?(\d{1,10})$/i.exec(e);
      if (asn && !e.includes(".")) {
        const n = Number(asn[1]);
        if (n > 4294967295) throw new Error(`${e}: not an ASN`);
        asns.add(n);
      } else if (/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e)) {
        cidrs.push(e);
      } else {
        throw new Error(`${JSON.stringify(e.slice(0, 80))}: a CIDR (192.0.2.0/24), an address or an ASN (AS64500)`);
      }
    }
    const ranges = cidrs.length > 0 ? Constituencies.parse(cidrs.map((c) => `${c},scope`).join("\n"), "constituency") : undefined;
    return new Scope([...cidrs].sort().join(",") + "|" + [...asns].sort((a, b) => a - b).join(","), [...cidrs].sort(), ranges, asns);
  }

  contains(ip: string, asn: number | null): boolean {
    if (asn !== null && this.asnSet.has(asn)) return true;
    return this.ranges?.find(ip) !== undefined;
  }
}

/**
 * Constituencies: a user limited to address ranges (CIDR, one address) and/or ASNs sees only hosts inside them.
 * Enforced in SQL: `vigie_in_scope(<scope id>, ip, asn)` is registered on the store's connection and every
 * query a limited user runs (host list, host page, census, diff, trend, map) carries it.
 */
import { Constituencies } from "../../report/owners.js";
import type { SqliteStore } from "../../store/sqliteStore.js";

export class Scope {
  private constructor(
    readonly id: string,
    private readonly ranges: Constituencies | undefined,
    private readonly asns: ReadonlySet<number>,
  ) {}

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
    return new Scope([...cidrs].sort().join(",") + "|" + [...asns].sort((a, b) => a - b).join(","), ranges, asns);
  }

  contains(ip: string, asn: number | null): boolean {
    if (asn !== null && this.asns.has(asn)) return true;
    return this.ranges?.find(ip) !== undefined;
  }
}

const scopes = new Map<string, Scope>();
const registered = new WeakSet<SqliteStore>();

/** Register the SQL function once per connection; returns a filter usable as `extra` in census queries. */
export function scopeSql(store: SqliteStore, scope: Scope): (alias: string) => { sql: string; params: unknown[] } {
  if (!registered.has(store)) {
    store.db.function("vigie_in_scope", { deterministic: true }, (id: unknown, ip: unknown, asn: unknown) => {
      const s = typeof id === "string" ? scopes.get(id) : undefined;
      return s !== undefined && typeof ip === "string" && s.contains(ip, typeof asn === "number" ? asn : typeof asn === "bigint" ? Number(asn) : null) ? 1 : 0;
    });
    registered.add(store);
  }
  if (!scopes.has(scope.id)) scopes.set(scope.id, scope);
  return (t: string) => ({ sql: `vigie_in_scope(?, ${t}.ip, ${t}.asn) = 1`, params: [scopes.get(scope.id)!.id] });
}

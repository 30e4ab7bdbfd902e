/**
 * A constituency as SQL: on SQLite a function `vigie_in_scope(scope id, ip, asn)` registered on each connection
 * (the ranges are checked in JS, src/serve/auth/constituency.ts); on PostgreSQL the inet containment operator
 * over the scope's CIDRs and its ASNs, both bound as array parameters.
 */
import type { StoreScope } from "../store.js";
import type { SqlEngine, SqlValue } from "./engine.js";
import type { SqliteEngine } from "./sqlite.js";

const scopes = new Map<string, StoreScope>();
const registered = new WeakSet<SqliteEngine>();

export function registerScopeFunction(engine: SqliteEngine): void {
  if (registered.has(engine)) return;
  registered.add(engine);
  engine.onConnection((db) =>
    db.function("vigie_in_scope", { deterministic: true }, (id: unknown, ip: unknown, asn: unknown) => {
      const s = typeof id === "string" ? scopes.get(id) : undefined;
      const n = typeof asn === "number" ? asn : typeof asn === "bigint" ? Number(asn) : null;
      return s !== undefined && typeof ip === "string" && s.contains(ip, n) ? 1 : 0;
    }),
  );
}

/** The condition "row of alias `t` is inside the scope", with its parameters. */
export function scopeCondition(engine: SqlEngine, scope: StoreScope, t: string): { sql: string; params: SqlValue[] } {
  if (engine.dialect === "sqlite") {
    if (!scopes.has(scope.id)) scopes.set(scope.id, scope);
    return { sql: `vigie_in_scope(?, ${t}.ip, ${t}.asn) = 1`, params: [scope.id] };
  }
  // The ASNs as one array (hosts_by_asn), one term per range (hosts_by_inet), so that PostgreSQL ORs two index
  // scans; a part the constituency does not have is left out (casting every address to inet costs).
  const terms: string[] = [];
  const params: SqlValue[] = [];
  if (scope.asns.length > 0) {
    terms.push(`${t}.asn = ANY(?::bigint[])`);
    params.push(scope.asns);
  }
  for (const cidr of scope.cidrs) {
    terms.push(`${t}.ip::inet <<= ?::inet`);
    params.push(cidr);
  }
  return { sql: terms.length > 0 ? `(${terms.join(" OR ")})` : "FALSE", params };
}

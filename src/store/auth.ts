/**
 * Accounts for `vigie serve`, in the same SQLite file as the data (tables created on first use, additive):
 * users with a role and an optional constituency (address ranges and ASNs they may see), API tokens (random
 * 32 bytes, stored only as SHA-256, revocable) and dashboard sessions (id stored as SHA-256, with a CSRF token).
 * Passwords are hashed with scrypt (node:crypto), compared in constant time.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { SqliteStore } from "./sqliteStore.js";

export const ROLES = ["admin", "analyst", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  name: string;
  role: Role;
  /** CIDRs and ASNs ("AS64500" or "64500") the user is limited to; empty = everything. */
  constituency: string[];
  createdAt: string;
}

export interface TokenInfo {
  id: string;
  user: string;
  createdAt: string;
  revokedAt: string | null;
}

const AUTH_SCHEMA = `
CREATE TABLE IF NOT EXISTS auth_users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
  password TEXT,
  constituency TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_tokens (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES auth_users(name) ON DELETE CASCADE,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS auth_sessions (
  hash TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES auth_users(name) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

const ready = new WeakSet<SqliteStore>();

export function ensureAuthSchema(store: SqliteStore): void {
  if (ready.has(store)) return;
  store.db.exec(AUTH_SCHEMA);
  ready.add(store);
}

export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const sha256 = (s: string): string => createHash("sha256").update(s).digest("hex");

const SCRYPT = { N: 16384, r: 8, p: 1 };

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export function checkPassword(password: string, stored: string): boolean {
  const [tag, n, r, p, salt, key] = stored.split("$");
  if (tag !== "scrypt" || !salt || !key) return false;
  const want = Buffer.from(key, "base64");
  const got = scryptSync(password, Buffer.from(salt, "base64"), want.length, { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === want.length && timingSafeEqual(got, want);
}

interface UserRow {
  name: string;
  role: string;
  password: string | null;
  constituency: string;
  created_at: string;
}

const toUser = (r: UserRow): User => ({
  name: r.name,
  role: r.role as Role,
  constituency: JSON.parse(r.constituency) as string[],
  createdAt: r.created_at,
});

export function addUser(store: SqliteStore, u: { name: string; role: Role; constituency: string[]; password: string | null }): User {
  ensureAuthSchema(store);
  if (!USER_NAME.test(u.name)) throw new Error(`user name ${JSON.stringify(u.name.slice(0, 80))}: letters, digits and . _ @ - (at most 64)`);
  if (getUser(store, u.name)) throw new Error(`user ${u.name} already exists`);
  store.db
    .prepare("INSERT INTO auth_users (name, role, password, constituency, created_at) VALUES (?, ?, ?, ?, ?)")
    .run(u.name, u.role, u.password !== null ? hashPassword(u.password) : null, JSON.stringify(u.constituency), new Date().toISOString());
  return getUser(store, u.name)!;
}

export function getUser(store: SqliteStore, name: string): User | undefined {
  ensureAuthSchema(store);
  const r = store.db.prepare("SELECT * FROM auth_users WHERE name = ?").get(name) as UserRow | undefined;
  return r ? toUser(r) : undefined;
}

export function listUsers(store: SqliteStore): User[] {
  ensureAuthSchema(store);
  return (store.db.prepare("SELECT * FROM auth_users ORDER BY name").all() as UserRow[]).map(toUser);
}

export function countUsers(store: SqliteStore): number {
  ensureAuthSchema(store);
  return (store.db.prepare("SELECT COUNT(*) AS n FROM auth_users").get() as { n: number }).n;
}

/** Removes the user with its tokens and sessions. */
export function removeUser(store: SqliteStore, name: string): boolean {
  ensureAuthSchema(store);
  return store.db.transaction(() => {
    store.db.prepare("DELETE FROM auth_tokens WHERE user = ?").run(name);
    store.db.prepare("DELETE FROM auth_sessions WHERE user = ?").run(name);
    return store.db.prepare("DELETE FROM auth_users WHERE name = ?").run(name).changes > 0;
  })();
}

/** The user if the password is right; undefined otherwise (also for users without a password). */
export function verifyLogin(store: SqliteStore, name: string, password: string): User | undefined {
  ensureAuthSchema(store);
  const r = store.db.prepare("SELECT * FROM auth_users WHERE name = ?").get(name) as UserRow | undefined;
  // A dummy hash keeps the time the same for unknown users.
  const ok = checkPassword(password, r?.password ?? "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  return r && r.password !== null && ok ? toUser(r) : undefined;
}

/** A new API token: the secret is returned once; only its SHA-256 is stored. */
export function createToken(store: SqliteStore, user: string): { id: string; token: string } {
  ensureAuthSchema(store);
  if (!getUser(store, user)) throw new Error(`no user ${user}`);
  const id = randomBytes(6).toString("hex");
  const token = `vigie_${randomBytes(32).toString("base64url")}`;
  store.db.prepare("INSERT INTO auth_tokens (id, user, hash, created_at) VALUES (?, ?, ?, ?)").run(id, user, sha256(token), new Date().toISOString());
  return { id, token };
}

/** Revoke by token id or by the token itself. */
export function revokeToken(store: SqliteStore, idOrToken: string): boolean {
  ensureAuthSchema(store);
  const now = new Date().toISOString();
  return (
    store.db
      .prepare("UPDATE auth_tokens SET revoked_at = ? WHERE (id = ? OR hash = ?) AND revoked_at IS NULL")
      .run(now, idOrToken, sha256(idOrToken)).changes > 0
  );
}

export function listTokens(store: SqliteStore, user?: string): TokenInfo[] {
  ensureAuthSchema(store);
  const rows = (user !== undefined
    ? store.db.prepare("SELECT id, user, created_at, revoked_at FROM auth_tokens WHERE user = ? ORDER BY created_at").all(user)
    : store.db.prepare("SELECT id, user, created_at, revoked_at FROM auth_tokens ORDER BY user, created_at").all()) as Array<{
    id: string;
    user: string;
    created_at: string;
    revoked_at: string | null;
  }>;
  return rows.map((r) => ({ id: r.id, user: r.user, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

export function userForToken(store: SqliteStore, token: string): User | undefined {
  ensureAuthSchema(store);
  const r = store.db
    .prepare("SELECT u.* FROM auth_tokens t JOIN auth_users u ON u.name = t.user WHERE t.hash = ? AND t.revoked_at IS NULL")
    .get(sha256(token)) as UserRow | undefined;
  return r ? toUser(r) : undefined;
}

export const SESSION_TTL_MS = 12 * 3600 * 1000;

export function createSession(store: SqliteStore, user: string): { id: string; csrf: string } {
  ensureAuthSchema(store);
  const id = randomBytes(32).toString("base64url");
  const csrf = randomBytes(32).toString("base64url");
  store.db.prepare("DELETE FROM auth_sessions WHERE expires_at < ?").run(Date.now());
  store.db.prepare("INSERT INTO auth_sessions (hash, user, csrf, expires_at) VALUES (?, ?, ?, ?)").run(sha256(id), user, csrf, Date.now() + SESSION_TTL_MS);
  return { id, csrf };
}

export function sessionUser(store: SqliteStore, id: string): { user: User; csrf: string } | undefined {
  ensureAuthSchema(store);
  const r = store.db
    .prepare("SELECT u.*, s.csrf AS csrf FROM auth_sessions s JOIN auth_users u ON u.name = s.user WHERE s.hash = ? AND s.expires_at > ?")
    .get(sha256(id), Date.now()) as (UserRow & { csrf: string }) | undefined;
  return r ? { user: toUser(r), csrf: r.csrf } : undefined;
}

export function deleteSession(store: SqliteStore, id: string): void {
  ensureAuthSchema(store);
  store.db.prepare("DELETE FROM auth_sessions WHERE hash = ?").run(sha256(id));
}

/**
 * Accounts for `vigie serve`, in the store beside the data: users with a role and an optional constituency
 * (address ranges and ASNs they may see), API tokens (random 32 bytes, stored only as SHA-256, revocable) and
 * dashboard sessions (id stored as SHA-256, with a CSRF token). Passwords are hashed with scrypt (node:crypto),
 * compared in constant time.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from "node:crypto";
import type { AccountStore, Role, TokenInfo, User } from "./store.js";
import type { SqlEngine } from "./sql/engine.js";

export { ROLES, type Role, type TokenInfo, type User } from "./store.js";

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

const scryptAsync = (password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));

/** checkPassword on libuv's thread pool: the event loop stays free while scrypt runs (~40 ms of CPU). */
export async function checkPasswordAsync(password: string, stored: string): Promise<boolean> {
  const [tag, n, r, p, salt, key] = stored.split("$");
  if (tag !== "scrypt" || !salt || !key) return false;
  const want = Buffer.from(key, "base64");
  const got = await scryptAsync(password, Buffer.from(salt, "base64"), want.length, { N: Number(n), r: Number(r), p: Number(p) });
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

export const SESSION_TTL_MS = 12 * 3600 * 1000;

// A dummy hash keeps the time of a log-in the same for unknown users.
const DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

export class SqlAccounts implements AccountStore {
  constructor(private readonly engine: SqlEngine) {}

  async addUser(u: { name: string; role: Role; constituency: string[]; password: string | null }): Promise<User> {
    if (!USER_NAME.test(u.name)) throw new Error(`user name ${JSON.stringify(u.name.slice(0, 80))}: letters, digits and . _ @ - (at most 64)`);
    if (await this.getUser(u.name)) throw new Error(`user ${u.name} already exists`);
    await this.engine.run("INSERT INTO auth_users (name, role, password, constituency, created_at) VALUES (?, ?, ?, ?, ?)", [
      u.name,
      u.role,
      u.password !== null ? hashPassword(u.password) : null,
      JSON.stringify(u.constituency),
      new Date().toISOString(),
    ]);
    return (await this.getUser(u.name))!;
  }

  async getUser(name: string): Promise<User | undefined> {
    const r = await this.engine.get<UserRow>("SELECT * FROM auth_users WHERE name = ?", [name]);
    return r ? toUser(r) : undefined;
  }

  async listUsers(): Promise<User[]> {
    return (await this.engine.all<UserRow>("SELECT * FROM auth_users ORDER BY name")).map(toUser);
  }

  async countUsers(): Promise<number> {
    return Number((await this.engine.get<{ n: number }>("SELECT COUNT(*) AS n FROM auth_users"))!.n);
  }

  async removeUser(name: string): Promise<boolean> {
    return this.engine.transaction(async (tx) => {
      await tx.run('DELETE FROM auth_tokens WHERE "user" = ?', [name]);
      await tx.run('DELETE FROM auth_sessions WHERE "user" = ?', [name]);
      return (await tx.run("DELETE FROM auth_users WHERE name = ?", [name])) > 0;
    });
  }

  async verifyLogin(name: string, password: string): Promise<User | undefined> {
    const r = await this.engine.get<UserRow>("SELECT * FROM auth_users WHERE name = ?", [name]);
    // Hashed off the event loop: a flood of log-ins does not stall the server (`vigie serve` also caps them).
    const ok = await checkPasswordAsync(password, r?.password ?? DUMMY);
    return r && r.password !== null && ok ? toUser(r) : undefined;
  }

  async createToken(user: string): Promise<{ id: string; token: string }> {
    if (!(await this.getUser(user))) throw new Error(`no user ${user}`);
    const id = randomBytes(6).toString("hex");
    const token = `vigie_${randomBytes(32).toString("base64url")}`;
    await this.engine.run('INSERT INTO auth_tokens (id, "user", hash, created_at) VALUES (?, ?, ?, ?)', [id, user, sha256(token), new Date().toISOString()]);
    return { id, token };
  }

  async revokeToken(idOrToken: string): Promise<boolean> {
    const now = new Date().toISOString();
    return (await this.engine.run("UPDATE auth_tokens SET revoked_at = ? WHERE (id = ? OR hash = ?) AND revoked_at IS NULL", [now, idOrToken, sha256(idOrToken)])) > 0;
  }

  async listTokens(user?: string): Promise<TokenInfo[]> {
    type Row = { id: string; user: string; created_at: string; revoked_at: string | null };
    const rows =
      user !== undefined
        ? await this.engine.all<Row>('SELECT id, "user", created_at, revoked_at FROM auth_tokens WHERE "user" = ? ORDER BY created_at', [user])
        : await this.engine.all<Row>('SELECT id, "user", created_at, revoked_at FROM auth_tokens ORDER BY "user", created_at');
    return rows.map((r) => ({ id: r.id, user: r.user, createdAt: r.created_at, revokedAt: r.revoked_at }));
  }

  async userForToken(token: string): Promise<User | undefined> {
    const r = await this.engine.get<UserRow>('SELECT u.* FROM auth_tokens t JOIN auth_users u ON u.name = t."user" WHERE t.hash = ? AND t.revoked_at IS NULL', [sha256(token)]);
    return r ? toUser(r) : undefined;
  }

  async createSession(user: string): Promise<{ id: string; csrf: string }> {
    const id = randomBytes(32).toString("base64url");
    const csrf = randomBytes(32).toString("base64url");
    await this.engine.run("DELETE FROM auth_sessions WHERE expires_at < ?", [Date.now()]);
    await this.engine.run('INSERT INTO auth_sessions (hash, "user", csrf, expires_at) VALUES (?, ?, ?, ?)', [sha256(id), user, csrf, Date.now() + SESSION_TTL_MS]);
    return { id, csrf };
  }

  async sessionUser(id: string): Promise<{ user: User; csrf: string } | undefined> {
    const r = await this.engine.get<UserRow & { csrf: string }>(
      'SELECT u.*, s.csrf AS csrf FROM auth_sessions s JOIN auth_users u ON u.name = s."user" WHERE s.hash = ? AND s.expires_at > ?',
      [sha256(id), Date.now()],
    );
    return r ? { user: toUser(r), csrf: r.csrf } : undefined;
  }

  async deleteSession(id: string): Promise<void> {
    await this.engine.run("DELETE FROM auth_sessions WHERE hash = ?", [sha256(id)]);
  }
}

/**
 * Opaque paging cursors for GET /api/hosts: the position is the last host's key within its snapshot
 * (snapshot, ip, port), sealed with AES-256-GCM under a key drawn at server start, and bound to the user, their
 * constituency and the query's filters and order. A client can neither read a cursor (no row id, nothing about
 * rows outside its scope) nor forge or reuse one for another user or query; a cursor from before a restart is
 * refused (400) like any other unknown one.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { HttpError } from "./http.js";

export interface CursorPosition {
  snapshot: string;
  ip: string;
  port: number;
}

const payload = z.object({ b: z.string(), s: z.string(), i: z.string(), p: z.number().int().min(0).max(65535) }).strict();

export class CursorSealer {
  private readonly key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    if (key.length !== 32) throw new Error("cursor key: 32 bytes");
    this.key = key;
  }

  /** A digest of what the cursor is bound to (user, scope, filters, order): not stored in clear. */
  static binding(parts: unknown): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 22);
  }

  seal(binding: string, pos: CursorPosition): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify({ b: binding, s: pos.snapshot, i: pos.ip, p: pos.port }), "utf8"), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64url");
  }

  open(binding: string, cursor: string): CursorPosition {
    const bad = new HttpError(400, "after: not a cursor of this query (cursors are valid for the same user, filters and order, until the server restarts)");
    const raw = Buffer.from(cursor, "base64url");
    if (raw.length < 29 || raw.length > 1024) throw bad;
    let data: unknown;
    try {
      const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      data = JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8"));
    } catch {
      throw bad;
    }
    const parsed = payload.safeParse(data);
    if (!parsed.success || parsed.data.b !== binding) throw bad;
    return { snapshot: parsed.data.s, ip: parsed.data.i, port: parsed.data.p };
  }
}

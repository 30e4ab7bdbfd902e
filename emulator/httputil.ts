import { randomUUID } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export function send(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string | Buffer = ""): void {
  const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) res.setHeader(k, v);
  res.setHeader("Content-Length", buf.length);
  res.statusCode = status;
  res.end(buf);
}

export function requestId(): string {
  return randomUUID();
}

/** Path without query, lowercased (IIS matches paths case-insensitively). */
export function lowerPath(req: IncomingMessage): string {
  const u = req.url ?? "/";
  const q = u.indexOf("?");
  let p = q < 0 ? u : u.slice(0, q);
  try {
    p = decodeURIComponent(p);
  } catch {
    // keep raw
  }
  return p.toLowerCase();
}

export function hostHeader(req: IncomingMessage, fallback: string): string {
  const h = req.headers.host;
  return typeof h === "string" && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(h) ? h : fallback;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Drains a request body (bounded) so keep-alive connections stay usable. */
export function drain(req: IncomingMessage, limit = 1 << 20): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n <= limit) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve(Buffer.concat(chunks)));
  });
}

/** Small HTTP helpers for `vigie serve` on node:http: errors, JSON answers, bounded bodies, security headers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import type { z } from "zod";

export interface HttpErrorOptions {
  /** Seconds, sent as Retry-After (429, 503). */
  retryAfter?: number;
  /** Write one line to the log (a malformed request worth knowing about; never a stack trace). */
  log?: boolean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly options: HttpErrorOptions = {},
  ) {
    super(message);
  }
}

/** Strict: only our own scripts, styles and images; nothing inline, no framing, no plugins. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function securityHeaders(res: ServerResponse): void {
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}

/** Gzipped forms of cached answers, made once per answer (the cache keeps the same Buffer until it empties). */
const gzipped = new WeakMap<Buffer, Buffer>();

/** JSON already serialised (cached answers); gzipped when the client accepts it and the answer is not tiny. */
export function sendJsonText(res: ServerResponse, text: string | Buffer): void {
  res.statusCode = 200;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Vary", "Accept-Encoding");
  let body = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  if (body.length >= 4096 && /\bgzip\b/.test(String(res.req.headers["accept-encoding"] ?? ""))) {
    let gz = gzipped.get(body);
    if (!gz) {
      gz = gzipSync(body, { level: 6 });
      if (typeof text !== "string") gzipped.set(text, gz);
    }
    res.setHeader("Content-Encoding", "gzip");
    body = gz;
  }
  res.setHeader("Content-Length", body.length);
  res.end(body);
}

export function sendBytes(res: ServerResponse, type: string, body: Buffer | string, cache = "no-store"): void {
  res.statusCode = 200;
  res.setHeader("Content-Type", type);
  res.setHeader("Cache-Control", cache);
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

export interface BodyRate {
  /** Bytes a second the body must keep arriving at, measured over every `windowMs` (408 and close otherwise). */
  minBytesPerSecond: number;
  windowMs: number;
}

/**
 * Read a request body, refusing (413) more than `limit` bytes, and (408) a body that trickles in too slowly.
 * On refusal the request stops being read; the error answer closes the connection.
 */
export function readBody(req: IncomingMessage, limit: number, rate?: BodyRate): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `body larger than ${limit} bytes`));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let mark = 0;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      if (timer) clearInterval(timer);
      req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(new HttpError(413, `body larger than ${limit} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onError = (err: Error): void => finish(err);
    const onClose = (): void => finish(new Error("the client closed the connection before the body ended"));
    const timer = rate
      ? setInterval(() => {
          if (size - mark < (rate.minBytesPerSecond * rate.windowMs) / 1000) finish(new HttpError(408, `the body arrived slower than ${rate.minBytesPerSecond} bytes/s`));
          mark = size;
        }, rate.windowMs)
      : undefined;
    timer?.unref();
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

export async function readJson<S extends z.ZodTypeAny>(req: IncomingMessage, schema: S, limit = 64 * 1024): Promise<z.output<S>> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("application/json")) throw new HttpError(415, "expected Content-Type: application/json");
  const body = await readBody(req, limit);
  let data: unknown;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new HttpError(400, `invalid body: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ").slice(0, 300)}`);
  return parsed.data as z.output<S>;
}

/** Query parameters checked with a zod schema (400 with the reason otherwise). */
export function parseQuery<S extends z.ZodTypeAny>(url: URL, schema: S): z.output<S> {
  const obj: Record<string, string> = {};
  for (const [k, v] of url.searchParams) obj[k] = v;
  const parsed = schema.safeParse(obj);
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; ").slice(0, 300));
  return parsed.data as z.output<S>;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

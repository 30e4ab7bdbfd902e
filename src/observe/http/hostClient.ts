/**
 * HTTP(S) to one host:port, for the probes: one kept-alive connection (undici), certificate captured at the
 * handshake, and hard limits on everything the server controls: connect time, time to headers, total time per
 * request, header size, body bytes (read and decompressed). A hostile server costs at most those limits.
 */
import { createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from "node:tls";
import zlib from "node:zlib";
import { buildConnector, Client } from "undici";
import { bounded, type Certificate } from "../../pipeline/vocabulary.js";

export interface HttpLimits {
  connectTimeoutMs: number;
  /** Time to the response headers, and the longest pause while reading the body. */
  readTimeoutMs: number;
  /** Total time for one request, body included (stops slow-drip servers). */
  requestTimeoutMs: number;
  maxHeaderBytes: number;
  /** Body bytes kept, compressed and decompressed alike; the rest is not read. */
  maxBodyBytes: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  connectTimeoutMs: 3000,
  readTimeoutMs: 5000,
  requestTimeoutMs: 8000,
  maxHeaderBytes: 32 * 1024,
  maxBodyBytes: 256 * 1024,
};

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: string;
  truncated: boolean;
}

export class HttpProbeError extends Error {
  override readonly name = "HttpProbeError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function describeError(err: unknown): HttpProbeError {
  if (err instanceof HttpProbeError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const code = e.code ?? e.name ?? "ERROR";
  return new HttpProbeError(bounded(`${code}: ${e.message ?? String(err)}`, 300), code);
}

function certificateFrom(c: PeerCertificate): Certificate | undefined {
  if (!c || Object.keys(c).length === 0) return undefined;
  const dn = (o: Record<string, unknown> | undefined): string =>
    o ? Object.entries(o).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`).join(", ") : "";
  const subject = dn(c.subject as unknown as Record<string, unknown>);
  const issuer = dn(c.issuer as unknown as Record<string, unknown>);
  const sans = (c.subjectaltname ?? "")
    .split(/,\s*/)
    .filter((s) => s !== "")
    .slice(0, 100)
    .map((s) => bounded(s, 256));
  return {
    subject: bounded(subject, 1024),
    issuer: bounded(issuer, 1024),
    sans,
    validFrom: bounded(c.valid_from ?? "", 64),
    validTo: bounded(c.valid_to ?? "", 64),
    fingerprint256: bounded(c.fingerprint256 ?? "", 128),
    selfSigned: subject === issuer,
  };
}

function decode(raw: Buffer, encoding: string | undefined, max: number): { text: string; truncated: boolean } {
  const enc = (encoding ?? "").toLowerCase().trim();
  if (enc === "" || enc === "identity") return { text: raw.toString("utf8"), truncated: false };
  const options = { maxOutputLength: max, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    const out =
      enc === "gzip" || enc === "x-gzip"
        ? zlib.gunzipSync(raw, options)
        : enc === "deflate"
          ? zlib.inflateSync(raw, options)
          : enc === "br"
            ? zlib.brotliDecompressSync(raw, { maxOutputLength: max })
            : undefined;
    if (!out) return { text: "", truncated: true };
    return { text: out.toString("utf8"), truncated: false };
  } catch (err) {
    // A bomb (decompresses past the limit) or garbage: the body is not used.
    const code = (err as { code?: string }).code ?? "";
    throw new HttpProbeError(
      code === "ERR_BUFFER_TOO_LARGE" ? `body decompresses to more than ${max} bytes (${enc})` : `cannot decode ${enc} body`,
      code === "ERR_BUFFER_TOO_LARGE" ? "BODY_TOO_LARGE" : "BAD_ENCODING",
    );
  }
}

/**
 * One TLS context for every connection: building one per connection re-reads the CA store each time, which was
 * the largest single CPU cost of a scan. Certificates are not verified (we fingerprint, we do not trust), so the
 * context carries no per-host state.
 */
let sharedContext: SecureContext | undefined;
const tlsContext = (): SecureContext => (sharedContext ??= createSecureContext({}));

export interface HostTarget {
  ip: string;
  port: number;
  hostname: string | null;
  tls: boolean;
}

export class HostClient {
  private readonly client: Client;
  certificate: Certificate | undefined;
  requests = 0;

  constructor(
    readonly target: HostTarget,
    readonly limits: HttpLimits = DEFAULT_LIMITS,
    /** Awaited before each request: the scan's global rate limit. */
    private readonly throttle?: () => Promise<void>,
  ) {
    const host = target.ip.includes(":") ? `[${target.ip}]` : target.ip;
    const origin = `${target.tls ? "https" : "http"}://${host}:${target.port}`;
    const base = buildConnector({
      rejectUnauthorized: false,
      secureContext: tlsContext(),
      timeout: limits.connectTimeoutMs,
      maxCachedSessions: 0,
      ...(target.hostname ? { servername: target.hostname } : {}),
    });
    const connect: buildConnector.connector = (opts, cb) =>
      base(opts, (...args: buildConnector.CallbackArgs) => {
        const socket = args[1];
        if (socket && target.tls && this.certificate === undefined) {
          try {
            this.certificate = certificateFrom((socket as TLSSocket).getPeerCertificate());
          } catch {
            // no certificate to read
          }
        }
        (cb as (...a: buildConnector.CallbackArgs) => void)(...args);
      });
    this.client = new Client(origin, {
      connect,
      connectTimeout: limits.connectTimeoutMs,
      headersTimeout: limits.readTimeoutMs,
      bodyTimeout: limits.readTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      keepAliveTimeout: 4000,
      pipelining: 1,
    });
  }

  /** GET a path; throws HttpProbeError on anything that is not a bounded, complete HTTP answer. */
  async get(path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
    this.requests++;
    if (this.throttle) await this.throttle();
    const signal = AbortSignal.timeout(this.limits.requestTimeoutMs);
    try {
      const res = await this.client.request({
        path,
        method: "GET",
        signal,
        headers: {
          host: this.target.hostname ?? (this.target.ip.includes(":") ? `[${this.target.ip}]` : this.target.ip),
          "user-agent": "Vigie/0.1 (Exchange exposure check; +https://github.com/vigie)",
          accept: "*/*",
          ...headers,
        },
      });
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const room = this.limits.maxBodyBytes - size;
        if (chunk.length >= room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          break;
        }
        chunks.push(chunk);
        size += chunk.length;
      }
      if (truncated) res.body.destroy();
      const raw = Buffer.concat(chunks, size);
      const encoding = res.headers["content-encoding"];
      const decoded = decode(raw, Array.isArray(encoding) ? encoding[0] : encoding, this.limits.maxBodyBytes);
      const headerOut: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headerOut[k] = v;
      return { status: res.statusCode, headers: headerOut, body: decoded.text, truncated: truncated || decoded.truncated };
    } catch (err) {
      throw describeError(signal.aborted ? new HttpProbeError(`no complete answer within ${this.limits.requestTimeoutMs} ms`, "TIMEOUT") : err);
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.destroy();
    } catch {
      // already closed
    }
  }
}

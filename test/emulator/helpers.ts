import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import type { MixKey } from "../../emulator/hosts.js";
import { DEFAULT_MIX } from "../../emulator/hosts.js";

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function get(
  ip: string,
  path: string,
  opts: { tls?: boolean; port?: number; headers?: Record<string, string>; method?: string; body?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const tls = opts.tls ?? true;
  const req = (tls ? httpsRequest : httpRequest)({
    host: ip,
    port: opts.port ?? (tls ? 443 : 80),
    path,
    method: opts.method ?? "GET",
    headers: { Host: ip, ...(opts.headers ?? {}) },
    agent: false,
    rejectUnauthorized: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy(new Error("timeout"));
    }, opts.timeoutMs ?? 4000);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    req.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(opts.body);
  });
}

/** Raw SMTP dialogue: returns everything read after sending `lines`, within timeoutMs. */
export function smtpDialogue(ip: string, port: number, lines: string[], timeoutMs = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: ip, port });
    let out = "";
    s.on("data", (d: Buffer) => {
      const first = out.length === 0;
      out += d.toString("latin1");
      if (first) s.write(lines.map((l) => `${l}\r\n`).join(""));
    });
    s.on("error", reject);
    s.on("close", () => resolve(out));
    setTimeout(() => {
      s.destroy();
      resolve(out);
    }, timeoutMs);
  });
}

export function onlyMix(...keys: MixKey[]): Partial<Record<MixKey, number>> {
  const m: Partial<Record<MixKey, number>> = {};
  for (const k of Object.keys(DEFAULT_MIX) as MixKey[]) m[k] = keys.includes(k) ? DEFAULT_MIX[k] || 1 : 0;
  return m;
}

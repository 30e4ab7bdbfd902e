/**
 * Hostile hosts: things a scanner meets on the internet and must survive with bounded time and memory.
 * These are generic failure modes, not a model of a specific product:
 *  - tarpit: accepts, never answers (closed by the emulator after 10 minutes);
 *  - reset: TCP RST right after accept;
 *  - tls-garbage: replies random bytes to the ClientHello (also on plain ports);
 *  - binary-garbage: (after TLS on TLS ports) random bytes instead of an HTTP answer;
 *  - slowloris: answers one byte every `slowDelayMs` (default 2 s), forever;
 *  - endless-headers: a status line then header lines that never end (paced ~1.3 MB/s);
 *  - gzip-bomb: `Content-Encoding: gzip`, a ~2 MB body that inflates to 2 GiB (concatenated gzip members,
 *    RFC 1952 section 2.2 allows multiple members);
 *  - huge-body: `Content-Length: 400 MiB` streamed lazily with back-pressure.
 */
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import type { HostileKind } from "./hosts.js";

export const TARPIT_MAX_MS = 10 * 60_000;
export const HUGE_BODY_BYTES = 400 * 1024 * 1024;
const BOMB_MEMBER_INFLATED = 16 * 1024 * 1024;
const BOMB_MEMBERS = 128; // 128 x 16 MiB = 2 GiB inflated

let bombBody: Buffer | undefined;
export function gzipBombBody(): Buffer {
  if (!bombBody) {
    const member = gzipSync(Buffer.alloc(BOMB_MEMBER_INFLATED), { level: 9 });
    bombBody = Buffer.concat(Array.from({ length: BOMB_MEMBERS }, () => member));
  }
  return bombBody;
}
export const GZIP_BOMB_INFLATED = BOMB_MEMBER_INFLATED * BOMB_MEMBERS;

/** Behaviours handled on the raw TCP socket before any TLS. Returns true if handled. */
export function handleRawHostile(kind: HostileKind, sock: Socket): boolean {
  switch (kind) {
    case "tarpit": {
      sock.pause();
      const t = setTimeout(() => sock.destroy(), TARPIT_MAX_MS);
      t.unref();
      sock.once("close", () => clearTimeout(t));
      return true;
    }
    case "reset":
      sock.resetAndDestroy();
      return true;
    case "tls-garbage":
      sock.once("data", () => {
        sock.end(randomBytes(517));
      });
      return true;
    default:
      return false;
  }
}

function onFirstData(sock: Duplex, fn: () => void): void {
  sock.once("data", () => {
    sock.on("data", () => undefined); // discard the rest of the request
    fn();
  });
}

/** Behaviours that speak (broken) HTTP, after TLS when the port is a TLS port. */
export function handleStreamHostile(kind: HostileKind, sock: Duplex, slowDelayMs: number): void {
  let closed = false;
  sock.once("close", () => {
    closed = true;
  });
  switch (kind) {
    case "binary-garbage":
      onFirstData(sock, () => sock.end(randomBytes(4096)));
      return;
    case "slowloris":
      onFirstData(sock, () => {
        const text = Buffer.from("HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\nX-Slow: " + "a".repeat(1 << 16));
        let i = 0;
        const timer = setInterval(() => {
          if (closed) return clearInterval(timer);
          sock.write(text.subarray(i % text.length, (i % text.length) + 1));
          i++;
        }, slowDelayMs);
        sock.once("close", () => clearInterval(timer));
      });
      return;
    case "endless-headers":
      onFirstData(sock, () => {
        sock.write("HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\n");
        let n = 0;
        const timer = setInterval(() => {
          if (closed) return clearInterval(timer);
          if (sock.writableLength > 1 << 20) return; // client not reading: don't buffer more
          const lines: string[] = [];
          for (let k = 0; k < 800; k++) lines.push(`X-Filler-${n++}: ${"x".repeat(64)}\r\n`);
          sock.write(lines.join(""));
        }, 50);
        sock.once("close", () => clearInterval(timer));
      });
      return;
    case "gzip-bomb":
      onFirstData(sock, () => {
        const body = gzipBombBody();
        sock.write(
          `HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        );
        sock.end(body);
      });
      return;
    case "huge-body":
      onFirstData(sock, () => {
        sock.write(
          `HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\nContent-Type: text/html\r\nContent-Length: ${HUGE_BODY_BYTES}\r\nConnection: close\r\n\r\n`,
        );
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        let sent = 0;
        const pump = (): void => {
          while (!closed && sent < HUGE_BODY_BYTES) {
            const n = Math.min(chunk.length, HUGE_BODY_BYTES - sent);
            sent += n;
            if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
              sock.once("drain", pump);
              return;
            }
          }
          if (!closed) sock.end();
        };
        pump();
      });
      return;
    default:
      sock.destroy();
  }
}

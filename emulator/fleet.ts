/**
 * Exchange fleet emulator: many emulated hosts on loopback addresses, served by one process.
 *
 * One `net.Server` per address:port (so each host is a real, separate TCP endpoint), one shared
 * `http.Server` fed with accepted sockets, one TLS context per certificate profile. Host state is a
 * small plain object (HostPlan); everything else is computed per request.
 *
 * SAFETY: every address is checked to lie in 127.0.0.0/8 (never 127.0.0.1, 127.0.0.0 nor
 * 127.255.255.255) before anything is bound. Nothing here connects anywhere.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import type { Server as NetServer, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import type { SecureContext } from "node:tls";
import { loadCatalogue, PRODUCTS, restrictCatalogue } from "./builds.js";
import { generateCertificates, secureContexts } from "./certs.js";
import { handleExchange } from "./exchange.js";
import { handleRawHostile, handleStreamHostile } from "./hostile.js";
import type { CertProfile, HostPlan, HostTruth, MixKey } from "./hosts.js";
import { DEFAULT_MIX, planHost } from "./hosts.js";
import { handleLookalike, handleWeb } from "./others.js";
import { handleSmtp } from "./smtp.js";

export interface FleetOptions {
  hosts: number;
  seed?: number;
  /** First host address; hosts take consecutive addresses. Default 127.20.0.1. */
  baseAddress?: string;
  /** HTTP(S) ports. Default [443, 80]. */
  ports?: number[];
  /** Also listen on 25 and 587 (SMTP) for Exchange hosts that expose SMTP. */
  smtp?: boolean;
  /** Ports that speak TLS. Default [443, 8443]. */
  tlsPorts?: number[];
  /** Partial weights of host kinds (see DEFAULT_MIX). */
  mix?: Partial<Record<MixKey, number>>;
  /** Delay between bytes of slowloris hosts. Default 2000 ms. */
  slowDelayMs?: number;
  /** Directory holding builds/ and advisories/ (default: the repository's knowledge/). */
  knowledgeDir?: string;
  /** Exchange hosts run only these builds (each must be in the catalogue); products without one get no host. */
  builds?: readonly string[];
  /** Idle timeout of a served connection. Default 60 s. */
  idleTimeoutMs?: number;
}

export interface Fleet {
  hosts: HostTruth[];
  /** "knowledge" when builds came from knowledge/*.json, "fallback" for the built-in list. */
  buildSource: "knowledge" | "fallback";
  close(): Promise<void>;
}

export const SMTP_PORTS: readonly number[] = [25, 587];

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) throw new Error(`not an IPv4 address: ${ip}`);
  const parts = m.slice(1).map((x) => Number.parseInt(x, 10));
  if (parts.some((x) => x > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const LOOPBACK_LO = ipToInt("127.0.0.1") + 1; // never 127.0.0.0 nor 127.0.0.1
const LOOPBACK_HI = ipToInt("127.255.255.254");

/** Throws unless every host address is a loopback address other than 127.0.0.1. */
export function assertLoopbackRange(base: string, count: number): number {
  const b = ipToInt(base);
  if (!Number.isInteger(count) || count < 1) throw new Error("hosts must be a positive integer");
  if (b < LOOPBACK_LO || b + count - 1 > LOOPBACK_HI) {
    throw new Error(`host addresses ${base} .. ${intToIp(b + count - 1)} must lie in 127.0.0.2 .. 127.255.255.254`);
  }
  return b;
}

/** Soft RLIMIT_NOFILE of this process (Linux), or undefined. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (!m) return undefined;
    return m[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number.parseInt(m[1]!, 10);
  } catch {
    return undefined;
  }
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const seed = opts.seed ?? 1;
  const baseAddress = opts.baseAddress ?? "127.20.0.1";
  const baseInt = assertLoopbackRange(baseAddress, opts.hosts);
  const ports = [...new Set([...(opts.ports ?? [443, 80]), ...(opts.smtp ? SMTP_PORTS : [])])];
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`bad port ${p}`);
  const tlsPorts = new Set(opts.tlsPorts ?? [443, 8443]);
  const slowDelayMs = opts.slowDelayMs ?? 2000;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  const mix = { ...DEFAULT_MIX, ...(opts.mix ?? {}) };
  const loaded = loadCatalogue(opts.knowledgeDir);
  const catalogue = opts.builds ? restrictCatalogue(loaded, opts.builds) : loaded;
  for (const p of PRODUCTS) if (catalogue.byProduct[p].length === 0) mix[`exchange${p}`] = 0;

  const plans: HostPlan[] = new Array<HostPlan>(opts.hosts);
  let listenerCount = 0;
  for (let i = 0; i < opts.hosts; i++) {
    plans[i] = planHost(i, intToIp(baseInt + i), ports, { seed, mix, catalogue });
    listenerCount += plans[i]!.truth.ports.length;
  }
  const limit = openFileLimit();
  const needed = listenerCount + 256;
  if (limit !== undefined && needed > limit) {
    throw new Error(
      `the fleet needs ${listenerCount} listening sockets plus connections (~${needed} file descriptors) but ` +
        `the open-file limit is ${limit}: raise it first (as root: ulimit -n ${Math.max(needed * 2, 65536)}) or use fewer hosts/ports`,
    );
  }

  const contexts: Record<CertProfile, SecureContext> = secureContexts(generateCertificates());
  const socketPlan = new WeakMap<Duplex, HostPlan>();
  const sockets = new Set<Socket>();
  const listeners: NetServer[] = [];

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const plan = socketPlan.get(req.socket);
    if (!plan) {
      req.socket.destroy();
      return;
    }
    const tls = req.socket instanceof TLSSocket;
    let p: Promise<void>;
    switch (plan.truth.kind) {
      case "exchange":
        p = handleExchange(plan, req, res, tls);
        break;
      case "lookalike":
        p = handleLookalike(plan, req, res);
        break;
      default:
        p = handleWeb(plan, req, res);
    }
    p.catch(() => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else res.destroy();
    });
  };
  const http = createHttpServer({ maxHeaderSize: 16384 }, onRequest);
  http.on("clientError", (_err, sock: Duplex) => sock.destroy());

  const noop = (): void => undefined;
  const onConnection = (sock: Socket): void => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
    sock.on("error", noop);
    const idx = ipToInt(sock.localAddress ?? "0.0.0.0") - baseInt;
    const plan = plans[idx];
    const port = sock.localPort ?? 0;
    if (!plan) {
      sock.destroy();
      return;
    }
    const isTls = tlsPorts.has(port);
    if (plan.truth.kind === "hostile") {
      const kind = plan.truth.hostile!;
      if (handleRawHostile(kind, sock)) return;
      sock.setTimeout(idleTimeoutMs * 5, () => sock.destroy());
      if (isTls) {
        const t = new TLSSocket(sock, { isServer: true, secureContext: contexts.web });
        t.on("error", () => sock.destroy());
        handleStreamHostile(kind, t, slowDelayMs);
      } else handleStreamHostile(kind, sock, slowDelayMs);
      return;
    }
    if (SMTP_PORTS.includes(port)) {
      handleSmtp(plan, sock, contexts[plan.cert]);
      return;
    }
    sock.setTimeout(idleTimeoutMs, () => sock.destroy());
    if (isTls) {
      const t = new TLSSocket(sock, { isServer: true, secureContext: contexts[plan.cert] });
      t.on("error", () => sock.destroy());
      socketPlan.set(t, plan);
      http.emit("connection", t);
    } else {
      socketPlan.set(sock, plan);
      http.emit("connection", sock);
    }
  };

  const close = async (): Promise<void> => {
    const done = listeners.map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of sockets) s.destroy();
    await Promise.all(done);
  };

  try {
    const jobs: [string, number][] = [];
    for (const plan of plans) for (const port of plan.truth.ports) jobs.push([plan.truth.ip, port]);
    const BATCH = 512;
    for (let i = 0; i < jobs.length; i += BATCH) {
      await Promise.all(
        jobs.slice(i, i + BATCH).map(
          ([host, port]) =>
            new Promise<void>((resolve, reject) => {
              const srv = createNetServer(onConnection);
              listeners.push(srv);
              srv.once("error", (e: NodeJS.ErrnoException) =>
                reject(new Error(`cannot listen on ${host}:${port}: ${e.code ?? e.message}${e.code === "EMFILE" ? " (raise ulimit -n)" : ""}`)),
              );
              srv.listen({ host, port, backlog: 128, exclusive: true }, () => resolve());
            }),
        ),
      );
    }
  } catch (e) {
    await Promise.all(listeners.map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
    throw e;
  }

  return { hosts: plans.map((p) => p.truth), buildSource: catalogue.source, close };
}

/** Ground truth as JSON Lines, one host per line. */
export function truthJsonl(hosts: readonly HostTruth[]): string {
  return hosts.map((h) => JSON.stringify(h)).join("\n") + "\n";
}

export async function writeTruth(hosts: readonly HostTruth[], file: string): Promise<void> {
  await writeFile(file, truthJsonl(hosts));
}

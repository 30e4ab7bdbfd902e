/**
 * Which server a bundle comes from: the collector's manifest.json (host name, FQDN, IP addresses), and the
 * addresses a user gives with `--host`. Validated with zod; a manifest that does not parse is a problem to report,
 * never fatal. Pure.
 */
import { isIP } from "node:net";
import { z } from "zod";

export interface TriageServer {
  hostname: string | null;
  fqdn: string | null;
  /** IP addresses, as written by the collector or given with --host (normalised, deduplicated). */
  addresses: string[];
  /** Where the identity came from. */
  source: "manifest" | "option" | "manifest+option";
}

/** The manifest is small: anything larger is not the collector's. */
export const MAX_MANIFEST_BYTES = 64 * 1024;

const nameSchema = z.string().trim().min(1).max(255).regex(/^[A-Za-z0-9._-]+$/, "a host name of letters, digits, '.', '-' or '_'");
const manifestSchema = z
  .object({
    computer: nameSchema.nullish(),
    fqdn: nameSchema.nullish(),
    // PowerShell 5.1 writes a one-element array as a bare string.
    ipAddresses: z.union([z.string(), z.array(z.string())]).nullish(),
  })
  .passthrough();

/** An IPv4 or IPv6 address in a canonical text form, or null (zone ids dropped). */
export function normalizeAddress(raw: string): string | null {
  const s = raw.trim().replace(/%.*$/, "");
  const v = isIP(s);
  if (v === 4) return s.split(".").map((o) => String(Number(o))).join(".");
  if (v === 6) {
    try {
      return new URL(`http://[${s}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

/** Addresses the census would never hold: loopback, link-local, unspecified. */
function usable(a: string): boolean {
  return !/^(127\.|169\.254\.|0\.0\.0\.0$)/.test(a) && !/^(::1?$|fe80:)/i.test(a);
}

/** manifest.json bytes → the server it names, or a problem message. A UTF-8 BOM (PowerShell 5.1) is allowed. */
export function parseManifest(bytes: Buffer): { server: TriageServer | null; problem: string | null } {
  if (bytes.length > MAX_MANIFEST_BYTES) return { server: null, problem: `manifest larger than ${MAX_MANIFEST_BYTES} bytes; not read` };
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { server: null, problem: `manifest is not JSON (${(err as Error).message.slice(0, 120)})` };
  }
  const m = manifestSchema.safeParse(json);
  if (!m.success) {
    const i = m.error.issues[0]!;
    return { server: null, problem: `manifest: ${i.path.join(".") || "(top level)"}: ${i.message}` };
  }
  const raw = m.data.ipAddresses === undefined || m.data.ipAddresses === null ? [] : Array.isArray(m.data.ipAddresses) ? m.data.ipAddresses : [m.data.ipAddresses];
  const bad = raw.filter((a) => normalizeAddress(a) === null);
  const addresses = [...new Set(raw.map(normalizeAddress).filter((a): a is string => a !== null && usable(a)))].slice(0, 64);
  const server: TriageServer = { hostname: m.data.computer ?? null, fqdn: m.data.fqdn ?? null, addresses, source: "manifest" };
  if (!server.hostname && !server.fqdn && !addresses.length) return { server: null, problem: "manifest names no host (computer, fqdn, ipAddresses)" };
  return { server, problem: bad.length ? `manifest: ${bad.length} IP address(es) not understood, ignored` : null };
}

/** The bundle's server with the `--host` addresses first (they are what the user matched against the store). */
export function withHostOption(server: TriageServer | null, hosts: readonly string[]): TriageServer | null {
  if (!hosts.length) return server;
  // The CLI refuses an address that does not parse; here such a value is simply left out.
  const given = hosts.map(normalizeAddress).filter((a): a is string => a !== null);
  if (!server) return { hostname: null, fqdn: null, addresses: [...new Set(given)], source: "option" };
  return { ...server, addresses: [...new Set([...given, ...server.addresses])], source: "manifest+option" };
}

/** Is this bundle path the collector's manifest (at the root, or one folder down as in a zipped staging folder)? */
export function isManifestPath(bundlePath: string): boolean {
  return /^(?:[^/]+\/)?manifest\.json$/i.test(bundlePath);
}

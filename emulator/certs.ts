/**
 * Self-signed certificates, generated at start with the `openssl` CLI in a temporary directory that is
 * removed right after the keys are read. Nothing is written to the repository.
 *
 * Profiles: "exchange" mimics Exchange's own self-signed certificate (subject CN = the server name, SAN =
 * name and FQDN: Microsoft Learn "Digital certificates and encryption in Exchange Server", the default
 * self-signed certificate); "corporate" a mail.<domain> certificate; "web" an Ubuntu snakeoil-like
 * certificate; "citrix" a gateway certificate. One TLS context per profile, shared by all hosts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { SecureContext } from "node:tls";
import type { CertProfile } from "./hosts.js";

interface Profile {
  subject: string;
  san: string;
  rsa: boolean;
}
const PROFILES: Record<CertProfile, Profile> = {
  exchange: { subject: "/CN=EXCH01", san: "DNS:EXCH01,DNS:exch01.contoso.local", rsa: true },
  corporate: { subject: "/C=US/O=Contoso Ltd/CN=mail.contoso.example", san: "DNS:mail.contoso.example,DNS:autodiscover.contoso.example", rsa: true },
  web: { subject: "/CN=ubuntu", san: "DNS:ubuntu", rsa: false },
  citrix: { subject: "/CN=gateway.example", san: "DNS:gateway.example", rsa: true },
};

export interface CertMaterial {
  key: Buffer;
  cert: Buffer;
}

export function generateCertificates(): Record<CertProfile, CertMaterial> {
  const dir = mkdtempSync(join(tmpdir(), "vigie-emu-certs-"));
  try {
    const out = {} as Record<CertProfile, CertMaterial>;
    for (const [name, p] of Object.entries(PROFILES) as [CertProfile, Profile][]) {
      const key = join(dir, `${name}.key`);
      const crt = join(dir, `${name}.crt`);
      const keyArgs = p.rsa ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
      execFileSync(
        "openssl",
        ["req", "-x509", ...keyArgs, "-nodes", "-keyout", key, "-out", crt, "-days", "825", "-subj", p.subject, "-addext", `subjectAltName=${p.san}`],
        { stdio: "ignore", timeout: 30_000 },
      );
      out[name] = { key: readFileSync(key), cert: readFileSync(crt) };
    }
    return out;
  } catch (e) {
    throw new Error(`cannot generate certificates with the openssl CLI (is it installed?): ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function secureContexts(material: Record<CertProfile, CertMaterial>): Record<CertProfile, SecureContext> {
  const out = {} as Record<CertProfile, SecureContext>;
  for (const [k, m] of Object.entries(material) as [CertProfile, CertMaterial][]) {
    out[k] = createSecureContext({ key: m.key, cert: m.cert, minVersion: "TLSv1.2" });
  }
  return out;
}

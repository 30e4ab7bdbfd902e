/**
 * The pipeline's vocabulary, one module every stage imports (observe, import, identify, assess, store, census,
 * serve): Observation (with its Evidence) -> Identification -> Assessment (per-CVE verdicts). Pure: types and
 * the zod schemas of what comes from outside.
 *
 * Observation: raw evidence about one host:port, from a live probe or an imported scan record.
 * A live scan and an import meet here; everything after (identification, assessment, store, census) is the same.
 * Every value is bounded in size when it is recorded (see `bounded`): it came from the network.
 */
import { z } from "zod";

/** Where a piece of evidence was read. */
export const evidenceSchema = z
  .object({
    /** The probe or import that produced it: "owa", "logon-page", "exporttool", "ecp-candidate", "ews", "autodiscover", "ntlm", "tls", "smtp", "check-cve-2021-26855", "import:zgrab2" … */
    probe: z.string().max(64),
    /** What the evidence means, for fingerprinting (see src/identify/fingerprint.ts for the weights). */
    kind: z.enum([
      "exporttool-build",
      "ecp-candidate-build",
      "owa-version-header",
      "logon-page-build",
      "ews-server-version",
      "imported-build",
      "exchange-header",
      "exchange-endpoint",
      "owa-page",
      // The logon page's own form: it posts to /owa/auth.owa with username and password fields.
      "logon-form",
      // An answer that says "not Exchange here": another webmail product, OWA resources on another host, an
      // Exchange endpoint (EWS, Autodiscover, ActiveSync) that does not exist.
      "not-exchange",
      "ntlm",
      "certificate",
      "smtp-banner",
      "http-server",
      "check",
      "other",
    ]),
    /** What was read: "GET /owa/ -> header X-OWA-Version", "body /owa/auth/15.1.2176/", "NTLM target info". */
    field: z.string().max(200),
    /** The value as read (bounded, never interpreted as markup). */
    value: z.string().max(2048),
    /** A build number this evidence states, normalised, with as many parts as it states. */
    build: z.string().max(32).optional(),
  })
  .strict();
export type Evidence = z.infer<typeof evidenceSchema>;

export const certificateSchema = z
  .object({
    subject: z.string().max(1024),
    issuer: z.string().max(1024),
    sans: z.array(z.string().max(256)).max(100),
    validFrom: z.string().max(64),
    validTo: z.string().max(64),
    fingerprint256: z.string().max(128),
    selfSigned: z.boolean(),
  })
  .strict();
export type Certificate = z.infer<typeof certificateSchema>;

export const ntlmInfoSchema = z
  .object({
    netbiosDomain: z.string().max(256).optional(),
    netbiosComputer: z.string().max(256).optional(),
    dnsDomain: z.string().max(256).optional(),
    dnsComputer: z.string().max(256).optional(),
    dnsTree: z.string().max(256).optional(),
    /** Windows version from the NTLM VERSION field: "10.0.17763". */
    osVersion: z.string().max(32).optional(),
  })
  .strict();
export type NtlmInfo = z.infer<typeof ntlmInfoSchema>;

export const observationSchema = z
  .object({
    ip: z.string().max(64),
    port: z.number().int().min(0).max(65535),
    hostname: z.string().max(256).nullable(),
    /** "scan" or "import:<format>". */
    source: z.string().max(64),
    observedAt: z.string().max(40),
    /** Did anything answer on this port (TCP connect at least)? */
    responded: z.boolean(),
    tls: z.boolean(),
    certificate: certificateSchema.optional(),
    ntlm: ntlmInfoSchema.optional(),
    /** HTTP title of the main page, SMTP banner… (bounded). */
    title: z.string().max(512).optional(),
    evidence: z.array(evidenceSchema).max(200),
    /** What went wrong where (timeouts, resets, TLS errors), bounded. */
    errors: z.array(z.string().max(300)).max(50),
  })
  .strict();
export type Observation = z.infer<typeof observationSchema>;

/** Cut a value from the network to a bounded length (the schemas' limits). */
export function bounded(value: string, max = 2048): string {
  return value.length > max ? value.slice(0, max) : value;
}

/** How sure the identification is that this is Exchange with that build (see src/identify/fingerprint.ts). */
export type Confidence = "high" | "medium" | "low";
export const CONFIDENCES = ["high", "medium", "low"] as const satisfies readonly Confidence[];

/** The Windows versions a product line runs on and their IIS versions (knowledge/platforms.json). */
export interface ProductPlatform {
  /** "Exchange Server 2016", or "Exchange Server 2019 or Exchange Server SE" where a line is shared. */
  product: string;
  windows: readonly string[];
  /** IIS versions, ascending: 7.5, 8, 8.5, 10. */
  iis: readonly number[];
}
/**
 * Per product line ("14" for Exchange 2010, "15.0", "15.1", "15.2"), its platform: plain data, handed to the
 * import's parser threads as it is (KnowledgeBase.platformTable()).
 */
export type PlatformTable = Readonly<Record<string, ProductPlatform>>;

/** Identification: from an Observation's evidence, is this Exchange, which build, how precisely (src/identify). */
export interface Identification {
  isExchange: boolean;
  /** Best-supported build, as many parts as the evidence supports; null when none. */
  build: string | null;
  precision: Precision;
  confidence: Confidence;
  /** Why that confidence, e.g. "single answer: OWA logon page only (…)". Absent in records stored before it existed. */
  confidenceReason?: string;
  /** Evidence the build rests on, e.g. "owa-version-header 15.1.2176.9". */
  basis: string[];
  /** Claims that disagree with the chosen build. */
  conflicts: string[];
  /** Why a host with Exchange-looking answers is not counted as Exchange, or other caveats. */
  note?: string;
}

/** The vocabulary of an Assessment: per-CVE verdicts for one identified build (src/assess). */
export type CveStatus = "vulnerable" | "patched" | "not_affected" | "unknown";
export const CVE_STATUSES: readonly CveStatus[] = ["vulnerable", "patched", "not_affected", "unknown"];

/** How much of the build is known: all 4 parts, the CU (3 parts), the major version, or nothing usable. */
export type Precision = "exact" | "cu" | "major" | "unknown";

export interface CveVerdict {
  id: string;
  status: CveStatus;
  /** Why, in a sentence an admin can check. */
  reason: string;
  /** The first build on this server's CU line that fixes the CVE; null where the line never got a fix. */
  fixedIn: string | null;
  /** What to install; null when nothing is needed. */
  remediation: string | null;
}

/** Assessment of one identified host:port: what it runs and, per CVE, whether it is exposed. */
export interface Assessment {
  isExchange: boolean;
  /** Product display name, null when not Exchange or not known. */
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: Precision;
  cves: CveVerdict[];
}

/**
 * NTLM CHALLENGE (type 2) messages, as an Exchange/IIS server sends them in
 * `WWW-Authenticate: NTLM <base64>` (or `Negotiate <base64>`) after a client's NEGOTIATE (type 1).
 *
 * Layout from [MS-NLMP] (https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/):
 *  - 2.2.1.2 CHALLENGE_MESSAGE: Signature "NTLMSSP\0", MessageType 2, TargetNameFields, NegotiateFlags,
 *    ServerChallenge (8), Reserved (8), TargetInfoFields, Version (8), then the payload;
 *  - 2.2.2.1 AV_PAIR ids: MsvAvEOL 0, NbComputerName 1, NbDomainName 2, DnsComputerName 3,
 *    DnsDomainName 4, DnsTreeName 5, Timestamp 7;
 *  - 2.2.2.10 VERSION: ProductMajorVersion, ProductMinorVersion, ProductBuild (LE16), 3 reserved bytes,
 *    NTLMRevisionCurrent 0x0F;
 *  - 2.2.2.5 NEGOTIATE flags.
 * SPNEGO wrapping (NegTokenResp) from RFC 4178 section 4.2.2; NTLMSSP mechanism OID 1.3.6.1.4.1.311.2.2.10.
 */
import { randomBytes } from "node:crypto";

export const NTLM_SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");

const F = {
  UNICODE: 0x00000001,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  KEY_EXCH: 0x40000000,
  N56: 0x80000000,
} as const;

export interface NtlmIdentity {
  netbiosDomain: string;
  netbiosComputer: string;
  dnsDomain: string;
  dnsComputer: string;
  dnsTree: string;
  /** "10.0.17763" */
  osVersion: string;
}

/** Returns the NTLMSSP message type of a token, or 0 if it is not an NTLMSSP message. */
export function ntlmMessageType(buf: Buffer): number {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(NTLM_SIGNATURE)) return 0;
  return buf.readUInt32LE(8);
}

/** Finds a raw NTLMSSP message inside a (possibly SPNEGO-wrapped) token. */
export function extractNtlm(token: Buffer): Buffer | undefined {
  const i = token.indexOf(NTLM_SIGNATURE);
  return i < 0 ? undefined : token.subarray(i);
}

function avPair(id: number, value: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16LE(id, 0);
  h.writeUInt16LE(value.length, 2);
  return Buffer.concat([h, value]);
}

const utf16 = (s: string): Buffer => Buffer.from(s, "utf16le");

/** Windows FILETIME (100 ns since 1601-01-01) as 8 LE bytes. */
function filetime(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(ms) + 11644473600000n) * 10000n);
  return b;
}

export function buildChallenge(id: NtlmIdentity, now = Date.now(), challenge: Buffer = randomBytes(8)): Buffer {
  const targetName = utf16(id.netbiosDomain);
  const targetInfo = Buffer.concat([
    avPair(2, utf16(id.netbiosDomain)),
    avPair(1, utf16(id.netbiosComputer)),
    avPair(4, utf16(id.dnsDomain)),
    avPair(3, utf16(id.dnsComputer)),
    avPair(5, utf16(id.dnsTree)),
    avPair(7, filetime(now)),
    avPair(0, Buffer.alloc(0)),
  ]);
  const headerLen = 56;
  const h = Buffer.alloc(headerLen);
  NTLM_SIGNATURE.copy(h, 0);
  h.writeUInt32LE(2, 8);
  h.writeUInt16LE(targetName.length, 12);
  h.writeUInt16LE(targetName.length, 14);
  h.writeUInt32LE(headerLen, 16);
  const flags =
    F.UNICODE | F.REQUEST_TARGET | F.SIGN | F.NTLM | F.ALWAYS_SIGN | F.TARGET_TYPE_DOMAIN |
    F.EXTENDED_SESSIONSECURITY | F.TARGET_INFO | F.VERSION | F.N128 | F.KEY_EXCH | F.N56;
  h.writeUInt32LE(flags >>> 0, 20);
  challenge.copy(h, 24, 0, 8);
  // 32..39 reserved (zero)
  h.writeUInt16LE(targetInfo.length, 40);
  h.writeUInt16LE(targetInfo.length, 42);
  h.writeUInt32LE(headerLen + targetName.length, 44);
  const [maj, min, bld] = id.osVersion.split(".").map((x) => Number.parseInt(x, 10));
  h.writeUInt8(maj ?? 10, 48);
  h.writeUInt8(min ?? 0, 49);
  h.writeUInt16LE(bld ?? 0, 50);
  h.writeUInt8(0x0f, 55);
  return Buffer.concat([h, targetName, targetInfo]);
}

export interface DecodedChallenge {
  targetName: string;
  flags: number;
  av: Partial<Record<"nbComputer" | "nbDomain" | "dnsComputer" | "dnsDomain" | "dnsTree", string>>;
  timestamp?: bigint;
  osVersion?: string;
}

/** Decoder used by the tests (and handy for anyone checking the emulator by hand). */
export function decodeChallenge(buf: Buffer): DecodedChallenge {
  if (ntlmMessageType(buf) !== 2) throw new Error("not an NTLM CHALLENGE message");
  const tnLen = buf.readUInt16LE(12);
  const tnOff = buf.readUInt32LE(16);
  const flags = buf.readUInt32LE(20);
  const tiLen = buf.readUInt16LE(40);
  const tiOff = buf.readUInt32LE(44);
  const out: DecodedChallenge = { targetName: buf.toString("utf16le", tnOff, tnOff + tnLen), flags, av: {} };
  if (flags & F.VERSION) out.osVersion = `${buf[48]}.${buf[49]}.${buf.readUInt16LE(50)}`;
  const names = { 1: "nbComputer", 2: "nbDomain", 3: "dnsComputer", 4: "dnsDomain", 5: "dnsTree" } as const;
  let p = tiOff;
  while (p + 4 <= tiOff + tiLen) {
    const avId = buf.readUInt16LE(p);
    const len = buf.readUInt16LE(p + 2);
    if (avId === 0) break;
    const v = buf.subarray(p + 4, p + 4 + len);
    if (avId === 7) out.timestamp = v.readBigUInt64LE();
    else if (avId in names) out.av[names[avId as keyof typeof names]] = v.toString("utf16le");
    p += 4 + len;
  }
  return out;
}

/** DER length encoding. */
function derLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}
function der(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
}

/** SPNEGO NegTokenResp { negState accept-incomplete, supportedMech NTLMSSP, responseToken <type 2> }. */
export function spnegoWrapChallenge(type2: Buffer): Buffer {
  const negState = der(0xa0, Buffer.from([0x0a, 0x01, 0x01]));
  const mech = der(0xa1, Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a]));
  const token = der(0xa2, der(0x04, type2));
  return der(0xa1, der(0x30, Buffer.concat([negState, mech, token])));
}

/**
 * Answers an `Authorization` header value. Returns the `WWW-Authenticate` value to send with a 401,
 * or undefined when the header carries no NTLM NEGOTIATE message.
 */
export function answerAuthorization(header: string, id: NtlmIdentity): string | undefined {
  const m = /^(NTLM|Negotiate)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase() === "ntlm" ? "NTLM" : "Negotiate";
  const token = Buffer.from(m[2]!, "base64");
  const raw = token.subarray(0, 8).equals(NTLM_SIGNATURE);
  const inner = extractNtlm(token);
  if (!inner || ntlmMessageType(inner) !== 1) return undefined;
  const type2 = buildChallenge(id);
  const out = scheme === "Negotiate" && !raw ? spnegoWrapChallenge(type2) : type2;
  return `${scheme} ${out.toString("base64")}`;
}

/** A minimal NEGOTIATE (type 1) message, for tests and clients. */
export function buildNegotiate(): Buffer {
  const b = Buffer.alloc(40);
  NTLM_SIGNATURE.copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE((F.UNICODE | F.REQUEST_TARGET | F.NTLM | F.ALWAYS_SIGN | F.EXTENDED_SESSIONSECURITY | F.VERSION | F.N128 | F.N56) >>> 0, 12);
  b.writeUInt8(10, 32);
  b.writeUInt16LE(19041, 34);
  b.writeUInt8(0x0f, 39);
  return b;
}

/**
 * NTLM, only as far as fingerprinting needs: an anonymous NEGOTIATE (type 1) message, and reading the names and
 * Windows version a server puts in its CHALLENGE (type 2). Layout from Microsoft's [MS-NLMP] 2.2.1.1, 2.2.1.2,
 * 2.2.2.1 (AV_PAIR) and 2.2.2.10 (VERSION). Every offset is checked: the message comes from the network.
 */
import type { NtlmInfo } from "../pipeline/vocabulary.js";

const SIGNATURE = Buffer.from("NTLMSSP\0", "latin1");

// NEGOTIATE_UNICODE | NEGOTIATE_OEM | REQUEST_TARGET | NEGOTIATE_NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY |
// NEGOTIATE_VERSION | NEGOTIATE_128 | NEGOTIATE_56
const NEGOTIATE_FLAGS = 0x00000001 | 0x00000002 | 0x00000004 | 0x00000200 | 0x00008000 | 0x00080000 | 0x02000000 | 0x20000000 | 0x80000000;

/** Base64 of an anonymous NEGOTIATE message (no domain, no workstation). */
export function negotiateMessage(): string {
  const b = Buffer.alloc(40);
  SIGNATURE.copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(NEGOTIATE_FLAGS >>> 0, 12);
  // Domain and workstation security buffers stay empty (len 0, offset 40); VERSION at 32 stays zero.
  b.writeUInt32LE(40, 20);
  b.writeUInt32LE(40, 28);
  return b.toString("base64");
}

const AV_NAMES: Record<number, keyof NtlmInfo> = {
  1: "netbiosComputer",
  2: "netbiosDomain",
  3: "dnsComputer",
  4: "dnsDomain",
  5: "dnsTree",
};

/** Parse a CHALLENGE from a WWW-Authenticate header value ("NTLM <base64>" or "Negotiate <base64>"). */
export function parseChallengeHeader(header: string): NtlmInfo | undefined {
  for (const part of header.split(/,\s*/)) {
    const m = /^(?:NTLM|Negotiate)\s+([A-Za-z0-9+/=]{40,4096})$/.exec(part.trim());
    if (!m) continue;
    const info = parseChallenge(Buffer.from(m[1]!, "base64"));
    if (info) return info;
  }
  return undefined;
}

export function parseChallenge(msg: Buffer): NtlmInfo | undefined {
  if (msg.length < 48 || !msg.subarray(0, 8).equals(SIGNATURE) || msg.readUInt32LE(8) !== 2) return undefined;
  const info: NtlmInfo = {};
  const flags = msg.readUInt32LE(20);
  const tiLen = msg.readUInt16LE(40);
  const tiOffset = msg.readUInt32LE(44);
  if (tiLen > 0 && tiOffset + tiLen <= msg.length && tiOffset >= 48) {
    let p = tiOffset;
    const end = tiOffset + tiLen;
    while (p + 4 <= end) {
      const id = msg.readUInt16LE(p);
      const len = msg.readUInt16LE(p + 2);
      p += 4;
      if (id === 0 || p + len > end) break;
      const name = AV_NAMES[id];
      // eslint-disable-next-line no-control-regex -- names from the network: control characters are dropped
      if (name !== undefined && len <= 512) info[name] = msg.toString("utf16le", p, p + len).replace(/[\u0000-\u001f]/g, "");
      p += len;
    }
  }
  if (flags & 0x02000000 && msg.length >= 56) {
    info.osVersion = `${msg.readUInt8(48)}.${msg.readUInt8(49)}.${msg.readUInt16LE(50)}`;
  }
  return info;
}

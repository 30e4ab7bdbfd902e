/**
 * EVTX binary XML value types rendered as the text Windows shows in an event's XML. Layouts from the libyal
 * libevtx documentation ("Windows XML Event Log (EVTX)", section Value types). Pure; every read is bounds-checked
 * by the caller, which passes the exact slice of the value.
 */

export const VALUE_TYPE = {
  null: 0x00,
  string: 0x01,
  ansiString: 0x02,
  int8: 0x03,
  uint8: 0x04,
  int16: 0x05,
  uint16: 0x06,
  int32: 0x07,
  uint32: 0x08,
  int64: 0x09,
  uint64: 0x0a,
  real32: 0x0b,
  real64: 0x0c,
  bool: 0x0d,
  binary: 0x0e,
  guid: 0x0f,
  sizeT: 0x10,
  fileTime: 0x11,
  sysTime: 0x12,
  sid: 0x13,
  hexInt32: 0x14,
  hexInt64: 0x15,
  binXml: 0x21,
  array: 0x80,
} as const;

export class EvtxValueError extends Error {
  override readonly name = "EvtxValueError";
}

/** UTF-16 LE without its trailing NUL characters. */
export function utf16(b: Buffer): string {
  let end = b.length & ~1;
  while (end >= 2 && b[end - 2] === 0 && b[end - 1] === 0) end -= 2;
  return b.toString("utf16le", 0, end);
}

function ansi(b: Buffer): string {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.toString("latin1", 0, end);
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

/** {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}: the first three fields little-endian, the rest as stored. */
export function guidText(b: Buffer): string {
  if (b.length < 16) throw new EvtxValueError(`GUID of ${b.length} bytes`);
  const h = (from: number, to: number): string => b.subarray(from, to).toString("hex");
  const le = (from: number, n: number): string => Buffer.from(b.subarray(from, from + n)).reverse().toString("hex");
  return `{${le(0, 4)}-${le(4, 2)}-${le(6, 2)}-${h(8, 10)}-${h(10, 16)}}`.toUpperCase();
}

/** S-1-<authority>-<sub>...: revision, count, 48-bit big-endian authority, 32-bit little-endian sub-authorities. */
export function sidText(b: Buffer): string {
  if (b.length < 8) throw new EvtxValueError(`SID of ${b.length} bytes`);
  const count = b[1]!;
  if (8 + count * 4 > b.length) throw new EvtxValueError(`SID claims ${count} sub-authorities in ${b.length} bytes`);
  const authority = b.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(b.readUInt32LE(8 + i * 4));
  return `S-${b[0]}-${authority}${subs.map((s) => `-${s}`).join("")}`;
}

/** FILETIME (100 ns since 1601) as Windows prints it: 2021-03-03T06:05:12.1234567Z. */
export function fileTimeText(ticks: bigint): string {
  const EPOCH_DIFF = 116444736000000000n; // 1601-01-01 → 1970-01-01 in 100 ns ticks
  const unixTicks = ticks - EPOCH_DIFF;
  const ms = unixTicks / 10000n;
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return hex(ticks);
  const frac = ((unixTicks % 10000000n) + 10000000n) % 10000000n;
  return `${d.toISOString().slice(0, 19)}.${frac.toString().padStart(7, "0")}Z`;
}

function sysTimeText(b: Buffer): string {
  if (b.length < 16) throw new EvtxValueError(`SYSTEMTIME of ${b.length} bytes`);
  const [y, mo, , d, h, mi, s, ms] = [0, 2, 4, 6, 8, 10, 12, 14].map((o) => b.readUInt16LE(o)) as [number, number, number, number, number, number, number, number];
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}.${p(ms, 3)}Z`;
}

const WIDTH: Record<number, number> = {
  [VALUE_TYPE.int8]: 1,
  [VALUE_TYPE.uint8]: 1,
  [VALUE_TYPE.int16]: 2,
  [VALUE_TYPE.uint16]: 2,
  [VALUE_TYPE.int32]: 4,
  [VALUE_TYPE.uint32]: 4,
  [VALUE_TYPE.int64]: 8,
  [VALUE_TYPE.uint64]: 8,
  [VALUE_TYPE.real32]: 4,
  [VALUE_TYPE.real64]: 8,
  [VALUE_TYPE.bool]: 4,
  [VALUE_TYPE.guid]: 16,
  [VALUE_TYPE.fileTime]: 8,
  [VALUE_TYPE.sysTime]: 16,
  [VALUE_TYPE.hexInt32]: 4,
  [VALUE_TYPE.hexInt64]: 8,
};

/** One scalar value (not an array, not binary XML) as text. */
function scalar(type: number, b: Buffer): string {
  const need = WIDTH[type];
  if (need !== undefined && b.length < need) throw new EvtxValueError(`value of type 0x${type.toString(16)} needs ${need} bytes, has ${b.length}`);
  switch (type) {
    case VALUE_TYPE.null:
      return "";
    case VALUE_TYPE.string:
      return utf16(b);
    case VALUE_TYPE.ansiString:
      return ansi(b);
    case VALUE_TYPE.int8:
      return String(b.readInt8(0));
    case VALUE_TYPE.uint8:
      return String(b.readUInt8(0));
    case VALUE_TYPE.int16:
      return String(b.readInt16LE(0));
    case VALUE_TYPE.uint16:
      return String(b.readUInt16LE(0));
    case VALUE_TYPE.int32:
      return String(b.readInt32LE(0));
    case VALUE_TYPE.uint32:
      return String(b.readUInt32LE(0));
    case VALUE_TYPE.int64:
      return b.readBigInt64LE(0).toString();
    case VALUE_TYPE.uint64:
      return b.readBigUInt64LE(0).toString();
    case VALUE_TYPE.real32:
      return String(b.readFloatLE(0));
    case VALUE_TYPE.real64:
      return String(b.readDoubleLE(0));
    case VALUE_TYPE.bool:
      return b.readUInt32LE(0) !== 0 ? "true" : "false";
    case VALUE_TYPE.binary:
      return b.toString("hex").toUpperCase();
    case VALUE_TYPE.guid:
      return guidText(b);
    case VALUE_TYPE.sizeT:
      if (b.length === 4) return hex(b.readUInt32LE(0));
      if (b.length === 8) return hex(b.readBigUInt64LE(0));
      throw new EvtxValueError(`size_t of ${b.length} bytes`);
    case VALUE_TYPE.fileTime:
      return fileTimeText(b.readBigUInt64LE(0));
    case VALUE_TYPE.sysTime:
      return sysTimeText(b);
    case VALUE_TYPE.sid:
      return sidText(b);
    case VALUE_TYPE.hexInt32:
      return hex(b.readUInt32LE(0));
    case VALUE_TYPE.hexInt64:
      return hex(b.readBigUInt64LE(0));
    default:
      // EvtHandle (0x20), EvtXml (0x23) and unknown types: shown as hex, never guessed at.
      return b.toString("hex").toUpperCase();
  }
}

/**
 * A substitution value as text. Arrays (type | 0x80) become their elements joined by ", " (string arrays are
 * NUL-separated, the others fixed-width). Binary XML (0x21) is not handled here: the caller decodes it.
 */
export function valueText(type: number, b: Buffer): string {
  if ((type & VALUE_TYPE.array) === 0) return scalar(type, b);
  const base = type & 0x7f;
  if (base === VALUE_TYPE.string) return utf16(b).split("\u0000").join(", ");
  if (base === VALUE_TYPE.ansiString) return ansi(b).split("\u0000").join(", ");
  const w = base === VALUE_TYPE.sizeT ? (b.length % 8 === 0 ? 8 : 4) : WIDTH[base];
  if (!w) throw new EvtxValueError(`array of type 0x${base.toString(16)}`);
  const out: string[] = [];
  for (let o = 0; o + w <= b.length && out.length < 4096; o += w) out.push(scalar(base, b.subarray(o, o + w)));
  return out.join(", ");
}

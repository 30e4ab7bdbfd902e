/**
 * A minimal EVTX encoder for test fixtures, written from the libyal libevtx format documentation: file header,
 * 64 KiB chunks with CRCs, records, and binary XML the way Windows lays it out — one template per event shape and
 * chunk, defined inline on first use and referenced afterwards, names inline on first use and referenced
 * afterwards, typed substitution values (string, uint8/16/64, GUID, FILETIME, SID, hex64), optional substitutions
 * left NULL, and a binary XML (0x21) value whose element starts carry no dependency id.
 */
import { crc32 } from "node:zlib";

export interface EvtxEventSpec {
  recordId: number;
  time: Date;
  provider: string;
  providerGuid?: string;
  eventId: number;
  level?: number;
  channel: string;
  computer: string;
  /** Security/@UserID; left out (NULL optional substitution) when absent. */
  userSid?: string;
  /** EventData/Data Name=… values. */
  data?: Array<[string, string]>;
  /** A UserData element with these leaf elements, stored as a binary XML substitution value. */
  userData?: { name: string; values: Array<[string, string]> };
}

const CHUNK = 65536;

class Bytes {
  parts: number[] = [];
  constructor(readonly base: number) {}
  get pos(): number {
    return this.base + this.parts.length;
  }
  u8(v: number): void {
    this.parts.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v);
    this.u8(v >> 8);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.raw(b);
  }
  raw(b: Buffer): void {
    for (const x of b) this.parts.push(x);
  }
  patch32(at: number, v: number): void {
    const i = at - this.base;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    for (let k = 0; k < 4; k++) this.parts[i + k] = b[k]!;
  }
  buffer(): Buffer {
    return Buffer.from(this.parts);
  }
}

function guidBytes(g: string): Buffer {
  const h = g.replace(/[{}-]/g, "");
  const b = Buffer.from(h, "hex");
  const out = Buffer.alloc(16);
  Buffer.from(b.subarray(0, 4)).reverse().copy(out, 0);
  Buffer.from(b.subarray(4, 6)).reverse().copy(out, 4);
  Buffer.from(b.subarray(6, 8)).reverse().copy(out, 6);
  b.subarray(8, 16).copy(out, 8);
  return out;
}

function sidBytes(sid: string): Buffer {
  const parts = sid.split("-").slice(1).map(Number);
  const [rev, auth, ...subs] = parts as [number, number, ...number[]];
  const b = Buffer.alloc(8 + subs.length * 4);
  b[0] = rev;
  b[1] = subs.length;
  b.writeUIntBE(auth, 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(s, 8 + i * 4));
  return b;
}

const fileTime = (d: Date): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(d.getTime()) * 10000n + 116444736000000000n);
  return b;
};
const u16b = (v: number): Buffer => Buffer.from([v & 0xff, (v >> 8) & 0xff]);
const u64b = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const utf16 = (s: string): Buffer => Buffer.from(s, "utf16le");

type Content = { el: El } | { text: string } | { sub: number; type: number; optional?: boolean };
interface El {
  name: string;
  attrs: Array<{ name: string; value: Content[] }>;
  children: Content[];
}
const el = (name: string, attrs: El["attrs"] = [], children: Content[] = []): El => ({ name, attrs, children });
const sub = (id: number, type: number, optional = false): Content => ({ sub: id, type, optional });

/** Per-chunk state: where each name and template already is. */
class ChunkState {
  names = new Map<string, number>();
  templates = new Map<string, number>();
}

function writeName(w: Bytes, st: ChunkState, name: string): void {
  const known = st.names.get(name);
  if (known !== undefined) {
    w.u32(known);
    return;
  }
  const at = w.pos + 4;
  w.u32(at);
  st.names.set(name, at);
  w.u32(0);
  w.u16(0); // hash: not checked by readers of the documented format
  w.u16(name.length);
  w.raw(utf16(name));
  w.u16(0);
}

function writeContent(w: Bytes, st: ChunkState, c: Content, more: boolean, noDep: boolean): void {
  if ("el" in c) writeElement(w, st, c.el, noDep);
  else if ("text" in c) {
    w.u8(more ? 0x45 : 0x05);
    w.u8(0x01);
    w.u16(c.text.length);
    w.raw(utf16(c.text));
  } else {
    w.u8(c.optional ? 0x0e : 0x0d);
    w.u16(c.sub);
    w.u8(c.type);
  }
}

function writeElement(w: Bytes, st: ChunkState, e: El, noDep: boolean): void {
  const start = w.pos;
  w.u8(e.attrs.length ? 0x41 : 0x01);
  if (!noDep) w.u16(0xffff);
  const sizeAt = w.pos;
  w.u32(0);
  writeName(w, st, e.name);
  if (e.attrs.length) {
    const listAt = w.pos;
    w.u32(0);
    e.attrs.forEach((a, i) => {
      w.u8(i < e.attrs.length - 1 ? 0x46 : 0x06);
      writeName(w, st, a.name);
      a.value.forEach((v, j) => writeContent(w, st, v, j < a.value.length - 1, noDep));
    });
    w.patch32(listAt, w.pos - listAt - 4);
  }
  if (e.children.length === 0) w.u8(0x03);
  else {
    w.u8(0x02);
    e.children.forEach((c, j) => writeContent(w, st, c, j < e.children.length - 1, noDep));
    w.u8(0x04);
  }
  w.patch32(sizeAt, w.pos - start - (noDep ? 5 : 7));
}

interface Value {
  type: number;
  bytes: Buffer;
}

/** The template of an event shape and the values of one event, in substitution order. */
function shape(e: EvtxEventSpec): { key: string; tree: El; values: Value[] } {
  const values: Value[] = [];
  const add = (type: number, bytes: Buffer | null): number => {
    values.push(bytes === null ? { type: 0x00, bytes: Buffer.alloc(0) } : { type, bytes });
    return values.length - 1;
  };
  const system = el("System", [], [
    { el: el("Provider", [
      { name: "Name", value: [sub(add(0x01, utf16(e.provider)), 0x01)] },
      { name: "Guid", value: [sub(add(0x0f, guidBytes(e.providerGuid ?? "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}")), 0x0f)] },
    ]) },
    { el: el("EventID", [], [sub(add(0x06, u16b(e.eventId)), 0x06)]) },
    { el: el("Level", [], [sub(add(0x04, Buffer.from([e.level ?? 4])), 0x04)]) },
    { el: el("Keywords", [], [sub(add(0x15, Buffer.from("0000000000000080", "hex")), 0x15)]) },
    { el: el("TimeCreated", [{ name: "SystemTime", value: [sub(add(0x11, fileTime(e.time)), 0x11)] }]) },
    { el: el("EventRecordID", [], [sub(add(0x0a, u64b(e.recordId)), 0x0a)]) },
    { el: el("Channel", [], [sub(add(0x01, utf16(e.channel)), 0x01)]) },
    { el: el("Computer", [], [sub(add(0x01, utf16(e.computer)), 0x01)]) },
    { el: el("Security", [{ name: "UserID", value: [sub(add(0x13, e.userSid ? sidBytes(e.userSid) : null), 0x13, true)] }]) },
  ]);
  const body: Content[] = [{ el: system }];
  if (e.data) {
    body.push({
      el: el(
        "EventData",
        [],
        e.data.map(([k, v]) => ({ el: el("Data", [{ name: "Name", value: [{ text: k }] }], [sub(add(0x01, utf16(v)), 0x01, true)]) })),
      ),
    });
  }
  if (e.userData) body.push({ el: el("UserData", [], [sub(add(0x21, Buffer.alloc(0)), 0x21, true)]) });
  const tree = el("Event", [{ name: "xmlns", value: [{ text: "http://schemas.microsoft.com/win/2004/08/events/event" }] }], body);
  const key = `${e.provider}|${(e.data ?? []).map(([k]) => k).join(",")}|${e.userData ? e.userData.name : ""}`;
  return { key, tree, values };
}

function writeRecordXml(w: Bytes, st: ChunkState, e: EvtxEventSpec): void {
  const { key, tree, values } = shape(e);
  w.raw(Buffer.from([0x0f, 0x01, 0x01, 0x00]));
  w.u8(0x0c);
  w.u8(0x01);
  w.u32(0x1234);
  const known = st.templates.get(key);
  if (known !== undefined) w.u32(known);
  else {
    const defAt = w.pos + 4;
    w.u32(defAt);
    st.templates.set(key, defAt);
    w.u32(0); // next template definition
    w.raw(Buffer.alloc(16, 0xab)); // template GUID
    const sizeAt = w.pos;
    w.u32(0);
    w.raw(Buffer.from([0x0f, 0x01, 0x01, 0x00]));
    writeElement(w, st, tree, false);
    w.u8(0x00);
    w.patch32(sizeAt, w.pos - sizeAt - 4);
  }
  // The binary XML value (UserData) is encoded here, where its names can be inline in this record.
  if (e.userData) {
    const i = values.findIndex((v) => v.type === 0x21);
    const start = w.pos + 4 + values.length * 4 + values.slice(0, i).reduce((s, v) => s + v.bytes.length, 0);
    const x = new Bytes(start);
    x.raw(Buffer.from([0x0f, 0x01, 0x01, 0x00]));
    const ud = el(e.userData.name, [{ name: "xmlns", value: [{ text: "urn:vigie-test" }] }], e.userData.values.map(([k, v]) => ({ el: el(k, [], [{ text: v }]) })));
    writeElement(x, st, ud, true);
    x.u8(0x00);
    values[i] = { type: 0x21, bytes: x.buffer() };
  }
  w.u32(values.length);
  for (const v of values) {
    w.u16(v.bytes.length);
    w.u8(v.type);
    w.u8(0);
  }
  for (const v of values) w.raw(v.bytes);
  w.u8(0x00);
}

export interface BuildOptions {
  /** Start a new chunk after this many records (default: as many as fit). */
  recordsPerChunk?: number;
}

export function buildEvtx(events: EvtxEventSpec[], opts: BuildOptions = {}): Buffer {
  const chunks: Buffer[] = [];
  let i = 0;
  while (i < events.length || chunks.length === 0) {
    const chunk = Buffer.alloc(CHUNK);
    chunk.write("ElfChnk\0", 0, "latin1");
    const st = new ChunkState();
    let p = 512;
    let n = 0;
    let last = 512;
    const firstId = events[i]?.recordId ?? 1;
    let lastId = firstId;
    while (i < events.length && (opts.recordsPerChunk === undefined || n < opts.recordsPerChunk)) {
      const e = events[i]!;
      const saved = new Map(st.names);
      const savedT = new Map(st.templates);
      const w = new Bytes(p + 24);
      writeRecordXml(w, st, e);
      const xml = w.buffer();
      const size = 24 + xml.length + 4;
      if (p + size > CHUNK) {
        st.names = saved;
        st.templates = savedT;
        break;
      }
      chunk.writeUInt32LE(0x00002a2a, p);
      chunk.writeUInt32LE(size, p + 4);
      chunk.writeBigUInt64LE(BigInt(e.recordId), p + 8);
      fileTime(e.time).copy(chunk, p + 16);
      xml.copy(chunk, p + 24);
      chunk.writeUInt32LE(size, p + size - 4);
      last = p;
      lastId = e.recordId;
      p += size;
      n++;
      i++;
    }
    chunk.writeBigUInt64LE(BigInt(firstId), 8);
    chunk.writeBigUInt64LE(BigInt(lastId), 16);
    chunk.writeBigUInt64LE(BigInt(firstId), 24);
    chunk.writeBigUInt64LE(BigInt(lastId), 32);
    chunk.writeUInt32LE(128, 40);
    chunk.writeUInt32LE(last, 44);
    chunk.writeUInt32LE(p, 48);
    chunk.writeUInt32LE(crc32(chunk.subarray(512, p)), 52);
    chunk.writeUInt32LE(crc32(chunk.subarray(128, 512), crc32(chunk.subarray(0, 120))), 124);
    chunks.push(chunk);
    if (n === 0) break;
  }
  const header = Buffer.alloc(4096);
  header.write("ElfFile\0", 0, "latin1");
  header.writeBigUInt64LE(0n, 8);
  header.writeBigUInt64LE(BigInt(chunks.length - 1), 16);
  header.writeBigUInt64LE(BigInt((events[events.length - 1]?.recordId ?? 0) + 1), 24);
  header.writeUInt32LE(128, 32);
  header.writeUInt16LE(1, 36);
  header.writeUInt16LE(3, 38);
  header.writeUInt16LE(4096, 40);
  header.writeUInt16LE(chunks.length, 42);
  header.writeUInt32LE(crc32(header.subarray(0, 120)), 124);
  return Buffer.concat([header, ...chunks]);
}

/** A Sysmon event 1 (process creation) with the EventData names Sysmon writes. */
export function sysmonProcess(recordId: number, time: Date, p: { image: string; commandLine: string; parentImage: string; parentCommandLine: string; user?: string; computer?: string }): EvtxEventSpec {
  return {
    recordId,
    time,
    provider: "Microsoft-Windows-Sysmon",
    eventId: 1,
    level: 4,
    channel: "Microsoft-Windows-Sysmon/Operational",
    computer: p.computer ?? "EX01.corp.example",
    userSid: "S-1-5-18",
    data: [
      ["RuleName", "-"],
      ["UtcTime", time.toISOString().replace("T", " ").slice(0, 23)],
      ["ProcessGuid", "{C27BBDD3-01A6-5F2E-E503-000000000C00}"],
      ["ProcessId", "5588"],
      ["Image", p.image],
      ["CommandLine", p.commandLine],
      ["CurrentDirectory", "c:\\windows\\system32\\inetsrv\\"],
      ["User", p.user ?? "NT AUTHORITY\\SYSTEM"],
      ["ParentProcessId", "4152"],
      ["ParentImage", p.parentImage],
      ["ParentCommandLine", p.parentCommandLine],
    ],
  };
}

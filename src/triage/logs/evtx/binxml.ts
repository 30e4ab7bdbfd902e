/**
 * EVTX binary XML ("BinXml") decoding, from the token layouts documented by libyal libevtx ("Windows XML Event Log
 * (EVTX)", section Binary XML): fragments, elements and attributes whose names live in the chunk (inline on first
 * use, referenced later), values, character and entity references, CDATA, and template instances whose
 * definitions are stored once per chunk and filled with typed substitution values.
 *
 * Hostile-safe: every read is bounds-checked against the 64 KiB chunk, nesting and the number of nodes per record
 * are capped, a template that refers to itself is refused, and any inconsistency raises BinXmlError for the
 * caller to skip the record with a note. Pure: the chunk is a Buffer.
 */
import { VALUE_TYPE, valueText } from "./values.js";

export interface XmlElement {
  name: string;
  attrs: Array<{ name: string; value: string }>;
  children: XmlPart[];
}
export type XmlPart = string | XmlElement;

export class BinXmlError extends Error {
  override readonly name = "BinXmlError";
}

const TOKEN = {
  eof: 0x00,
  openStart: 0x01,
  closeStart: 0x02,
  closeEmpty: 0x03,
  end: 0x04,
  value: 0x05,
  attribute: 0x06,
  cdata: 0x07,
  charRef: 0x08,
  entityRef: 0x09,
  piTarget: 0x0a,
  piData: 0x0b,
  templateInstance: 0x0c,
  normalSub: 0x0d,
  optionalSub: 0x0e,
  fragmentHeader: 0x0f,
} as const;
const MORE = 0x40;

/** A template's tree before its values are known: substitutions are placeholders. */
interface TElement {
  name: string;
  attrs: Array<{ name: string; value: TPart[] }>;
  children: TPart[];
}
interface TSub {
  sub: number;
  optional: boolean;
}
/** Already-resolved nodes (a template instance met while parsing). */
interface TResolved {
  resolved: XmlPart[];
}
type TPart = string | TElement | TSub | TResolved;

/** A decoded substitution value: text, nested binary XML, or absent (NullType). */
type Value = string | XmlPart[] | null;

export const BINXML_LIMITS = {
  /** Elements, attributes and text pieces created for one record. */
  maxNodes: 20000,
  /** Nesting of elements, templates and binary XML values. */
  maxDepth: 48,
  /** Template values of one instance. */
  maxValues: 4096,
  /** Characters of one element or attribute name. */
  maxNameChars: 1024,
};

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/** Decodes the records of one chunk. Names and template definitions are cached per chunk (offsets are chunk-relative). */
export class ChunkDecoder {
  private readonly names = new Map<number, string>();
  private readonly templates = new Map<number, TPart[]>();
  private readonly parsing = new Set<number>();
  private nodes = 0;
  private pos = 0;

  constructor(private readonly chunk: Buffer) {}

  /** The XML of one record's binary XML, which starts at `start` and ends before `end` (chunk offsets). */
  decodeRecord(start: number, end: number): XmlPart[] {
    this.nodes = 0;
    this.pos = start;
    const parts = this.fragment(end, false, 0);
    return this.instantiate(parts, [], 0);
  }

  private fail(msg: string): never {
    throw new BinXmlError(`${msg} at chunk offset ${this.pos}`);
  }
  private need(n: number, end: number): void {
    if (this.pos + n > end || this.pos + n > this.chunk.length) this.fail(`binary XML runs past its end (needs ${n} bytes)`);
  }
  private u8(end: number): number {
    this.need(1, end);
    return this.chunk[this.pos++]!;
  }
  private u16(end: number): number {
    this.need(2, end);
    const v = this.chunk.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  private u32(end: number): number {
    this.need(4, end);
    const v = this.chunk.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  private count(): void {
    if (++this.nodes > BINXML_LIMITS.maxNodes) this.fail(`more than ${BINXML_LIMITS.maxNodes} nodes in one record`);
  }
  private depthCheck(depth: number): void {
    if (depth > BINXML_LIMITS.maxDepth) this.fail(`nesting deeper than ${BINXML_LIMITS.maxDepth}`);
  }

  /** A name structure at a chunk offset: unknown (4), hash (2), character count (2), UTF-16, NUL. Returns its text and size. */
  private nameAt(off: number): { text: string; size: number } | null {
    if (off < 0 || off + 8 > this.chunk.length) return null;
    const n = this.chunk.readUInt16LE(off + 6);
    const size = 8 + n * 2 + 2;
    if (n > BINXML_LIMITS.maxNameChars || off + size > this.chunk.length) return null;
    return { text: this.chunk.toString("utf16le", off + 8, off + 8 + n * 2), size };
  }

  /** A name referenced at the cursor: if it points right after the reference, it is stored inline and skipped. */
  private name(nameOff: number, end: number): string {
    if (nameOff === this.pos) {
      const n = this.nameAt(nameOff);
      if (!n || nameOff + n.size > end) this.fail("inline name runs past its end");
      this.pos += n.size;
      this.names.set(nameOff, n.text);
      return n.text;
    }
    const cached = this.names.get(nameOff);
    if (cached !== undefined) return cached;
    // Names are stored before their later uses, inside the chunk's data area (after its 512-byte header).
    if (nameOff < 512 || nameOff > this.pos) this.fail(`name offset ${nameOff} outside the chunk's data before it`);
    const n = this.nameAt(nameOff);
    if (!n) this.fail(`bad name at offset ${nameOff}`);
    this.names.set(nameOff, n.text);
    return n.text;
  }

  private plausibleName(nameOff: number, after: number): boolean {
    if (nameOff === after) return this.nameAt(nameOff) !== null;
    return this.names.has(nameOff) || (nameOff >= 512 && nameOff < after && this.nameAt(nameOff) !== null);
  }

  /** Tokens up to the end-of-fragment token (or `end`). `noDep`: inside a binary XML value, where element starts lack the dependency id. */
  private fragment(end: number, noDep: boolean, depth: number): TPart[] {
    this.depthCheck(depth);
    const parts: TPart[] = [];
    while (this.pos < end) {
      const tok = this.chunk[this.pos]!;
      const base = tok & ~MORE;
      if (base === TOKEN.eof) {
        this.pos++;
        break;
      }
      if (base === TOKEN.fragmentHeader) {
        this.need(4, end);
        this.pos += 4;
      } else if (base === TOKEN.openStart) parts.push(this.element(end, noDep, depth + 1));
      else if (base === TOKEN.templateInstance) parts.push(this.templateInstance(end, depth + 1));
      else if (base === TOKEN.piTarget || base === TOKEN.piData) this.skipPi(end);
      else this.fail(`unexpected token 0x${tok.toString(16)} outside an element`);
    }
    return parts;
  }

  private skipPi(end: number): void {
    const tok = this.u8(end) & ~MORE;
    if (tok === TOKEN.piTarget) this.name(this.u32(end), end);
    else this.pos += this.u16(end) * 2;
    if (this.pos > end) this.fail("processing instruction runs past its end");
  }

  private element(end: number, noDep: boolean, depth: number): TElement {
    this.depthCheck(depth);
    this.count();
    const start = this.pos;
    const tok = this.u8(end);
    // Element start: [dependency id (2)] data size (4) name offset (4). Which layout holds is checked on the name.
    this.need(10, end);
    const withDep = { size: this.chunk.readUInt32LE(start + 3), nameOff: this.chunk.readUInt32LE(start + 7), after: start + 11 };
    const without = { size: this.chunk.readUInt32LE(start + 1), nameOff: this.chunk.readUInt32LE(start + 5), after: start + 9 };
    const [first, second] = noDep ? [without, withDep] : [withDep, without];
    const layout = this.plausibleName(first.nameOff, first.after) ? first : this.plausibleName(second.nameOff, second.after) ? second : null;
    if (!layout) this.fail("element start with no readable name");
    this.pos = layout.after;
    const declaredEnd = layout.after - 4 + layout.size;
    const bound = declaredEnd > this.pos && declaredEnd <= end ? declaredEnd : end;
    const el: TElement = { name: this.name(layout.nameOff, bound), attrs: [], children: [] };
    if (tok & MORE) {
      const listSize = this.u32(bound);
      const listEnd = Math.min(this.pos + listSize, bound);
      while (this.pos < listEnd && (this.chunk[this.pos]! & ~MORE) === TOKEN.attribute) {
        this.count();
        this.pos++;
        const name = this.name(this.u32(listEnd), listEnd);
        el.attrs.push({ name, value: this.valueParts(bound) });
      }
    }
    const close = this.u8(bound);
    if (close === TOKEN.closeEmpty) return el;
    if (close !== TOKEN.closeStart) this.fail(`expected the end of <${el.name}>'s start tag, found token 0x${close.toString(16)}`);
    for (;;) {
      const t = this.chunk[this.pos];
      if (t === undefined || this.pos >= bound) this.fail(`<${el.name}> is not closed`);
      const base = t & ~MORE;
      if (base === TOKEN.end) {
        this.pos++;
        return el;
      }
      if (base === TOKEN.openStart) el.children.push(this.element(bound, noDep, depth + 1));
      else if (base === TOKEN.templateInstance) el.children.push(this.templateInstance(bound, depth + 1));
      else if (base === TOKEN.piTarget || base === TOKEN.piData) this.skipPi(bound);
      else if (base === TOKEN.eof) this.fail(`<${el.name}> ends at an end-of-fragment token`);
      else el.children.push(...this.valueParts(bound, true));
    }
  }

  /** Consecutive text pieces: values, substitutions, character and entity references, CDATA. */
  private valueParts(end: number, once = false): TPart[] {
    const parts: TPart[] = [];
    for (;;) {
      if (this.pos >= end) break;
      const base = this.chunk[this.pos]! & ~MORE;
      if (base === TOKEN.value) {
        this.pos++;
        const type = this.u8(end);
        const n = this.u16(end);
        this.need(n * 2, end);
        const raw = this.chunk.subarray(this.pos, this.pos + n * 2);
        this.pos += n * 2;
        parts.push(type === VALUE_TYPE.ansiString ? raw.toString("latin1") : raw.toString("utf16le"));
      } else if (base === TOKEN.normalSub || base === TOKEN.optionalSub) {
        this.pos++;
        const id = this.u16(end);
        this.u8(end); // the declared value type: the instance's descriptor decides
        parts.push({ sub: id, optional: base === TOKEN.optionalSub });
      } else if (base === TOKEN.charRef) {
        this.pos++;
        parts.push(String.fromCharCode(this.u16(end)));
      } else if (base === TOKEN.entityRef) {
        this.pos++;
        const name = this.name(this.u32(end), end);
        parts.push(ENTITIES[name] ?? `&${name};`);
      } else if (base === TOKEN.cdata) {
        this.pos++;
        const n = this.u16(end);
        this.need(n * 2, end);
        parts.push(this.chunk.toString("utf16le", this.pos, this.pos + n * 2));
        this.pos += n * 2;
      } else break;
      this.count();
      if (once) break;
    }
    if (once && parts.length === 0) this.fail(`unexpected token 0x${(this.chunk[this.pos] ?? 0).toString(16)} in element content`);
    return parts;
  }

  /** The tree of the template definition at `off`: next offset (4), GUID (16), data size (4), fragment. */
  private definition(off: number, depth: number): TPart[] {
    const cached = this.templates.get(off);
    if (cached) return cached;
    if (this.parsing.has(off)) this.fail(`template at ${off} refers to itself`);
    if (off < 512 || off + 24 > this.chunk.length) this.fail(`template definition offset ${off} outside the chunk`);
    const size = this.chunk.readUInt32LE(off + 20);
    const dataEnd = off + 24 + size;
    if (dataEnd > this.chunk.length) this.fail(`template definition at ${off} runs past the chunk`);
    const saved = this.pos;
    this.parsing.add(off);
    try {
      this.pos = off + 24;
      const parts = this.fragment(dataEnd, false, depth + 1);
      this.templates.set(off, parts);
      return parts;
    } finally {
      this.parsing.delete(off);
      this.pos = saved;
    }
  }

  private templateInstance(end: number, depth: number): TResolved {
    this.depthCheck(depth);
    this.pos++; // token
    this.u8(end); // unknown (seen: 1)
    this.u32(end); // template identifier
    const defOff = this.u32(end);
    let def: TPart[];
    if (defOff === this.pos) {
      // Defined here, on first use in the chunk: skip over it after parsing it.
      this.need(24, end);
      const size = this.chunk.readUInt32LE(this.pos + 20);
      def = this.definition(defOff, depth);
      this.pos = defOff + 24 + size;
      if (this.pos > end) this.fail("template definition runs past the record");
    } else def = this.definition(defOff, depth);
    const n = this.u32(end);
    if (n > BINXML_LIMITS.maxValues) this.fail(`${n} template values`);
    this.need(n * 4, end);
    const descriptors: Array<{ size: number; type: number }> = [];
    for (let i = 0; i < n; i++) {
      const size = this.u16(end);
      const type = this.u8(end);
      this.u8(end);
      descriptors.push({ size, type });
    }
    const values: Value[] = [];
    for (const d of descriptors) {
      this.need(d.size, end);
      const vStart = this.pos;
      const vEnd = vStart + d.size;
      if (d.type === VALUE_TYPE.null) values.push(null);
      else if (d.type === VALUE_TYPE.binXml) {
        const parts = this.fragment(vEnd, true, depth + 1);
        values.push(this.instantiate(parts, [], depth + 1));
      } else {
        try {
          values.push(valueText(d.type, this.chunk.subarray(vStart, vEnd)));
        } catch (err) {
          this.fail((err as Error).message);
        }
      }
      this.pos = vEnd;
    }
    return { resolved: this.instantiate(def, values, depth + 1) };
  }

  /** A template tree with its substitutions filled. An optional substitution whose value is NullType adds nothing. */
  private instantiate(parts: TPart[], values: Value[], depth: number): XmlPart[] {
    this.depthCheck(depth);
    const out: XmlPart[] = [];
    for (const p of parts) {
      if (typeof p === "string") out.push(p);
      else if ("resolved" in p) out.push(...p.resolved);
      else if ("sub" in p) {
        const v = values[p.sub];
        if (v === undefined || v === null) continue;
        if (typeof v === "string") out.push(v);
        else out.push(...v);
      } else {
        this.count();
        const el: XmlElement = { name: p.name, attrs: [], children: this.instantiate(p.children, values, depth + 1) };
        for (const a of p.attrs) {
          const pieces = this.instantiate(a.value, values, depth + 1);
          const allOptionalNull = a.value.length > 0 && a.value.every((x) => typeof x === "object" && "sub" in x && x.optional && (values[x.sub] ?? null) === null);
          if (allOptionalNull) continue;
          el.attrs.push({ name: a.name, value: pieces.map((x) => (typeof x === "string" ? x : textOf([x]))).join("") });
        }
        out.push(el);
      }
    }
    return out;
  }
}

/** The text content of nodes (elements' text, in order). */
export function textOf(parts: readonly XmlPart[]): string {
  let s = "";
  for (const p of parts) s += typeof p === "string" ? p : textOf(p.children);
  return s;
}

function esc(s: string, attr: boolean): string {
  let out = s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  if (attr) out = out.replace(/"/g, "&quot;");
  return out;
}

/** XML text of decoded nodes (escaped; no declaration, no indentation). */
export function toXml(parts: readonly XmlPart[]): string {
  let s = "";
  for (const p of parts) {
    if (typeof p === "string") {
      s += esc(p, false);
      continue;
    }
    s += `<${p.name}${p.attrs.map((a) => ` ${a.name}="${esc(a.value, true)}"`).join("")}`;
    s += p.children.length ? `>${toXml(p.children)}</${p.name}>` : "/>";
  }
  return s;
}


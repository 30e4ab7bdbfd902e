/**
 * Streaming .evtx reader: the 4 KiB file header ("ElfFile\0"), then 64 KiB chunks ("ElfChnk\0", 512-byte header,
 * event records from offset 512), each record ("**\0\0", size, record id, written FILETIME, binary XML, size
 * again) decoded to its event. Layouts from the libyal libevtx documentation.
 *
 * Hostile-safe: memory is one chunk; a chunk without its signature is skipped, a record whose sizes disagree is
 * skipped by searching for the next record signature, a record whose binary XML does not decode is skipped; each
 * with a note (the first few verbatim, then counted). CRC mismatches are noted, the records still checked one by one.
 */
import { crc32 } from "node:zlib";
import { BinXmlError, ChunkDecoder, type XmlPart } from "./binxml.js";
import { eventView, type EventView } from "./event.js";
import { isoFromFiletime } from "../text.js";

export const EVTX_HEADER_BYTES = 4096;
export const EVTX_CHUNK_BYTES = 65536;
const CHUNK_HEADER = 512;
const RECORD_MAGIC = 0x00002a2a;

export interface EvtxRecord {
  recordId: number;
  /** When the record was written (the record header's FILETIME), ISO UTC. */
  written: string | null;
  /** Byte offset of the record in the file. */
  offset: number;
  xml: XmlPart[];
  view: EventView;
}

const MAX_NOTES = 20;

export class EvtxReader {
  bytes = 0;
  records = 0;
  skippedRecords = 0;
  chunks = 0;
  readonly problems: string[] = [];
  private readonly buf = Buffer.alloc(EVTX_CHUNK_BYTES);
  private fill = 0;
  private pos = 0;
  private headerDone = false;
  private invalid = false;
  private badChunks = 0;
  private crcNotes = 0;
  private notes = 0;
  private moreNotes = 0;

  constructor(private readonly onRecord: (r: EvtxRecord) => void) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.invalid) return;
    let off = 0;
    while (off < chunk.length) {
      const size = this.headerDone ? EVTX_CHUNK_BYTES : EVTX_HEADER_BYTES;
      const n = Math.min(size - this.fill, chunk.length - off);
      chunk.copy(this.buf, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill < size) continue;
      if (!this.headerDone) {
        if (this.buf.toString("latin1", 0, 8) !== "ElfFile\0") {
          this.invalid = true;
          this.problems.push("not an EVTX file (no ElfFile header); skipped");
          return;
        }
        if (crc32(this.buf.subarray(0, 120)) !== this.buf.readUInt32LE(124)) this.problems.push("EVTX file header checksum mismatch (file may be dirty or damaged); chunks read anyway");
        this.headerDone = true;
      } else this.chunk(this.buf.subarray(0, EVTX_CHUNK_BYTES));
      this.pos += this.fill;
      this.fill = 0;
    }
  }

  end(): void {
    if (!this.invalid && !this.headerDone && this.bytes > 0) this.problems.push("truncated EVTX file (shorter than its 4096-byte header)");
    if (this.headerDone && this.fill > 0) this.problems.push(`EVTX file ends inside a chunk (${this.fill} bytes not read)`);
    if (this.badChunks) this.problems.push(`${this.badChunks} EVTX chunk(s) without ElfChnk signature skipped`);
    if (this.moreNotes) this.problems.push(`${this.moreNotes} more damaged EVTX record(s) or chunk(s) not listed`);
  }

  private note(msg: string): void {
    if (this.notes < MAX_NOTES) {
      this.notes++;
      this.problems.push(msg);
    } else this.moreNotes++;
  }

  private chunk(c: Buffer): void {
    const at = this.pos;
    if (c.toString("latin1", 0, 8) !== "ElfChnk\0") {
      if (c.some((b) => b !== 0)) this.badChunks++;
      return;
    }
    this.chunks++;
    const headerCrc = crc32(c.subarray(128, CHUNK_HEADER), crc32(c.subarray(0, 120)));
    const freeSpace = c.readUInt32LE(48);
    const end = freeSpace >= CHUNK_HEADER && freeSpace <= EVTX_CHUNK_BYTES ? freeSpace : EVTX_CHUNK_BYTES;
    if (headerCrc !== c.readUInt32LE(124) || crc32(c.subarray(CHUNK_HEADER, end)) !== c.readUInt32LE(52)) {
      if (this.crcNotes++ === 0) this.note(`chunk at offset ${at}: checksum mismatch; its records are decoded one by one`);
    }
    const decoder = new ChunkDecoder(c);
    let p = CHUNK_HEADER;
    while (p + 28 <= end) {
      const size = c.readUInt32LE(p + 4);
      const ok = c.readUInt32LE(p) === RECORD_MAGIC && size >= 28 && p + size <= EVTX_CHUNK_BYTES && c.readUInt32LE(p + size - 4) === size;
      if (!ok) {
        if (c.readUInt32LE(p) === 0 && size === 0) break; // zero fill after the last record
        const next = nextRecord(c, p + 1, end);
        this.skippedRecords++;
        this.note(`chunk at offset ${at}: damaged record at file offset ${at + p} skipped${next === -1 ? " (rest of the chunk unreadable)" : ""}`);
        if (next === -1) break;
        p = next;
        continue;
      }
      const recordId = c.readUInt32LE(p + 8) + c.readUInt32LE(p + 12) * 4294967296;
      const written = isoFromFiletime(c.readUInt32LE(p + 16), c.readUInt32LE(p + 20));
      let xml: XmlPart[] | null = null;
      try {
        xml = decoder.decodeRecord(p + 24, p + size - 4);
      } catch (err) {
        if (!(err instanceof BinXmlError) && !(err instanceof RangeError)) throw err;
        this.skippedRecords++;
        this.note(`record ${recordId} (file offset ${at + p}): ${err.message}; skipped`);
      }
      if (xml) {
        this.records++;
        this.onRecord({ recordId, written, offset: at + p, xml, view: eventView(xml) });
      }
      p += size;
    }
  }
}

/** The next offset after `from` where a well-formed record header starts, or -1. */
function nextRecord(c: Buffer, from: number, end: number): number {
  for (let p = c.indexOf("**\0\0", from, "latin1"); p !== -1 && p + 28 <= end; p = c.indexOf("**\0\0", p + 1, "latin1")) {
    const size = c.readUInt32LE(p + 4);
    if (size >= 28 && p + size <= EVTX_CHUNK_BYTES && c.readUInt32LE(p + size - 4) === size) return p;
  }
  return -1;
}

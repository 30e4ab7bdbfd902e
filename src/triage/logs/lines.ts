/** A plain line reader for the smaller text inputs (listings, event XML): chunks in, decoded lines out. Pure. */
import { TextDecoder } from "node:util";
import { sniffEncoding } from "./text.js";

export type LineCallback = (line: string, lineNo: number, partial: boolean) => void;

export class TextLineReader {
  private started = false;
  private head: Buffer | null = null;
  private decoder: TextDecoder | null = null;
  private carry = "";
  private lineNo = 1;
  bytes = 0;
  overlong = 0;

  constructor(
    private readonly onLine: LineCallback,
    private readonly maxLineChars = 1 << 20,
  ) {}

  push(chunk: Buffer): void {
    if (!chunk.length) return;
    this.bytes += chunk.length;
    if (!this.started) {
      // The encoding is decided on the first 512 bytes, however small the first chunks are.
      this.head = this.head ? Buffer.concat([this.head, chunk]) : Buffer.from(chunk);
      if (this.head.length < 512) return;
      chunk = this.startDecoding();
    }
    this.feed(this.decoder!.decode(chunk, { stream: true }));
  }

  private startDecoding(): Buffer {
    this.started = true;
    const head = this.head ?? Buffer.alloc(0);
    this.head = null;
    const { encoding, bomLength } = sniffEncoding(head);
    this.decoder = new TextDecoder(encoding === "utf16le" ? "utf-16le" : encoding === "utf16be" ? "utf-16be" : "utf-8");
    return head.subarray(bomLength);
  }

  end(): void {
    if (!this.started && this.head) {
      const rest = this.startDecoding();
      this.feed(this.decoder!.decode(rest, { stream: true }));
    }
    if (this.decoder) this.feed(this.decoder.decode());
    if (this.carry.length) this.onLine(stripCr(this.carry), this.lineNo, false);
    this.carry = "";
  }

  get lines(): number {
    return this.lineNo - 1;
  }

  private feed(text: string): void {
    let s = this.carry + text;
    let pos = 0;
    for (;;) {
      const nl = s.indexOf("\n", pos);
      if (nl === -1) break;
      this.onLine(stripCr(s.slice(pos, nl)), this.lineNo, false);
      this.lineNo++;
      pos = nl + 1;
    }
    s = s.slice(pos);
    if (s.length > this.maxLineChars) {
      this.overlong++;
      this.onLine(s, this.lineNo, true);
      s = "";
    }
    this.carry = s;
  }
}

function stripCr(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

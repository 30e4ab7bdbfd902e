/** Tiny writers for test archives: a zip (stored or deflated entries, any names, optional lies) and a tar.gz. */
import { crc32, deflateRawSync, gzipSync } from "node:zlib";
import tar from "tar-stream";

export interface ZipItem {
  name: string;
  data: Buffer;
  deflate?: boolean;
  /** Declare this uncompressed size instead of the real one. */
  declaredSize?: number;
  /** Corrupt the compressed bytes. */
  corrupt?: boolean;
}

export function makeZip(items: ZipItem[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const it of items) {
    const name = Buffer.from(it.name, "utf8");
    let body = it.deflate ? deflateRawSync(it.data) : it.data;
    if (it.corrupt) {
      body = Buffer.from(body);
      for (let i = 0; i < body.length; i += 7) body[i] = body[i]! ^ 0xff;
    }
    const crc = crc32(it.data);
    const size = it.declaredSize ?? it.data.length;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0x800, 6);
    lh.writeUInt16LE(it.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(0x031e, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(0x800, 8);
    ch.writeUInt16LE(it.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    centrals.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(items.length, 8);
  end.writeUInt16LE(items.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export async function makeTarGz(items: Array<{ name: string; data: Buffer; type?: "file" | "symlink"; linkname?: string }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on("data", (c: unknown) => chunks.push(c as Buffer));
    pack.on("end", () => resolve());
    pack.on("error", reject);
  });
  for (const it of items) {
    if (it.type === "symlink") pack.entry({ name: it.name, type: "symlink", linkname: it.linkname ?? "/etc/passwd" });
    else pack.entry({ name: it.name, size: it.data.length }, it.data);
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

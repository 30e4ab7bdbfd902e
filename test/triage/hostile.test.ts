import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriage } from "../../src/cli/commands/triage.js";
import { triage } from "../../src/triage/scan.js";
import { iisHeader, PROXYLOGON_TRACES as T } from "../../bench/triage/synth.js";
import { makeTarGz, makeZip } from "./archive.js";

let tmp: string;
const day = new Date(Date.UTC(2021, 2, 3));
const attackLine = (): string => T.iisWebshellPost(day, 3600);
const iisLog = (): Buffer => Buffer.from(`${iisHeader(day)}${attackLine()}`);

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-hostile-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, data: Buffer): string {
  const p = path.join(tmp, name);
  writeFileSync(p, data);
  return p;
}

describe("hostile bundles", () => {
  it("zip bomb: a 1000:1 entry is refused unread, the rest is still checked", async () => {
    const zip = makeZip([
      { name: "logs/W3SVC1/bomb.log", data: Buffer.alloc(64 * 1024 * 1024), deflate: true },
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog(), deflate: true },
    ]);
    expect(zip.length).toBeLessThan(200_000);
    const r = await triage(file("bomb.zip", zip));
    expect(r.problems.some((p) => p.file === "logs/W3SVC1/bomb.log" && /ratio/.test(p.message))).toBe(true);
    expect(r.stats.bytes).toBeLessThan(1_000_000);
    expect(r.verdict).toBe("compromised");
  });

  it("zip entry that lies about its size is stopped by the size check", async () => {
    const zip = makeZip([
      { name: "logs/W3SVC1/liar.log", data: Buffer.alloc(4 * 1024 * 1024, 0x41), deflate: true, declaredSize: 1000 },
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog() },
    ]);
    const r = await triage(file("liar.zip", zip));
    expect(r.problems.some((p) => p.file === "logs/W3SVC1/liar.log")).toBe(true);
    expect(r.verdict).toBe("compromised");
  });

  it("overlapping zip entries (Fifield-style bomb) are refused", async () => {
    const one = makeZip([{ name: "a.log", data: Buffer.alloc(100_000, 0x41), deflate: true }]);
    // Duplicate the central record so two entries point at the same data, then claim sizes larger than the file.
    const r = await triage(file("overlap.zip", patchOverlap(one)));
    expect(r.problems.some((p) => /overlap|damaged|cannot read/.test(p.message))).toBe(true);
  });

  it("gzip bomb in a .tar.gz stops at the ratio limit", async () => {
    const tgz = await makeTarGz([
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog() },
      { name: "logs/W3SVC1/zeros.log", data: Buffer.alloc(200 * 1024 * 1024) },
    ]);
    expect(tgz.length).toBeLessThan(400_000);
    const r = await triage(file("bomb.tar.gz", tgz));
    expect(r.problems.some((p) => /ratio/.test(p.message))).toBe(true);
    expect(r.verdict).toBe("compromised");
  }, 60_000);

  it("path traversal names are refused and nothing is written anywhere", async () => {
    const before = readdirSync(tmpdir()).length;
    const zip = makeZip([
      { name: "../../../../tmp/evil.aspx", data: Buffer.from(T.chinaChopper) },
      { name: "/etc/cron.d/evil", data: Buffer.from("x") },
      { name: "C:\\Windows\\evil.aspx", data: Buffer.from("x") },
      { name: "logs/../../escape.log", data: Buffer.from("x") },
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog() },
    ]);
    const r = await triage(file("traversal.zip", zip));
    const refused = r.problems.filter((p) => /traversal/.test(p.message));
    expect(refused).toHaveLength(4);
    expect(existsSync("/tmp/evil.aspx")).toBe(false);
    expect(readdirSync(tmpdir()).length).toBe(before);
    expect(r.verdict).toBe("compromised");
    const tgz = await makeTarGz([
      { name: "../escape.log", data: Buffer.from("x") },
      { name: "link.log", data: Buffer.alloc(0), type: "symlink", linkname: "/etc/shadow" },
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog() },
    ]);
    const t = await triage(file("traversal.tar.gz", tgz));
    expect(t.problems.some((p) => /traversal/.test(p.message))).toBe(true);
    expect(t.problems.some((p) => /symlink/.test(p.message))).toBe(true);
    expect(t.verdict).toBe("compromised");
  });

  it("a directory bundle does not follow symbolic links out of the bundle", async () => {
    const dir = path.join(tmp, "symdir");
    mkdirSync(path.join(dir, "logs", "W3SVC1"), { recursive: true });
    writeFileSync(path.join(dir, "logs", "W3SVC1", "u_ex210303.log"), iisLog());
    symlinkSync("/etc", path.join(dir, "etc-link"));
    const r = await triage(dir);
    expect(r.problems.some((p) => p.file === "etc-link" && /symbolic link/.test(p.message))).toBe(true);
    expect(r.verdict).toBe("compromised");
  });

  it("enormous lines: a 5 MB line is checked in pieces with bounded memory, and the line after it keeps its number", async () => {
    const dir = path.join(tmp, "longline", "logs", "W3SVC1");
    mkdirSync(dir, { recursive: true });
    const huge = `2021-03-03 00:00:01 10.0.0.1 GET /owa/ ${"A".repeat(5 * 1024 * 1024)} /aspnet_client&del 'x' cmd.exe /c cd /d C:\\inetpub\\wwwroot\\aspnet_client\r\n`;
    writeFileSync(path.join(dir, "u_ex210303.log"), `${iisHeader(day)}${huge}${attackLine()}`);
    const r = await triage(path.join(tmp, "longline"));
    const shell = r.findings.find((f) => f.rule === "webshell.iis.post-unexpected-aspx");
    expect(shell?.line).toBe(6);
    const cleanup = r.findings.find((f) => f.rule === "hafnium.cleanup-commands");
    expect(cleanup?.line).toBe(5);
    expect(cleanup!.excerpt.length).toBeLessThan(600);
    expect(r.problems.some((p) => /longer than 1 MiB/.test(p.message))).toBe(true);
  });

  it("binary junk: random bytes and NULs in logs and files do not crash, excerpts stay printable", async () => {
    const dir = path.join(tmp, "junk");
    mkdirSync(path.join(dir, "logs", "W3SVC1"), { recursive: true });
    mkdirSync(path.join(dir, "eventlog"), { recursive: true });
    let seed = 7;
    const junk = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < junk.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      junk[i] = seed >> 16;
    }
    const tainted = Buffer.concat([junk.subarray(0, 1000), Buffer.from("\n"), Buffer.from(attackLine().replace("antSword/v2.1", "antSword/v2.1\u001b[31m\u0007")), junk]);
    writeFileSync(path.join(dir, "logs", "W3SVC1", "u_ex210303.log"), tainted);
    writeFileSync(path.join(dir, "eventlog", "Application.evtx"), junk.subarray(0, 200_000));
    writeFileSync(path.join(dir, "eventlog", "Application.xml"), junk.subarray(0, 100_000));
    writeFileSync(path.join(dir, "junk.bin"), junk);
    const r = await triage(dir);
    const hit = r.findings.find((f) => f.rule === "webshell.iis.post-unexpected-aspx");
    const newlinesBefore = junk.subarray(0, 1000).filter((b) => b === 10).length;
    expect(hit?.line).toBe(newlinesBefore + 2);
    // eslint-disable-next-line no-control-regex
    for (const f of r.findings) expect(f.excerpt).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(r.problems.some((p) => p.file === "eventlog/Application.evtx" && /not an EVTX/.test(p.message))).toBe(true);
  });

  it("UTF-16 logs (with and without BOM, LE and BE) are decoded and matched at the right line", async () => {
    const dir = path.join(tmp, "utf16", "logs", "W3SVC1");
    mkdirSync(dir, { recursive: true });
    const text = `${iisHeader(day)}${attackLine()}`;
    const le = Buffer.from(text, "utf16le");
    const be = Buffer.from(le).swap16();
    writeFileSync(path.join(dir, "u_ex210301.log"), Buffer.concat([Buffer.from([0xff, 0xfe]), le]));
    writeFileSync(path.join(dir, "u_ex210302.log"), le);
    writeFileSync(path.join(dir, "u_ex210303.log"), Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    const r = await triage(path.join(tmp, "utf16"));
    const hits = r.findings.filter((f) => f.rule === "webshell.iis.post-unexpected-aspx");
    expect(hits.map((h) => `${h.file}:${h.line}`).sort()).toEqual([
      "logs/W3SVC1/u_ex210301.log:5",
      "logs/W3SVC1/u_ex210302.log:5",
      "logs/W3SVC1/u_ex210303.log:5",
    ]);
    expect(hits[0]!.sourceIp).toBe("104.140.114.110");
  });

  it("an unreadable entry gets a clear message and the rest is still checked", async () => {
    const zip = makeZip([
      { name: "logs/W3SVC1/damaged.log", data: Buffer.from(`${iisHeader(day)}${"x".repeat(5000)}`), deflate: true, corrupt: true },
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog() },
    ]);
    const r = await triage(file("damaged.zip", zip));
    expect(r.problems.find((p) => p.file === "logs/W3SVC1/damaged.log")?.message).toMatch(/cannot read/);
    expect(r.verdict).toBe("compromised");
    // truncated .tar.gz
    const tgz = await makeTarGz([
      { name: "logs/W3SVC1/u_ex210303.log", data: iisLog() },
      { name: "logs/W3SVC1/big.log", data: Buffer.alloc(300_000, 0x42) },
    ]);
    const t = await triage(file("trunc.tar.gz", tgz.subarray(0, tgz.length - 200)));
    expect(t.problems.some((p) => /damaged|truncated|cannot read/.test(p.message))).toBe(true);
    expect(t.verdict).toBe("compromised");
  });

  it.skipIf(process.getuid?.() === 0)("a file without read permission in a directory bundle is reported", async () => {
    const dir = path.join(tmp, "perm", "logs", "W3SVC1");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "u_ex210303.log"), iisLog());
    writeFileSync(path.join(dir, "u_ex210304.log"), iisLog());
    chmodSync(path.join(dir, "u_ex210304.log"), 0o000);
    const r = await triage(path.join(tmp, "perm"));
    expect(r.problems.find((p) => p.file.endsWith("u_ex210304.log"))?.message).toMatch(/EACCES/);
    expect(r.verdict).toBe("compromised");
  });

  it("a missing or unknown input is a usage error", async () => {
    await expect(runTriage(path.join(tmp, "nope"), {})).rejects.toThrow(/cannot open/);
    await expect(runTriage(file("plain.txt", Buffer.from("hello")), {})).rejects.toThrow(/not a directory, \.zip/);
    await expect(runTriage(tmp, { json: true, sarif: true })).rejects.toThrow(/choose one/);
    const gz = file("notatar.tar.gz", gzipSync(Buffer.from("just text, not a tar")));
    const r = await triage(gz);
    expect(r.verdict).toBe("not-examined");
    expect(r.notExamined).toMatch(/archive damaged or truncated/);
  });
});

/** Turn a one-entry zip into two central entries sharing the same local data, with compressed sizes that overlap. */
function patchOverlap(zip: Buffer): Buffer {
  const eocd = zip.length - 22;
  const cdSize = zip.readUInt32LE(eocd + 12);
  const cdOff = zip.readUInt32LE(eocd + 16);
  const cd = zip.subarray(cdOff, cdOff + cdSize);
  const big = Buffer.from(cd);
  big.writeUInt32LE(cdOff, 20); // compressed size = whole local area
  const out = Buffer.concat([zip.subarray(0, cdOff), big, big, zip.subarray(eocd)]);
  const e = out.length - 22;
  out.writeUInt16LE(2, e + 8);
  out.writeUInt16LE(2, e + 10);
  out.writeUInt32LE(cdSize * 2, e + 12);
  return out;
}

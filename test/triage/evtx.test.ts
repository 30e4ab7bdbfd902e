import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTriage } from "../../src/cli/commands/triage.js";
import { toXml } from "../../src/triage/logs/evtx/binxml.js";
import { EvtxReader, type EvtxRecord } from "../../src/triage/logs/evtx/reader.js";
import { triage } from "../../src/triage/scan.js";
import { buildEvtx, sysmonProcess, type EvtxEventSpec } from "./evtxWriter.js";

const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "evtx");
const REAL_W3WP = path.join(FIXTURES, "exec_sysmon_webshell_w3wp_enum.evtx");
const REAL_NETUSER = path.join(FIXTURES, "LM_typical_IIS_webshell_sysmon_1_10_traces.evtx");

function decode(buf: Buffer, pieces = 1): { records: EvtxRecord[]; reader: EvtxReader } {
  const records: EvtxRecord[] = [];
  const reader = new EvtxReader((r) => records.push(r));
  const step = Math.ceil(buf.length / pieces);
  for (let o = 0; o < buf.length; o += step) reader.push(buf.subarray(o, o + step));
  reader.end();
  return { records, reader };
}

const field = (r: EvtxRecord, name: string): string | undefined => r.view.data.find(([k]) => k === name)?.[1];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-evtx-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function bundleWith(name: string, files: Record<string, Buffer>): string {
  const dir = path.join(tmp, name);
  for (const [rel, buf] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), buf);
  }
  return dir;
}

const T0 = new Date("2021-03-03T06:05:12.125Z");
const at = (s: number): Date => new Date(T0.getTime() + s * 1000);
const OWA_POOL = 'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "MSExchangeOWAAppPool" -v "v4.0" -c "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\GenericAppPoolConfigWithGCServerEnabledFalse.config" -a \\\\.\\pipe\\iisipm1 -h "C:\\inetpub\\temp\\apppools\\MSExchangeOWAAppPool\\MSExchangeOWAAppPool.config" -w "" -m 0';
const W3WP = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";
const UM = "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\Bin\\UMWorkerProcess.exe";

describe("EVTX decoder: real files", () => {
  it("decodes the public Sysmon sample fully: channel, system fields and every EventData value", () => {
    const buf = readFileSync(REAL_W3WP);
    expect(createHash("sha256").update(buf).digest("hex")).toBe("d8d5b464259ae6b96ceea7958dab7cee8dbcdaa2eae9d89dff72025b6c0c1138");
    const { records, reader } = decode(buf, 7);
    expect(reader.problems).toEqual([]);
    expect(records).toHaveLength(9);
    expect(new Set(records.map((r) => r.view.channel))).toEqual(new Set(["Microsoft-Windows-Sysmon/Operational"]));
    const first = records[0]!;
    expect(first.view).toMatchObject({ provider: "Microsoft-Windows-Sysmon", eventId: "1", level: "4", recordId: "3408", computer: "win10.windomain.local", timeCreated: "2020-08-08T01:36:38.9899186Z" });
    expect(field(first, "Image")).toBe("C:\\Windows\\System32\\cmd.exe");
    expect(field(first, "CommandLine")).toBe('"c:\\windows\\system32\\cmd.exe" /c whoami');
    expect(field(first, "ParentImage")).toBe("C:\\Windows\\System32\\inetsrv\\w3wp.exe");
    expect(field(first, "ParentCommandLine")).toMatch(/^c:\\windows\\system32\\inetsrv\\w3wp\.exe -ap "DefaultAppPool"/);
    expect(field(first, "User")).toBe("IIS APPPOOL\\DefaultAppPool");
    expect(field(first, "Product")).toBe("Microsoft® Windows® Operating System");
    const xml = toXml(first.xml);
    expect(xml).toContain('<Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"/>');
    expect(xml).toContain("<Keywords>0x8000000000000000</Keywords>");
    expect(xml).toContain('<Security UserID="S-1-5-18"/>');
    expect(xml).toContain('<Execution ProcessID="3344" ThreadID="5152"/>');
    expect(records.map((r) => r.view.eventId)).toEqual(["1", "1", "1", "1", "7", "1", "7", "7", "1"]);
  });

  it("decodes the second public sample (w3wp → cmd /c net user)", () => {
    const buf = readFileSync(REAL_NETUSER);
    expect(createHash("sha256").update(buf).digest("hex")).toBe("6f1cb3c435389d961261ccfbb2c4562b156d4160319fe4736ce1506a43327c7b");
    const { records, reader } = decode(buf);
    expect(reader.problems).toEqual([]);
    expect(records.map((r) => r.view.eventId)).toEqual(["1", "10", "1", "1"]);
    const cmd = records.find((r) => field(r, "Image") === "C:\\Windows\\System32\\cmd.exe")!;
    expect(field(cmd, "CommandLine")).toBe('"c:\\windows\\system32\\cmd.exe" /c net user');
    expect(field(cmd, "ParentImage")).toBe("C:\\Windows\\System32\\inetsrv\\w3wp.exe");
  });

  it("a real Sysmon file named Application.evtx is reported as the Sysmon channel, compromised (w3wp → cmd /c whoami)", async () => {
    const dir = bundleWith("real-sysmon", { "eventlog/Application.evtx": readFileSync(REAL_W3WP) });
    const r = await triage(dir);
    expect(r.verdict).toBe("compromised");
    const ids = new Set(r.findings.map((f) => f.rule));
    expect(ids).toContain("sysmon.w3wp-shell-recon-command");
    expect(ids).toContain("sysmon.w3wp-spawns-shell");
    expect(r.findings.every((f) => f.channel === "Microsoft-Windows-Sysmon/Operational")).toBe(true);
    const cov = r.coverage.find((c) => c.logType === "eventlog")!;
    expect(cov.channels).toEqual([{ channel: "Microsoft-Windows-Sysmon/Operational", files: 1, records: 9, first: "2020-08-08T01:36:38.989Z", last: "2020-08-08T01:37:06.257Z", days: 0 }]);
    const text = (await runTriage(dir, {})).output;
    expect(text).toContain("Microsoft-Windows-Sysmon/Operational: 0.0 days");
    expect(text).toContain("(Microsoft-Windows-Sysmon/Operational)");
    expect(text).not.toMatch(/Application (event )?log/);
    const json = JSON.parse((await runTriage(dir, { json: true })).output) as { findings: Array<{ channel?: string }> };
    expect(json.findings[0]!.channel).toBe("Microsoft-Windows-Sysmon/Operational");
  });
});

describe("EVTX decoder: our encoder round-trips through it", () => {
  it("types, templates reused across records, names by reference, NULL optional values, binary XML values, several chunks", () => {
    const events: EvtxEventSpec[] = [];
    for (let i = 0; i < 300; i++) {
      events.push(
        i % 3 === 2
          ? { recordId: 1000 + i, time: at(i), provider: "MSExchange Management", eventId: 1, level: 4, channel: "MSExchange Management", computer: "EX01.corp.example", userData: { name: "MSExchangeCmdlet", values: [["Cmdlet", "Set-OabVirtualDirectory"], ["Args", `-ExternalUrl 'https://mail.example/oab' #${i}`]] } }
          : sysmonProcess(1000 + i, at(i), { image: `C:\\Windows\\System32\\tool${i}.exe`, commandLine: `tool${i} /x "a&b<c>"`, parentImage: "C:\\Windows\\explorer.exe", parentCommandLine: "explorer.exe" }),
      );
    }
    events[1]!.userSid = undefined;
    const buf = buildEvtx(events, { recordsPerChunk: 60 });
    expect(buf.length).toBe(4096 + 5 * 65536);
    const { records, reader } = decode(buf, 13);
    expect(reader.problems).toEqual([]);
    expect(records).toHaveLength(300);
    expect(reader.chunks).toBe(5);
    for (const [i, r] of records.entries()) {
      expect(r.recordId).toBe(1000 + i);
      expect(r.view.recordId).toBe(String(1000 + i));
      expect(r.written).toBe(at(i).toISOString());
      expect(r.view.timeCreated).toBe(`${at(i).toISOString().slice(0, 19)}.1250000Z`);
    }
    const s = records[0]!;
    expect(s.view).toMatchObject({ provider: "Microsoft-Windows-Sysmon", eventId: "1", level: "4", channel: "Microsoft-Windows-Sysmon/Operational", computer: "EX01.corp.example" });
    expect(field(s, "CommandLine")).toBe('tool0 /x "a&b<c>"');
    expect(toXml(s.xml)).toContain('<Security UserID="S-1-5-18"/>');
    expect(toXml(s.xml)).toContain("<Keywords>0x8000000000000000</Keywords>");
    expect(toXml(s.xml)).toContain("tool0 /x \"a&amp;b&lt;c&gt;\"");
    expect(toXml(records[1]!.xml)).toContain("<Security/>");
    const m = records[2]!;
    expect(m.view.channel).toBe("MSExchange Management");
    expect(m.view.data).toEqual([["Cmdlet", "Set-OabVirtualDirectory"], ["Args", "-ExternalUrl 'https://mail.example/oab' #2"]]);
    expect(toXml(m.xml)).toContain('<UserData><MSExchangeCmdlet xmlns="urn:vigie-test"><Cmdlet>Set-OabVirtualDirectory</Cmdlet>');
  });
});

describe("EVTX decoder: hostile and damaged files", () => {
  const sample = (): Buffer =>
    buildEvtx(Array.from({ length: 40 }, (_, i) => sysmonProcess(i + 1, at(i), { image: "C:\\Windows\\System32\\cmd.exe", commandLine: `cmd /c echo ${i}`, parentImage: "C:\\Windows\\explorer.exe", parentCommandLine: "explorer.exe" })));

  it("a record with damaged binary XML is skipped with a note; the records around it are read", () => {
    const buf = sample();
    const second = 4096 + 512 + buf.readUInt32LE(4096 + 512 + 4); // second record
    buf[second + 24] = 0x77; // its fragment header token
    const { records, reader } = decode(buf);
    expect(records).toHaveLength(39);
    expect(records.map((r) => r.recordId)).not.toContain(2);
    expect(reader.problems.join("\n")).toMatch(/record 2 .*unexpected token 0x77.*skipped/);
    expect(reader.problems.join("\n")).toMatch(/checksum mismatch/);
  });

  it("a record whose sizes disagree is skipped by finding the next record signature", () => {
    const buf = sample();
    const first = 4096 + 512;
    buf.writeUInt32LE(0xfff0, first + 4);
    const { records, reader } = decode(buf);
    expect(records[0]!.recordId).toBe(2);
    expect(records).toHaveLength(39);
    expect(reader.problems.join("\n")).toMatch(/damaged record at file offset 4608 skipped/);
  });

  it("a chunk without its signature is skipped and counted; truncated files and non-EVTX files are named", () => {
    const two = buildEvtx(Array.from({ length: 200 }, (_, i) => sysmonProcess(i + 1, at(i), { image: "x.exe", commandLine: "x", parentImage: "y.exe", parentCommandLine: "y" })), { recordsPerChunk: 100 });
    two.write("NotChnk\0", 4096, "latin1");
    const a = decode(two);
    expect(a.records).toHaveLength(100);
    expect(a.reader.problems).toContain("1 EVTX chunk(s) without ElfChnk signature skipped");
    const b = decode(two.subarray(0, 4096 + 65536 + 1000));
    expect(b.reader.problems).toContain("EVTX file ends inside a chunk (1000 bytes not read)");
    const c = decode(Buffer.from("MZ this is not an event log".padEnd(5000, "x")));
    expect(c.records).toHaveLength(0);
    expect(c.reader.problems).toEqual(["not an EVTX file (no ElfFile header); skipped"]);
    expect(decode(Buffer.from("ElfFile\0")).reader.problems).toEqual(["truncated EVTX file (shorter than its 4096-byte header)"]);
  });

  it("a template that refers to itself, and names pointing anywhere, are refused without a crash", () => {
    const buf = sample();
    // Point the first record's template definition offset at the template instance token itself.
    const rec = 4096 + 512;
    const inst = rec + 24 + 4;
    buf.writeUInt32LE(inst - 4096, inst + 6);
    const { records, reader } = decode(buf);
    expect(records.length).toBeLessThan(40);
    expect(reader.problems.length).toBeGreaterThan(0);
  });

  it("random corruption never throws, never loops, and the undamaged chunk's records still come out", () => {
    const base = buildEvtx(
      Array.from({ length: 160 }, (_, i) => (i % 2 ? sysmonProcess(i + 1, at(i), { image: "C:\\a.exe", commandLine: "a", parentImage: "C:\\b.exe", parentCommandLine: "b" }) : { recordId: i + 1, time: at(i), provider: "P", eventId: 7, channel: "System", computer: "h", userData: { name: "U", values: [["A", "1"]] } })),
      { recordsPerChunk: 80 },
    );
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 120; round++) {
      const buf = Buffer.from(base);
      for (let k = 0; k < 1 + rnd(40); k++) buf[4096 + 512 + rnd(65536 - 512)] = rnd(256); // first chunk only
      const { records } = decode(buf);
      expect(records.filter((r) => r.offset >= 4096 + 65536).map((r) => r.recordId)).toEqual(Array.from({ length: 80 }, (_, i) => i + 81));
    }
  });
});

describe("Sysmon process creation rules", () => {
  const evtx = (events: EvtxEventSpec[]): Buffer => buildEvtx(events);

  it("w3wp.exe of an Exchange app pool starting cmd.exe is compromised, with the channel named", async () => {
    const dir = bundleWith("owa-cmd", {
      "eventlog/Microsoft-Windows-Sysmon%4Operational.evtx": evtx([
        sysmonProcess(1, at(0), { image: "C:\\Windows\\System32\\cmd.exe", commandLine: 'cmd.exe /c "copy a b"', parentImage: W3WP, parentCommandLine: OWA_POOL }),
      ]),
    });
    const r = await triage(dir);
    expect(r.verdict).toBe("compromised");
    expect(r.findings.map((f) => f.rule).sort()).toEqual(["sysmon.exchange-apppool-spawns-shell", "sysmon.w3wp-spawns-shell"]);
    expect(r.findings[0]).toMatchObject({ channel: "Microsoft-Windows-Sysmon/Operational", timestamp: at(0).toISOString(), file: "eventlog/Microsoft-Windows-Sysmon%4Operational.evtx" });
    expect(r.findings[0]!.excerpt).toMatch(/^record 1: Microsoft-Windows-Sysmon\/Operational \| Microsoft-Windows-Sysmon \| EventID 1 \| EX01\.corp\.example \| Image: C:\\\\Windows\\\\System32\\\\cmd\.exe \| CommandLine: cmd\.exe \/c "copy a b"/);
    const out = await runTriage(dir, {});
    expect(out.exitCode).toBe(3);
    expect(out.output).toContain("(Microsoft-Windows-Sysmon/Operational)");
  });

  it("UMWorkerProcess.exe starting powershell.exe is compromised (CVE-2021-26857); another child is suspicious", async () => {
    const dir = bundleWith("um", {
      "eventlog/Sysmon.evtx": evtx([sysmonProcess(5, at(5), { image: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", commandLine: "powershell -ep bypass", parentImage: UM, parentCommandLine: `"${UM}"` })]),
    });
    const r = await triage(dir);
    expect(r.verdict).toBe("compromised");
    expect(r.findings.map((f) => f.rule)).toEqual(["sysmon.umworkerprocess-spawns-shell"]);
    expect(r.findings[0]!.cve).toBe("CVE-2021-26857");
    const odd = bundleWith("um-odd", { "eventlog/Sysmon.evtx": evtx([sysmonProcess(6, at(6), { image: "C:\\ProgramData\\x.exe", commandLine: "x", parentImage: UM, parentCommandLine: UM })]) });
    const r2 = await triage(odd);
    expect(r2.verdict).toBe("suspicious");
    expect(r2.findings.map((f) => f.rule)).toEqual(["sysmon.umworkerprocess-child-process"]);
  });

  it("benign twins give nothing: ASP.NET compilation in an Exchange pool, error reporting from UM, cmd.exe from services, other Sysmon events", async () => {
    const dir = bundleWith("benign", {
      "eventlog/Sysmon.evtx": evtx([
        sysmonProcess(1, at(0), { image: "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe", commandLine: "csc.exe /noconfig @x.cmdline", parentImage: W3WP, parentCommandLine: OWA_POOL }),
        sysmonProcess(2, at(1), { image: "C:\\Windows\\System32\\WerFault.exe", commandLine: "WerFault.exe -u -p 4242", parentImage: UM, parentCommandLine: UM }),
        sysmonProcess(3, at(2), { image: "C:\\Windows\\System32\\cmd.exe", commandLine: "cmd /c whoami", parentImage: "C:\\Windows\\System32\\services.exe", parentCommandLine: "services.exe" }),
        { ...sysmonProcess(4, at(3), { image: "C:\\Windows\\System32\\cmd.exe", commandLine: "cmd /c whoami", parentImage: W3WP, parentCommandLine: OWA_POOL }), eventId: 5 },
      ]),
    });
    const r = await triage(dir);
    expect(r.findings).toEqual([]);
    expect(r.verdict).toBe("no-indicators");
    expect(r.coverage.find((c) => c.logType === "eventlog")!.channels).toEqual([{ channel: "Microsoft-Windows-Sysmon/Operational", files: 1, records: 4, first: at(0).toISOString(), last: at(3).toISOString(), days: 0 }]);
  });

  it("w3wp.exe of another pool starting a batch file is suspicious only; with a recon command it is compromised", async () => {
    const pool = 'c:\\windows\\system32\\inetsrv\\w3wp.exe -ap "DefaultAppPool" -v "v4.0"';
    const batch = bundleWith("default-batch", { "eventlog/Sysmon.evtx": evtx([sysmonProcess(1, at(0), { image: "C:\\Windows\\System32\\cmd.exe", commandLine: "cmd.exe /c D:\\app\\rotate-logs.bat", parentImage: W3WP, parentCommandLine: pool })]) });
    const a = await triage(batch);
    expect(a.verdict).toBe("suspicious");
    expect(a.findings.map((f) => f.rule)).toEqual(["sysmon.w3wp-spawns-shell"]);
    const recon = bundleWith("default-recon", { "eventlog/Sysmon.evtx": evtx([sysmonProcess(1, at(0), { image: "C:\\Windows\\System32\\cmd.exe", commandLine: 'cmd /c cd /d "C:\\inetpub\\wwwroot\\aspnet_client"&whoami&echo [S]&cd&echo [E]', parentImage: W3WP, parentCommandLine: pool })]) });
    expect((await triage(recon)).verdict).toBe("compromised");
  });

  it("the same Sysmon event in a wevtutil XML export gives the same findings and channel", async () => {
    const xml = `<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID>1</EventID><Level>4</Level><TimeCreated SystemTime='2021-03-03T06:05:12.1250000Z'/><EventRecordID>1</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>EX01</Computer></System><EventData><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='CommandLine'>cmd.exe /c &quot;copy a b&quot;</Data><Data Name='ParentImage'>${W3WP}</Data><Data Name='ParentCommandLine'>${OWA_POOL.replace(/"/g, "&quot;")}</Data></EventData></Event></Events>`;
    const dir = bundleWith("xml-export", { "eventlog/sysmon-events.xml": Buffer.from(xml) });
    const r = await triage(dir);
    expect(r.findings.map((f) => f.rule).sort()).toEqual(["sysmon.exchange-apppool-spawns-shell", "sysmon.w3wp-spawns-shell"]);
    expect(r.findings[0]!.channel).toBe("Microsoft-Windows-Sysmon/Operational");
  });
});

// The identification of single answers and of live scans whose other endpoints contradict Exchange, on the
// shipped knowledge base's platform table (knowledge/platforms.json, validated at load). Expected values are
// written by hand from Microsoft's supportability matrix (the sources in knowledge/platforms.json).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { identify } from "../../src/identify/fingerprint.js";
import { evidenceFromHttp } from "../../src/identify/httpEvidence.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import type { Evidence } from "../../src/pipeline/vocabulary.js";

const kb = loadKnowledgeBase({ overlayDir: null });
const platforms = kb.platformTable();
const page = readFileSync(path.resolve("test/fixtures/pages/exchange2010-logon-served.html"), "utf8");

const logon = (server: string, body = page): Evidence[] =>
  evidenceFromHttp({ probe: "logon-page", path: "/owa/auth/logon.aspx", status: 200, headers: { server }, body, hosts: ["192.0.2.1"] }).evidence;

describe("platform table (knowledge/platforms.json)", () => {
  it("holds the IIS versions of every Windows Server version the matrix lists per product line", () => {
    expect(platforms["14"]!.iis).toEqual([7, 7.5, 8, 8.5]); // 2008 SP2, 2008 R2 SP1, 2012, 2012 R2
    expect(platforms["15.0"]!.iis).toEqual([7.5, 8, 8.5]); // 2008 R2 SP1, 2012, 2012 R2
    expect(platforms["15.1"]!.iis).toEqual([8, 8.5, 10]); // 2012, 2012 R2, 2016
    expect(platforms["15.2"]!.iis).toEqual([10]); // 2019 (and later, all IIS 10.0)
  });

  it("a file naming a Windows version it does not list, or a bad IIS version, is refused with its path", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigie-platforms-"));
    cpSync(path.resolve("knowledge"), dir, { recursive: true });
    const file = path.join(dir, "platforms.json");
    const good = JSON.parse(readFileSync(file, "utf8")) as { windows: Array<{ iis: string }>; products: Array<{ windows: string[] }> };
    good.products[2]!.windows.push("Windows Server 2003");
    writeFileSync(file, JSON.stringify(good));
    expect(() => loadKnowledgeBase({ builtinDir: dir, overlayDir: null })).toThrow(/platforms: 2016: "Windows Server 2003" is not in the windows list/);
    good.products[2]!.windows.pop();
    good.windows[0]!.iis = "seven";
    writeFileSync(file, JSON.stringify(good));
    expect(() => loadKnowledgeBase({ builtinDir: dir, overlayDir: null })).toThrow(/platforms\.json: windows\[0\]\.iis/);
  });
});

describe("identify: one answer", () => {
  it("an Exchange 2010 logon page on IIS 7.5 is Exchange, low, with the reason", () => {
    const id = identify({ evidence: logon("Microsoft-IIS/7.5") }, { platforms });
    expect(id).toMatchObject({ isExchange: true, build: "14.3.123.3", precision: "exact", confidence: "low" });
    expect(id.confidenceReason).toMatch(/^single answer: OWA logon page only/);
  });

  it("the same page on IIS 10.0 (Windows Server 2016+, where 2010 never ran), or behind nginx, or without platform data, is not", () => {
    expect(identify({ evidence: logon("Microsoft-IIS/10.0") }, { platforms }).note).toMatch(/needs IIS 7\.0, 7\.5, 8\.0, 8\.5 .* answers as IIS 10\.0: an imitation/);
    expect(identify({ evidence: logon("nginx/1.18.0") }, { platforms }).isExchange).toBe(false);
    expect(identify({ evidence: logon("Microsoft-IIS/7.5") }).isExchange).toBe(false);
  });

  it("without the logon form (a page carrying only the resource paths) it is not counted", () => {
    const noForm = page.replace('action="/owa/auth.owa"', 'action="/login.php"');
    expect(identify({ evidence: logon("Microsoft-IIS/7.5", noForm) }, { platforms }).note).toMatch(/no logon form/);
  });

  it("a 2016 server on Windows Server 2012 (IIS 8.0) with X-OWA-Version and X-FEServer is Exchange, not an imitation; on IIS 7.5 it is one", () => {
    const headers = (server: string) => ({ server, "x-owa-version": "15.1.2176.9", "x-feserver": "EXCH01" });
    const on = (server: string) => identify({ evidence: evidenceFromHttp({ probe: "owa", path: "/owa/", status: 302, headers: headers(server) }).evidence }, { platforms });
    expect(on("Microsoft-IIS/8.0")).toMatchObject({ isExchange: true, build: "15.1.2176.9", confidence: "medium" });
    expect(on("Microsoft-IIS/7.5")).toMatchObject({ isExchange: false });
    expect(on("Microsoft-IIS/7.5").note).toMatch(/runs on IIS 8\.0, 8\.5, 10\.0 .* answers as IIS 7\.5: an imitation/);
  });
});

describe("identify: a live scan whose other endpoints contradict Exchange", () => {
  it("a consistent logon page is not counted when EWS, Autodiscover or ActiveSync answer 404", () => {
    for (const p of ["/EWS/Exchange.asmx", "/autodiscover/autodiscover.xml", "/Microsoft-Server-ActiveSync"]) {
      const other = evidenceFromHttp({ probe: "ews", path: p, status: 404, headers: { server: "Microsoft-IIS/7.5" } }).evidence;
      const id = identify({ evidence: [...logon("Microsoft-IIS/7.5"), ...other] }, { platforms });
      expect(id.isExchange, p).toBe(false);
      expect(id.note, p).toMatch(/Exchange endpoint absent \(404\)/);
    }
  });

  it("a 401 there (what Exchange answers) does not contradict; a real Exchange with its own headers is not judged by a 404", () => {
    const ews401 = evidenceFromHttp({ probe: "ews", path: "/EWS/Exchange.asmx", status: 401, headers: { server: "Microsoft-IIS/7.5", "www-authenticate": "NTLM" } }).evidence;
    expect(identify({ evidence: [...logon("Microsoft-IIS/7.5"), ...ews401] }, { platforms }).isExchange).toBe(true);
    const strong = evidenceFromHttp({ probe: "owa", path: "/owa/", status: 302, headers: { server: "Microsoft-IIS/10.0", "x-owa-version": "15.2.986.14", "x-feserver": "EX1" } }).evidence;
    const ews404 = evidenceFromHttp({ probe: "ews", path: "/EWS/Exchange.asmx", status: 404, headers: {} }).evidence;
    expect(identify({ evidence: [...strong, ...ews404] }, { platforms })).toMatchObject({ isExchange: true, build: "15.2.986.14" });
  });

  it("resources linked on the host's own name (certificate or record name) are its own; on another name they are not", () => {
    const abs = page.replace(/"\/owa\/14/g, '"https://webmail.example.org/owa/14');
    const mine = evidenceFromHttp({ probe: "p", path: "/owa/auth/logon.aspx", status: 200, headers: { server: "Microsoft-IIS/7.5" }, body: abs, hosts: ["192.0.2.1", "*.example.org"] }).evidence;
    expect(identify({ evidence: mine }, { platforms }).isExchange).toBe(true);
    const theirs = evidenceFromHttp({ probe: "p", path: "/owa/auth/logon.aspx", status: 200, headers: { server: "Microsoft-IIS/7.5" }, body: abs, hosts: ["192.0.2.1"] }).evidence;
    expect(identify({ evidence: theirs }, { platforms }).note).toMatch(/OWA resources on another host \(webmail\.example\.org\)/);
  });
});

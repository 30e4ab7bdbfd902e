/**
 * Every Test-ProxyLogon check with the exclusions Microsoft published after false-positive reports (CSS-Exchange
 * commit 19778cd of 2021-03-11, PR #386 of 2021-03-18, issues #311, #312, #328): each rule fires on its trace and not
 * on its benign twin. Each case is a one-file bundle on disk, judged by the real `triage`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTriageRules } from "../../src/triage/load.js";
import { triage } from "../../src/triage/scan.js";
import { appEventXml, BENIGN_TWINS as B, httpProxyHeader, PROXYLOGON_TRACES as T, umEventXml } from "../../bench/triage/synth.js";

let tmp: string;
let n = 0;
const day = new Date(Date.UTC(2021, 2, 3));
const ECP_HEADER = "#Software: Microsoft Exchange Server\r\n#Fields: TimeStamp,ServerName,EventID,EventData\r\n";
const OAB_HEADER = "#Software: Microsoft Exchange Server\r\n#Log-type: OABGenerator Log\r\n";

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-exclusions-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A bundle holding one file; returns the triage result. */
async function judge(rel: string, content: string): Promise<Awaited<ReturnType<typeof triage>>> {
  const root = path.join(tmp, `b${++n}`);
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
  return triage(root, { workers: 0 });
}

const HP = "logs/HttpProxy/Ecp/HttpProxy_2021030300-1.LOG";
const ECP = "logs/ECP/Server/ECPServer_2021030300-1.LOG";
const OAB = "logs/OABGeneratorLog/OABGenerator_2021030300-1.LOG";
const EVT = "eventlog/MSExchangeUM-errors.xml";
const events = (x: string): string => `<?xml version="1.0" encoding="UTF-8"?>\r\n<Events>\r\n${x}\r\n</Events>\r\n`;
const hpLine = (anchor: string, status = "241"): string =>
  T.httpProxySsrf(day, 3600).replace("ServerInfo~a]@ex01.contoso.local:444/ecp/proxyLogon.ecp#~1941962753", anchor).replace(/,241,241,/, `,${status},${status},`);

interface Case {
  rule: string;
  file: string;
  header: string;
  /** The trace: fires the rule on the line after the header. */
  attack: string[];
  /** The benign twins: none fires the rule (nor any other rule). */
  benign: string[];
}

const CASES: Case[] = [
  {
    rule: "proxylogon.cve-2021-26855.httpproxy-serverinfo",
    file: HP,
    header: httpProxyHeader(),
    attack: [T.httpProxySsrf(day, 3600), T.httpProxyResetVdir(day, 3700), hpLine("ServerInfo~a]@ex01.contoso.local:444/mapi/emsmdb/?#")],
    benign: [B.httpProxyAutodiscoverAnchor(day, 3600), B.httpProxyLocalhostAnchor(day, 3600), hpLine("ServerInfo~localhost~1942062522/ecp/DDI/DDIService.svc/GetList#")],
  },
  {
    rule: "proxylogon.cve-2021-26855.httpproxy-ssrf-success",
    file: HP,
    header: httpProxyHeader(),
    attack: [T.httpProxySsrf(day, 3600), hpLine("ServerInfo~a]@ex01.contoso.local:444/ecp/DDI/DDIService.svc/GetObject?schema=OABVirtualDirectory#", "200")],
    benign: [B.httpProxyAutodiscoverAnchor(day, 3600), B.httpProxyLocalhostAnchor(day, 3600), hpLine("ServerInfo~a]@ex01.contoso.local:444/autodiscover/autodiscover.xml?#", "200")],
  },
  {
    rule: "proxylogon.cve-2021-27065.httpproxy-reset-vdir",
    file: HP,
    header: httpProxyHeader(),
    attack: [T.httpProxyResetVdir(day, 3600)],
    // not answered 200 (Test-ProxyLogon requires HttpStatus 200): the CVE-2021-26855 anchor rule still fires on it
    benign: [hpLine("ServerInfo~a]@ex01.contoso.local:444/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#", "500"), B.httpProxyAutodiscoverAnchor(day, 3600)],
  },
  {
    rule: "proxylogon.cve-2021-26858.oabgen-download-failed",
    file: OAB,
    header: OAB_HEADER,
    attack: [
      T.oabDownloadFailed(day, 3600),
      // climbing out of the OAB folder is not "under" it
      B.oabDownloadInOab(day, 3600).replace("ClientAccess\\OAB\\Temp\\", "ClientAccess\\OAB\\..\\..\\FrontEnd\\HttpProxy\\owa\\auth\\"),
    ],
    benign: [B.oabDownloadInOab(day, 3600), B.oabDownloadInOab(day, 3600).replace("C:\\Program Files\\Microsoft\\Exchange Server\\V15", "D:\\Exchange")],
  },
  {
    rule: "proxylogon.cve-2021-27065.ecp-tag-in-url",
    file: ECP,
    header: ECP_HEADER,
    attack: [T.ecpSetOab(day, 3600), B.ecpSetOwaHttps(day, 3600).replace("https://mail.contoso.com/owa", "http://f/<b>x</b>")],
    benign: [B.ecpSetOwaHttps(day, 3600), B.ecpSetOwaHttps(day, 3600).replace("Set-OwaVirtualDirectory.ExternalUrl", "Set-OabVirtualDirectory.InternalUrl")],
  },
  {
    rule: "proxylogon.cve-2021-27065.ecp-script-in-url",
    file: ECP,
    header: ECP_HEADER,
    attack: [T.ecpSetOab(day, 3600), T.ecpSetOab(day, 3600).replace(/""/g, "'")],
    benign: [B.ecpSetOwaHttps(day, 3600)],
  },
  {
    rule: "proxylogon.cve-2021-26857.um-invalidcast",
    file: EVT,
    header: "",
    attack: [events(umEventXml(7, "2021-03-03T06:05:12.000Z", "System.InvalidCastException: Unable to cast object"))],
    benign: [
      events(umEventXml(7, "2021-03-03T06:05:12.000Z", "System.NullReferenceException: Object reference not set")),
      events(appEventXml(8, "2021-03-03T06:05:12.000Z").replace("Exchange Active Directory Provider", "System.InvalidCastException in")),
    ],
  },
];

describe("Test-ProxyLogon checks with their published exclusions", () => {
  for (const c of CASES) {
    it(`${c.rule}: fires on the trace, not on its benign twin`, async () => {
      for (const a of c.attack) {
        const r = await judge(c.file, `${c.header}${a}`);
        const hits = r.findings.filter((f) => f.rule === c.rule);
        expect(hits, a.slice(0, 200)).toHaveLength(1);
        expect(hits[0]!.file).toBe(c.file);
        if (c.header) expect(hits[0]!.line).toBe(c.header.split("\n").length);
      }
      for (const b of c.benign) {
        const r = await judge(c.file, `${c.header}${b}`);
        expect(r.findings.filter((f) => f.rule === c.rule), b.slice(0, 200)).toEqual([]);
        // every benign twin here is quiet for every rule, except the CVE-2021-26855 anchor kept on a non-200 reset
        if (!b.includes("ResetOABVirtualDirectory")) expect(r.findings, b.slice(0, 200)).toEqual([]);
        expect(r.verdict).toBe(r.findings.length ? "suspicious" : "no-indicators");
      }
    });
  }

  it("every Test-ProxyLogon rule cites Test-ProxyLogon.ps1 and is covered above", () => {
    const { rules } = loadTriageRules();
    const tpl = rules.logRules.filter((r) => r.sources.some((s) => s.url.includes("Test-ProxyLogon.ps1")));
    expect(tpl.map((r) => r.id).sort()).toEqual(CASES.map((c) => c.rule).filter((id) => tpl.some((r) => r.id === id)).sort());
    for (const r of tpl) expect(CASES.some((c) => c.rule === r.id), r.id).toBe(true);
  });
});

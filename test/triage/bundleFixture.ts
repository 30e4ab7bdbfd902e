/** Builds a realistic evidence bundle on disk, with or without the published ProxyLogon traces planted in it. */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  appEventXml,
  BENIGN_TWINS as B,
  ecpLine,
  httpProxyHeader,
  httpProxyLine,
  iisHeader,
  iisLine,
  oabLine,
  PROXYLOGON_TRACES as T,
  Rng,
  umEventXml,
} from "../../bench/triage/synth.js";

export interface Planted {
  file: string;
  line: number | null;
  rule: string;
}

const DAYS = 12;
const START = Date.UTC(2021, 1, 24); // 2021-02-24 .. 2021-03-07

function write(root: string, rel: string, content: string | Buffer): void {
  const full = path.join(root, rel);
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, content);
}

/** Lines of one log file; `plant` maps a line index (0-based, after the header) to the attack line inserted there. */
function logFile(header: string, count: number, gen: (i: number) => string, plant: Map<number, string>): { text: string; lineOf: Map<number, number> } {
  const parts: string[] = [header];
  let lineNo = header.split("\n").length; // next line number (header ends with \n)
  const lineOf = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const p = plant.get(i);
    if (p !== undefined) {
      parts.push(p);
      lineOf.set(i, lineNo);
      lineNo++;
    }
    parts.push(gen(i));
    lineNo++;
  }
  return { text: parts.join(""), lineOf };
}

/** The four UTF-16 forms of a text: LE/BE, with and without BOM. */
export function utf16Variants(text: string): Array<{ name: string; data: Buffer }> {
  const le = Buffer.from(text, "utf16le");
  const be = Buffer.from(le).swap16();
  return [
    { name: "utf16le-bom", data: Buffer.concat([Buffer.from([0xff, 0xfe]), le]) },
    { name: "utf16le", data: le },
    { name: "utf16be-bom", data: Buffer.concat([Buffer.from([0xfe, 0xff]), be]) },
    { name: "utf16be", data: be },
  ];
}

/**
 * Both bundles hold the benign twins of Test-ProxyLogon's published exclusions (OAB downloads inside
 * ClientAccess\OAB, Set-OwaVirtualDirectory with an https URL, localhost and autodiscover anchors, an antivirus archive
 * in ProgramData). The attacked one adds the traces and UTF-16 copies (all four forms) of the attack day's HttpProxy
 * Ecp, ECP server and OAB generator logs, under logs-utf16/<form>/.
 */
export function buildBundle(root: string, attack: boolean): Planted[] {
  const rng = new Rng(42);
  const planted: Planted[] = [];
  for (let d = 0; d < DAYS; d++) {
    const day = new Date(START + d * 86400000);
    const ymd = day.toISOString().slice(2, 10).replace(/-/g, "");
    const isAttackDay = attack && d === 7;
    // IIS
    {
      const plant = new Map<number, string>();
      if (isAttackDay) {
        plant.set(120, T.iisStaticPost(day, 6 * 3600 + 120));
        plant.set(300, T.iisWebshellPost(day, 6 * 3600 + 300));
      }
      const { text, lineOf } = logFile(iisHeader(day), 400, (i) => iisLine(rng, day, Math.floor((i * 86399) / 400)), plant);
      const rel = `logs/W3SVC1/u_ex${ymd}.log`;
      write(root, rel, text);
      if (isAttackDay) {
        planted.push({ file: rel, line: lineOf.get(120)!, rule: "proxylogon.iis.post-static-resource" });
        planted.push({ file: rel, line: lineOf.get(120)!, rule: "proxylogon.iis.exploit-user-agent" });
        planted.push({ file: rel, line: lineOf.get(300)!, rule: "webshell.iis.post-unexpected-aspx" });
        planted.push({ file: rel, line: lineOf.get(300)!, rule: "proxylogon.iis.exploit-user-agent" });
      }
    }
    // HttpProxy (Ecp protocol)
    {
      const plant = new Map<number, string>();
      if (isAttackDay) {
        plant.set(50, T.httpProxySsrf(day, 6 * 3600 + 118));
        plant.set(60, T.httpProxyResetVdir(day, 6 * 3600 + 205));
      }
      if (d === 3) {
        plant.set(20, B.httpProxyAutodiscoverAnchor(day, 7 * 3600));
        plant.set(40, B.httpProxyLocalhostAnchor(day, 9 * 3600));
      }
      const { text, lineOf } = logFile(httpProxyHeader(), 150, (i) => httpProxyLine(rng, day, Math.floor((i * 86399) / 150)), plant);
      const rel = `logs/HttpProxy/Ecp/HttpProxy_20${ymd}00-1.LOG`;
      write(root, rel, text);
      if (isAttackDay) {
        const here = (file: string): void => {
          planted.push({ file, line: lineOf.get(50)!, rule: "proxylogon.cve-2021-26855.httpproxy-serverinfo" });
          planted.push({ file, line: lineOf.get(50)!, rule: "proxylogon.cve-2021-26855.httpproxy-ssrf-success" });
          planted.push({ file, line: lineOf.get(60)!, rule: "proxylogon.cve-2021-26855.httpproxy-serverinfo" });
          planted.push({ file, line: lineOf.get(60)!, rule: "proxylogon.cve-2021-26855.httpproxy-ssrf-success" });
          planted.push({ file, line: lineOf.get(60)!, rule: "proxylogon.cve-2021-27065.httpproxy-reset-vdir" });
        };
        here(rel);
        for (const v of utf16Variants(text)) {
          const copy = `logs-utf16/${v.name}/HttpProxy/Ecp/HttpProxy_20${ymd}00-1.LOG`;
          write(root, copy, v.data);
          here(copy);
        }
      }
    }
    // ECP server
    {
      const plant = new Map<number, string>();
      if (isAttackDay) plant.set(30, T.ecpSetOab(day, 6 * 3600 + 200));
      if (d === 3) plant.set(10, B.ecpSetOwaHttps(day, 10 * 3600));
      const { text, lineOf } = logFile("#Software: Microsoft Exchange Server\r\n#Fields: TimeStamp,ServerName,EventID,EventData\r\n", 60, (i) => ecpLine(rng, day, Math.floor((i * 86399) / 60)), plant);
      const rel = `logs/ECP/Server/ECPServer_20${ymd}00-1.LOG`;
      write(root, rel, text);
      if (isAttackDay) {
        const here = (file: string): void => {
          planted.push({ file, line: lineOf.get(30)!, rule: "proxylogon.cve-2021-27065.ecp-tag-in-url" });
          planted.push({ file, line: lineOf.get(30)!, rule: "proxylogon.cve-2021-27065.ecp-script-in-url" });
        };
        here(rel);
        for (const v of utf16Variants(text)) {
          const copy = `logs-utf16/${v.name}/ECP/Server/ECPServer_20${ymd}00-1.LOG`;
          write(root, copy, v.data);
          here(copy);
        }
      }
    }
    // OAB generator
    {
      const plant = new Map<number, string>();
      if (isAttackDay) plant.set(3, T.oabDownloadFailed(day, 6 * 3600 + 210));
      if (d === 3) plant.set(5, B.oabDownloadInOab(day, 11 * 3600));
      const { text, lineOf } = logFile("#Software: Microsoft Exchange Server\r\n#Log-type: OABGenerator Log\r\n", 10, (i) => oabLine(rng, day, i * 8000), plant);
      const rel = `logs/OABGeneratorLog/OABGenerator_20${ymd}00-1.LOG`;
      write(root, rel, text);
      if (isAttackDay) {
        planted.push({ file: rel, line: lineOf.get(3)!, rule: "proxylogon.cve-2021-26858.oabgen-download-failed" });
        for (const v of utf16Variants(text)) {
          const copy = `logs-utf16/${v.name}/OABGeneratorLog/OABGenerator_20${ymd}00-1.LOG`;
          write(root, copy, v.data);
          planted.push({ file: copy, line: lineOf.get(3)!, rule: "proxylogon.cve-2021-26858.oabgen-download-failed" });
        }
      }
    }
  }
  // Application event log, XML export: one event per line.
  const events: string[] = [];
  for (let i = 0; i < 40; i++) events.push(appEventXml(1000 + i, new Date(START + i * 7 * 3600000).toISOString()));
  let umLine: number | null = null;
  if (attack) {
    events.splice(25, 0, umEventXml(2001, "2021-03-03T06:05:12.000Z", "An unhandled exception occurred in a UM worker process: System.InvalidCastException: Unable to cast object of type 'System.Object' to type 'Microsoft.Exchange.UM.UMCore.UMCallInfoEx'."));
    umLine = 3 + 25; // line 1 <?xml?>, line 2 <Events>, event i on line 3 + i
  }
  write(root, "eventlog/Application.xml", `<?xml version="1.0" encoding="UTF-8"?>\r\n<Events>\r\n${events.join("\r\n")}\r\n</Events>\r\n`);
  if (umLine !== null) planted.push({ file: "eventlog/Application.xml", line: umLine, rule: "proxylogon.cve-2021-26857.um-invalidcast" });

  // Listings and copies of web root scripts.
  const stock = [
    ["C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\logon.aspx", "<%@ Page language=\"c#\" AutoEventWireup=\"false\" Inherits=\"Microsoft.Exchange.HttpProxy.Logon\" %>\r\n"],
    ["C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\errorFE.aspx", "<%@ Page Language=\"c#\" Inherits=\"Microsoft.Exchange.HttpProxy.ErrorFE\" %>\r\n"],
  ];
  const web: Array<[string, string]> = stock.map(([p, c]) => [p!, c!]);
  if (attack) web.push(["C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\log.aspx", T.chinaChopper]);
  const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
  const rows = ['#TYPE Selected.System.IO.FileInfo', '"Path","Length","LastWriteTimeUtc","SHA256"'];
  web.forEach(([p, c]) => rows.push(`"${p}","${Buffer.byteLength(c)}","${p.includes("aspnet_client") ? "2021-03-03T06:03:41.0000000Z" : "2021-01-12T10:00:00.0000000Z"}","${sha(c).toUpperCase()}"`));
  write(root, "listings/webroots.csv", `${rows.join("\r\n")}\r\n`);
  if (attack) {
    planted.push({ file: "listings/webroots.csv", line: 5, rule: "webshell.known-path.mstic" });
    planted.push({ file: "listings/webroots.csv", line: 5, rule: "webshell.unexpected-script-in-webroot" });
  }
  for (const [p, c] of web) write(root, `files/C/${p.slice(3).replace(/\\/g, "/")}`, c);
  if (attack) {
    planted.push({ file: "files/C/inetpub/wwwroot/aspnet_client/system_web/log.aspx", line: null, rule: "webshell.known-path.mstic" });
    planted.push({ file: "files/C/inetpub/wwwroot/aspnet_client/system_web/log.aspx", line: null, rule: "webshell.unexpected-script-in-webroot" });
    planted.push({ file: "files/C/inetpub/wwwroot/aspnet_client/system_web/log.aspx", line: 1, rule: "yara:Vigie_Webshell_ChinaChopper_Aspx" });
  }
  // The McAfee archive is one of CSS-Exchange issue #311's false positives: set aside on a clean server, suspicious
  // (not corroborated: written two years before the attack) on the attacked one.
  const pd = [
    '"Path","Length","LastWriteTimeUtc","SHA256"',
    `"C:\\ProgramData\\Veeam\\Backup\\config.json","812","2021-02-01T02:00:00.0000000Z","${"a".repeat(64)}"`,
    `"C:\\ProgramData\\McAfee\\Common Framework\\Current\\EPOAGENT3000\\Install\\0409\\FrameworkConfig.zip","20311","2019-07-22T11:57:52.0000000Z","${"c".repeat(64)}"`,
  ];
  if (attack) pd.push(`"C:\\ProgramData\\it.zip","48213211","2021-03-03T07:41:10.0000000Z","${"b".repeat(64)}"`);
  write(root, "listings/programdata.csv", `${pd.join("\r\n")}\r\n`);
  if (attack) {
    planted.push({ file: "listings/programdata.csv", line: 3, rule: "proxylogon.suspicious-file.programdata-archive" });
    planted.push({ file: "listings/programdata.csv", line: 4, rule: "proxylogon.suspicious-file.programdata-archive" });
  }
  write(root, "manifest.json", JSON.stringify({ collector: "Collect-VigieBundle.ps1", computer: "EX01", collectedUtc: "2021-03-08T09:00:00Z" }));
  return planted;
}

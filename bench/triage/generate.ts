/**
 * Writes a realistic evidence bundle of about `sizeMb` megabytes: 30 days of IIS, HttpProxy (Owa, Ecp, Ews),
 * ECP server and OAB generator logs with normal OWA/ECP/EWS/MAPI/ActiveSync traffic, and a handful of
 * ProxyLogon traces planted on one day. Returns the planted traces (file, line).
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import { ecpLine, httpProxyHeader, httpProxyLine, iisHeader, iisLine, oabLine, PROXYLOGON_TRACES as T, Rng } from "./synth.js";

export interface PlantedTrace {
  file: string;
  line: number;
  what: string;
}

const DAYS = 30;
const START = Date.UTC(2021, 1, 10);

class LogWriter {
  private fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  bytes = 0;
  lines = 0;
  constructor(file: string, header: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, "w");
    this.add(header);
    this.lines = header.split("\n").length - 1;
  }
  add(s: string): void {
    this.buf.push(s);
    this.bufLen += s.length;
    this.bytes += s.length;
    if (this.bufLen > 1 << 20) this.flush();
  }
  line(s: string): number {
    this.add(s);
    return ++this.lines;
  }
  flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join(""), null, "latin1");
    this.buf = [];
    this.bufLen = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export function generateBundle(root: string, sizeMb: number): PlantedTrace[] {
  const rng = new Rng(1);
  const planted: PlantedTrace[] = [];
  const perDay = (sizeMb * 1024 * 1024) / DAYS;
  const attackDay = 20;
  for (let d = 0; d < DAYS; d++) {
    const day = new Date(START + d * 86400000);
    const ymd = day.toISOString().slice(2, 10).replace(/-/g, "");
    const plan: Array<{ rel: string; header: string; share: number; gen: (sec: number) => string; plant?: Array<[number, string, string]> }> = [
      {
        rel: `logs/W3SVC1/u_ex${ymd}.log`,
        header: iisHeader(day),
        share: 0.55,
        gen: (sec) => iisLine(rng, day, sec),
        plant: [
          [0.25, T.iisStaticPost(day, 21600), "POST /ecp/y.js (ProxyLogon SSRF)"],
          [0.26, T.iisWebshellPost(day, 22000), "POST to web shell in aspnet_client"],
        ],
      },
      { rel: `logs/HttpProxy/Owa/HttpProxy_20${ymd}00-1.LOG`, header: httpProxyHeader(), share: 0.15, gen: (sec) => httpProxyLine(rng, day, sec, "Owa") },
      {
        rel: `logs/HttpProxy/Ecp/HttpProxy_20${ymd}00-1.LOG`,
        header: httpProxyHeader(),
        share: 0.1,
        gen: (sec) => httpProxyLine(rng, day, sec, "Ecp"),
        plant: [[0.25, T.httpProxySsrf(day, 21598), "ServerInfo~ SSRF (CVE-2021-26855)"]],
      },
      { rel: `logs/HttpProxy/Ews/HttpProxy_20${ymd}00-1.LOG`, header: httpProxyHeader(), share: 0.12, gen: (sec) => httpProxyLine(rng, day, sec, "Ews") },
      {
        rel: `logs/ECP/Server/ECPServer_20${ymd}00-1.LOG`,
        header: "#Software: Microsoft Exchange Server\r\n#Fields: TimeStamp,ServerName,EventID,EventData\r\n",
        share: 0.075,
        gen: (sec) => ecpLine(rng, day, sec),
        plant: [[0.26, T.ecpSetOab(day, 22100), "Set-OabVirtualDirectory with script (CVE-2021-27065)"]],
      },
      {
        rel: `logs/OABGeneratorLog/OABGenerator_20${ymd}00-1.LOG`,
        header: "#Software: Microsoft Exchange Server\r\n#Log-type: OABGenerator Log\r\n",
        share: 0.005,
        gen: (sec) => oabLine(rng, day, sec),
        plant: [[0.5, T.oabDownloadFailed(day, 43200), "Download failed and temporary file (CVE-2021-26858)"]],
      },
    ];
    for (const p of plan) {
      const w = new LogWriter(path.join(root, p.rel), p.header);
      const target = perDay * p.share;
      const plants = d === attackDay ? [...(p.plant ?? [])] : [];
      let sec = 0;
      while (w.bytes < target) {
        const frac = w.bytes / target;
        while (plants.length && plants[0]![0] <= frac) {
          const [, line, what] = plants.shift()!;
          planted.push({ file: p.rel, line: w.line(line), what });
        }
        sec = Math.min(86399, Math.floor(frac * 86400));
        w.line(p.gen(sec));
      }
      for (const [, line, what] of plants) planted.push({ file: p.rel, line: w.line(line), what });
      w.close();
    }
  }
  return planted;
}

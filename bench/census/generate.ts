/**
 * Synthetic zgrab2 file for the census bench and tests, with its ground truth.
 *
 *   node dist/bench/census/generate.js --records 400000 --out scan.jsonl [--truth truth.json] [--seed 1]
 *        [--gzip] [--corrupt 0.001]
 *
 * Realistic on purpose: addresses drawn from real national allocations (the country MMDB npm ships, by
 * rejection sampling with country quotas shaped like March 2021: US, DE ~65k of 400k, FR ~15k, GB ~7.5k …),
 * clustered a few per /24; Exchange builds weighted towards the 2021 CU lines still unpatched then, plus any
 * known build; OWA logon pages of 4–24 KB (real pages are in that range), X-OWA-Version headers (absent on 2010),
 * some servers showing only the logon-page path (CU precision) or only OWA markers (no build), a second record
 * on port 80 for some Exchange servers (a redirect: the census must count the server once), non-Exchange web
 * servers (IIS, nginx, Apache, appliances), Exchange 2010 servers answering with their logon page only (counted,
 * confidence low), OWA look-alikes with no header from Exchange itself (phishing copies linking another host's
 * /owa/, honeypots on an IIS version the page's product cannot run on: not Exchange) and failed grabs. The ground truth counts SERVERS (distinct IPs) per
 * country and per CVE, with the per-build verdicts of the knowledge base.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { Reader } from "maxmind";
import { readFileSync } from "node:fs";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { shippedGeoFiles } from "../../src/enrich/dataDir.js";
import { countryOfRecord } from "../../src/enrich/mmdb.js";
import { numberToIpv4 } from "../../src/enrich/util.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";

interface Args {
  records: number;
  out: string;
  truth: string;
  seed: number;
  gzip: boolean;
  corrupt: number;
}

function args(argv: string[]): Args {
  const a: Args = { records: 20_000, out: "bench/out/census/scan.jsonl", truth: "", seed: 1, gzip: false, corrupt: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === "--gzip") {
      a.gzip = true;
      continue;
    }
    i++;
    if (k === "--records") a.records = Number(v);
    else if (k === "--out") a.out = v!;
    else if (k === "--truth") a.truth = v!;
    else if (k === "--seed") a.seed = Number(v);
    else if (k === "--corrupt") a.corrupt = Number(v);
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.records) || a.records < 1) throw new Error("--records: a positive integer");
  if (!a.truth) a.truth = a.out.replace(/(\.jsonl)?(\.gz)?$/, "") + ".truth.json";
  return a;
}

/** mulberry32: small, seeded, good enough for test data. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRY_SHARE: Array<[string, number]> = [
  ["US", 0.28], ["DE", 0.16], ["FR", 0.0375], ["GB", 0.019], ["IT", 0.04], ["NL", 0.03], ["JP", 0.03], ["RU", 0.025],
  ["CN", 0.02], ["BR", 0.02], ["ES", 0.02], ["CA", 0.02], ["AU", 0.02], ["PL", 0.02], ["CH", 0.02], ["AT", 0.02],
];
/** Builds many servers still ran in March 2021 (2013 CU23, 2016 CU18/CU19, 2019 CU7/CU8, 2010 SP3) and fixed ones. */
const COMMON_BUILDS = [
  "15.0.1497.2", "15.0.1497.12", "15.1.2106.2", "15.1.2176.2", "15.1.2176.9", "15.1.2106.13", "15.2.721.2", "15.2.792.3",
  "15.2.792.10", "15.2.721.13", "14.3.513.0", "15.1.2242.4", "15.2.858.5", "15.1.1979.3", "15.2.1544.4",
];

const WORDS = "div span table row cell form input label button display block none inline width height margin padding border color background font family size weight left right top bottom position absolute relative index opacity transition transform function var return if else for while true false null undefined this new window document element style class id value name type text";
function padPool(r: () => number): string {
  const w = WORDS.split(" ");
  const parts: string[] = [];
  let n = 0;
  while (n < 200_000) {
    const line = Array.from({ length: 6 + Math.floor(r() * 10) }, () => w[Math.floor(r() * w.length)]).join(" ");
    const s = r() < 0.5 ? `.${line.replace(/ /g, "-")} { ${line}: ${Math.floor(r() * 999)}px; }\n` : `  ${line.replace(/ /g, "_")}(${Math.floor(r() * 99999)});\n`;
    parts.push(s);
    n += s.length;
  }
  return parts.join("");
}

function main(): void {
  const a = args(process.argv.slice(2));
  const r = rng(a.seed);
  const pool = padPool(r);
  const pad = (n: number) => {
    const start = Math.floor(r() * (pool.length - n - 1));
    return pool.slice(start, start + n);
  };
  const logUniform = (lo: number, hi: number) => Math.floor(Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo))));

  const kb = loadKnowledgeBase({ overlayDir: "/nonexistent-vigie-overlay" });
  const explainer = new BuildExplainer(kb);
  const allBuilds = kb.builds.map((b) => b.build);
  const country = new Reader<Record<string, unknown>>(readFileSync(shippedGeoFiles().country));
  const ccOf = (n: number): string | null => countryOfRecord(country.get(numberToIpv4(n)));

  // Distinct servers (IPs) needed: records minus the port-80 duplicates (about 7% of records).
  const quotas = new Map<string, number>(COUNTRY_SHARE.map(([c, s]) => [c, Math.round(a.records * s)]));
  const used = new Set<number>();
  const pending: Array<{ ip: number; cc: string }> = [];
  let otherNeeded = a.records; // filled as needed
  const nextIp = (): { ip: number; cc: string } => {
    for (;;) {
      if (pending.length > 0) return pending.pop()!;
      const n = Math.floor(r() * 0xdfffffff) + 0x01000000; // 1.0.0.0 .. 223.255.255.255
      if (used.has(n)) continue;
      const cc = ccOf(n);
      if (cc === null) continue;
      const q = quotas.get(cc);
      const wantQuota = q !== undefined && q > 0;
      const totalQuota = [...quotas.values()].reduce((s, x) => s + Math.max(0, x), 0);
      // Outside the quota countries, accept in proportion to what is left for "other".
      if (!wantQuota && (q !== undefined || r() > (otherNeeded - totalQuota) / Math.max(1, otherNeeded))) continue;
      // A few neighbours in the same /24, same country (servers cluster in hosting and ISP ranges).
      const base = n - (n % 256);
      const k = 1 + Math.floor(r() * 6);
      for (let i = 0; i < k; i++) {
        const m = base + 1 + Math.floor(r() * 254);
        if (used.has(m) || ccOf(m) !== cc) continue;
        used.add(m);
        if (q !== undefined) quotas.set(cc, quotas.get(cc)! - 1);
        otherNeeded--;
        pending.push({ ip: m, cc });
        if (q !== undefined && quotas.get(cc)! <= 0) break;
      }
    }
  };

  type Counts = { vulnerable: number; patched: number; unknown: number };
  const truth = {
    records: a.records,
    lines: a.records,
    malformedLines: [] as number[],
    servers: 0,
    exchangeServers: 0,
    failedGrabs: 0,
    port80Duplicates: 0,
    lookAlikes: 0,
    byCountry: {} as Record<string, { exposed: number; cves: Record<string, Counts> }>,
    byCve: {} as Record<string, Counts>,
  };
  const ids = kb.advisories.map((x) => x.id).sort();
  const addTruth = (cc: string, build: string | null) => {
    truth.exchangeServers++;
    const g = (truth.byCountry[cc] ??= { exposed: 0, cves: Object.fromEntries(ids.map((id) => [id, { vulnerable: 0, patched: 0, unknown: 0 }])) });
    g.exposed++;
    const verdicts = build === null ? ids.map((id) => ({ id, status: "unknown" })) : explainer.explain(build).cves;
    for (const v of verdicts) {
      if (v.status === "not_affected") continue;
      const s = v.status as keyof Counts;
      g.cves[v.id]![s]++;
      (truth.byCve[v.id] ??= { vulnerable: 0, patched: 0, unknown: 0 })[s]++;
    }
  };

  mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  const fd = openSync(a.out, "w");
  // Written in 4 MB pieces as they fill (flat memory); gzip as concatenated members, which gunzip reads whole.
  const put = (text: string) => writeSync(fd, a.gzip ? gzipSync(text, { level: 1 }) : Buffer.from(text));
  let buf: string[] = [];
  let bufLen = 0;
  let written = 0;
  const emit = (line: string) => {
    written++;
    if (a.corrupt > 0 && r() < a.corrupt) {
      // A corrupted line: cut in the middle (as a truncated transfer leaves it), still a separate line.
      line = line.slice(0, Math.max(1, Math.floor(line.length / 2)));
      truth.malformedLines.push(written);
    }
    buf.push(line);
    bufLen += line.length + 1;
    if (bufLen > 1 << 22) {
      put(buf.join("\n") + "\n");
      buf = [];
      bufLen = 0;
    }
  };
  const ts = "2021-03-09T10:00:00Z";
  const record = (ip: string, domain: string | null, scheme: string, status: number, headers: Record<string, unknown>, body: string, path: string) =>
    JSON.stringify({
      ip,
      ...(domain ? { domain } : {}),
      data: {
        http: {
          status: "success",
          protocol: "http",
          timestamp: ts,
          result: { response: { status_line: `${status} X`, status_code: status, protocol: { name: "HTTP/1.1", major: 1, minor: 1 }, headers, body, content_length: body.length, request: { url: { scheme, host: ip, path }, method: "GET", host: ip } } },
        },
      },
    });

  const logon = (resBuild: string, legacy: boolean, size: number, otherHost?: string) => {
    const p = `${otherHost !== undefined ? `https://${otherHost}` : ""}${legacy ? `/owa/${resBuild}` : `/owa/auth/${resBuild}`}`;
    const head = `<!DOCTYPE html><html><head><meta http-equiv="X-UA-Compatible" content="IE=10"/><link rel="shortcut icon" href="${p}/themes/resources/favicon.ico" type="image/x-icon"><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>Outlook</title><style>\n`;
    const tail = `</style><script type="text/javascript" src="${p}/scripts/premium/flogon.js"></script></head><body class="signInBg"><form action="/owa/auth.owa" method="POST" name="logonForm"><input id="username" name="username"/><input id="password" name="password" type="password"/></form></body></html>`;
    return head + pad(Math.max(0, size - head.length - tail.length)) + tail;
  };

  let rec = 0;
  while (rec < a.records) {
    const { ip: n, cc } = nextIp();
    const ip = numberToIpv4(n);
    truth.servers++;
    const kind = r();
    const domain = r() < 0.4 ? `mail.example-${n % 9973}.test` : null;
    if (kind < 0.02) {
      truth.failedGrabs++;
      emit(JSON.stringify({ ip, data: { http: { status: "connection-timeout", protocol: "http", timestamp: ts, error: "dial tcp: i/o timeout" } } }));
      rec++;
      continue;
    }
    if (kind < 0.3) {
      // Not Exchange.
      const which = Math.floor(r() * 4);
      const size = logUniform(200, 16_000);
      const [server, title] = [["Microsoft-IIS/10.0", "IIS Windows Server"], ["nginx/1.18.0", "Welcome to nginx!"], ["Apache/2.4.41 (Ubuntu)", "Apache2 Ubuntu Default Page: It works"], ["lighttpd", "Router login"]][which]!;
      const body = `<html><head><title>${title}</title><style>${pad(size)}</style></head><body></body></html>`;
      emit(record(ip, domain, "https", 200, { server: [server], content_type: ["text/html"] }, body, "/"));
      rec++;
      continue;
    }
    const build = r() < 0.7 ? COMMON_BUILDS[Math.floor(r() * COMMON_BUILDS.length)]! : allBuilds[Math.floor(r() * allBuilds.length)]!;
    const legacy = build.startsWith("14.");
    const size = logUniform(4_000, 24_000);
    const shape = r();
    let truthBuild: string | null;
    const headers: Record<string, unknown> = { server: ["Microsoft-IIS/10.0"], x_powered_by: ["ASP.NET"], content_type: ["text/html; charset=utf-8"], unknown: [] as unknown[] };
    const unknown = headers.unknown as Array<{ key: string; value: string[] }>;
    let body: string;
    const feserver = { key: "x_feserver", value: [`EXCH${n % 97}`] };
    if (shape < 0.015) {
      // An OWA look-alike, no header from Exchange itself: not Exchange. Half are phishing-kit copies on a web
      // server (Apache) whose resources point at the copied host's /owa/; half honeypots whose IIS version the
      // page's product cannot run on (2010 is not supported on Windows Server 2016+, i.e. IIS 10.0; 2013 and later
      // not on Windows Server 2008, i.e. IIS 7.0: Microsoft's supportability matrix).
      truthBuild = "look-alike";
      const res = build.split(".").slice(0, 3).join(".");
      if (r() < 0.5) {
        headers.server = ["Apache/2.4.41 (Ubuntu)"];
        delete headers.x_powered_by;
        body = logon(res, false, size, `mail.copied-${n % 997}.test`);
      } else {
        headers.server = [build.startsWith("14.") ? "Microsoft-IIS/10.0" : "Microsoft-IIS/7.0"];
        body = logon(res, false, size);
      }
    } else if (legacy && shape < 0.5) {
      // Exchange 2010 answering with its logon page only (no Exchange header on 2010's logon page; IIS 7.5 of
      // Windows Server 2008 R2): counted as Exchange from the page (confidence low), build from the 4-part path.
      truthBuild = build;
      headers.server = ["Microsoft-IIS/7.5"];
      body = logon(build, true, size);
    } else if (shape < 0.05) {
      // OWA markers and an Exchange header, no build: Exchange of unknown build.
      truthBuild = null;
      unknown.push(feserver);
      body = `<html><head><title>Outlook Web App</title><style>${pad(size)}</style></head><body><form action="/owa/auth.owa"></form></body></html>`;
    } else if (shape < 0.18 || legacy) {
      // Logon page and X-FEServer, no X-OWA-Version: 3-part resource path on 2013+ (CU precision), 4-part on 2010.
      const res = legacy ? build : build.split(".").slice(0, 3).join(".");
      truthBuild = res;
      unknown.push(feserver);
      body = logon(res, legacy, size);
    } else {
      truthBuild = build;
      unknown.push({ key: "x_owa_version", value: [build] }, feserver);
      body = logon(build.split(".").slice(0, 3).join("."), false, size);
    }
    emit(record(ip, domain, "https", 200, headers, body, "/owa/auth/logon.aspx"));
    rec++;
    if (truthBuild === "look-alike") {
      truth.lookAlikes++;
      continue;
    }
    addTruth(cc, truthBuild);
    if (rec < a.records && r() < 0.08) {
      // The same server on port 80: a redirect to the logon page (Exchange, no build): counted once.
      truth.port80Duplicates++;
      emit(record(`${ip}`, domain, "http", 302, { server: ["Microsoft-IIS/10.0"], unknown: [{ key: "x_feserver", value: [`EXCH${n % 97}`] }], location: [`https://${ip}/owa/auth/logon.aspx?url=https%3a%2f%2f${ip}%2fowa%2f`] }, "", "/owa/").replace(`"host":"${ip}"`, `"host":"${ip}:80"`));
      rec++;
    }
  }
  if (buf.length > 0) put(buf.join("\n") + "\n");
  closeSync(fd);
  writeFileSync(a.truth, JSON.stringify(truth, null, 1) + "\n");
  process.stderr.write(`generated ${a.records} records (${truth.servers} servers, ${truth.exchangeServers} Exchange) -> ${a.out}; truth -> ${a.truth}\n`);
}

main();

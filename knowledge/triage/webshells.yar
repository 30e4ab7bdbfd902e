/*
 * Vigie's own web shell rules for Exchange web roots, written from published facts (strings, headers, sizes).
 * Meta keys read by Vigie: severity (critical|high|medium|low), effect (compromised|suspicious), cve, technique,
 * source_title, source_url, scope (webroot: the effect holds only for files in an Exchange or IIS web folder;
 * elsewhere, e.g. a sample kept in a user's folder, the match is suspicious). Rules without them (e.g. users' --rules
 * files) default to high / suspicious / anywhere.
 */

rule Vigie_Webshell_ChinaChopper_Aspx
{
  meta:
    description = "China Chopper: server-side JScript eval of a request value (any quoting: language='JScript', \"unsafe\" or 'unsafe')"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    technique = "T1505.003"
    source_title = "Microsoft: HAFNIUM targeting Exchange Servers with 0-day exploits (China Chopper web shells); CISA AA21-062A"
    source_url = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
  strings:
    // eval(Request["x"] ...), eval(Request.Item["x"] ...), eval(Request.Form['x'] ...), spaces allowed
    $eval = /eval\s*\(\s*Request\s*(\.\s*(Item|Form|QueryString|Params)\s*)?[\[(]/ nocase
    $unsafe = /["']unsafe["']/ nocase
    $jscript = /language\s*=\s*["']?\s*(jscript|javascript)\b/ nocase
    $server = /(<%|runat\s*=\s*["']?\s*server)/ nocase
  condition:
    filesize < 2MB and $eval and ($server or $unsafe or $jscript)
}

rule Vigie_Webshell_Eval_Base64_Input
{
  meta:
    description = "Server-side eval of Base64-decoded input (System.Convert.FromBase64String into eval): AntSword-style shells of the 2022 ProxyNotShell attacks"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    cve = "CVE-2022-41082"
    technique = "T1505.003"
    source_title = "GTSC: Warning: new attack campaign utilized a new 0-day RCE vulnerability on Microsoft Exchange Server (2022-09-28)"
    source_url = "https://gteltsc.vn/blog/warning-new-attack-campaign-utilized-a-new-0day-rce-vulnerability-on-microsoft-exchange-server-12715.html"
  strings:
    // eval( ... FromBase64String( ... within one statement; C# code that only decodes Base64 has no eval
    $eval_b64 = /eval\s*\([^;]{0,300}FromBase64String\s*\(/ nocase
    $server = /(<%|runat\s*=\s*["']?\s*server)/ nocase
    $unsafe = /["']unsafe["']/ nocase
  condition:
    filesize < 2MB and $eval_b64 and ($server or $unsafe)
}

rule Vigie_Webshell_OAB_ExternalUrl_Script
{
  meta:
    description = "OAB virtual directory settings written out as a page, with a China Chopper script in ExternalUrl (CVE-2021-27065 drop)"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    cve = "CVE-2021-27065"
    technique = "T1505.003"
    source_title = "CISA AR21-084A (MAR-10329496-1.v1): China Chopper webshell in the ExternalUrl of OAB virtual directory configuration files"
    source_url = "https://www.cisa.gov/news-events/analysis-reports/ar21-084a"
  strings:
    // ExternalUrl : http://f/<script ...>, ExternalUrl='http://...<script ...>' and the like
    $ext = /ExternalUrl\W{0,40}[a-z]{3,5}:\/\/[^\s'"<]{0,100}<\s*script/ nocase
    $runat = /runat\s*=\s*["']?\s*server/ nocase
    $eval = /eval\s*\(\s*Request/ nocase
  condition:
    filesize < 2MB and $ext and ($runat or $eval)
}

rule Vigie_Webshell_SimpleSeeSharp
{
  meta:
    description = "SIMPLESEESHARP: tiny C# page that saves an uploaded file"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    technique = "T1505.003"
    source_title = "Volexity: Active exploitation of Microsoft Exchange zero-day vulnerabilities (SIMPLESEESHARP)"
    source_url = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
  strings:
    $h = "<%@ Page Language=\"C#\" %>"
    $b1 = "Request.Files[0]"
    $b2 = ".SaveAs(Path.Combine"
  condition:
    $h at 0 and all of ($b*) and filesize < 1KB
}

rule Vigie_Webshell_Sportsball
{
  meta:
    description = "SPORTSBALL: upload and command execution page"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    technique = "T1505.003"
    source_title = "Volexity: Active exploitation of Microsoft Exchange zero-day vulnerabilities (SPORTSBALL)"
    source_url = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
  strings:
    $u1 = "new HttpCookie(\"fqrspt\""
    $u2 = "ZN2aDAB4rXsszEvCLrzgcvQ4oi5J1TuiRULlQbYwldE="
    $p1 = "System.Diagnostics.Process"
    $p2 = "StandardInput.WriteLine(HttpContext.Current.Request.Form["
  condition:
    any of ($u*) or all of ($p*)
}

rule Vigie_Webshell_ReGeorg_Aspx
{
  meta:
    description = "reGeorg-style socket tunnel page"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    technique = "T1090"
    source_title = "cisagov/CHIRP AA21062A.yaml (reGeorg variant seen by Volexity)"
    source_url = "https://github.com/cisagov/CHIRP/blob/main/indicators/AA21062A.yaml"
  strings:
    $a = "System.Net.Sockets"
    $b = "Request.Headers.Get"
    $c = "new Socket("
    $d = "FromBase64String"
  condition:
    filesize < 200KB and all of them
}

rule Vigie_Webshell_ProxyShell_MailboxExport
{
  meta:
    description = "Page dropped through a mailbox export (ProxyShell): PST or DER header in front of server-side code"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    cve = "CVE-2021-34473"
    technique = "T1505.003"
    source_title = "Neo23x0/signature-base yara/expl_proxyshell.yar (facts: PST !BDN and DER headers, 'Page Language=')"
    source_url = "https://github.com/Neo23x0/signature-base/blob/master/yara/expl_proxyshell.yar"
  strings:
    $page = "Page Language=" nocase
    $req = "Request[" nocase
    $eval = "eval(" nocase
  condition:
    filesize < 2MB and (uint32(0) == 0x4e444221 or uint16(0) == 0x8230) and ($page or $req or $eval)
}

rule Vigie_Webshell_ProxyShell_Loaders_2021
{
  meta:
    description = "Loaders and shells from the August-November 2021 ProxyShell waves"
    severity = "critical"
    effect = "compromised"
    scope = "webroot"
    technique = "T1505.003"
    source_title = "Neo23x0/signature-base yara/expl_proxyshell.yar (facts: eval/*asf marker, DropHell LoadXml/Transform chain)"
    source_url = "https://github.com/Neo23x0/signature-base/blob/master/yara/expl_proxyshell.yar"
  strings:
    $x1 = ");eval/*asf"
    $d1 = ".LoadXml(System.Text.Encoding.UTF8.GetString(System.Convert.FromBase64String(Request["
    $d2 = "Transform("
  condition:
    filesize < 2MB and ($x1 or all of ($d*))
}

rule Vigie_Hafnium_Credential_Theft_Commands
{
  meta:
    description = "Command lines of HAFNIUM post-exploitation: procdump of LSASS to Windows\\Temp, it.zip staging, powercat"
    severity = "high"
    effect = "compromised"
    technique = "T1003.001"
    source_title = "cisagov/CHIRP AA21062A.yaml (MSTIC lsass_process_memory_dump)"
    source_url = "https://github.com/cisagov/CHIRP/blob/main/indicators/AA21062A.yaml"
  strings:
    $s1 = "lsass.exe C:\\windows\\temp\\lsass" nocase
    $s2 = "C:\\ProgramData\\it.zip" nocase
    $s3 = "powercat.ps1'); powercat -c" nocase
  condition:
    any of them
}

/*
 * Vigie's own web shell rules for Exchange web roots, written from published facts (strings, headers, sizes).
 * Meta keys read by Vigie: severity (critical|high|medium|low), effect (compromised|suspicious), cve, technique,
 * source_title, source_url. Rules without them (e.g. users' --rules files) default to high / suspicious.
 */

rule Vigie_Webshell_ChinaChopper_Aspx
{
  meta:
    description = "China Chopper one-liner: server-side JScript eval of a request parameter"
    severity = "critical"
    effect = "compromised"
    technique = "T1505.003"
    source_title = "Microsoft: HAFNIUM targeting Exchange Servers with 0-day exploits (China Chopper web shells)"
    source_url = "https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/"
  strings:
    $eval1 = /eval\s*\(\s*Request(\.Item)?\s*\[/ nocase
    $eval2 = /eval\s*\(\s*Request\.Form\s*\[/ nocase
    $unsafe = "\"unsafe\"" nocase
    $js = /(Language|language)\s*=\s*"?(JScript|js)"?/ nocase
  condition:
    filesize < 2MB and ($eval1 or $eval2) and ($unsafe or $js)
}

rule Vigie_Webshell_OAB_ExternalUrl_Script
{
  meta:
    description = "OAB virtual directory settings written as .aspx with a script in ExternalUrl (CVE-2021-27065 drop)"
    severity = "critical"
    effect = "compromised"
    cve = "CVE-2021-27065"
    technique = "T1505.003"
    source_title = "Volexity: Active exploitation of Microsoft Exchange zero-day vulnerabilities"
    source_url = "https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/"
  strings:
    $vd1 = "OAB (Default Web Site)" nocase
    $vd2 = "ExternalUrl" nocase
    $vd3 = "OfflineAddressBooks" nocase
    $s1 = "<script" nocase
    $s2 = "runat=" nocase
    $s3 = "Request" nocase
  condition:
    filesize < 2MB and 2 of ($vd*) and all of ($s*)
}

rule Vigie_Webshell_SimpleSeeSharp
{
  meta:
    description = "SIMPLESEESHARP: tiny C# page that saves an uploaded file"
    severity = "critical"
    effect = "compromised"
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

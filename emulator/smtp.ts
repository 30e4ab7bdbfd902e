/**
 * Exchange SMTP front end (ports 25 and 587).
 *
 * Banner "220 <fqdn> Microsoft ESMTP MAIL Service ready at <RFC 5322 date>" and the 2013+ EHLO list
 * (SIZE 37748736, PIPELINING, DSN, ENHANCEDSTATUSCODES, STARTTLS, X-ANONYMOUSTLS, AUTH NTLM,
 * X-EXPS GSSAPI NTLM, 8BITMIME, BINARYMIME, CHUNKING, XRDST) from Microsoft's "Use Telnet to test SMTP
 * communication on Exchange servers" (https://learn.microsoft.com/en-us/exchange/mail-flow/test-smtp-with-telnet,
 * MicrosoftDocs/OfficeDocs-Exchange) and the SmtpReceive protocol log sample in elastic/integrations
 * packages/microsoft_exchange_server (Version 15.0). rapid7/recog xml/smtp_banners.xml keys Exchange on
 * "Microsoft ESMTP MAIL Service"; its xml/smtp_ehlo.xml notes XEXCH50 as an Exchange/IIS extension, which
 * Exchange 2010 still advertised (with XSHADOW); the 2010 list here is from that note plus memory: unverified.
 */
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { SecureContext } from "node:tls";
import type { HostPlan } from "./hosts.js";

const EHLO_2013: readonly string[] = [
  "SIZE 37748736",
  "PIPELINING",
  "DSN",
  "ENHANCEDSTATUSCODES",
  "STARTTLS",
  "X-ANONYMOUSTLS",
  "AUTH NTLM",
  "X-EXPS GSSAPI NTLM",
  "8BITMIME",
  "BINARYMIME",
  "CHUNKING",
  "XRDST",
];
const EHLO_2010: readonly string[] = [
  "SIZE 10485760",
  "PIPELINING",
  "DSN",
  "ENHANCEDSTATUSCODES",
  "STARTTLS",
  "X-ANONYMOUSTLS",
  "AUTH NTLM",
  "X-EXPS GSSAPI NTLM",
  "8BITMIME",
  "BINARYMIME",
  "CHUNKING",
  "XEXCH50",
  "XRDST",
  "XSHADOW",
];

export function ehloCapabilities(plan: HostPlan): readonly string[] {
  return plan.truth.product === "2010" ? EHLO_2010 : EHLO_2013;
}

/** "Wed, 11 Jan 2023 16:59:51 +0000" */
function smtpDate(d = new Date()): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function smtpBanner(plan: HostPlan): string {
  return `220 ${plan.truth.names!.fqdn} Microsoft ESMTP MAIL Service ready at ${smtpDate()}`;
}

export function handleSmtp(plan: HostPlan, raw: Socket, ctx: SecureContext): void {
  const fqdn = plan.truth.names!.fqdn;
  let sock: Socket | TLSSocket = raw;
  let buf = "";
  let tlsOn = false;
  raw.setTimeout(60_000, () => raw.destroy());
  const write = (s: string): void => {
    if (!sock.destroyed) sock.write(`${s}\r\n`);
  };
  const onLine = (line: string): void => {
    const verb = line.split(" ")[0]!.toUpperCase();
    const remote = raw.remoteAddress ?? "127.0.0.1";
    switch (verb) {
      case "EHLO": {
        const caps = ehloCapabilities(plan).filter((c) => !(tlsOn && (c === "STARTTLS" || c === "X-ANONYMOUSTLS")));
        const lines = [`${fqdn} Hello [${remote}]`, ...caps];
        lines.forEach((l, i) => write(`250${i === lines.length - 1 ? " " : "-"}${l}`));
        return;
      }
      case "HELO":
        return write(`250 ${fqdn} Hello [${remote}]`);
      case "NOOP":
        return write("250 2.0.0 OK");
      case "RSET":
        return write("250 2.0.0 Resetting");
      case "QUIT":
        write("221 2.0.0 Service closing transmission channel");
        sock.end();
        return;
      case "STARTTLS": {
        if (tlsOn) return write("503 5.5.1 Bad sequence of commands");
        write("220 2.0.0 SMTP server ready");
        raw.removeListener("data", onData);
        const t = new TLSSocket(raw, { isServer: true, secureContext: ctx });
        t.on("error", () => raw.destroy());
        t.on("data", onData);
        sock = t;
        tlsOn = true;
        buf = "";
        return;
      }
      default:
        return write(`500 5.3.3 Unrecognized command '${verb.slice(0, 16).replace(/[^\x20-\x7e]/g, "?")}'`);
    }
  };
  function onData(chunk: Buffer): void {
    buf += chunk.toString("latin1");
    if (buf.length > 8192) {
      write("500 5.5.6 Line too long");
      sock.destroy();
      return;
    }
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, "");
      buf = buf.slice(i + 1);
      onLine(line);
      if (sock !== raw && !tlsOn) return;
    }
  }
  raw.on("data", onData);
  write(smtpBanner(plan));
}

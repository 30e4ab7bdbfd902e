/**
 * SMTP banner and EHLO (ports 25/587): read-only, then QUIT. Exchange's banner reads
 * "220 <name> Microsoft ESMTP MAIL Service ready at <date>" (rapid7/recog xml/smtp_banners.xml); its EHLO
 * lists e.g. X-EXPS, X-ANONYMOUSTLS, XEXCH50 (recog xml/smtp_ehlo.xml). Bounded in bytes and time.
 */
import net from "node:net";
import { bounded, type Evidence } from "../../pipeline/vocabulary.js";

export interface SmtpAnswer {
  banner: string;
  ehlo: string[];
}

const MAX_BYTES = 8192;

/** Read complete SMTP replies (multi-line "250-…" until "250 …"). */
function readReply(socket: net.Socket, buffer: { data: string }, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error, lines?: string[]): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      if (err) reject(err);
      else resolve(lines!);
    };
    const check = (): boolean => {
      const lines = buffer.data.split(/\r?\n/);
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i]!) || /^\d{3}$/.test(lines[i]!)) {
          buffer.data = lines.slice(i + 1).join("\n");
          done(undefined, lines.slice(0, i + 1));
          return true;
        }
      }
      return false;
    };
    const onData = (chunk: Buffer): void => {
      buffer.data += chunk.toString("latin1");
      if (buffer.data.length > MAX_BYTES) return done(new Error(`SMTP reply longer than ${MAX_BYTES} bytes`));
      check();
    };
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(new Error("connection closed"));
    const timer = setTimeout(() => done(new Error(`no SMTP reply within ${timeoutMs} ms`)), timeoutMs);
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    check();
  });
}

export async function probeSmtp(ip: string, port: number, timeoutMs: number): Promise<SmtpAnswer> {
  const socket = net.connect({ host: ip, port });
  socket.setTimeout(timeoutMs * 2, () => socket.destroy(new Error("SMTP session too slow")));
  const buffer = { data: "" };
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(Object.assign(new Error(`connect timeout ${timeoutMs} ms`), { code: "UND_ERR_CONNECT_TIMEOUT" })), timeoutMs);
      socket.once("connect", () => (clearTimeout(t), resolve()));
      socket.once("error", (e) => (clearTimeout(t), reject(e)));
    });
    const banner = (await readReply(socket, buffer, timeoutMs)).join(" | ");
    socket.write("EHLO vigie.invalid\r\n");
    const ehlo = await readReply(socket, buffer, timeoutMs).catch(() => [] as string[]);
    socket.write("QUIT\r\n");
    return { banner: bounded(banner, 512), ehlo: ehlo.slice(0, 40).map((l) => bounded(l, 200)) };
  } finally {
    socket.destroy();
  }
}

export function smtpEvidence(answer: SmtpAnswer): Evidence[] {
  const evidence: Evidence[] = [{ probe: "smtp", kind: "smtp-banner", field: "SMTP 220 banner", value: answer.banner }];
  if (answer.ehlo.length > 0) evidence.push({ probe: "smtp", kind: "other", field: "SMTP EHLO reply", value: bounded(answer.ehlo.join(" | "), 2048) });
  return evidence;
}

export const isExchangeSmtp = (banner: string): boolean => /Microsoft ESMTP MAIL Service/i.test(banner);

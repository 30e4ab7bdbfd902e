/**
 * Notices, from plan to delivery.
 *
 * plan:    the Exchange servers of a snapshot (one per IP, as in the census), each given to its owner in the
 *          contacts file; per server the CVEs told (vulnerable; unknown too with --unknown), minus the (server,
 *          CVE) items this organisation was already told about for this snapshot. An organisation sees only its
 *          own servers.
 * record:  one message per organisation, built once (its bytes are stored) and recorded with every recipient
 *          pending before anything is sent.
 * deliver: every notice with a recipient pending, deferred (4xx) or sending (a run that died mid-send) goes
 *          to those recipients only; per recipient the relay's reply is recorded: sent, deferred (retried on
 *          the next run) or failed (5xx: reported, never retried).
 */
import { randomUUID } from "node:crypto";
import nodemailer from "nodemailer";
import type { CveVerdict } from "../pipeline/vocabulary.js";
import type { DeliveryOutcome, NewNotice, NoticeItem, NoticeKind, NoticeRecord, NoticeStore, OwnerRow } from "../store/store.js";
import { isEmail, noticeLanguage, type ContactBook, type Organisation } from "./contacts.js";
import { buildNotice, type NoticeContent, type NoticeServer } from "./message.js";

export interface SelectOptions {
  /** Only these CVEs (upper case); all when undefined. */
  cves?: ReadonlySet<string>;
  /** Also servers whose verdict is unknown. */
  unknown: boolean;
}

export function selectVerdicts(cves: readonly CveVerdict[], o: SelectOptions): CveVerdict[] {
  return cves.filter((c) => (o.cves === undefined || o.cves.has(c.id)) && (c.status === "vulnerable" || (o.unknown && c.status === "unknown")));
}

export interface OrgPlan {
  organisation: Organisation;
  servers: NoticeServer[];
  items: NoticeItem[];
}

export interface Plan {
  orgs: OrgPlan[];
  /** Servers with something to tell but no owner in the contacts file. */
  unowned: number;
  /** (server, CVE) items left out because this organisation was already told about them for this snapshot. */
  alreadyNotified: number;
}

export function itemsOf(row: OwnerRow, verdicts: readonly CveVerdict[]): NoticeItem[] {
  return verdicts.map((v) => ({ ip: row.ip, port: row.port, hostname: row.hostname, cve: v.id, status: v.status, country: row.country, asn: row.asn }));
}

/** Group servers by owner; `already(org)` gives the "ip|cve" keys told before (per kind and snapshot). */
export async function planNotices(
  rows: AsyncIterable<OwnerRow>,
  book: ContactBook,
  o: SelectOptions,
  already: (organisation: string) => Promise<Set<string>>,
): Promise<Plan> {
  const byOrg = new Map<string, OrgPlan>();
  let unowned = 0;
  for await (const row of rows) {
    const verdicts = selectVerdicts(row.cves, o);
    if (verdicts.length === 0) continue;
    const owner = book.ownerOf(row.ip, row.asn);
    if (!owner) {
      unowned++;
      continue;
    }
    let p = byOrg.get(owner.organisation.name);
    if (!p) byOrg.set(owner.organisation.name, (p = { organisation: owner.organisation, servers: [], items: [] }));
    p.servers.push({ row, verdicts });
  }
  let alreadyNotified = 0;
  const orgs: OrgPlan[] = [];
  for (const p of byOrg.values()) {
    const told = await already(p.organisation.name);
    const servers: NoticeServer[] = [];
    for (const s of p.servers) {
      const fresh = s.verdicts.filter((v) => !told.has(`${s.row.ip}|${v.id}`));
      alreadyNotified += s.verdicts.length - fresh.length;
      if (fresh.length > 0) servers.push({ ...s, verdicts: fresh });
    }
    if (servers.length === 0) continue;
    orgs.push({ organisation: p.organisation, servers, items: servers.flatMap((s) => itemsOf(s.row, s.verdicts)) });
  }
  orgs.sort((a, b) => (a.organisation.name < b.organisation.name ? -1 : 1));
  return { orgs, unowned, alreadyNotified };
}

/** The bare address of a From value ("CERT <cert@example.org>" -> cert@example.org); undefined when not one. */
export function fromAddress(from: string): string | undefined {
  if (/[\r\n]/.test(from)) return undefined;
  const m = /^[^<>]*<([^<>]+)>\s*$/.exec(from);
  const a = (m ? m[1]! : from).trim();
  return isEmail(a) ? a : undefined;
}

export interface ComposeContext {
  kind: NoticeKind;
  from: string;
  at: string;
  snapshot: NoticeContent["snapshot"];
  cveIds: readonly string[];
  campaigns: ReadonlyMap<string, string>;
  support: NoticeContent["support"];
}

export interface ComposedNotice {
  notice: NewNotice;
  subject: string;
  text: string;
  /** The CSV attachment (its file name: attachmentName). */
  csv: string;
}

export async function composeNotice(p: OrgPlan, c: ComposeContext): Promise<ComposedNotice> {
  const id = randomUUID();
  const domain = fromAddress(c.from)?.split("@")[1] ?? "vigie.invalid";
  const messageId = `<vigie-${c.kind}-${id}@${domain}>`;
  const language = noticeLanguage(p.organisation.language);
  const sender = c.from.replace(/<[^>]*>/, "").replace(/"/g, "").trim() || (fromAddress(c.from) ?? c.from);
  const built = await buildNotice({
    kind: c.kind,
    language,
    organisation: p.organisation.name,
    from: c.from,
    to: p.organisation.emails,
    messageId,
    at: c.at,
    snapshot: c.snapshot,
    servers: p.servers,
    cveIds: c.cveIds,
    campaigns: c.campaigns,
    sender,
    support: c.support,
  });
  return {
    subject: built.subject,
    text: built.text,
    csv: built.csv,
    notice: {
      id,
      kind: c.kind,
      snapshotId: c.snapshot.id,
      organisation: p.organisation.name,
      language,
      notifiedAt: c.at,
      messageId,
      raw: built.raw,
      recipients: p.organisation.emails,
      items: p.items,
    },
  };
}

export interface RelayOptions {
  /** smtp://host:port or smtps://host:port (user:password@ allowed, or give them apart). */
  url: string;
  user?: string;
  password?: string;
  /** Refuse to send unless the relay offers STARTTLS (or the URL is smtps). */
  requireTls?: boolean;
  /** PEM CA certificate(s) the relay's certificate must chain to (default: the system's). */
  ca?: string;
  /** Host name of the EHLO greeting. */
  name?: string;
}

export interface SendResult {
  outcomes: DeliveryOutcome[];
  /** The relay cannot be used at all (connection, TLS, authentication, sender refused): stop the run. */
  fatal?: string;
}

/** One SMTP client over nodemailer: STARTTLS when the relay offers it, authentication when credentials are given. */
export class Relay {
  private readonly transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(o: RelayOptions) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new Error(`--smtp ${o.url}: not a URL like smtp://host:port`);
    }
    if (u.protocol !== "smtp:" && u.protocol !== "smtps:") throw new Error(`--smtp ${o.url}: the scheme must be smtp:// or smtps://`);
    const secure = u.protocol === "smtps:";
    const user = o.user ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const pass = o.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    this.transport = nodemailer.createTransport({
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: u.port ? Number(u.port) : secure ? 465 : 587,
      secure,
      requireTLS: o.requireTls === true,
      ...(user !== undefined ? { auth: { user, pass: pass ?? "" } } : {}),
      ...(o.ca !== undefined ? { tls: { ca: o.ca } } : {}),
      ...(o.name !== undefined ? { name: o.name } : {}),
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
    });
  }

  async send(raw: string, from: string, to: readonly string[]): Promise<SendResult> {
    try {
      const info = (await this.transport.sendMail({ envelope: { from, to: [...to] }, raw })) as {
        accepted?: Array<string | { address: string }>;
        rejectedErrors?: Array<{ recipient?: string; responseCode?: number; response?: string; message: string }>;
        response?: string;
      };
      const accepted = new Set((info.accepted ?? []).map((a) => (typeof a === "string" ? a : a.address).toLowerCase()));
      const rejected = new Map((info.rejectedErrors ?? []).map((e) => [(e.recipient ?? "").toLowerCase(), e]));
      return {
        outcomes: to.map((a): DeliveryOutcome => {
          const e = rejected.get(a.toLowerCase());
          if (e) return { address: a, status: (e.responseCode ?? 500) < 500 ? "deferred" : "failed", reply: e.response ?? e.message };
          if (accepted.has(a.toLowerCase())) return { address: a, status: "sent", reply: info.response ?? "accepted" };
          return { address: a, status: "deferred", reply: "not in the relay's answer" };
        }),
      };
    } catch (err) {
      const e = err as { code?: string; responseCode?: number; response?: string; command?: string; message: string; rejectedErrors?: Array<{ recipient?: string; responseCode?: number; response?: string; message: string }> };
      if (e.rejectedErrors && e.rejectedErrors.length > 0) {
        const rejected = new Map(e.rejectedErrors.map((r) => [(r.recipient ?? "").toLowerCase(), r]));
        return {
          outcomes: to.map((a) => {
            const r = rejected.get(a.toLowerCase());
            const code = r?.responseCode ?? e.responseCode ?? 451;
            return { address: a, status: code < 500 ? "deferred" : "failed", reply: r?.response ?? e.response ?? e.message };
          }),
        };
      }
      const reply = e.response ?? e.message;
      // The message itself refused or deferred (after DATA): every recipient of this transaction.
      if (e.responseCode !== undefined && (e.command === "DATA" || e.code === "EMESSAGE")) {
        return { outcomes: to.map((a) => ({ address: a, status: e.responseCode! < 500 ? "deferred" : "failed", reply })) };
      }
      // Connection, TLS, authentication or a refused sender: nothing went; the recipients wait for the next run.
      return { outcomes: to.map((a) => ({ address: a, status: "deferred", reply })), fatal: `${e.code ?? "error"}: ${reply}` };
    }
  }

  close(): void {
    this.transport.close();
  }
}

export interface DeliverySummary {
  notices: number;
  sent: number;
  deferred: number;
  failed: number;
  /** Recipients whose previous send was interrupted before its outcome was recorded: sent again. */
  resumed: number;
  failures: Array<{ organisation: string; address: string; reply: string }>;
  deferrals: Array<{ organisation: string; address: string; reply: string }>;
  fatal?: string;
}

export interface DeliverOptions {
  envelopeFrom: string;
  /** Messages per minute at most. */
  ratePerMinute: number;
  /** Only these notices (default: every undelivered one). */
  only?: (n: NoticeRecord) => boolean;
  onNotice?: (n: NoticeRecord, outcomes: readonly DeliveryOutcome[]) => void;
  sleep?: (ms: number) => Promise<void>;
}

export async function deliver(store: NoticeStore, relay: Relay, o: DeliverOptions): Promise<DeliverySummary> {
  const s: DeliverySummary = { notices: 0, sent: 0, deferred: 0, failed: 0, resumed: 0, failures: [], deferrals: [] };
  const gap = Math.ceil(60_000 / Math.max(0.001, o.ratePerMinute));
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = 0;
  for (const n of await store.undelivered()) {
    if (o.only && !o.only(n)) continue;
    const to = n.recipients.filter((r) => r.status === "pending" || r.status === "deferred" || r.status === "sending");
    if (to.length === 0) continue;
    s.resumed += to.filter((r) => r.status === "sending").length;
    const wait = last + gap - Date.now();
    if (last > 0 && wait > 0) await sleep(wait);
    const addresses = to.map((r) => r.address);
    await store.markSending(n.id, addresses, new Date().toISOString());
    last = Date.now();
    const result = await relay.send(n.raw, o.envelopeFrom, addresses);
    await store.recordDelivery(n.id, result.outcomes, new Date().toISOString());
    s.notices++;
    for (const out of result.outcomes) {
      s[out.status]++;
      if (out.status === "failed") s.failures.push({ organisation: n.organisation, address: out.address, reply: out.reply });
      if (out.status === "deferred") s.deferrals.push({ organisation: n.organisation, address: out.address, reply: out.reply });
    }
    o.onNotice?.(n, result.outcomes);
    if (result.fatal) {
      s.fatal = result.fatal;
      break;
    }
  }
  return s;
}

/**
 * `vigie notify`: one e-mail per organisation with vulnerable servers in a snapshot (or, with --reminders, a
 * follow-up about the servers still vulnerable N days after their notice), recorded in the store before it is
 * sent and after. Exit codes: 0 all delivered (or nothing new), 3 a relay refused a recipient for good (5xx),
 * 75 something is deferred (4xx, relay unreachable): run again later; 2 usage errors.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { ContactBook } from "../../notify/contacts.js";
import { composeNotice, deliver, fromAddress, itemsOf, Relay, type ComposedNotice, type DeliverySummary, type OrgPlan } from "../../notify/notify.js";
import { noticeKnowledge, prepareNotices, slimOwnerRow, snapshotInfo } from "../../notify/prepare.js";
import type { NoticeServer } from "../../notify/message.js";
import { remediationReport } from "../../notify/remediation.js";
import type { OwnerRow, Store } from "../../store/store.js";
import { UsageError } from "../errors.js";
import { safe } from "../format/terminal.js";
import { addDbOption, openStore, resolveSnapshot } from "../storeOption.js";
import { openContacts } from "./contacts.js";
import { openKnowledgeBase } from "./kb.js";

export const EXIT_REFUSED = 3;
export const EXIT_DEFERRED = 75;

interface NotifyOptions {
  contacts: string;
  smtp?: string;
  from: string;
  snapshot?: string;
  cve?: string[];
  unknown?: boolean;
  at?: string;
  dryRun?: boolean;
  out?: string;
  reminders?: boolean;
  overdue?: string;
  rate: string;
  smtpUser?: string;
  requireTls?: boolean;
  smtpCa?: string;
  json?: boolean;
  db?: string;
  kbDir?: string;
}

function parseAt(at: string | undefined): string {
  if (at === undefined) return new Date().toISOString();
  const t = Date.parse(at);
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(at) || Number.isNaN(t)) throw new UsageError(`--at ${at}: an ISO time like 2021-03-10T09:00:00Z`);
  return new Date(t).toISOString();
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "").slice(0, 80) || "organisation";
}

/** Reminders: the overdue (server, CVE) items, per organisation and per snapshot showing them still vulnerable. */
async function planReminders(store: Store, book: ContactBook, o: { at: string; days: number; cves?: ReadonlySet<string> }): Promise<Array<{ snapshotId: string; plan: OrgPlan; skipped?: string }>> {
  const report = await remediationReport(store.notices, { by: "org", overdueDays: o.days, at: new Date(o.at), ...(o.cves ? { cves: o.cves } : {}) });
  const groups = new Map<string, { org: string; snapshotId: string; items: typeof report.overdue }>();
  for (const i of report.overdue) {
    const k = `${i.organisation}\u0000${i.stateSnapshot}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { org: i.organisation, snapshotId: i.stateSnapshot, items: [] }));
    g.items.push(i);
  }
  const out: Array<{ snapshotId: string; plan: OrgPlan; skipped?: string }> = [];
  const rowsBySnapshot = new Map<string, Map<string, OwnerRow>>();
  for (const g of groups.values()) {
    const organisation = book.organisations.get(g.org);
    if (!organisation) {
      process.stderr.write(`vigie notify: ${safe(g.org, 200)} is not in the contacts file: no reminder for its ${g.items.length} overdue items\n`);
      continue;
    }
    const told = await store.notices.noticedItems("reminder", g.snapshotId, g.org);
    const fresh = g.items.filter((i) => !told.has(`${i.ip}|${i.cve}`));
    if (fresh.length === 0) continue;
    let rows = rowsBySnapshot.get(g.snapshotId);
    if (!rows) {
      rows = new Map();
      const ips = new Set(report.overdue.filter((i) => i.stateSnapshot === g.snapshotId).map((i) => i.ip));
      for await (const r of store.census.owners(g.snapshotId, "ip")) if (ips.has(r.ip)) rows.set(r.ip, slimOwnerRow(r));
      rowsBySnapshot.set(g.snapshotId, rows);
    }
    const servers = new Map<string, NoticeServer>();
    for (const i of fresh) {
      const row = rows.get(i.ip);
      if (!row) continue;
      const verdict = row.cves.find((c) => c.id === i.cve);
      if (!verdict) continue;
      let s = servers.get(i.ip);
      if (!s) servers.set(i.ip, (s = { row, verdicts: [], firstNotifiedAt: i.notifiedAt }));
      s.verdicts.push(verdict);
      if (i.notifiedAt < s.firstNotifiedAt!) s.firstNotifiedAt = i.notifiedAt;
    }
    if (servers.size === 0) continue;
    const list = [...servers.values()];
    out.push({ snapshotId: g.snapshotId, plan: { organisation, servers: list, items: list.flatMap((s) => itemsOf(s.row, s.verdicts)) } });
  }
  return out;
}

function printSummary(s: DeliverySummary, recorded: number, o: NotifyOptions): void {
  if (o.json) {
    process.stdout.write(JSON.stringify({ recorded, ...s }) + "\n");
    return;
  }
  const lines = [`${recorded} new notices recorded; ${s.notices} messages handed to the relay: ${s.sent} recipients sent, ${s.deferred} deferred, ${s.failed} refused`];
  if (s.resumed > 0) lines.push(`${s.resumed} recipients of an interrupted run were sent the message again (same Message-ID)`);
  for (const f of s.failures) lines.push(`refused for good: ${safe(f.organisation, 100)} <${safe(f.address, 120)}>: ${safe(f.reply, 300)}`);
  for (const d of s.deferrals) lines.push(`deferred (retried on the next run): ${safe(d.organisation, 100)} <${safe(d.address, 120)}>: ${safe(d.reply, 300)}`);
  if (s.fatal) lines.push(`stopped: the relay cannot be used (${safe(s.fatal, 300)}); nothing is lost, run again when it is fixed`);
  process.stdout.write(lines.join("\n") + "\n");
}

export function registerNotify(program: Command): void {
  const cmd = program
    .command("notify")
    .description("e-mail every organisation of the contacts file about its vulnerable Exchange servers (one message each, text in its language + CSV), recorded in the store; exit 3 if a recipient was refused (5xx), 75 if something is deferred")
    .requiredOption("--contacts <file>", "contacts CSV (scope,organisation,email,language)")
    .option("--smtp <url>", "relay: smtp://host:port (STARTTLS when offered) or smtps://host:port; user:password@ allowed; needed unless --dry-run")
    .requiredOption("--from <address>", 'sender, e.g. "CERT Example <cert@example.org>"')
    .option("--snapshot <name>", "snapshot to report (default: the newest)")
    .option("--cve <id...>", "only these CVEs")
    .option("--unknown", "also servers whose verdict is unknown")
    .option("--at <ISO time>", "the notice time recorded and written in the Date header (default now; for replaying past snapshots)")
    .option("--dry-run", "write the messages as .eml files to --out instead of sending; the store is not changed")
    .option("--out <dir>", "folder for --dry-run")
    .option("--reminders", "send a follow-up about the servers still vulnerable --overdue days or more after their notice, to those organisations only")
    .option("--overdue <days>", "with --reminders: days after the notice", "14")
    .option("--rate <per-minute>", "messages per minute at most", "30")
    .option("--smtp-user <name>", "relay user (password from $VIGIE_SMTP_PASSWORD)")
    .option("--require-tls", "refuse to send unless the relay offers STARTTLS")
    .option("--smtp-ca <file>", "PEM CA certificate the relay's certificate must chain to")
    .option("--json", "print the summary as one JSON object")
    .option("--kb-dir <dir>", "knowledge-base overlay folder");
  addDbOption(cmd).action(async (o: NotifyOptions) => {
    const envelopeFrom = fromAddress(o.from);
    if (!envelopeFrom) throw new UsageError(`--from ${o.from}: an e-mail address, optionally as "Name <address>"`);
    if (o.dryRun && !o.out) throw new UsageError("--dry-run needs --out <dir>");
    if (!o.dryRun && !o.smtp) throw new UsageError("--smtp <url> is needed (or --dry-run --out <dir>)");
    const rate = Number(o.rate);
    if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--rate ${o.rate}: a positive number of messages per minute`);
    const days = Number(o.overdue);
    if (!Number.isInteger(days) || days < 0) throw new UsageError(`--overdue ${o.overdue}: a whole number of days`);
    const cves = o.cve?.map((c) => c.toUpperCase());
    for (const c of cves ?? []) if (!/^CVE-\d{4}-\d{4,7}$/.test(c)) throw new UsageError(`--cve ${c}: a CVE id like CVE-2021-26855`);
    const at = parseAt(o.at);
    const book = await openContacts(o.contacts, "notify");
    const kb = openKnowledgeBase(o.kbDir !== undefined ? { kbDir: o.kbDir } : {});
    const knowledge = noticeKnowledge(kb);
    let relay: Relay | undefined;
    if (!o.dryRun) {
      try {
        relay = new Relay({
          url: o.smtp!,
          ...(o.smtpUser !== undefined ? { user: o.smtpUser } : {}),
          ...(process.env.VIGIE_SMTP_PASSWORD !== undefined ? { password: process.env.VIGIE_SMTP_PASSWORD } : {}),
          ...(o.requireTls ? { requireTls: true } : {}),
          ...(o.smtpCa !== undefined ? { ca: readFileSync(o.smtpCa, "utf8") } : {}),
        });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const store = await openStore(o.db);
    store.useKnowledgeBase(kb);
    try {
      const composed: ComposedNotice[] = [];
      let nothingReason = "";
      /** Nothing to send because there was never anything to tell (not because it was already told). */
      let empty = false;
      if (o.reminders) {
        const plans = await planReminders(store, book, { at, days, ...(cves ? { cves: new Set(cves) } : {}) });
        for (const p of plans) {
          composed.push(await composeNotice(p.plan, { kind: "reminder", from: o.from, at, snapshot: await snapshotInfo(store, p.snapshotId), ...knowledge }));
        }
        nothingReason = `no server is still vulnerable ${days} days or more after its notice that was not already reminded about`;
      } else {
        const snapshotId = await resolveSnapshot(store, o.snapshot);
        const { plan, composed: notices } = await prepareNotices(store, book, knowledge, { snapshotId, from: o.from, at, unknown: o.unknown === true, ...(cves ? { cves: new Set(cves) } : {}) });
        if (plan.unowned > 0) process.stderr.write(`vigie notify: ${plan.unowned} servers to report have no owner in ${safe(o.contacts, 200)} (vigie contacts check lists them)\n`);
        composed.push(...notices);
        empty = plan.alreadyNotified === 0;
        nothingReason = plan.alreadyNotified > 0
          ? `every organisation was already notified about snapshot ${snapshotId} (${plan.alreadyNotified} items)`
          : `no server of snapshot ${snapshotId} to report has an owner in the contacts file`;
      }
      if (o.dryRun) {
        mkdirSync(o.out!, { recursive: true });
        composed.forEach((c, i) => writeFileSync(path.join(o.out!, `${String(i + 1).padStart(3, "0")}-${fileSafe(c.notice.organisation)}.eml`), c.notice.raw));
        if (o.json) process.stdout.write(JSON.stringify({ dryRun: true, messages: composed.map((c) => ({ organisation: c.notice.organisation, to: c.notice.recipients, subject: c.subject, servers: new Set(c.notice.items.map((i) => i.ip)).size, items: c.notice.items.length })) }) + "\n");
        else process.stdout.write(composed.length > 0 ? `${composed.length} messages written to ${safe(o.out!, 300)} (dry run: nothing sent, nothing recorded)\n` : `nothing to send: ${safe(nothingReason, 300)}\n`);
        if (composed.length === 0 && empty) process.exitCode = 1;
        return;
      }
      for (const c of composed) await store.notices.add(c.notice);
      const undelivered = (await store.notices.undelivered()).length;
      if (composed.length === 0 && undelivered === 0) {
        if (o.json) process.stdout.write(JSON.stringify({ recorded: 0, notices: 0, sent: 0, deferred: 0, failed: 0, resumed: 0, failures: [], deferrals: [], nothing: nothingReason }) + "\n");
        else process.stdout.write(`nothing to send: ${safe(nothingReason, 300)}\n`);
        if (empty) process.exitCode = 1;
        return;
      }
      const summary = await deliver(store.notices, relay!, { envelopeFrom, ratePerMinute: rate });
      printSummary(summary, composed.length, o);
      process.exitCode = summary.failed > 0 ? EXIT_REFUSED : summary.deferred > 0 || summary.fatal ? EXIT_DEFERRED : 0;
    } finally {
      relay?.close();
      await store.close();
    }
  });
}

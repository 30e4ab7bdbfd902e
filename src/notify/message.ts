/**
 * The notice an organisation receives, as plain text in its language (English and French), with the same rows
 * as a CSV attachment in the owner-report layout (Shadowserver/IntelMQ columns, then Vigie's verdicts).
 *
 * Everything that came from a scanned server or an imported file (host names, builds, titles, certificate
 * fields) is text in the body only: control characters are shown as \xNN, lengths are bounded, and nothing of
 * it reaches a header (the subject holds only counts and dates; addresses are checked e-mail addresses). The
 * message has no HTML part, so there is no markup to inject. The CSV goes through the formula-safe writer.
 */
import MailComposer from "nodemailer/lib/mail-composer";
import type { CveVerdict } from "../pipeline/vocabulary.js";
import { ownerCsvHeader, ownerCsvLine } from "../report/owners.js";
import type { SupportJudge } from "../assess/support.js";
import type { NoticeKind, OwnerRow } from "../store/store.js";
import type { NoticeLanguage } from "./contacts.js";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** A value from scan data, made inert for a plain-text body: one line, no control or bidi characters, bounded. */
export function inert(value: string | null | undefined, max = 200): string {
  if (value === null || value === undefined || value === "") return "-";
  const s = value.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export interface NoticeServer {
  row: OwnerRow;
  /** The CVEs this notice tells about for the server, with their verdicts. */
  verdicts: CveVerdict[];
  /** For a reminder: when the first notice about this server was sent. */
  firstNotifiedAt?: string;
}

export interface NoticeContent {
  kind: NoticeKind;
  language: NoticeLanguage;
  organisation: string;
  from: string;
  to: readonly string[];
  messageId: string;
  /** The notice time (ISO). */
  at: string;
  snapshot: { id: string; date: string; kind: string; format: string | null };
  servers: readonly NoticeServer[];
  /** Every CVE of the knowledge base, for the CSV's per-CVE columns. */
  cveIds: readonly string[];
  /** CVE id -> public name of the campaign ("ProxyLogon"), where there is one. */
  campaigns: ReadonlyMap<string, string>;
  /** Who sends it, for the signature (the --from display name or address). */
  sender: string;
  /** Product support on the snapshot's date, for the CSV's end_of_support / out_of_support columns. */
  support: SupportJudge;
}

interface Texts {
  subject(n: number): string;
  reminderSubject(n: number): string;
  hello: string;
  intro(org: string): string;
  seen(date: string, source: string, n: number): string;
  reminderSeen(first: string, date: string, n: number): string;
  notCompromised: string;
  what: string;
  serversHeading: string;
  server: (i: number, ip: string, port: number, name: string) => string;
  seenAt: string;
  product: string;
  build: string;
  firstNotice: string;
  verdict: Record<string, string>;
  install: string;
  why: string;
  attachment(file: string): string;
  source(sender: string, snapshot: string): string;
  reply: string;
  sources: { scan: (date: string) => string; import: (format: string, date: string) => string };
}

const EN: Texts = {
  subject: (n) => `Vulnerable Microsoft Exchange server${n > 1 ? "s" : ""} in your network (${n})`,
  reminderSubject: (n) => `Reminder: ${n} Microsoft Exchange server${n > 1 ? "s" : ""} in your network still vulnerable`,
  hello: "Hello,",
  intro: (org) => `you receive this message as the security contact of ${org} in our contact list.`,
  seen: (date, source, n) =>
    `In ${source}, ${n} Microsoft Exchange server${n > 1 ? "s" : ""} in your address space answered from the internet with a version that has known, exploited vulnerabilities. ${n > 1 ? "They are" : "It is"} listed below, and in the attached CSV file.`,
  reminderSeen: (first, date, n) =>
    `On ${first} we wrote to you about vulnerable Microsoft Exchange servers in your network. In the scan data of ${date}, ${n} of them ${n > 1 ? "are" : "is"} still vulnerable. ${n > 1 ? "They are" : "It is"} listed below, and in the attached CSV file.`,
  notCompromised:
    "Exposed is not compromised: this message says that these servers run a vulnerable version, not that anyone broke into them. The version was read from what the servers show to anyone on the internet (HTTP headers and pages); nothing was exploited and nothing on the servers was changed. A server that stayed vulnerable while these flaws were being exploited may have been attacked before it was updated: after updating, check it for signs of intrusion.",
  what: "What to do: install the update named for each server (it is the first update on that server's line that fixes the vulnerability), or take the server off the internet until it is updated.",
  serversHeading: "Servers",
  server: (i, ip, port, name) => `${i}. ${ip} port ${port} (${name})`,
  seenAt: "Seen",
  product: "Product",
  build: "Build",
  firstNotice: "First notice",
  verdict: { vulnerable: "vulnerable", unknown: "unknown (the version seen does not tell whether the fix is installed)", patched: "patched", not_affected: "not affected" },
  install: "Install",
  why: "Why",
  attachment: (file) => `The attachment ${file} holds the same servers, one per row, in the column layout of Shadowserver's Exchange reports (readable by IntelMQ), followed by Vigie's verdict per CVE.`,
  source: (sender, snapshot) =>
    `This notice was prepared by ${sender} with Vigie, an open tool that assesses Microsoft Exchange servers from scan data (snapshot "${snapshot}").`,
  reply: "If a server is not yours, or is already updated, please reply to this message.",
  sources: { scan: (d) => `a scan we made on ${d}`, import: (f, d) => `internet-wide scan data (${f}) dated ${d}` },
};

const FR: Texts = {
  subject: (n) => `Serveur${n > 1 ? "s" : ""} Microsoft Exchange vulnérable${n > 1 ? "s" : ""} dans votre réseau (${n})`,
  reminderSubject: (n) => `Rappel : ${n} serveur${n > 1 ? "s" : ""} Microsoft Exchange de votre réseau toujours vulnérable${n > 1 ? "s" : ""}`,
  hello: "Bonjour,",
  intro: (org) => `vous recevez ce message en tant que contact sécurité de ${org} dans notre liste de contacts.`,
  seen: (date, source, n) =>
    `Dans ${source}, ${n} serveur${n > 1 ? "s" : ""} Microsoft Exchange de votre espace d'adressage ${n > 1 ? "ont" : "a"} répondu depuis Internet avec une version affectée par des vulnérabilités connues et exploitées. ${n > 1 ? "Ils sont listés" : "Il est listé"} ci-dessous, ainsi que dans le fichier CSV joint.`,
  reminderSeen: (first, date, n) =>
    `Le ${first}, nous vous avons signalé des serveurs Microsoft Exchange vulnérables dans votre réseau. Dans les données de scan du ${date}, ${n} d'entre eux ${n > 1 ? "sont" : "est"} toujours vulnérable${n > 1 ? "s" : ""}. ${n > 1 ? "Ils sont listés" : "Il est listé"} ci-dessous, ainsi que dans le fichier CSV joint.`,
  notCompromised:
    "Exposé ne veut pas dire compromis : ce message indique que ces serveurs exécutent une version vulnérable, pas que quelqu'un s'y est introduit. La version a été lue dans ce que les serveurs montrent à tout le monde sur Internet (en-têtes et pages HTTP) ; rien n'a été exploité et rien n'a été modifié sur les serveurs. Un serveur resté vulnérable pendant que ces failles étaient exploitées a pu être attaqué avant sa mise à jour : après la mise à jour, recherchez-y des traces d'intrusion.",
  what: "Que faire : installer la mise à jour indiquée pour chaque serveur (la première mise à jour de sa branche qui corrige la vulnérabilité), ou retirer le serveur d'Internet jusqu'à sa mise à jour.",
  serversHeading: "Serveurs",
  server: (i, ip, port, name) => `${i}. ${ip} port ${port} (${name})`,
  seenAt: "Vu le",
  product: "Produit",
  build: "Build",
  firstNotice: "Premier signalement",
  verdict: { vulnerable: "vulnérable", unknown: "inconnu (la version vue ne dit pas si le correctif est installé)", patched: "corrigé", not_affected: "non concerné" },
  install: "À installer",
  why: "Pourquoi",
  attachment: (file) => `La pièce jointe ${file} contient les mêmes serveurs, un par ligne, dans le format de colonnes des rapports Exchange de Shadowserver (lisible par IntelMQ), suivi du verdict de Vigie pour chaque CVE.`,
  source: (sender, snapshot) =>
    `Ce signalement a été préparé par ${sender} avec Vigie, un outil ouvert qui évalue les serveurs Microsoft Exchange à partir de données de scan (instantané « ${snapshot} »). Les raisons et noms de mises à jour ci-dessus sont ceux de la base de connaissances de Vigie, en anglais.`,
  reply: "Si un serveur ne vous appartient pas, ou s'il est déjà à jour, merci de répondre à ce message.",
  sources: { scan: (d) => `un scan que nous avons effectué le ${d}`, import: (f, d) => `des données de scan d'Internet (${f}) datées du ${d}` },
};

const TEXTS: Record<NoticeLanguage, Texts> = { en: EN, fr: FR };

const SUBJECT_PREFIX = "[Vigie] ";

/** "2021-03-02T10:00:00.000Z" -> "2021-03-02 10:00 UTC". */
const when = (iso: string): string => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : inert(iso, 40));

function wrap(text: string, width = 76): string {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      if (line !== "" && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line === "" ? word : `${line} ${word}`;
    }
    out.push(line);
  }
  return out.join("\n");
}

export function attachmentName(n: Pick<NoticeContent, "snapshot" | "kind">): string {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(n.snapshot.date) ? n.snapshot.date : "snapshot";
  return `vigie-exchange-${n.kind === "reminder" ? "reminder-" : ""}${date}.csv`;
}

export function noticeSubject(n: NoticeContent): string {
  const t = TEXTS[n.language];
  return SUBJECT_PREFIX + (n.kind === "reminder" ? t.reminderSubject(n.servers.length) : t.subject(n.servers.length));
}

export function noticeText(n: NoticeContent): string {
  const t = TEXTS[n.language];
  const source = n.snapshot.kind === "scan" ? t.sources.scan(n.snapshot.date) : t.sources.import(inert(n.snapshot.format ?? "import", 40), n.snapshot.date);
  const first = n.servers.map((s) => s.firstNotifiedAt).filter((x): x is string => x !== undefined).sort()[0];
  const parts: string[] = [t.hello, "", wrap(t.intro(inert(n.organisation)))];
  parts.push("", wrap(n.kind === "reminder" ? t.reminderSeen(when(first ?? n.at).slice(0, 10), n.snapshot.date, n.servers.length) : t.seen(n.snapshot.date, source, n.servers.length)));
  parts.push("", wrap(t.notCompromised), "", wrap(t.what), "", t.serversHeading, "-".repeat(t.serversHeading.length), "");
  n.servers.forEach((s, i) => {
    const r = s.row;
    parts.push(t.server(i + 1, inert(r.ip, 45), r.port, inert(r.hostname, 120)));
    parts.push(`   ${t.seenAt}: ${when(r.observed_at)}`);
    parts.push(`   ${t.product}: ${inert(r.product, 80)}${r.cu ? ` ${inert(r.cu, 20)}` : ""}; ${t.build}: ${inert(r.build, 40)}`);
    if (s.firstNotifiedAt) parts.push(`   ${t.firstNotice}: ${when(s.firstNotifiedAt).slice(0, 10)}`);
    for (const v of s.verdicts) {
      const campaign = n.campaigns.get(v.id);
      parts.push(`   - ${v.id}${campaign ? ` (${inert(campaign, 40)})` : ""}: ${t.verdict[v.status] ?? v.status}`);
      if (v.remediation) parts.push(`     ${t.install}: ${inert(v.remediation, 300)}`);
      parts.push(`     ${t.why}: ${inert(v.reason, 300)}`);
    }
    parts.push("");
  });
  parts.push(wrap(t.attachment(attachmentName(n))), "", wrap(t.source(inert(n.sender, 120), inert(n.snapshot.id, 120))), wrap(t.reply), "", "-- ", inert(n.sender, 120), "");
  return parts.join("\n");
}

export function noticeCsv(n: NoticeContent): string {
  const lines = [ownerCsvHeader(n.cveIds)];
  for (const s of n.servers) lines.push(ownerCsvLine(s.row, n.cveIds, n.support.at(s.row.product, n.snapshot.date)).line);
  return lines.join("\r\n") + "\r\n";
}

/** The whole message (RFC 5322, MIME), built once and stored: a retry sends these same bytes. */
export async function buildNotice(n: NoticeContent): Promise<{ subject: string; text: string; csv: string; raw: string }> {
  const subject = noticeSubject(n);
  const text = noticeText(n);
  const csv = noticeCsv(n);
  const composer = new MailComposer({
    from: n.from,
    to: [...n.to],
    subject,
    text,
    date: new Date(n.at),
    messageId: n.messageId,
    headers: { "Content-Language": n.language, "Auto-Submitted": "auto-generated", "X-Vigie-Notice": n.kind },
    attachments: [{ filename: attachmentName(n), content: csv, contentType: "text/csv; charset=utf-8" }],
  });
  const raw = await new Promise<Buffer>((resolve, reject) => composer.compile().build((err, buf) => (err ? reject(err) : resolve(buf))));
  return { subject, text, csv, raw: raw.toString("utf8") };
}

/**
 * The contacts file: who owns which addresses, and where to write to them.
 *
 *   scope,organisation,email,language
 *   192.0.2.0/24,Example Org,cert@example.org,fr
 *   2001:db8::/32,Example Org,soc@example.org,fr
 *   AS64500,Other Org,abuse@other.example,en
 *
 * scope is a CIDR prefix, one address, or AS<number>. An organisation may have several rows (several scopes,
 * several addresses); its notice goes to all its addresses, in the language of its first row. For a server,
 * the longest matching prefix wins; an AS scope applies only where no prefix matches. Bad rows are named by
 * line and skipped; the good rows around them are kept.
 */
import { readLines, type Line } from "../import/lines.js";
import { parseCsvLine } from "../util/csv.js";
import { formatPrefix, parseAddress, parsePrefix, type Prefix } from "./prefix.js";

export const CONTACTS_HEADER = ["scope", "organisation", "email", "language"] as const;
/** Longest accepted line of a contacts file. */
export const MAX_CONTACT_LINE = 4096;
/** Languages notices are written in; any other language gets English. */
export const NOTICE_LANGUAGES = ["en", "fr"] as const;
export type NoticeLanguage = (typeof NOTICE_LANGUAGES)[number];

export interface Organisation {
  name: string;
  emails: string[];
  /** As written in the file (lower case), e.g. "fr", "de". */
  language: string;
  scopes: string[];
}

export interface BadRow {
  line: number;
  reason: string;
}

export type Scope = { kind: "prefix"; prefix: Prefix } | { kind: "asn"; asn: number };

/**
 * A deliberately plain address check: local@domain, no spaces, quotes, angle brackets or control characters,
 * and a local part that starts with a letter, digit or underscore (so no cell of a CSV starts like a formula).
 */
const EMAIL = /^[A-Za-z0-9_][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;
const ORG_NAME_MAX = 200;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

export function isEmail(s: string): boolean {
  return s.length <= 254 && EMAIL.test(s);
}

export function parseScope(text: string): Scope | string {
  const t = text.trim();
  const as = /^AS(\d{1,10})$/i.exec(t);
  if (as) {
    const n = Number(as[1]);
    return n > 0 && n < 2 ** 32 ? { kind: "asn", asn: n } : `not an AS number: ${JSON.stringify(t)}`;
  }
  const p = parsePrefix(t);
  return typeof p === "string" ? p : { kind: "prefix", prefix: p };
}

export const scopeText = (s: Scope): string => (s.kind === "asn" ? `AS${s.asn}` : formatPrefix(s.prefix));

/** Language of a notice: the contact's when Vigie has that text, else English. */
export function noticeLanguage(language: string): NoticeLanguage {
  const base = language.toLowerCase().split("-")[0] ?? "";
  return (NOTICE_LANGUAGES as readonly string[]).includes(base) ? (base as NoticeLanguage) : "en";
}

export class ContactBook {
  readonly organisations = new Map<string, Organisation>();
  readonly bad: BadRow[] = [];
  /** Per family, per prefix length: network -> organisation name. */
  private readonly v4 = new Map<number, Map<bigint, string>>();
  private readonly v6 = new Map<number, Map<bigint, string>>();
  private readonly asns = new Map<number, string>();
  private lengths4: number[] = [];
  private lengths6: number[] = [];
  rows = 0;

  /** Add one row; returns an error message instead when the row is refused. */
  add(scopeField: string, organisation: string, email: string, language: string): string | undefined {
    const scope = parseScope(scopeField);
    if (typeof scope === "string") return scope;
    const name = organisation.trim();
    if (name === "") return "no organisation";
    if (name.length > ORG_NAME_MAX || CONTROL.test(name)) return `organisation name too long or with control characters`;
    const mail = email.trim();
    if (!isEmail(mail)) return `not an e-mail address: ${JSON.stringify(mail.slice(0, 80))}`;
    const lang = language.trim().toLowerCase() || "en";
    if (!/^[a-z]{2,3}(-[a-z0-9]{2,8})?$/.test(lang)) return `not a language tag: ${JSON.stringify(language.slice(0, 20))}`;
    const owner = this.ownerOfScope(scope);
    if (owner !== undefined && owner !== name) return `${scopeText(scope)} already belongs to ${JSON.stringify(owner)}`;
    if (scope.kind === "asn") this.asns.set(scope.asn, name);
    else {
      const table = scope.prefix.family === 4 ? this.v4 : this.v6;
      let m = table.get(scope.prefix.length);
      if (!m) {
        table.set(scope.prefix.length, (m = new Map()));
        this.lengths4 = [...this.v4.keys()].sort((a, b) => b - a);
        this.lengths6 = [...this.v6.keys()].sort((a, b) => b - a);
      }
      m.set(scope.prefix.network, name);
    }
    let org = this.organisations.get(name);
    if (!org) this.organisations.set(name, (org = { name, emails: [], language: lang, scopes: [] }));
    if (!org.emails.some((e) => e.toLowerCase() === mail.toLowerCase())) org.emails.push(mail);
    const st = scopeText(scope);
    if (!org.scopes.includes(st)) org.scopes.push(st);
    this.rows++;
    return undefined;
  }

  private ownerOfScope(s: Scope): string | undefined {
    if (s.kind === "asn") return this.asns.get(s.asn);
    return (s.prefix.family === 4 ? this.v4 : this.v6).get(s.prefix.length)?.get(s.prefix.network);
  }

  /** The owner of an address: the longest matching prefix, else its AS (when given), else none. */
  ownerOf(ip: string, asn: number | null): { organisation: Organisation; scope: string } | undefined {
    const a = parseAddress(ip);
    if (a) {
      const table = a.family === 4 ? this.v4 : this.v6;
      const width = a.family === 4 ? 32 : 128;
      for (const len of a.family === 4 ? this.lengths4 : this.lengths6) {
        const shift = BigInt(width - len);
        const network = (a.value >> shift) << shift;
        const name = table.get(len)!.get(network);
        if (name !== undefined) return { organisation: this.organisations.get(name)!, scope: formatPrefix({ family: a.family, network, length: len }) };
      }
    }
    if (asn !== null) {
      const name = this.asns.get(asn);
      if (name !== undefined) return { organisation: this.organisations.get(name)!, scope: `AS${asn}` };
    }
    return undefined;
  }
}

/** Read a contacts file (gzip accepted). Throws only when the file cannot be read or has no header. */
export async function loadContacts(file: string): Promise<ContactBook> {
  return contactsFromLines(readLines(file, { maxLineBytes: MAX_CONTACT_LINE }), file);
}

/** The lines of a contacts file held in memory (an upload), numbered from 1, with the same line-length limit. */
function* textLines(text: string): Generator<Line> {
  let no = 0;
  for (const raw of text.split("\n")) {
    no++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (Buffer.byteLength(line, "utf8") > MAX_CONTACT_LINE) yield { no, text: "", tooLong: Buffer.byteLength(line, "utf8") };
    else yield { no, text: line };
  }
}

/** A contacts file given as text (a dashboard upload); `label` names it in errors. Same rules as loadContacts. */
export function parseContacts(text: string, label: string): Promise<ContactBook> {
  return contactsFromLines(textLines(text), label);
}

async function contactsFromLines(lines: AsyncIterable<Line> | Iterable<Line>, label: string): Promise<ContactBook> {
  const book = new ContactBook();
  let header = false;
  for await (const line of lines) {
    if (line.tooLong !== undefined) {
      book.bad.push({ line: line.no, reason: `line longer than ${MAX_CONTACT_LINE} bytes` });
      continue;
    }
    const text = line.text.replace(/^\uFEFF/, "");
    if (text.trim() === "" || text.startsWith("#")) continue;
    let f: string[];
    try {
      f = parseCsvLine(text);
    } catch (err) {
      book.bad.push({ line: line.no, reason: (err as Error).message });
      continue;
    }
    if (!header) {
      const names = f.map((x) => x.trim().toLowerCase());
      if (CONTACTS_HEADER.some((h, i) => names[i] !== h)) {
        throw new Error(`${label}:${line.no}: the first line must be the header ${CONTACTS_HEADER.join(",")}`);
      }
      header = true;
      continue;
    }
    if (f.length < 3 || f.length > 4) {
      book.bad.push({ line: line.no, reason: `expected 3 or 4 fields (${CONTACTS_HEADER.join(",")}), got ${f.length}` });
      continue;
    }
    const err = book.add(f[0]!, f[1]!, f[2]!, f[3] ?? "");
    if (err !== undefined) book.bad.push({ line: line.no, reason: err });
  }
  if (!header) throw new Error(`${label}: empty (expected the header ${CONTACTS_HEADER.join(",")})`);
  return book;
}

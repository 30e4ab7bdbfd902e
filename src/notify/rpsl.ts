/**
 * Abuse contacts from an RIR database dump in RPSL (RFC 2622), offline: the RIPE NCC split dumps
 * (ripe.db.inetnum.gz, ripe.db.inet6num.gz, ripe.db.aut-num.gz, ripe.db.role.gz, ripe.db.organisation.gz) or
 * any file holding such objects. Objects are separated by blank lines; an attribute is `name: value`, a line
 * starting with a space, tab or `+` continues the previous one; `%` and `#` lines are comments, and `#` starts
 * an end-of-line comment ("source: RIPE # Filtered").
 *
 * An inetnum ("192.0.2.0 - 192.0.2.255", turned into prefixes), inet6num (a prefix) or aut-num (AS64500) gets
 * the abuse-c it names, or else the abuse-c of the organisation its `org:` names; the abuse-c is a role whose
 * `abuse-mailbox` is the address. Objects without one are left out: under longest-prefix matching their
 * addresses fall to the enclosing object, as in the RIPE Database's own abuse-contact lookup. Where two objects
 * yield the same prefix, the smaller object (the more specific one) wins.
 *
 * Hostile input: lines over 64 KiB and objects over 2,000 lines are skipped and named; bad objects are named
 * by file and line and skipped.
 */
import { readLines } from "../import/lines.js";
import { isEmail } from "./contacts.js";
import { formatPrefix, parseAddress, parsePrefix, rangeToPrefixes, type Prefix } from "./prefix.js";

export const MAX_RPSL_LINE = 64 * 1024;
export const MAX_RPSL_OBJECT_LINES = 2000;

export interface RpslObject {
  file: string;
  /** Line of the object's first attribute. */
  line: number;
  /** The object class: the first attribute's name (inetnum, role, organisation…). */
  type: string;
  attributes: Array<[string, string]>;
}

export interface RpslProblem {
  file: string;
  line: number;
  reason: string;
}

/** Stream the objects of one file (gzip accepted); problems are handed to `onProblem`. */
export async function* readRpsl(file: string, onProblem: (p: RpslProblem) => void): AsyncGenerator<RpslObject> {
  let cur: RpslObject | undefined;
  let broken = false;
  let lines = 0;
  const end = (): RpslObject | undefined => {
    const o = broken ? undefined : cur;
    cur = undefined;
    broken = false;
    lines = 0;
    return o;
  };
  for await (const l of readLines(file, { maxLineBytes: MAX_RPSL_LINE })) {
    if (l.tooLong !== undefined) {
      if (cur && !broken) onProblem({ file, line: l.no, reason: `line longer than ${MAX_RPSL_LINE} bytes: object skipped` });
      else onProblem({ file, line: l.no, reason: `line longer than ${MAX_RPSL_LINE} bytes` });
      if (cur) broken = true;
      continue;
    }
    const text = l.text;
    if (text.trim() === "") {
      const o = end();
      if (o) yield o;
      continue;
    }
    if (text.startsWith("%") || text.startsWith("#")) continue;
    if (broken) continue;
    if (++lines > MAX_RPSL_OBJECT_LINES && cur) {
      onProblem({ file, line: cur.line, reason: `object longer than ${MAX_RPSL_OBJECT_LINES} lines: skipped` });
      broken = true;
      continue;
    }
    const first = text.charAt(0);
    if (first === " " || first === "\t" || first === "+") {
      const last = cur?.attributes[cur.attributes.length - 1];
      if (!last) {
        onProblem({ file, line: l.no, reason: "continuation line outside an object" });
        continue;
      }
      const more = stripComment(text.slice(1)).trim();
      if (more !== "") last[1] = last[1] === "" ? more : `${last[1]} ${more}`;
      continue;
    }
    const colon = text.indexOf(":");
    const name = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : "";
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) {
      onProblem({ file, line: l.no, reason: `not an RPSL attribute line: ${JSON.stringify(text.slice(0, 60))}` + (cur ? " (object skipped)" : "") });
      if (cur) broken = true;
      continue;
    }
    const value = stripComment(text.slice(colon + 1)).trim();
    if (!cur) cur = { file, line: l.no, type: name, attributes: [] };
    cur.attributes.push([name, value]);
  }
  const o = end();
  if (o) yield o;
}

function stripComment(v: string): string {
  const i = v.indexOf("#");
  return i >= 0 ? v.slice(0, i) : v;
}

const attr = (o: RpslObject, name: string): string | undefined => o.attributes.find(([n]) => n === name)?.[1];

export interface AbuseContact {
  scope: string;
  organisation: string;
  email: string;
}

interface Role {
  name: string;
  mailbox: string | undefined;
}

interface Resource {
  prefixes: Prefix[] | null;
  asn: number | null;
  /** Addresses covered (for "smaller object wins"); 0 for an AS. */
  size: bigint;
  abuseC: string;
  /** Contact name: org-name when the organisation is known, else the role's name. */
  owner: { key: string; name: string };
  file: string;
  line: number;
}

export interface RpslImportResult {
  contacts: AbuseContact[];
  problems: RpslProblem[];
  /** inetnum/inet6num/aut-num objects read, and how many had no abuse contact. */
  resources: number;
  withoutAbuseContact: number;
}

/** Read the files twice: roles and organisations first, then the address and AS objects. */
export async function importAbuseContacts(files: readonly string[], maxProblems = 1000): Promise<RpslImportResult> {
  const problems: RpslProblem[] = [];
  let problemCount = 0;
  const onProblem = (p: RpslProblem) => {
    problemCount++;
    if (problems.length < maxProblems) problems.push(p);
  };
  const roles = new Map<string, Role>();
  const orgs = new Map<string, { name: string; abuseC: string | undefined }>();
  for (const file of files) {
    for await (const o of readRpsl(file, onProblem)) {
      if (o.type === "role") {
        const hdl = attr(o, "nic-hdl")?.toUpperCase();
        if (!hdl) continue;
        roles.set(hdl, { name: attr(o, "role") ?? hdl, mailbox: attr(o, "abuse-mailbox") });
      } else if (o.type === "organisation") {
        const id = (attr(o, "organisation") ?? "").toUpperCase();
        if (id) orgs.set(id, { name: attr(o, "org-name") ?? id, abuseC: attr(o, "abuse-c")?.toUpperCase() });
      }
    }
  }
  const byPrefix = new Map<string, Resource>();
  const byAsn = new Map<number, Resource>();
  let resources = 0;
  let without = 0;
  for (const file of files) {
    for await (const o of readRpsl(file, onProblem)) {
      if (o.type !== "inetnum" && o.type !== "inet6num" && o.type !== "aut-num") continue;
      resources++;
      const where = { file, line: o.line };
      const key = attr(o, o.type) ?? "";
      let prefixes: Prefix[] | null = null;
      let asn: number | null = null;
      let size = 0n;
      if (o.type === "aut-num") {
        const m = /^AS(\d{1,10})$/i.exec(key);
        if (!m || Number(m[1]) <= 0 || Number(m[1]) >= 2 ** 32) {
          onProblem({ ...where, reason: `aut-num: not an AS number: ${JSON.stringify(key.slice(0, 60))}` });
          continue;
        }
        asn = Number(m[1]);
      } else if (o.type === "inetnum") {
        const parts = key.split("-").map((s) => s.trim());
        const a = parts.length === 2 ? parseAddress(parts[0]!) : undefined;
        const b = parts.length === 2 ? parseAddress(parts[1]!) : undefined;
        if (!a || !b || a.family !== b.family || b.value < a.value) {
          onProblem({ ...where, reason: `inetnum: not an address range "a - b": ${JSON.stringify(key.slice(0, 80))}` });
          continue;
        }
        prefixes = rangeToPrefixes(a.family, a.value, b.value);
        size = b.value - a.value + 1n;
      } else {
        const p = parsePrefix(key);
        if (typeof p === "string" || !key.includes("/")) {
          onProblem({ ...where, reason: `inet6num: ${typeof p === "string" ? p : "not a prefix"}` });
          continue;
        }
        prefixes = [p];
        size = 1n << BigInt((p.family === 4 ? 32 : 128) - p.length);
      }
      const orgId = attr(o, "org")?.toUpperCase();
      const org = orgId !== undefined ? orgs.get(orgId) : undefined;
      const abuseC = attr(o, "abuse-c")?.toUpperCase() ?? org?.abuseC;
      const role = abuseC !== undefined ? roles.get(abuseC) : undefined;
      if (!abuseC || !role?.mailbox) {
        without++;
        continue;
      }
      if (!isEmail(role.mailbox)) {
        onProblem({ ...where, reason: `abuse-mailbox of ${abuseC} is not an e-mail address: ${JSON.stringify(role.mailbox.slice(0, 80))}` });
        continue;
      }
      const owner = org && orgId ? { key: orgId, name: org.name } : { key: abuseC, name: role.name };
      const r: Resource = { prefixes, asn, size, abuseC, owner, ...where };
      if (asn !== null) byAsn.set(asn, r);
      else {
        for (const p of prefixes!) {
          const k = formatPrefix(p);
          const prev = byPrefix.get(k);
          if (!prev || r.size <= prev.size) byPrefix.set(k, r);
        }
      }
    }
  }
  // Organisation names: one per owner key; a name used by two owners gets the key added to tell them apart.
  const nameOwners = new Map<string, Set<string>>();
  for (const r of [...byPrefix.values(), ...byAsn.values()]) {
    let s = nameOwners.get(r.owner.name);
    if (!s) nameOwners.set(r.owner.name, (s = new Set()));
    s.add(r.owner.key);
  }
  const label = (r: Resource): string => {
    // eslint-disable-next-line no-control-regex
    const clean = r.owner.name.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ").trim().slice(0, 150) || r.owner.key;
    return (nameOwners.get(r.owner.name)?.size ?? 1) > 1 ? `${clean} (${r.owner.key})` : clean;
  };
  const contacts: AbuseContact[] = [];
  for (const [scope, r] of byPrefix) contacts.push({ scope, organisation: label(r), email: roles.get(r.abuseC)!.mailbox! });
  for (const [asn, r] of byAsn) contacts.push({ scope: `AS${asn}`, organisation: label(r), email: roles.get(r.abuseC)!.mailbox! });
  if (problemCount > problems.length) problems.push({ file: "", line: 0, reason: `${problemCount - problems.length} more problems not listed` });
  return { contacts, problems, resources, withoutAbuseContact: without };
}

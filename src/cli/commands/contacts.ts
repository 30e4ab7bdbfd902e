/**
 * `vigie contacts import|list|check`: the contacts file (scope,organisation,email,language) that says who owns
 * which addresses; abuse contacts imported offline from an RIR RPSL dump; servers of a snapshot with no owner.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { CONTACTS_HEADER, loadContacts, type ContactBook } from "../../notify/contacts.js";
import { importAbuseContacts } from "../../notify/rpsl.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import { csvRow } from "../../util/csv.js";
import { UsageError } from "../errors.js";
import { renderTable, safe } from "../format/terminal.js";
import { addDbOption, openStore, resolveSnapshot } from "../storeOption.js";

/** Load a contacts file for a command; bad rows are named on stderr (at most 200), the good ones kept. */
export async function openContacts(file: string, command: string): Promise<ContactBook> {
  if (!existsSync(file)) throw new UsageError(`--contacts ${file}: no such file`);
  let book: ContactBook;
  try {
    book = await loadContacts(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const b of book.bad.slice(0, 200)) process.stderr.write(`vigie ${command}: ${safe(file, 200)}:${b.line}: skipped: ${safe(b.reason, 300)}\n`);
  if (book.bad.length > 200) process.stderr.write(`vigie ${command}: ${book.bad.length - 200} more bad rows skipped\n`);
  if (book.organisations.size === 0) throw new UsageError(`${file}: no usable contact row`);
  return book;
}

export function registerContacts(program: Command): void {
  const contacts = program.command("contacts").description("who owns which addresses: the contacts file notices are sent from");

  contacts
    .command("import")
    .description("write a contacts file from the abuse contacts of an RIR database dump in RPSL (RIPE NCC split dumps: inetnum, inet6num, aut-num, role, organisation; .gz accepted)")
    .argument("<files...>", "RPSL files, e.g. ripe.db.inetnum.gz ripe.db.inet6num.gz ripe.db.role.gz ripe.db.organisation.gz")
    .requiredOption("--out <file>", "contacts CSV to write")
    .option("--language <tag>", "language written for every contact (the dumps carry none)", "en")
    .action(async (files: string[], o: { out: string; language: string }) => {
      for (const f of files) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
      if (!/^[a-z]{2,3}(-[a-z0-9]{2,8})?$/i.test(o.language)) throw new UsageError(`--language ${o.language}: a language tag like en or fr`);
      const r = await importAbuseContacts(files);
      for (const p of r.problems) process.stderr.write(`vigie contacts import: ${p.file ? `${safe(p.file, 200)}:${p.line}: ` : ""}skipped: ${safe(p.reason, 300)}\n`);
      if (r.contacts.length === 0) {
        throw new UsageError(`no abuse contact found in ${files.length} file(s) (${r.resources} inetnum/inet6num/aut-num objects, ${r.withoutAbuseContact} without abuse-c; give the role file too)`);
      }
      const lines = [csvRow([...CONTACTS_HEADER])];
      for (const c of r.contacts) lines.push(csvRow([c.scope, c.organisation, c.email, o.language.toLowerCase()]));
      writeFileAtomic(o.out, lines.join("\n") + "\n");
      const orgs = new Set(r.contacts.map((c) => c.organisation)).size;
      process.stdout.write(
        `${r.contacts.length} scopes of ${orgs} organisations written to ${safe(o.out, 300)} ` +
          `(${r.resources} objects read, ${r.withoutAbuseContact} without abuse contact: their addresses fall to the enclosing object)\n`,
      );
    });

  contacts
    .command("list")
    .description("the organisations of a contacts file with their scopes, addresses and language")
    .argument("<file>", "contacts CSV")
    .option("--json", 'one JSON object {"organisations":[{"name","emails","language","scopes"}],"badRows":[{"line","reason"}]}')
    .action(async (file: string, o: { json?: boolean }) => {
      const book = await openContacts(file, "contacts list");
      const orgs = [...book.organisations.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (o.json) {
        process.stdout.write(JSON.stringify({ organisations: orgs, badRows: book.bad }) + "\n");
        return;
      }
      process.stdout.write(
        renderTable(orgs, [
          { header: "ORGANISATION", value: (g) => g.name, max: 50 },
          { header: "LANGUAGE", value: (g) => g.language },
          { header: "E-MAIL", value: (g) => g.emails.join(" "), max: 80 },
          { header: "SCOPES", value: (g) => `${g.scopes.slice(0, 4).join(" ")}${g.scopes.length > 4 ? ` (+${g.scopes.length - 4})` : ""}`, max: 90 },
        ]) + `\n${orgs.length} organisations, ${book.rows} rows${book.bad.length ? `, ${book.bad.length} bad rows skipped` : ""}\n`,
      );
    });

  const check = contacts
    .command("check")
    .description("which Exchange servers of a snapshot have no owner in the contacts file")
    .argument("<file>", "contacts CSV")
    .option("--snapshot <name>", "snapshot (default: the newest)")
    .option("--json", 'one JSON object {"snapshot","servers","owned","unowned":[{"ip","port","hostname","asn","country","vulnerable"}]}');
  addDbOption(check).action(async (file: string, o: { snapshot?: string; json?: boolean; db?: string }) => {
    const book = await openContacts(file, "contacts check");
    const store = await openStore(o.db);
    try {
      const snapshot = await resolveSnapshot(store, o.snapshot);
      let servers = 0;
      const unowned: Array<{ ip: string; port: number; hostname: string | null; asn: number | null; country: string | null; vulnerable: string[] }> = [];
      for await (const r of store.census.owners(snapshot, "ip")) {
        servers++;
        if (book.ownerOf(r.ip, r.asn)) continue;
        unowned.push({ ip: r.ip, port: r.port, hostname: r.hostname, asn: r.asn, country: r.country, vulnerable: r.cves.filter((c) => c.status === "vulnerable").map((c) => c.id) });
      }
      if (o.json) {
        process.stdout.write(JSON.stringify({ snapshot, servers, owned: servers - unowned.length, unowned }) + "\n");
        return;
      }
      if (unowned.length > 0) {
        process.stdout.write(
          renderTable(unowned, [
            { header: "SERVER", value: (u) => `${u.ip}:${u.port}` },
            { header: "NAME", value: (u) => u.hostname ?? "", max: 40 },
            { header: "ASN", value: (u) => (u.asn !== null ? `AS${u.asn}` : "") },
            { header: "COUNTRY", value: (u) => u.country ?? "" },
            { header: "VULNERABLE TO", value: (u) => u.vulnerable.join(" "), max: 70 },
          ]) + "\n",
        );
      }
      process.stdout.write(`${unowned.length} of ${servers} Exchange servers of snapshot ${safe(snapshot, 200)} have no owner in ${safe(file, 200)}\n`);
    } finally {
      await store.close();
    }
  });
}

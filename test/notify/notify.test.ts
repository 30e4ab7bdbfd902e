// vigie notify against a REAL SMTP server on loopback (smtp-server, STARTTLS with a test certificate and
// AUTH required), messages parsed with mailparser: exactly one message per organisation with exactly its
// servers (a more specific range owned by another organisation goes to that one only); hostile host names
// neither inject headers nor become CSV formulas; a second run sends nothing twice; a 451 for one recipient
// is retried on the next run (to that recipient only, same Message-ID); a 550 is reported and the exit status
// says so; a run killed mid-send loses nothing. Then remediation across a later snapshot, overdue and reminders.
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqliteStore.js";
import { parseCsvLine } from "../../src/util/csv.js";
import { CLI } from "../helpers/cli.js";
import { cli, tmp } from "../import/helpers.js";

const VULN = "15.1.2176.2"; // Exchange 2016 CU19 before the March 2021 SU: vulnerable to CVE-2021-26855
const FIXED = "15.1.2176.9"; // CU19 Mar21SU: patched for CVE-2021-26855
const CVE = "CVE-2021-26855";
const CRLF_NAME = "mail.small.example\r\nBcc: victim@evil.example\r\nX-Injected: 1";
const FORMULA_NAME = '=HYPERLINK("http://evil.example/","click")';

const SMALL1 = "193.51.224.1"; // Small (the /24) although inside Big's /16
const SMALL2 = "193.51.224.2"; // Small, patched: not in any notice
const BIG1 = "193.51.1.5"; // Big (the /16)
const BIG2 = "193.51.1.6"; // Big
const FREE = "212.27.48.10"; // AS12322 -> Free (no prefix matches)
const STRATO = "81.169.145.1"; // Strato: its only recipient is refused (550)
const NOBODY = "8.8.8.8"; // no owner

function zgrab(ip: string, build: string, domain?: string): string {
  const headers = { server: ["Microsoft-IIS/10.0"], unknown: [{ key: "x_feserver", value: ["EXCH01"] }, { key: "x_owa_version", value: [build] }] };
  return JSON.stringify({
    ip,
    ...(domain !== undefined ? { domain } : {}),
    data: { http: { status: "success", result: { response: { status_code: 200, headers, body: "", request: { url: { scheme: "https", host: `${ip}:443`, path: "/owa/" } } } } } },
  });
}

const dir = tmp("notify");
const db = path.join(dir, "v.db");
const contacts = path.join(dir, "contacts.csv");
const PASSWORD = "s3cret-relay";
const run = (args: string[]) => cli(dir, [...args, "--db", db]);

interface Captured {
  from: string;
  to: string[];
  raw: string;
  mail: ParsedMail;
  secure: boolean;
  user: unknown;
}

let server: SMTPServer;
let port = 0;
let cert = "";
const captured: Captured[] = [];
let tempfails = 1; // how many 451 replies tempfail@free.example still gets
let hangFor: string | null = null; // a recipient whose DATA is never answered (the client is killed meanwhile)
let onHang: (() => void) | null = null;

function smtpArgs(extra: string[] = []): string[] {
  return ["notify", "--contacts", contacts, "--smtp", `smtp://127.0.0.1:${port}`, "--smtp-user", "vigie", "--require-tls", "--smtp-ca", path.join(dir, "cert.pem"), "--from", "CERT Example <cert@cert.example>", "--rate", "6000", ...extra];
}
const notify = (extra: string[] = []) => runNotify(smtpArgs(extra));
function runNotify(args: string[]) {
  return cli(dir, [...args, "--db", db]);
}
async function withPassword<T>(f: () => Promise<T>): Promise<T> {
  process.env.VIGIE_SMTP_PASSWORD = PASSWORD;
  try {
    return await f();
  } finally {
    delete process.env.VIGIE_SMTP_PASSWORD;
  }
}

beforeAll(async () => {
  const key = path.join(dir, "key.pem");
  const crt = path.join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "pipe" });
  cert = readFileSync(crt, "utf8");
  server = new SMTPServer({
    key: readFileSync(key),
    cert,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === "vigie" && auth.password === PASSWORD) cb(null, { user: "vigie" });
      else cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      if (address.address === "rejected@strato.example") return cb(Object.assign(new Error("5.1.1 No such user here"), { responseCode: 550 }));
      if (address.address === "tempfail@free.example" && tempfails > 0) {
        tempfails--;
        return cb(Object.assign(new Error("4.2.0 Greylisted, try again later"), { responseCode: 451 }));
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        if (hangFor !== null && to.includes(hangFor)) {
          onHang?.();
          return; // never answer: the client waits until it is killed
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        void simpleParser(raw).then((mail) => {
          captured.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to, raw, mail, secure: session.secure, user: session.user });
          cb(null, "2.0.0 Ok: queued as TEST");
        });
      });
    },
  });
  server.on("error", () => {}); // a client killed mid-transaction resets its connection
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.server.address() as AddressInfo).port;

  writeFileSync(
    contacts,
    [
      "scope,organisation,email,language",
      "193.51.0.0/16,Big Telecom,noc@big.example,en",
      "193.51.224.0/24,Small Lab,cert@small.example,fr",
      "2001:db8::/32,Small Lab,cert6@small.example,fr",
      "AS12322,Free,ok@free.example,en",
      "AS12322,Free,tempfail@free.example,en",
      "81.169.0.0/16,Strato,rejected@strato.example,de",
      "not-a-scope,Nobody,x@nobody.example,en",
    ].join("\n") + "\n",
  );
  const a = path.join(dir, "a.jsonl");
  writeFileSync(
    a,
    [
      zgrab(SMALL1, VULN, CRLF_NAME),
      zgrab(SMALL2, FIXED, "ok.small.example"),
      zgrab(BIG1, VULN, FORMULA_NAME),
      zgrab(BIG2, VULN, "owa.big.example"),
      zgrab(FREE, VULN, "mail.free.example"),
      zgrab(STRATO, VULN, "mail.strato.example"),
      zgrab(NOBODY, VULN),
    ].join("\n") + "\n",
  );
  const r = await run(["import", a, "--format", "zgrab2", "--snapshot", "a", "--date", "2021-03-02"]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Split CSV text into records, keeping line breaks inside quoted fields (RFC 4180). */
function csvRecords(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    if (!quoted && c === "\r" && text[i + 1] === "\n") {
      out.push(cur);
      cur = "";
      i++;
      continue;
    }
    cur += c;
  }
  if (cur !== "") out.push(cur);
  return out;
}

const ipsIn = (text: string): string[] => [SMALL1, SMALL2, BIG1, BIG2, FREE, STRATO, NOBODY].filter((ip) => text.includes(ip)).sort();
const byOrg = (m: Captured) => String(m.mail.to && !Array.isArray(m.mail.to) ? m.mail.to.text : "");

describe("vigie notify", () => {
  it("--dry-run writes one .eml per organisation and records nothing", async () => {
    const out = path.join(dir, "dry");
    const r = await run(["notify", "--contacts", contacts, "--from", "CERT Example <cert@cert.example>", "--dry-run", "--out", out, "--at", "2021-03-03T09:00:00Z"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/contacts\.csv:8: skipped: not an address or CIDR/);
    expect(r.stderr).toMatch(/1 servers to report have no owner/);
    const files = readdirSync(out).sort();
    expect(files).toEqual(["001-Big_Telecom.eml", "002-Free.eml", "003-Small_Lab.eml", "004-Strato.eml"]);
    const fr = await simpleParser(readFileSync(path.join(out, "003-Small_Lab.eml")));
    expect(fr.headers.get("content-language")).toBe("fr");
    // Without --cve every CVE counts: SMALL2's Mar21SU build is patched for ProxyLogon but not for ProxyShell.
    expect(fr.subject).toBe("[Vigie] Serveurs Microsoft Exchange vulnérables dans votre réseau (2)");
    expect(fr.text).toMatch(/Exposé ne veut pas dire compromis/);
    const en = await simpleParser(readFileSync(path.join(out, "001-Big_Telecom.eml")));
    expect(en.headers.get("content-language")).toBe("en");
    expect(en.text).toMatch(/Exposed is not compromised/);
    expect(en.text).toMatch(/CVE-2021-26855 \(ProxyLogon\): vulnerable\n\s+Install: /);
    const s = await openSqliteStore(db);
    expect(await s.notices.list()).toEqual([]);
    await s.close();
  });

  it("sends one message per organisation with exactly its servers over STARTTLS with AUTH; 451 deferred, 550 reported (exit 3)", async () => {
    const r = await withPassword(() => notify(["--cve", CVE, "--at", "2021-03-03T09:00:00Z"]));
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/refused for good: Strato <rejected@strato\.example>: 550 5\.1\.1 No such user here/);
    expect(r.stdout).toMatch(/deferred \(retried on the next run\): Free <tempfail@free\.example>: 451/);
    // Strato's only recipient was refused at RCPT: no DATA, so three messages arrived.
    expect(captured).toHaveLength(3);
    for (const m of captured) {
      expect(m.secure).toBe(true);
      expect(m.user).toBe("vigie");
      expect(m.from).toBe("cert@cert.example");
    }
    const get = (org: string) => captured.filter((m) => byOrg(m).includes(org));
    const small = get("cert@small.example");
    const big = get("noc@big.example");
    const free = get("ok@free.example");
    expect([small.length, big.length, free.length]).toEqual([1, 1, 1]);
    expect(small[0]!.to).toEqual(["cert@small.example", "cert6@small.example"]);
    expect(ipsIn(small[0]!.mail.text!)).toEqual([SMALL1]);
    expect(ipsIn(big[0]!.mail.text!)).toEqual([BIG1, BIG2]);
    expect(free[0]!.to).toEqual(["ok@free.example"]);
    expect(ipsIn(free[0]!.mail.text!)).toEqual([FREE]);
    // The CSV attachment holds the same rows, in the owner-report layout, formula-safe.
    for (const [m, ips] of [[small[0]!, [SMALL1]], [big[0]!, [BIG1, BIG2]], [free[0]!, [FREE]]] as const) {
      const att = m.mail.attachments;
      expect(att).toHaveLength(1);
      expect(att[0]!.contentType).toBe("text/csv");
      const rows = csvRecords(att[0]!.content.toString("utf8")).map(parseCsvLine);
      expect(rows[0]!.slice(0, 4)).toEqual(["timestamp", "ip", "port", "hostname"]);
      expect(rows[0]).toContain("cve_2021_26855");
      expect(rows.slice(1).map((x) => x[1]).sort()).toEqual([...ips]);
      // Exchange 2016 servers in a 2021 snapshot: end of support 2025-10-14, supported on the snapshot's date.
      const eos = rows[0]!.indexOf("end_of_support");
      expect(rows[0]![eos + 1]).toBe("out_of_support");
      for (const x of rows.slice(1)) expect(x.slice(eos, eos + 2)).toEqual(["2025-10-14", "false"]);
    }
    const bigCsv = big[0]!.mail.attachments[0]!.content.toString("utf8");
    expect(bigCsv).toContain(`"'=HYPERLINK(""http://evil.example/"",""click"")"`);
    // The CR/LF host name injected no header and no recipient; it is shown inert in the text.
    const sm = small[0]!;
    expect(sm.mail.bcc).toBeUndefined();
    expect(sm.mail.headers.has("x-injected")).toBe(false);
    expect(sm.raw).not.toMatch(/^Bcc:/im);
    expect(sm.mail.text).toContain("mail.small.example\\x0d\\x0aBcc: victim@evil.example\\x0d\\x0aX-Injected: 1");
    expect(sm.mail.headers.get("content-language")).toBe("fr");
    expect(sm.mail.messageId).toMatch(/^<vigie-notice-[0-9a-f-]+@cert\.example>$/);
    expect((sm.mail.date as Date).toISOString()).toBe("2021-03-03T09:00:00.000Z");

    // Recorded in the store: organisation, recipients with the relay's replies, servers and CVEs, Message-ID.
    const s = await openSqliteStore(db);
    const notices = await s.notices.list({ snapshotId: "a" });
    await s.close();
    expect(notices.map((n) => n.organisation).sort()).toEqual(["Big Telecom", "Free", "Small Lab", "Strato"]);
    const fr = notices.find((n) => n.organisation === "Free")!;
    expect(fr.messageId).toBe(free[0]!.mail.messageId);
    expect(fr.items).toEqual([{ ip: FREE, port: 443, hostname: "mail.free.example", cve: CVE, status: "vulnerable", country: "FR", asn: 12322 }]);
    expect(fr.recipients.map((x) => [x.address, x.status, x.attempts])).toEqual([
      ["ok@free.example", "sent", 1],
      ["tempfail@free.example", "deferred", 1],
    ]);
    expect(fr.recipients[0]!.reply).toMatch(/^250 .*queued as TEST/);
    const st = notices.find((n) => n.organisation === "Strato")!;
    expect(st.recipients[0]).toMatchObject({ status: "failed" });
    expect(st.recipients[0]!.reply).toMatch(/^550/);
    expect(notices.find((n) => n.organisation === "Big Telecom")!.items.map((i) => i.ip).sort()).toEqual([BIG1, BIG2]);
  });

  it("a second run retries the 451 recipient only, with the same message; a third sends nothing", async () => {
    const before = captured.length;
    const firstFree = captured.find((m) => m.to.includes("ok@free.example"))!;
    const r = await withPassword(() => notify(["--cve", CVE, "--at", "2021-03-03T09:00:00Z"]));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 new notices recorded; 1 messages handed to the relay: 1 recipients sent, 0 deferred, 0 refused/);
    expect(captured).toHaveLength(before + 1);
    const retry = captured[captured.length - 1]!;
    expect(retry.to).toEqual(["tempfail@free.example"]);
    expect(retry.mail.messageId).toBe(firstFree.mail.messageId);
    expect(retry.mail.text).toBe(firstFree.mail.text);

    const third = await withPassword(() => notify(["--cve", CVE, "--at", "2021-03-03T09:00:00Z"]));
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.stdout).toMatch(/nothing to send: every organisation was already notified about snapshot a/);
    expect(captured).toHaveLength(before + 1);
  });

  it("refuses to send without the relay's password (nothing lost: recorded notices wait)", async () => {
    const before = captured.length;
    // Another CVE: new (server, CVE) items, so new notices are recorded; the relay refuses the login.
    const r = await notify(["--cve", "CVE-2021-27065", "--at", "2021-03-03T09:00:00Z"]);
    expect(r.code, r.stdout + r.stderr).toBe(75);
    expect(r.stdout).toMatch(/stopped: the relay cannot be used/);
    expect(captured).toHaveLength(before);
    const ok = await withPassword(() => notify(["--cve", "CVE-2021-27065", "--at", "2021-03-03T09:00:00Z"]));
    expect(ok.code, ok.stdout + ok.stderr).toBe(3); // Strato's recipient is refused again
    expect(ok.stdout).toMatch(/^0 new notices recorded; 4 messages handed to the relay: 5 recipients sent, 0 deferred, 1 refused/);
    expect(captured).toHaveLength(before + 3);
  });

  it("a run killed while the relay holds a message loses nothing: the next run sends it again (same Message-ID) and the rest", async () => {
    hangFor = "noc@big.example";
    const before = captured.length;
    const child = spawn(process.execPath, [CLI, ...smtpArgs(["--cve", "CVE-2021-26857", "--at", "2021-03-03T09:00:00Z"]), "--db", db], {
      env: { ...process.env, VIGIE_SMTP_PASSWORD: PASSWORD, VIGIE_DATA_DIR: path.join(dir, "data"), VIGIE_KB_DIR: path.join(dir, "kb") },
      stdio: "ignore",
    });
    await new Promise<void>((resolve) => {
      onHang = () => {
        child.kill("SIGKILL");
        resolve();
      };
    });
    await new Promise((r) => child.on("close", r));
    hangFor = null;
    onHang = null;
    const s = await openSqliteStore(db);
    const pending = (await s.notices.undelivered()).map((n) => [n.organisation, n.recipients.map((x) => x.status).join(",")]);
    await s.close();
    expect(pending).toContainEqual(["Big Telecom", "sending"]);
    const r = await withPassword(() => notify(["--cve", "CVE-2021-26857", "--at", "2021-03-03T09:00:00Z"]));
    expect(r.code, r.stdout + r.stderr).toBe(3); // Strato's recipient is refused again
    expect(r.stdout).toMatch(/1 recipients of an interrupted run were sent the message again \(same Message-ID\)/);
    const fresh = captured.slice(before);
    expect(fresh.map((m) => m.to.join(" ")).sort()).toEqual(["cert@small.example cert6@small.example", "noc@big.example", "ok@free.example tempfail@free.example"]);
  });
});

describe("vigie remediation and reminders", () => {
  beforeAll(async () => {
    // A week later: Small's server patched, one of Big's patched, Free's gone; two weeks later the same.
    for (const [id, date] of [["b", "2021-03-09"], ["c", "2021-03-16"]] as const) {
      const f = path.join(dir, `${id}.jsonl`);
      writeFileSync(f, [zgrab(SMALL1, FIXED), zgrab(SMALL2, FIXED), zgrab(BIG1, id === "b" ? VULN : FIXED), zgrab(BIG2, VULN), zgrab(STRATO, VULN), zgrab(NOBODY, VULN)].join("\n") + "\n");
      const r = await run(["import", f, "--format", "zgrab2", "--snapshot", id, "--date", date]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);

  it("--by org --json gives per organisation the counts and the days from notice to fix", async () => {
    const r = await run(["remediation", "--by", "org", "--cve", CVE, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      by: "org",
      groups: [
        { key: "Big Telecom", notified: 2, remediated: 1, stillVulnerable: 1, unknown: 0, gone: 0, medianDaysToFix: 13, p90DaysToFix: 13 },
        { key: "Free", notified: 1, remediated: 0, stillVulnerable: 0, unknown: 0, gone: 1, medianDaysToFix: null, p90DaysToFix: null },
        { key: "Small Lab", notified: 1, remediated: 1, stillVulnerable: 0, unknown: 0, gone: 0, medianDaysToFix: 6, p90DaysToFix: 6 },
      ],
    });
    const country = JSON.parse((await run(["remediation", "--by", "country", "--cve", CVE, "--json"])).stdout) as { groups: Array<{ key: string; notified: number; medianDaysToFix: number }> };
    expect(country.groups).toEqual([expect.objectContaining({ key: "FR", notified: 4, remediated: 2, medianDaysToFix: 9.5, p90DaysToFix: 13 })]);
    const asn = JSON.parse((await run(["remediation", "--by", "asn", "--cve", CVE, "--json"])).stdout) as { groups: Array<{ key: string }> };
    expect(asn.groups.map((g) => g.key).sort()).toEqual(["AS12322", "AS2200"]);
    const table = await run(["remediation", "--cve", CVE]);
    expect(table.stdout).toMatch(/Big Telecom\s+2\s+1\s+1\s+0\s+0\s+13\s+13/);
  });

  it("--overdue lists the servers still vulnerable N days after their notice; --reminders writes to those only, once", async () => {
    const r = await run(["remediation", "--cve", CVE, "--overdue", "10", "--at", "2021-03-20T00:00:00Z", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { overdueDays: number; servers: Array<{ organisation: string; ip: string; cve: string; daysSinceNotice: number; snapshot: string }> };
    expect(o.servers.map((s) => [s.organisation, s.ip, s.cve, s.daysSinceNotice, s.snapshot])).toEqual([["Big Telecom", BIG2, CVE, 17, "c"]]);
    const none = JSON.parse((await run(["remediation", "--cve", CVE, "--overdue", "30", "--at", "2021-03-20T00:00:00Z", "--json"])).stdout) as { servers: unknown[] };
    expect(none.servers).toEqual([]);

    const before = captured.length;
    const rem = await withPassword(() => notify(["--reminders", "--cve", CVE, "--overdue", "10", "--at", "2021-03-20T00:00:00Z"]));
    expect(rem.code, rem.stdout + rem.stderr).toBe(0);
    expect(captured).toHaveLength(before + 1);
    const m = captured[captured.length - 1]!;
    expect(m.to).toEqual(["noc@big.example"]);
    expect(m.mail.subject).toBe("[Vigie] Reminder: 1 Microsoft Exchange server in your network still vulnerable");
    expect(ipsIn(m.mail.text!)).toEqual([BIG2]);
    expect(m.mail.text).toMatch(/On 2021-03-03 we wrote to you/);
    expect(m.mail.text).toMatch(/First notice: 2021-03-03/);
    const again = await withPassword(() => notify(["--reminders", "--cve", CVE, "--overdue", "10", "--at", "2021-03-20T00:00:00Z"]));
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/nothing to send/);
    expect(captured).toHaveLength(before + 1);
  });
});

// Contacts: the CSV file (longest prefix wins, AS only where no prefix matches, IPv4 and IPv6, bad rows named
// and skipped), abuse contacts from an RPSL dump (gzip, inetnum ranges to prefixes, org -> abuse-c), `vigie
// contacts list|check`, and the CSV writers' formula neutralisation (`report owners`, `hosts --csv`).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { ContactBook, loadContacts } from "../../src/notify/contacts.js";
import { formatPrefix, rangeToPrefixes, parseAddress } from "../../src/notify/prefix.js";
import { csvRow, neutraliseFormula, parseCsvLine } from "../../src/util/csv.js";
import { cli, tmp } from "../import/helpers.js";

const dir = tmp("contacts");
const db = path.join(dir, "v.db");
const run = (args: string[]) => cli(dir, [...args, "--db", db]);
const VULN = "15.1.2176.2";

function zgrab(ip: string, build: string, domain?: string): string {
  const headers = { server: ["Microsoft-IIS/10.0"], unknown: [{ key: "x_feserver", value: ["EXCH01"] }, { key: "x_owa_version", value: [build] }] };
  return JSON.stringify({
    ip,
    ...(domain !== undefined ? { domain } : {}),
    data: { http: { status: "success", result: { response: { status_code: 200, headers, body: "", request: { url: { scheme: "https", host: `${ip}:443`, path: "/owa/" } } } } } },
  });
}

const HOSTILE_NAME = "=HYPERLINK(\"http://evil.example/\",\"x\")";

describe("contact book", () => {
  it("picks the longest matching prefix, then the AS, for IPv4 and IPv6", () => {
    const b = new ContactBook();
    expect(b.add("193.51.0.0/16", "Big", "noc@big.example", "en")).toBeUndefined();
    expect(b.add("193.51.224.0/24", "Small", "cert@small.example", "fr")).toBeUndefined();
    expect(b.add("193.51.224.7", "Tiny", "x@tiny.example", "fr")).toBeUndefined();
    expect(b.add("AS2200", "Asn Owner", "abuse@asn.example", "en")).toBeUndefined();
    expect(b.add("2001:db8::/32", "Big", "noc6@big.example", "en")).toBeUndefined();
    expect(b.add("2001:db8:1::/48", "Small", "cert@small.example", "fr")).toBeUndefined();
    expect(b.ownerOf("193.51.224.1", 2200)?.organisation.name).toBe("Small");
    expect(b.ownerOf("193.51.224.7", 2200)?.organisation.name).toBe("Tiny");
    expect(b.ownerOf("193.51.1.1", 2200)?.organisation.name).toBe("Big");
    expect(b.ownerOf("8.8.8.8", 2200)).toMatchObject({ organisation: { name: "Asn Owner" }, scope: "AS2200" });
    expect(b.ownerOf("8.8.8.8", 15169)).toBeUndefined();
    expect(b.ownerOf("2001:db8:1::25", null)).toMatchObject({ organisation: { name: "Small" }, scope: "2001:db8:1::/48" });
    expect(b.ownerOf("2001:db8:2::25", null)?.organisation.name).toBe("Big");
    const big = b.organisations.get("Big")!;
    expect(big.emails).toEqual(["noc@big.example", "noc6@big.example"]);
    expect(big.scopes).toEqual(["193.51.0.0/16", "2001:db8::/32"]);
    // Refusals
    expect(b.add("193.51.224.0/24", "Other", "o@other.example", "en")).toMatch(/already belongs to "Small"/);
    expect(b.add("10.0.0.1/8", "X", "x@x.example", "en")).toMatch(/host bits set.*10\.0\.0\.0\/8/);
    expect(b.add("10.0.0.0/8", "X", "x@x.example\r\nBcc: v@v.example", "en")).toMatch(/not an e-mail address/);
    expect(b.add("10.0.0.0/8", "X", "<x@x.example>", "en")).toMatch(/not an e-mail address/);
    expect(b.add("AS0", "X", "x@x.example", "en")).toMatch(/AS number/);
  });

  it("turns inetnum ranges into exact prefixes", () => {
    const p = (a: string, b: string) => {
      const x = parseAddress(a)!;
      return rangeToPrefixes(x.family, x.value, parseAddress(b)!.value).map(formatPrefix);
    };
    expect(p("192.0.2.0", "192.0.2.255")).toEqual(["192.0.2.0/24"]);
    expect(p("10.0.0.0", "10.0.2.255")).toEqual(["10.0.0.0/23", "10.0.2.0/24"]);
    expect(p("10.0.0.5", "10.0.0.6")).toEqual(["10.0.0.5/32", "10.0.0.6/32"]);
    expect(p("0.0.0.0", "255.255.255.255")).toEqual(["0.0.0.0/0"]);
    expect(p("2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff")).toEqual(["2001:db8::/48"]);
  });

  it("reads a file: bad rows are named by line and skipped, the good ones kept; over-long lines refused", async () => {
    const f = path.join(dir, "c1.csv");
    writeFileSync(
      f,
      [
        "scope,organisation,email,language",
        "193.51.224.0/24,Renater,cert@renater.example,fr",
        "not-a-scope,Renater,cert@renater.example,fr",
        `10.0.0.0/8,${"A".repeat(5000)},a@a.example,en`,
        '"unterminated,Org,a@a.example,en',
        "AS12322,Free,abuse@free.example",
        "2001:db8::/32,V6 Org,v6@v6.example,EN",
      ].join("\r\n"),
    );
    const b = await loadContacts(f);
    expect([...b.organisations.keys()]).toEqual(["Renater", "Free", "V6 Org"]);
    expect(b.organisations.get("Free")!.language).toBe("en");
    expect(b.bad.map((x) => x.line)).toEqual([3, 4, 5]);
    expect(b.bad[0]!.reason).toMatch(/not an address or CIDR/);
    expect(b.bad[1]!.reason).toMatch(/longer than 4096/);
    writeFileSync(path.join(dir, "nohead.csv"), "193.51.224.0/24,Renater,cert@renater.example,fr\n");
    await expect(loadContacts(path.join(dir, "nohead.csv"))).rejects.toThrow(/header scope,organisation,email,language/);
  });
});

describe("CSV cells cannot become formulas", () => {
  it("neutralises =, +, -, @, tab and CR at the start of text; numbers stay numbers", () => {
    for (const s of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(neutraliseFormula(s)).toBe(`'${s}`);
    expect(neutraliseFormula("mail.example.org")).toBe("mail.example.org");
    expect(csvRow([-1, "=cmd|' /C calc'!A0", "a,b"])).toBe(`-1,'=cmd|' /C calc'!A0,"a,b"`);
    expect(parseCsvLine(csvRow(['=HYPERLINK("x")']))).toEqual(['\'=HYPERLINK("x")']);
  });
});

describe("vigie contacts and CSV writers on a real store", () => {
  beforeAll(async () => {
    const f = path.join(dir, "a.jsonl");
    writeFileSync(f, [zgrab("193.51.224.1", VULN, HOSTILE_NAME), zgrab("193.51.224.2", VULN, "@mail.example"), zgrab("8.8.8.8", VULN, "-2+3")].join("\n") + "\n");
    const r = await run(["import", f, "--format", "zgrab2", "--snapshot", "a", "--date", "2021-03-02"]);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it("report owners and hosts --csv write host names that start like formulas as text", async () => {
    const out = path.join(dir, "owners");
    const r = await run(["report", "owners", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const all = readdirSync(out).filter((f) => f !== "index.csv").map((f) => readFileSync(path.join(out, f), "utf8")).join("\n");
    expect(all).toContain(`"'=HYPERLINK(""http://evil.example/"",""x"")"`);
    expect(all).toContain(",'@mail.example,");
    expect(all).toContain(",'-2+3,");
    const hosts = await run(["hosts", "--csv"]);
    expect(hosts.code, hosts.stderr).toBe(0);
    const cells = hosts.stdout.trim().split("\n").slice(1).map((l) => parseCsvLine(l)[2]);
    expect(cells.sort()).toEqual(["'-2+3", "'=HYPERLINK(\"http://evil.example/\",\"x\")", "'@mail.example"]);
  });

  it("imports abuse contacts from gzip RPSL dumps, lists them and checks which servers have no owner", async () => {
    const inetnum = [
      "% comment lines are skipped",
      "",
      "inetnum:        193.51.0.0 - 193.51.255.255",
      "netname:        BIG-NET",
      "org:            ORG-BIG1-RIPE",
      "source:         RIPE # Filtered",
      "",
      "inetnum:        193.51.224.0 - 193.51.224.255",
      "netname:        SMALL-NET",
      "abuse-c:        SMALL1-RIPE",
      "source:         RIPE",
      "",
      "inetnum:        193.51.225.0 - 193.51.224.255",
      "abuse-c:        SMALL1-RIPE",
      "",
      "inetnum:        10.0.0.0 - 10.0.2.255",
      "descr:          no abuse contact here",
      "",
      `remarks:        ${"x".repeat(70_000)}`,
      "",
      "inet6num:       2001:db8::/32",
      "abuse-c:        SMALL1-RIPE",
      "",
    ].join("\n");
    const roles = [
      "role:           Small Abuse Team",
      "abuse-mailbox:  abuse@small.example",
      "nic-hdl:        SMALL1-RIPE",
      "",
      "role:           Big NOC",
      "address:        line one",
      "+                continued",
      "abuse-mailbox:  abuse@big.example",
      "nic-hdl:        BIG1-RIPE",
      "",
      "organisation:   ORG-BIG1-RIPE",
      "org-name:       Big Telecom",
      "abuse-c:        BIG1-RIPE",
      "",
      "aut-num:        AS15169",
      "org:            ORG-BIG1-RIPE",
      "",
    ].join("\n");
    writeFileSync(path.join(dir, "ripe.db.inetnum.gz"), gzipSync(inetnum));
    writeFileSync(path.join(dir, "ripe.db.role.gz"), gzipSync(roles));
    const out = path.join(dir, "abuse.csv");
    const r = await cli(dir, ["contacts", "import", path.join(dir, "ripe.db.inetnum.gz"), path.join(dir, "ripe.db.role.gz"), "--out", out, "--language", "fr"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/ripe\.db\.inetnum\.gz:13: skipped: inetnum: not an address range/);
    expect(r.stderr).toMatch(/ripe\.db\.inetnum\.gz:19: skipped: line longer than 65536 bytes/);
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines[0]).toBe("scope,organisation,email,language");
    expect(lines.slice(1).sort()).toEqual([
      "193.51.0.0/16,Big Telecom,abuse@big.example,fr",
      "193.51.224.0/24,Small Abuse Team,abuse@small.example,fr",
      "2001:db8::/32,Small Abuse Team,abuse@small.example,fr",
      "AS15169,Big Telecom,abuse@big.example,fr",
    ]);
    const list = await cli(dir, ["contacts", "list", out, "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const l = JSON.parse(list.stdout) as { organisations: Array<{ name: string; scopes: string[] }> };
    expect(l.organisations.map((o) => o.name)).toEqual(["Big Telecom", "Small Abuse Team"]);

    const partial = path.join(dir, "partial.csv");
    writeFileSync(partial, "scope,organisation,email,language\n193.51.224.0/25,Small,cert@small.example,fr\n");
    const check = await run(["contacts", "check", partial, "--json"]);
    expect(check.code, check.stderr).toBe(0);
    const c = JSON.parse(check.stdout) as { servers: number; owned: number; unowned: Array<{ ip: string }> };
    expect(c.servers).toBe(3);
    expect(c.owned).toBe(2);
    expect(c.unowned.map((u) => u.ip)).toEqual(["8.8.8.8"]);
    const text = await run(["contacts", "check", out]);
    expect(text.stdout).toMatch(/0 of 3 Exchange servers/);
  });
});

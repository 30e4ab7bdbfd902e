// Evidence read from a response body where the body scan (one pass for the expressions' literals, then only the
// expressions whose literals are there) could go wrong: matches far from the start, absolute links with the
// longest host name the expression takes, markers in other cases, literals that overlap. Expected evidence written
// by hand from the expressions' definitions in src/identify/httpEvidence.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { evidenceFromHttp } from "../../src/identify/httpEvidence.js";

const page = readFileSync(path.resolve("test/fixtures/pages/exchange2010-logon-served.html"), "utf8");
const body = (b: string) => evidenceFromHttp({ probe: "owa", path: "/owa/", status: 200, headers: {}, body: b, hosts: ["192.0.2.1", "mail.example.org"] }).evidence;
const kinds = (b: string) => body(b).map((e) => `${e.kind} ${e.build ?? ""}`.trim());

describe("body evidence", () => {
  it("a resource path after many other /owa/ mentions and 20 KB of text is found", () => {
    const noise = 'x <a href="/OWA/help">help</a> '.repeat(40) + "y".repeat(20_000);
    expect(kinds(`${noise}<link href="/owa/auth/15.1.2176/themes/resources/x.css">`)).toEqual(["logon-page-build 15.1.2176"]);
  });

  it("an absolute link with a 255-character host name, after 1,000 characters and after an earlier /owa/, names that host", () => {
    const host = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(59)}.org`;
    expect(host.length).toBe(255);
    const link = `<link href="https://${host}/owa/auth/15.2.986/themes/resources/x.css">`;
    for (const b of [`${"z".repeat(1000)}${link}`, `<a href="/owa/">x</a>${"z".repeat(1000)}${link}`]) {
      const ev = body(b);
      expect(ev.map((e) => e.kind)).toEqual(["not-exchange"]);
      expect(ev[0]!.field).toContain("body links OWA resources on another host");
      expect(ev[0]!.value).toBe(`https://${host}/owa/auth/15.2.986/themes/`);
    }
    const b = `${"z".repeat(1000)}${link}`;
    // The same link on one of the host's own names is its logon page's.
    expect(kinds(b.replace(host, "MAIL.example.org"))).toEqual(["logon-page-build 15.2.986"]);
  });

  it("markers in upper case are found where the expression ignores case, not where it does not", () => {
    expect(kinds("<title>x</title><p>ROUNDCUBE WEBMAIL</p>")).toEqual(["not-exchange"]);
    expect(body("<p>ROUNDCUBE WEBMAIL</p>")[0]!.field).toContain("(Roundcube)");
    expect(kinds("<p>OUTLOOK WEB APP</p>")).toEqual(["owa-page"]);
    expect(kinds("<p>SOGO</p>")).toEqual([]); // \bSOGo\b is case-sensitive
    expect(body("<p>SOGo</p>")[0]!.field).toContain("(SOGo)");
  });

  it("literals that overlap ('/owa/' and '/ecp/' in /owa/ecp/) are both seen", () => {
    expect(kinds('<link href="/owa/ecp/15.1.2176/themes/x.css">')).toEqual(["logon-page-build 15.1.2176"]);
    const ev = body('<link href="/owa/ecp/15.1.2176/themes/x.css">');
    expect(ev[0]!.field).toContain("/ecp/15.1.2176/themes/");
  });

  it("a served Exchange 2010 logon page gives its build, its form and no other product", () => {
    expect(kinds(page)).toEqual(["logon-page-build 14.3.123.3", "logon-form"]);
  });
});

// The `vigie kb` commands as a user runs them: the built CLI, real files, exit codes.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, runCli } from "../helpers/cli.js";

const env = { VIGIE_KB_DIR: mkdtempSync(path.join(tmpdir(), "vigie-kbcli-")) };

describe("vigie kb explain", () => {
  it("--json prints one object per build with exactly the documented fields, in input order", async () => {
    const r = await runCli(["kb", "explain", "15.1.2176.9", "15.1.2176.2", "15.1.2176", "--json"], { env });
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.build)).toEqual(["15.1.2176.9", "15.1.2176.2", "15.1.2176"]);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(["build", "product", "cu", "update", "releaseDate", "precision", "candidates", "endOfSupport", "cves"]);
      for (const c of l.cves as Array<Record<string, unknown>>) expect(Object.keys(c)).toEqual(["id", "status", "reason", "fixedIn", "remediation"]);
    }
    const status = (i: number) => (lines[i]!.cves as Array<{ id: string; status: string }>).find((c) => c.id === "CVE-2021-26855")!.status;
    expect(lines[0]).toMatchObject({ product: "Exchange Server 2016", cu: "CU19", update: "Mar21SU", precision: "exact" });
    expect([status(0), status(1), status(2)]).toEqual(["patched", "vulnerable", "unknown"]);
    expect(lines[2]!.precision).toBe("cu");
  });

  it("reads builds from stdin with -", async () => {
    const r = await runCli(["kb", "explain", "-", "--json"], { env, input: "15.2.1544.4\n# comment\n\n14.3.513.0\n" });
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((l) => l.product)).toEqual(["Exchange Server 2019", "Exchange Server 2010"]);
  });

  it("bad input: exit 2, message naming it, the good builds still answered", async () => {
    const r = await runCli(["kb", "explain", "15.1.2176.9", "not-a-build", "--json"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/#2 "not-a-build" is not an Exchange build number/);
    const lines = jsonLines(r.stdout);
    expect(lines).toHaveLength(2);
    expect(lines[0]!.product).toBe("Exchange Server 2016");
    expect(lines[1]!.precision).toBe("unknown");
  });

  it("prints a readable table by default, control characters escaped", async () => {
    const r = await runCli(["kb", "explain", "15.1.2176.2", "\u001b[2Jx"], { env });
    expect(r.stdout).toMatch(/Exchange Server 2016 CU19/);
    expect(r.stdout).toMatch(/CVE-2021-26855\s+vulnerable\s+15\.1\.2176\.9/);
    expect(r.stdout).not.toContain("\u001b");
    expect(r.stdout).toContain("\\x1b[2Jx");
  });

  it("usage errors exit 2", async () => {
    expect((await runCli(["kb", "explain"], { env })).code).toBe(2);
    expect((await runCli(["kb", "list", "--product", "2007"], { env })).code).toBe(2);
    expect((await runCli(["kb", "update"], { env })).code).toBe(2);
  });
});

describe("vigie kb list / cves / update", () => {
  it("lists builds of one product and the CVEs with KEV dates", async () => {
    const list = await runCli(["kb", "list", "--product", "2016", "--json"], { env });
    expect(list.code).toBe(0);
    const builds = jsonLines(list.stdout);
    expect(builds.length).toBeGreaterThan(100);
    expect(builds.every((b) => b.product === "Exchange Server 2016")).toBe(true);
    const cves = jsonLines((await runCli(["kb", "cves", "--json"], { env })).stdout);
    expect(cves.find((c) => c.id === "CVE-2021-26855")).toMatchObject({ campaign: "ProxyLogon", kev: { dateAdded: "2021-11-03" } });
  });

  it("imports the KEV sample feed and reports what changed; a bad file exits 2 and changes nothing", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigie-kbcli-upd-"));
    const ok = await runCli(["kb", "update", "--kev", "test/fixtures/kev/known_exploited_vulnerabilities.sample.json", "--kb-dir", dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/added: 0/);
    expect(ok.stdout).toMatch(/unchanged: 17/);
    const bad = path.join(dir, "bad.json");
    writeFileSync(bad, "[1,2");
    const r = await runCli(["kb", "update", "--kev", bad, "--kb-dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(r.stderr).toMatch(/was not changed/);
  });
});

// The `vigie kb` commands as a user runs them: the built CLI, real files, exit codes.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonLines, runCli, runCliOnTerminal } from "../helpers/cli.js";

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

  it("wraps the reason column to $COLUMNS: no line wider, every word of the full --json text there in order", async () => {
    const builds = ["15.2", "14.3.513.0", "15.2.858", "15.1.2507.99"];
    for (const width of [80, 120]) {
      const table = await runCli(["kb", "explain", ...builds], { env: { ...env, COLUMNS: String(width) } });
      const json = await runCli(["kb", "explain", ...builds, "--json"], { env });
      expect(table.code).toBe(0);
      const lines = table.stdout.split("\n");
      expect(lines.filter((l) => l.length > width)).toEqual([]);
      // Cells of the WHY column, continuation lines joined, in the order printed.
      const cells: string[] = [];
      let start = -1;
      for (const l of lines) {
        if (l.startsWith("CVE  ")) start = l.indexOf("WHY / WHAT TO DO");
        else if (/^CVE-\d{4}-\d+ /.test(l)) cells.push(l.slice(start));
        else if (start > 0 && l.startsWith(" ".repeat(start)) && cells.length > 0) cells[cells.length - 1] += ` ${l.slice(start)}`;
      }
      const expected = jsonLines<{ cves: Array<{ reason: string; remediation: string | null }> }>(json.stdout).flatMap((e) =>
        e.cves.map((c) => (c.remediation ? `${c.reason}. ${c.remediation}` : c.reason)),
      );
      expect(cells).toHaveLength(expected.length);
      // Lines break at spaces; only a word longer than the column (a script name) is split, so the text without
      // its whitespace is the full text without its whitespace, and every word of it shows up in order.
      const squeeze = (t: string) => t.replace(/\s+/g, "");
      cells.forEach((cell, i) => expect(squeeze(cell)).toBe(squeeze(expected[i]!)));
      const wordsInOrder = (cell: string, text: string) => {
        let at = 0;
        for (const w of text.split(/\s+/).filter((x) => x.length <= 20)) {
          const found = cell.indexOf(w, at);
          if (found < 0) return w;
          at = found + w.length;
        }
        return null;
      };
      cells.forEach((cell, i) => expect(wordsInOrder(cell, expected[i]!)).toBeNull());
      expect(Math.max(...lines.map((l) => l.length))).toBeGreaterThan(width - 25); // the width is used, not a fixed narrow one
    }
  }, 90_000);

  it("on a terminal, wraps to the terminal's own width (before $COLUMNS)", async () => {
    const r = await runCliOnTerminal(["kb", "explain", "15.1.2176"], { env: { ...env, COLUMNS: "150" }, columns: 72 });
    expect(r.code, r.output).toBe(0);
    const lines = r.output.replace(/\r/g, "").split("\n");
    expect(lines.some((l) => l.startsWith("CVE-2021-26855"))).toBe(true);
    expect(Math.max(...lines.map((l) => l.length))).toBe(72);
  });

  it("counts agree with their nouns: 'all N candidate builds are', '1 candidate build'", async () => {
    const r = await runCli(["kb", "explain", "15.1", "15.0.516", "--json"], { env });
    const reasons = jsonLines<{ cves: Array<{ reason: string }> }>(r.stdout).flatMap((e) => e.cves.map((c) => c.reason));
    expect(reasons.filter((t) => /\bbuilds (is|was|has)\b/.test(t))).toEqual([]);
    expect(reasons.some((t) => /^all \d+ candidate builds are not affected: /.test(t))).toBe(true);
    const table = await runCli(["kb", "explain", "15.0.516", "15.1"], { env });
    expect(table.stdout).toMatch(/^15\.0\.516: .*\(precision: cu, 1 candidate build\)$/m);
    expect(table.stdout).toMatch(/^15\.1: .*\(precision: major, \d+ candidate builds\)$/m);
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

// `vigie scan -f` reads discovery output (masscan -oL/-oJ/-oG, zmap CSV) as address:port targets, recognised from
// the file itself. Fixtures in test/fixtures/discovery/ are written by hand in each tool's output format (masscan
// src/out-text.c, out-json.c, out-grepable.c; zmap src/output_modules/module_csv.c).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { detectTargetFile, readTargetFile } from "../../src/import/discovery.js";
import { targetLines } from "../../src/observe/targets.js";
import { runCli } from "../helpers/cli.js";

const fixture = (name: string) => readFileSync(path.join("test/fixtures/discovery", name), "utf8");
const read = (text: string) => readTargetFile(text, targetLines);

describe("discovery output as targets", () => {
  it("recognises each format and a plain list", () => {
    expect(detectTargetFile(fixture("masscan.lst"))).toBe("masscan-list");
    expect(detectTargetFile(fixture("masscan.json"))).toBe("masscan-json");
    expect(detectTargetFile(fixture("masscan.gnmap"))).toBe("masscan-grepable");
    expect(detectTargetFile(fixture("zmap.csv"))).toBe("zmap-csv");
    expect(detectTargetFile("# my list\n192.0.2.0/24\nmail.example.org\n")).toBe("targets");
    expect(detectTargetFile("192.0.2.1\n192.0.2.7\n")).toBe("targets"); // zmap's default output: one address per line
    expect(detectTargetFile("open tcp 443 192.0.2.1 1764755000\n")).toBe("masscan-list"); // no "#masscan" line
  });

  it("masscan -oL, -oJ, -oG: open TCP ports only, each once", () => {
    expect(read(fixture("masscan.gnmap"))).toEqual({ format: "masscan-grepable", lines: ["127.62.0.1:443", "127.62.0.1:80", "127.62.0.2:8443"], skipped: [] });
    expect(read(fixture("masscan.lst"))).toEqual({ format: "masscan-list", lines: ["127.62.0.1:443", "127.62.0.1:80", "127.62.0.2:8443"], skipped: [] });
    expect(read(fixture("masscan.json"))).toEqual({ format: "masscan-json", lines: ["127.62.0.1:443", "127.62.0.2:8443"], skipped: [] });
  });

  it("zmap CSV: saddr and sport, rows that did not succeed left out; without sport the scan's ports", () => {
    expect(read(fixture("zmap.csv"))).toEqual({ format: "zmap-csv", lines: ["127.62.0.1:443", "127.62.0.2:8443"], skipped: [] });
    expect(read("sport,saddr\n443,2001:db8::1\n").lines).toEqual(["[2001:db8::1]:443"]);
    expect(read("saddr,ttl\n192.0.2.1,54\n").lines).toEqual(["192.0.2.1"]);
  });

  it("a bad record is skipped and named with its line; the good ones around it are kept", () => {
    const r = read("saddr,sport\n192.0.2.1,443\nnot-an-ip,443\n192.0.2.2,99999\n192.0.2.3,80\n");
    expect(r.lines).toEqual(["192.0.2.1:443", "192.0.2.3:80"]);
    expect(r.skipped).toEqual([
      { no: 3, error: 'saddr "not-an-ip" is not an IP address' },
      { no: 4, error: 'sport "99999" is not a port' },
    ]);
    const m = read("#masscan\nopen tcp 443 192.0.2.1 1764755000\nopen tcp 443 192.0.2.300 1764755000\n# end\n");
    expect(m.lines).toEqual(["192.0.2.1:443"]);
    expect(m.skipped.map((s) => s.no)).toEqual([3]);
  });
});

describe("vigie scan -f <discovery output>", () => {
  it("probes exactly the open ports the file lists", async () => {
    const seen: string[] = [];
    const servers: net.Server[] = [];
    for (const [ip, port] of [["127.62.0.1", 8443], ["127.62.0.1", 8444], ["127.62.0.2", 8443], ["127.62.0.2", 8444]] as const) {
      const s = net.createServer((c) => {
        seen.push(`${ip}:${port}`);
        c.destroy();
      });
      await new Promise<void>((r) => s.listen(port, ip, r));
      servers.push(s);
    }
    try {
      const dir = mkdtempSync(path.join(tmpdir(), "vigie-discovery-"));
      const file = path.join(dir, "zmap.csv");
      writeFileSync(file, "saddr, sport, success\n127.62.0.1,8443,1\n127.62.0.2,8444,1\n127.62.0.2,8443,0\n");
      const r = await runCli(["scan", "-f", file, "--db", path.join(dir, "d.db"), "--json", "--read-timeout", "500", "--request-timeout", "800"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/zmap CSV: 2 open ports to fingerprint/);
      expect([...new Set(seen)].sort()).toEqual(["127.62.0.1:8443", "127.62.0.2:8444"]);

      const empty = path.join(dir, "empty.lst");
      writeFileSync(empty, "#masscan\n# end\n");
      const e = await runCli(["scan", "-f", empty, "--db", path.join(dir, "e.db")]);
      expect(e.code).toBe(2);
      expect(e.stderr).toMatch(/empty\.lst: masscan list output with no open TCP port/);
    } finally {
      for (const s of servers) s.close();
    }
  });
});

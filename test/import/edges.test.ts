// The edges of `vigie import` as a user meets them: an input of which nothing can be read (exit 2, said, no
// snapshot: on SQLite and on PostgreSQL), and the progress line, shown on a terminal only (a real pseudo-terminal
// from util-linux's `script`).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { runCliOnTerminal } from "../helpers/cli.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { cli, fixture, generate, tmp } from "./helpers.js";

let pgdb: TestDatabase;
beforeAll(async () => {
  pgdb = await createTestDatabase("import_edges");
});
afterAll(async () => {
  await pgdb?.drop();
});

async function snapshotsOf(db: string): Promise<Array<{ id: string; status: string; hosts: number }>> {
  const store = await openStore(db);
  try {
    const out = [];
    for (const s of await store.listSnapshots()) {
      let hosts = 0;
      for await (const _ of store.hosts({ snapshotId: s.id })) hosts++;
      out.push({ id: s.id, status: s.status, hosts });
    }
    return out;
  } finally {
    await store.close();
  }
}

for (const engine of ["sqlite", "postgres"] as const) {
  describe(`an import of which nothing can be read (${engine})`, () => {
    const dbOf = (dir: string) => (engine === "sqlite" ? path.join(dir, "v.db") : pgdb.url);

    it("exits 2, says so, and creates no snapshot: wrong format, empty file, only closed ports", async () => {
      const dir = tmp(`nothing-${engine}`);
      const db = dbOf(dir);
      const empty = path.join(dir, "empty.jsonl");
      writeFileSync(empty, "");
      const closed = path.join(dir, "closed.txt");
      writeFileSync(closed, "#masscan\nclosed tcp 443 192.0.2.1 1615300000\n# end\n");
      const cases: Array<[string, string, RegExp]> = [
        [fixture("nmap.xml"), "zgrab2", /no record could be read from .*nmap\.xml as zgrab2 \(\d+ line\(s\), \d+ malformed\): no snapshot was created/],
        [empty, "shodan", /no record could be read from .*empty\.jsonl as shodan \(0 line\(s\), 0 malformed\): no snapshot was created/],
        [closed, "masscan", /record\(s\) read from .*closed\.txt, none with an open TCP host:port: no snapshot was created/],
      ];
      for (const [file, format, message] of cases) {
        const r = await cli(dir, ["import", file, "--format", format, "--date", "2021-03-10", "--db", db, "--no-geo", "--quiet"]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stdout).toBe("");
      }
      expect((await snapshotsOf(db)).filter((s) => s.id.startsWith("import-2021-03-10-"))).toEqual([]);
    }, 90_000);

    it("a re-import that reads nothing leaves the earlier import of that snapshot as it was", async () => {
      const dir = tmp(`nothing-re-${engine}`);
      const db = dbOf(dir);
      const snapshot = `keep-${engine}-${Date.now()}`;
      const good = await cli(dir, ["import", fixture("masscan.txt"), "--format", "masscan", "--snapshot", snapshot, "--db", db, "--no-geo", "--quiet"]);
      expect(good.code, good.stderr).toBe(0);
      const before = (await snapshotsOf(db)).find((s) => s.id === snapshot);
      expect(before).toEqual({ id: snapshot, status: "done", hosts: 2 }); // masscan.txt: two open TCP ports
      const bad = await cli(dir, ["import", fixture("shodan.jsonl"), "--format", "nmap-xml", "--snapshot", snapshot, "--db", db, "--no-geo", "--quiet"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/no record could be read .*: no snapshot was changed/);
      expect((await snapshotsOf(db)).find((s) => s.id === snapshot)).toEqual(before);
    }, 90_000);
  });
}

describe("import progress", () => {
  it("on a terminal: a redrawn line with MB read of the file's size, MB/s, ETA and records; none when piped or with --no-progress", async () => {
    const dir = tmp("progress");
    const { file } = generate(dir, 5000); // ~45 MB of zgrab2 records: more than a second of work
    const env = { VIGIE_DATA_DIR: path.join(dir, "data"), VIGIE_KB_DIR: path.join(dir, "kb") };
    const args = ["import", file, "--format", "zgrab2", "--date", "2021-03-10", "--no-geo"];
    const t = await runCliOnTerminal([...args, "--db", path.join(dir, "tty.db")], { env });
    expect(t.code, t.output).toBe(0);
    const redraws = t.output.split("\r").map((l) => l.trim()).filter((l) => /MB\/s/.test(l));
    expect(redraws.length, t.output).toBeGreaterThanOrEqual(2);
    for (const l of redraws) expect(l).toMatch(/^\[[# ]{28}\] \d+\.\d\/\d+\.\d MB \d+\.\d MB\/s ETA \d+s {2}records \d+ {2}Exchange \d+ {2}malformed 0/);
    const records = redraws.map((l) => Number(/records (\d+)/.exec(l)![1]));
    expect(records).toEqual([...records].sort((a, b) => a - b));
    expect(records.at(-1)).toBe(5000); // the last redraw is the final count
    expect(t.output).toMatch(/Imported .* lines 5000, records 5000/s);
    const quiet = await runCliOnTerminal([...args, "--db", path.join(dir, "quiet.db"), "--no-progress"], { env });
    expect(quiet.code).toBe(0);
    expect(quiet.output).not.toMatch(/MB\/s/);
    const piped = await cli(dir, [...args, "--db", path.join(dir, "piped.db")]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toMatch(/MB\/s/);
  }, 180_000);
});

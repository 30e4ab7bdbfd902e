// `vigie kb update --builds` with a file in Microsoft's ExchangeBuildNumbers.csv shape (test/fixtures/kb-update):
// the built CLI, the shipped knowledge/ as the base, a private overlay folder, exit codes as documented.
// Expected values are written by hand from the sources named per row, not read from the knowledge base.
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { jsonLines, runCli } from "../helpers/cli.js";

const SAMPLE = path.resolve("test/fixtures/kb-update/ExchangeBuildNumbers-sample.csv");
// "the build page": Microsoft's https://learn.microsoft.com/en-us/exchange/new-features/build-numbers-and-release-dates

interface Listed {
  build: string;
  kb: string | null;
  releaseDate: string;
  update: string;
  sources: string[];
}

let env: Record<string, string>;
let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), "vigie-kbupd-cli-"));
  env = { VIGIE_KB_DIR: path.join(work, "overlay"), COLUMNS: "200" };
});

/** Every build as `vigie kb list --json` shows it now. */
async function listed(): Promise<Map<string, Listed>> {
  const r = await runCli(["kb", "list", "--json"], { env });
  return new Map(jsonLines<Listed>(r.stdout).map((b) => [b.build, b]));
}

describe("kb update --builds with Microsoft's ExchangeBuildNumbers.csv", () => {
  it("adds new builds, keeps known values it contradicts (exit 3), reports each conflict with the current sources", async () => {
    const file = path.join(work, "ExchangeBuildNumbers.csv");
    copyFileSync(SAMPLE, file);
    const r = await runCli(["kb", "update", "--builds", file], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    const out = r.stdout;
    expect(out).toMatch(/^added: 1$/m);
    expect(out).toMatch(/^ {2}\+ 15\.2\.1748\.60 \(2019 CU15 Dec26SU\)$/m);
    expect(out).toMatch(/^conflicts kept: 3 /m);
    // 2016 CU21 Jul21SU: Microsoft's CSV says KB5004778 (2013's package that month); the build page: KB5004779.
    expect(out).toMatch(/^ {2}! 15\.1\.2308\.14 kb: keeps KB5004779 \(sources: [^)]*ms-learn[^)]*\); the file offers KB5004778$/m);
    expect(out).toMatch(/^ {6}note: .*KB5004779/m);
    // 2016 CU3: Microsoft's CSV gives KB3152589, also given to 2013 CU14; the knowledge base has none.
    expect(out).toMatch(/^ {2}! 15\.1\.544\.27 kb: keeps \(none\) \(sources: .*\); the file offers KB3152589$/m);
    // 2019 CU14: released 2024-02-13 (build page); the sample's row says 02/14/2024.
    expect(out).toMatch(/^ {2}! 15\.2\.1544\.4 releaseDate: keeps 2024-02-13 \(sources: .*\); the file offers 2024-02-14$/m);
    expect(out).toMatch(/^accepted: 0$/m);
    // 2010 SP3 RTM (the SP itself), SP3 RU27 (zero-padded 14.03.0452.000), 2016 CU13 (15.01.1779.002), 2019 CU13
    // "(2023H1)": as known.
    expect(out).toMatch(/^unchanged: 4$/m);
    expect(out).toMatch(/^skipped: 1 row\(s\) of Exchange 2007 \(not judged by Vigie\)$/m);
    expect(out).toMatch(/^skipped: 2 row\(s\) of Exchange 2010 before SP3/m); // "Exchange 2010 RU1", "… SP2 RU8"
    expect(out).toMatch(/^skipped: 1 row\(s\) of preview builds$/m);

    const after = await listed();
    expect(after.get("15.1.2308.14")).toMatchObject({ kb: "KB5004779" }); // the build page
    expect(after.get("15.1.544.27")).toMatchObject({ kb: null });
    expect(after.get("15.2.1544.4")).toMatchObject({ releaseDate: "2024-02-13" }); // the build page
    const added = after.get("15.2.1748.60");
    expect(added).toMatchObject({ update: "Dec26SU", kb: "KB5999001", releaseDate: "2026-12-08" });
    expect(added!.sources).toEqual([expect.stringMatching(/^import-\d{4}-\d{2}-\d{2}-exchangebuildnumbers-csv$/)]);
    const e = jsonLines<{ product: string; cu: string; update: string; precision: string }>(
      (await runCli(["kb", "explain", "15.2.1748.60", "--json"], { env })).stdout,
    )[0]!;
    expect(e).toMatchObject({ product: "Exchange Server 2019", cu: "CU15", update: "Dec26SU", precision: "exact" });
  }, 90_000);

  it("--accept-changes takes the file's values (exit 0), says what each was and rests the build on the file", async () => {
    const r = await runCli(["kb", "update", "--builds", SAMPLE, "--accept-changes"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^conflicts kept: 0$/m);
    expect(r.stdout).toMatch(/^accepted: 3$/m);
    expect(r.stdout).toMatch(/^ {2}~ 15\.1\.2308\.14 kb: KB5004779 -> KB5004778 \(was from: .*ms-learn.*\)$/m);
    const after = await listed();
    const b = after.get("15.1.2308.14");
    expect(b).toMatchObject({ kb: "KB5004778" });
    expect(b!.sources).toEqual([expect.stringMatching(/^import-.*exchangebuildnumbers-sample-csv$/)]);
    expect(after.get("15.2.1544.4")).toMatchObject({ releaseDate: "2024-02-14" });
    // Importing the same file again: nothing differs any more.
    const again = await runCli(["kb", "update", "--builds", SAMPLE], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^conflicts kept: 0$/m);
    expect(again.stdout).toMatch(/^unchanged: 8$/m);
  }, 90_000);

  it("--dry-run reports the same conflicts and writes nothing", async () => {
    const r = await runCli(["kb", "update", "--builds", SAMPLE, "--dry-run"], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/\(dry run: nothing written\)/);
    expect(r.stdout).toMatch(/^conflicts kept: 3 /m);
    expect(() => readdirSync(env.VIGIE_KB_DIR!)).toThrow();
  }, 90_000);

  it("a Microsoft file with no row of a product Vigie judges is refused (exit 2), a bad row named by line", async () => {
    const only2007 = path.join(work, "2007.csv");
    writeFileSync(only2007, "Product Name,Build Number,Date,KB,Blog\nExchange 2007 SP3 RU23,8.3.517.0,3/21/2017,KB4011325,\n");
    const r = await runCli(["kb", "update", "--builds", only2007], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no build rows Vigie judges \(Exchange 2007 \(not judged by Vigie\)\)/);
    const bad = path.join(work, "bad.csv");
    writeFileSync(bad, "Product Name,Build Number,Date,KB,Blog\nExchange 2019 CU15 Dec26SU,15.2.1748.60,2026-12-08,,\nExchange 2019 CU15 Foo,15.2.1748.61,12/8/2026,,\n");
    const b = await runCli(["kb", "update", "--builds", bad], { env });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bad\.csv:2: .*date "2026-12-08" is not M\/D\/YYYY/);
    expect(b.stderr).toMatch(/bad\.csv:3: .*update "Foo" is not an SU, HU or rollup name/);
    expect(b.stderr).toMatch(/the knowledge base was not changed/);
    expect(() => readdirSync(env.VIGIE_KB_DIR!)).toThrow();
  });
});

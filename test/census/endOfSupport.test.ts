// End of support as its own column and count (issue 9 item 3), judged on each snapshot's date: census (JSON,
// CSV, table), vigie hosts (JSON, CSV) and owner reports, on a real SQLite file and a real PostgreSQL database.
// Expected values are written by hand from Microsoft's lifecycle dates: Exchange 2010 ended 2020-10-13, 2013
// ended 2023-04-11, 2016 and 2019 ended 2025-10-14; Subscription Edition has no end date (Modern Lifecycle).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { supportOfProduct, SupportJudge } from "../../src/assess/support.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";
import { createTestDatabase, type TestDatabase } from "../helpers/pg.js";
import { cli, tmp } from "../import/helpers.js";

const kb = loadKnowledgeBase({ overlayDir: null });
const judge = new SupportJudge(kb);

describe("support of a product on a day (pure)", () => {
  it.each([
    // [product name as stored, day, endOfSupport, outOfSupport]
    ["Exchange Server 2010", "2020-10-13", "2020-10-13", false], // its last day of support
    ["Exchange Server 2010", "2020-10-14", "2020-10-13", true],
    ["Exchange Server 2013", "2021-03-09", "2023-04-11", false], // a 2013 server seen in 2021 was supported then
    ["Exchange Server 2013", "2023-04-11", "2023-04-11", false],
    ["Exchange Server 2013", "2023-04-12", "2023-04-11", true],
    ["Exchange Server 2013", "2024-06-11", "2023-04-11", true], // seen in 2024 it was not
    ["Exchange Server 2016", "2025-10-14", "2025-10-14", false],
    ["Exchange Server 2016", "2025-10-15", "2025-10-14", true],
    ["Exchange Server 2019", "2026-01-13T09:00:00.000Z", "2025-10-14", true], // an ISO time counts by its day
    ["Exchange Server Subscription Edition (SE)", "2026-01-13", null, false],
  ] as const)("%s on %s: end %s, out of support %s", (name, day, end, out) => {
    expect(judge.at(name, day)).toEqual({ endOfSupport: end, outOfSupport: out });
  });

  it("is not known for an untold product, a product the knowledge base lacks, a bad day, or a product without lifecycle data", () => {
    expect(judge.at("Microsoft Exchange (version unknown)", "2021-03-09")).toEqual({ endOfSupport: null, outOfSupport: null });
    expect(judge.at(null, "2021-03-09")).toEqual({ endOfSupport: null, outOfSupport: null });
    expect(judge.at("Exchange Server 2013", "not a date")).toEqual({ endOfSupport: null, outOfSupport: null });
    const se = kb.products.get("SE")!;
    expect(supportOfProduct({ ...se, endOfSupportSources: [] }, "2026-01-13")).toEqual({ endOfSupport: null, outOfSupport: null });
  });
});

// Real addresses whose country the shipped databases know (as in census.test.ts).
const FR1 = "193.51.224.1"; // FR, AS2200
const FR2 = "212.27.48.10"; // FR, AS12322
const DE1 = "81.169.145.1"; // DE, AS6724
const DE2 = "217.160.0.1"; // DE, AS8560
const GB1 = "194.60.1.1"; // GB, AS29214
const US1 = "8.8.8.8"; // US, AS15169

/** Per product, a build and the IIS its Windows Server versions ship (2010: 2008 R2; 2013: 2012 R2). */
const EX2010 = { build: "14.3.513.0", iis: "7.5", feserver: false }; // 2010 SP3 RU32
const EX2013 = { build: "15.0.1497.2", iis: "8.5", feserver: true }; // 2013 CU23
const EX2016 = { build: "15.1.2176.2", iis: "10.0", feserver: true }; // 2016 CU19
const EX2019 = { build: "15.2.792.3", iis: "10.0", feserver: true }; // 2019 CU8
const EXSE = { build: "15.2.2562.17", iis: "10.0", feserver: true }; // SE RTM
type Server = { build: string | null; iis: string; feserver: boolean };
const NO_BUILD: Server = { build: null, iis: "10.0", feserver: true }; // Exchange, build not told

function zgrab(ip: string, s: Server): string {
  const unknown: Array<{ key: string; value: string[] }> = [];
  if (s.feserver) unknown.push({ key: "x_feserver", value: ["EXCH01"] });
  if (s.build) unknown.push({ key: "x_owa_version", value: [s.build] });
  return JSON.stringify({
    ip,
    data: { http: { status: "success", result: { response: { status_code: 200, headers: { server: [`Microsoft-IIS/${s.iis}`], unknown }, body: "", request: { url: { scheme: "https", host: `${ip}:443`, path: "/owa/" } } } } } },
  });
}

const FLEET: Array<[string, Server]> = [
  [FR1, EX2010],
  [FR2, EX2013],
  [DE1, EX2016],
  [DE2, EX2019],
  [US1, NO_BUILD],
];
const SNAPSHOTS: Array<[string, string, Array<[string, Server]>]> = [
  ["s2021", "2021-03-09", FLEET],
  ["s2023", "2023-04-11", FLEET],
  ["s2024", "2024-06-11", FLEET],
  ["s2026", "2026-01-13", [...FLEET, [GB1, EXSE]]],
];

type Eos = { outOfSupport: number; supported: number; unknown: number };
interface CensusJson {
  groups: Array<{ key: string; exposed: number; endOfSupport: Eos }>;
}
const eos = (outOfSupport: number, supported: number, unknown: number): Eos => ({ outOfSupport, supported, unknown });

describe.each(["sqlite", "postgres"] as const)("end of support in census, hosts and owner reports (%s)", (engine) => {
  const dir = tmp(`eos-${engine}`);
  let pg: TestDatabase | undefined;
  let db = path.join(dir, "v.db");
  const run = (args: string[]) => cli(dir, [...args, "--db", db]);
  const census = async (args: string[]) => {
    const r = await run(["census", ...args, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as CensusJson;
  };
  const perGroup = (c: CensusJson) => Object.fromEntries(c.groups.map((g) => [g.key, g.endOfSupport]));

  beforeAll(async () => {
    if (engine === "postgres") {
      pg = await createTestDatabase("eos");
      db = pg.url;
    }
    for (const [id, date, fleet] of SNAPSHOTS) {
      const f = path.join(dir, `${id}.jsonl`);
      writeFileSync(f, fleet.map(([ip, s]) => zgrab(ip, s)).join("\n") + "\n");
      const r = await run(["import", f, "--format", "zgrab2", "--snapshot", id, "--date", date]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    await pg?.drop();
  });

  it("counts out-of-support servers per country at each snapshot's date", async () => {
    // 2021: only 2010 is past its end; the build-less server's product is not known.
    expect(perGroup(await census(["--snapshot", "s2021", "--by", "country"]))).toEqual({ FR: eos(1, 1, 0), DE: eos(0, 2, 0), US: eos(0, 0, 1) });
    // 2023-04-11 is 2013's last day of support: still supported.
    expect(perGroup(await census(["--snapshot", "s2023", "--by", "country"]))).toEqual({ FR: eos(1, 1, 0), DE: eos(0, 2, 0), US: eos(0, 0, 1) });
    expect(perGroup(await census(["--snapshot", "s2024", "--by", "country"]))).toEqual({ FR: eos(2, 0, 0), DE: eos(0, 2, 0), US: eos(0, 0, 1) });
    expect(perGroup(await census(["--snapshot", "s2026", "--by", "country"]))).toEqual({ FR: eos(2, 0, 0), DE: eos(2, 0, 0), GB: eos(0, 1, 0), US: eos(0, 0, 1) });
  });

  it("by product and by ASN; by CVE every group holds the totals; --country filters", async () => {
    expect(perGroup(await census(["--snapshot", "s2024", "--by", "product"]))).toEqual({
      "Exchange Server 2010": eos(1, 0, 0),
      "Exchange Server 2013": eos(1, 0, 0),
      "Exchange Server 2016": eos(0, 1, 0),
      "Exchange Server 2019": eos(0, 1, 0),
      "Microsoft Exchange (version unknown)": eos(0, 0, 1),
    });
    expect(perGroup(await census(["--snapshot", "s2024", "--by", "asn", "--country", "FR"]))).toEqual({ AS2200: eos(1, 0, 0), AS12322: eos(1, 0, 0) });
    const byCve = await census(["--snapshot", "s2026", "--by", "cve"]);
    expect(byCve.groups.length).toBeGreaterThan(10);
    for (const g of byCve.groups) expect(g.endOfSupport, g.key).toEqual(eos(4, 1, 1));
  });

  it("--csv has out_of_support per group, the table an OUT OF SUPPORT column and total", async () => {
    const csv = (await run(["census", "--snapshot", "s2024", "--by", "country", "--cve", "CVE-2021-26855", "--csv"])).stdout.trim().split("\n");
    expect(csv[0]).toBe("group,exposed,cve,vulnerable,vulnerable_pct,patched,patched_pct,unknown,unknown_pct,confidence_high,confidence_medium,confidence_low,out_of_support,out_of_support_pct");
    const fr = csv.find((l) => l.startsWith("FR,"))!.split(",");
    expect(fr.slice(-2)).toEqual(["2", "100"]);
    const de = csv.find((l) => l.startsWith("DE,"))!.split(",");
    expect(de.slice(-2)).toEqual(["0", "0"]);
    const table = (await run(["census", "--snapshot", "s2024", "--by", "country"])).stdout;
    expect(table).toMatch(/OUT OF SUPPORT/);
    expect(table).toMatch(/^FR\s+2\s+2 \(100%\)\s+CVE-/m);
    expect(table).toMatch(/out of support: .*2 of 5, 1 of unknown product/);
  });

  it("vigie hosts --json and --csv carry the product's end of support and whether it was past on the snapshot's date", async () => {
    const lines = (snapshot: string) => run(["hosts", "--snapshot", snapshot, "--json"]).then((r) => r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ip: string; endOfSupport: string | null; outOfSupport: boolean | null }));
    const at = (rows: Awaited<ReturnType<typeof lines>>) => Object.fromEntries(rows.map((h) => [h.ip, [h.endOfSupport, h.outOfSupport]]));
    expect(at(await lines("s2021"))).toEqual({ [FR1]: ["2020-10-13", true], [FR2]: ["2023-04-11", false], [DE1]: ["2025-10-14", false], [DE2]: ["2025-10-14", false], [US1]: [null, null] });
    expect(at(await lines("s2024"))).toMatchObject({ [FR2]: ["2023-04-11", true], [DE1]: ["2025-10-14", false] });
    expect(at(await lines("s2026"))).toMatchObject({ [DE1]: ["2025-10-14", true], [GB1]: [null, false] });
    const csv = (await run(["hosts", "--snapshot", "s2024", "--csv"])).stdout.trim().split("\n");
    const head = csv[0]!.split(",");
    expect(head.slice(-2)).toEqual(["end_of_support", "out_of_support"]);
    const row = (ip: string) => csv.find((l) => l.startsWith(`${ip},`))!.split(",").slice(-2);
    expect(row(FR2)).toEqual(["2023-04-11", "true"]);
    expect(row(DE2)).toEqual(["2025-10-14", "false"]);
    expect(row(US1)).toEqual(["", ""]);
  });

  it("owner reports have end_of_support and out_of_support columns, judged on the report's snapshot", async () => {
    const out = path.join(dir, "owners-2024");
    const r = await run(["report", "owners", "--snapshot", "s2024", "--by", "asn", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const read = (file: string) => {
      const [h, ...rows] = readFileSync(path.join(out, file), "utf8").trim().split("\n");
      const head = h!.split(",");
      return rows.map((l) => Object.fromEntries(head.map((k, i) => [k, l.split(",")[i]])));
    };
    expect(read("AS12322.csv")[0]).toMatchObject({ ip: FR2, product: "Exchange Server 2013", end_of_support: "2023-04-11", out_of_support: "true" });
    expect(read("AS6724.csv")[0]).toMatchObject({ ip: DE1, end_of_support: "2025-10-14", out_of_support: "false" });
    expect(read("AS15169.csv")[0]).toMatchObject({ ip: US1, end_of_support: "", out_of_support: "" });
    const out21 = path.join(dir, "owners-2021");
    expect((await run(["report", "owners", "--snapshot", "s2021", "--by", "asn", "--out", out21])).code).toBe(0);
    const fr2In2021 = readFileSync(path.join(out21, "AS12322.csv"), "utf8").trim().split("\n");
    const head = fr2In2021[0]!.split(",");
    expect(fr2In2021[1]!.split(",")[head.indexOf("out_of_support")]).toBe("false");
  });
});

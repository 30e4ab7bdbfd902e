/** `vigie report owners`: one Shadowserver-style CSV per network owner (ASN or constituency), and an index. */
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { Constituencies, OwnerFiles, ownerCsvHeader, ownerCsvLine } from "../../report/owners.js";
import { supportJudge } from "../../census/endOfSupport.js";
import { UsageError } from "../errors.js";
import { safe } from "../format/terminal.js";
import { addDbOption, openStore, resolveSnapshot } from "../storeOption.js";
import { openKnowledgeBase } from "./kb.js";

export function registerReport(program: Command): void {
  const report = program.command("report").description("reports for the people who can fix servers");
  const owners = report
    .command("owners")
    .description("one CSV per network owner in Shadowserver's Exchange report layout (IntelMQ-readable) plus Vigie's verdicts, and index.csv")
    .addOption(new Option("--by <owner>", "network owner").choices(["asn", "constituency"]).default("asn"))
    .option("--ranges <file>", "constituency ranges CSV: range,constituency[,contact] (CIDR, start-end or one address); needed with --by constituency")
    .requiredOption("--out <dir>", "output folder")
    .option("--snapshot <name>", "snapshot (default: the newest)")
    .option("--kb-dir <dir>", "knowledge-base overlay folder");
  addDbOption(owners).action(async (o: { by: "asn" | "constituency"; ranges?: string; out: string; snapshot?: string; db?: string; kbDir?: string }) => {
    let constituencies: Constituencies | undefined;
    if (o.by === "constituency") {
      if (!o.ranges) throw new UsageError("--by constituency needs --ranges <file>");
      let text: string;
      try {
        text = readFileSync(o.ranges, "utf8");
      } catch (err) {
        throw new UsageError(`--ranges ${o.ranges}: ${(err as Error).message}`);
      }
      try {
        constituencies = Constituencies.parse(text, o.ranges);
      } catch (err) {
        throw new UsageError(`--ranges: ${(err as Error).message}`);
      }
    }
    const kb = openKnowledgeBase(o.kbDir !== undefined ? { kbDir: o.kbDir } : {});
    const cveIds = kb.advisories.map((a) => a.id).sort();
    const store = await openStore(o.db);
    store.useKnowledgeBase(kb);
    try {
      const snapshot = await resolveSnapshot(store, o.snapshot);
      const files = new OwnerFiles(o.out, ownerCsvHeader(cveIds));
      const day = (await store.getSnapshot(snapshot))!.date;
      const judge = supportJudge(kb);
      let rows = 0;
      for await (const r of store.census.owners(snapshot, o.by === "asn" ? "asn" : "ip")) {
        const { line, vulnerable } = ownerCsvLine(r, cveIds, judge.at(r.product, day));
        if (constituencies) {
          const c = constituencies.find(r.ip);
          files.add(c?.name ?? "unassigned", c?.name ?? "addresses in no range", c?.contact ?? "", line, vulnerable);
        } else {
          files.add(r.asn !== null ? `AS${r.asn}` : "unknown", r.as_org ?? "", "", line, vulnerable);
        }
        rows++;
      }
      const index = files.finish({ snapshot, by: o.by });
      process.stdout.write(`${index.length} owner files, ${rows} Exchange servers, snapshot ${safe(snapshot, 200)} -> ${safe(o.out, 300)}/index.csv\n`);
    } finally {
      await store.close();
    }
  });
}

/** `vigie geo …`: the offline country/ASN databases: show which answer, look addresses up, load newer files. */
import { isIP } from "node:net";
import type { Command } from "commander";
import { geoDir } from "../../enrich/dataDir.js";
import { openGeo } from "../../enrich/load.js";
import { updateGeo, type GeoUpdateResult } from "../../enrich/update.js";
import { UsageError } from "../errors.js";
import { renderTable, safe } from "../format/terminal.js";

export function registerGeo(program: Command): void {
  const geo = program.command("geo").description("offline country and network-owner (ASN) databases");

  geo
    .command("update")
    .description(`load newer MMDB or CSV files you provide (MaxMind GeoLite2, DB-IP, IPinfo, ip-location-db) into ${geoDir()}`)
    .option("--country <file>", "country database (.mmdb, or .csv of start,end,country ranges)")
    .option("--asn <file>", "ASN database (.mmdb, or .csv: start,end,asn,org / network,asn,org with a header)")
    .action((o: { country?: string; asn?: string }) => {
      if (!o.country && !o.asn) throw new UsageError("give --country <file> and/or --asn <file>");
      const results: GeoUpdateResult[] = [];
      for (const kind of ["country", "asn"] as const) {
        const file = o[kind];
        if (!file) continue;
        try {
          results.push(updateGeo(kind, file));
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      for (const r of results) {
        process.stdout.write(`${r.kind}: ${safe(r.from, 300)} -> ${safe(r.to, 300)} (${r.type}, answered ${r.answered} test addresses)\n`);
        for (const [ip, v] of Object.entries(r.sample)) process.stdout.write(`  ${ip}  ${safe(v ?? "-", 120)}\n`);
      }
    });

  geo
    .command("lookup")
    .description("country and ASN of addresses, from the databases in use")
    .argument("<ip...>")
    .option("--json", "JSON lines")
    .action((ips: string[], o: { json?: boolean }) => {
      const bad = ips.find((ip) => isIP(ip) === 0);
      if (bad !== undefined) throw new UsageError(`${safe(bad, 80)} is not an IP address`);
      const g = openGeo();
      const rows = ips.map((ip) => ({ ip, ...g.lookup(ip) }));
      if (o.json) for (const r of rows) process.stdout.write(JSON.stringify(r) + "\n");
      else
        process.stdout.write(
          renderTable(rows, [
            { header: "IP", value: (r) => r.ip },
            { header: "COUNTRY", value: (r) => r.country ?? "-" },
            { header: "ASN", value: (r) => (r.asn !== null ? `AS${r.asn}` : "-") },
            { header: "ORGANISATION", value: (r) => r.asOrg ?? "-" },
          ]) + `\n(country: ${safe(g.sources.country, 200)}; ASN: ${safe(g.sources.asn, 200)})\n`,
        );
    });
}

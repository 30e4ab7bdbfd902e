/**
 * `vigie demo`: the whole job on this machine in under a minute. Starts a small emulated Exchange fleet on
 * loopback addresses only (127.77.0.x), scans it into the store, prints the result and the count per CVE.
 */
import type { Command } from "commander";
import { startFleet } from "../../../emulator/fleet.js";
import { BuildExplainer } from "../../assess/explainBuild.js";
import { startScan } from "../../pipeline/scan.js";
import type { HostRecord } from "../../store/store.js";
import { UsageError } from "../errors.js";
import { renderTable } from "../format/terminal.js";
import { compareHosts, hostTable } from "../format/hosts.js";
import { DEFAULT_LIMITS } from "../../observe/http/hostClient.js";
import { addDbOption, openStore } from "../storeOption.js";
import { openKnowledgeBase } from "./kb.js";

export function registerDemo(program: Command): void {
  const demo = program
    .command("demo")
    .description("start a small emulated Exchange fleet on loopback, scan it into the store and show the result")
    .option("--hosts <n>", "servers in the emulated fleet", "40")
    .option("--seed <n>", "fleet seed (same seed, same fleet)", "2021");
  addDbOption(demo);
  demo.action(async (opts: { hosts: string; seed: string; db?: string }) => {
    const hosts = Number(opts.hosts);
    if (!Number.isInteger(hosts) || hosts < 1 || hosts > 250) throw new UsageError(`--hosts: "${opts.hosts}" is not a whole number from 1 to 250`);
    const base = "127.77.0.1";
    const last = `127.77.0.${hosts}`;
    process.stderr.write(`vigie demo: starting ${hosts} emulated servers on ${base}-${last} (loopback only)\n`);
    const fleet = await startFleet({ hosts, seed: Number(opts.seed) || 2021, baseAddress: base, slowDelayMs: 500 });
    const explainer = new BuildExplainer(openKnowledgeBase());
    const store = await openStore(opts.db);
    const found: HostRecord[] = [];
    try {
      const t0 = Date.now();
      const { id, progress } = await startScan(
        store,
        explainer,
        [`${base}-${last}`],
        {
          ports: [443, 80],
          concurrency: 64,
          rate: 0,
          activeChecks: true,
          exclude: [],
          hostTimeoutMs: 8000,
          limits: { ...DEFAULT_LIMITS, connectTimeoutMs: 1000, readTimeoutMs: 1500, requestTimeoutMs: 2500 },
        },
        { onHosts: (h) => found.push(...h) },
      );
      const seconds = (Date.now() - t0) / 1000;
      const exchange = found.filter((h) => h.isExchange).sort(compareHosts);
      process.stdout.write(`${hostTable(exchange)}\n\n`);
      const servers = new Map<string, HostRecord>();
      for (const h of exchange) if (!servers.has(h.ip) || h.port === 443) servers.set(h.ip, h);
      const perCve = explainer.kb.advisories.map((a) => {
        const statuses = [...servers.values()].map((h) => h.cves.find((c) => c.id === a.id)?.status);
        return {
          id: a.id,
          campaign: a.campaign ?? "",
          vulnerable: statuses.filter((s) => s === "vulnerable").length,
          unknown: statuses.filter((s) => s === "unknown").length,
          patched: statuses.filter((s) => s === "patched").length,
        };
      });
      process.stdout.write(
        `${renderTable(perCve, [
          { header: "CVE", value: (r) => r.id },
          { header: "CAMPAIGN", value: (r) => r.campaign },
          { header: "VULNERABLE", value: (r) => String(r.vulnerable) },
          { header: "UNKNOWN", value: (r) => String(r.unknown) },
          { header: "PATCHED", value: (r) => String(r.patched) },
        ])}\n\n`,
      );
      const truthExchange = fleet.hosts.filter((h) => h.kind === "exchange").length;
      process.stdout.write(
        `${progress.done} host:ports scanned in ${seconds.toFixed(1)} s: ${servers.size} Exchange servers found (the emulator runs ${truthExchange}; ` +
          `the others are web servers, OWA look-alikes and hostile hosts). Stored as snapshot ${id} in ${store.label}.\n` +
          `Next: vigie hosts --status vulnerable --cve CVE-2021-26855 | vigie kb explain ${exchange[0]?.build ?? "15.1.2176.9"} | vigie assess\n`,
      );
    } finally {
      await store.close();
      await fleet.close();
    }
  });
}

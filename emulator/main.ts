/**
 * CLI: npm run emulator -- --hosts 5000 [--seed N] [--base 127.20.0.1] [--truth truth.jsonl] [--smtp]
 *        [--ports 443,80] [--slow-delay-ms 2000]
 * Starts the fleet, writes the ground truth (JSON Lines) and runs until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startFleet, writeTruth } from "./fleet.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "100" },
      seed: { type: "string", default: "1" },
      base: { type: "string", default: "127.20.0.1" },
      truth: { type: "string" },
      smtp: { type: "boolean", default: false },
      ports: { type: "string" },
      "slow-delay-ms": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: emulator --hosts N [--seed N] [--base 127.20.0.1] [--truth file.jsonl] [--smtp] [--ports 443,80] [--slow-delay-ms 2000]");
    return;
  }
  const hosts = Number.parseInt(values.hosts, 10);
  const t0 = Date.now();
  const fleet = await startFleet({
    hosts,
    seed: Number.parseInt(values.seed, 10),
    baseAddress: values.base,
    smtp: values.smtp,
    ports: values.ports ? values.ports.split(",").map((p) => Number.parseInt(p, 10)) : undefined,
    slowDelayMs: values["slow-delay-ms"] ? Number.parseInt(values["slow-delay-ms"], 10) : undefined,
  });
  if (values.truth) await writeTruth(fleet.hosts, values.truth);
  const counts: Record<string, number> = {};
  for (const h of fleet.hosts) {
    const k = h.kind === "exchange" ? `exchange ${h.product}` : h.kind;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const mem = process.memoryUsage();
  console.log(
    `emulator: ${fleet.hosts.length} hosts from ${fleet.hosts[0]?.ip} to ${fleet.hosts.at(-1)?.ip} ready in ${Date.now() - t0} ms ` +
      `(builds: ${fleet.buildSource}; rss ${Math.round(mem.rss / 2 ** 20)} MiB, heap ${Math.round(mem.heapUsed / 2 ** 20)} MiB)`,
  );
  console.log(`emulator: ${JSON.stringify(counts)}${values.truth ? `; truth in ${values.truth}` : ""}`);
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    fleet.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(`emulator: ${(e as Error).message}`);
  process.exit(1);
});

/**
 * CLI: npm run emulator -- --hosts 5000 [--seed N] [--base 127.20.0.1] [--truth truth.jsonl] [--smtp]
 *        [--ports 443,80] [--slow-delay-ms 2000]
 * Starts the fleet, writes the ground truth (JSON Lines) and runs until SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startFleet, writeTruth } from "./fleet.js";
import { DEFAULT_MIX, type MixKey } from "./hosts.js";

/** "--mix hostile=0,lookalike=2": weights of host kinds (see DEFAULT_MIX in hosts.ts). */
function parseMix(text: string): Partial<Record<MixKey, number>> {
  const mix: Partial<Record<MixKey, number>> = {};
  for (const part of text.split(",")) {
    const [key, value] = part.split("=");
    if (!key || !(key in DEFAULT_MIX) || value === undefined || !(Number(value) >= 0)) {
      throw new Error(`--mix: "${part}" is not <kind>=<weight> with kind one of ${Object.keys(DEFAULT_MIX).join(", ")}`);
    }
    mix[key as MixKey] = Number(value);
  }
  return mix;
}

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
      mix: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log("usage: emulator --hosts N [--seed N] [--base 127.20.0.1] [--truth file.jsonl] [--smtp] [--ports 443,80] [--slow-delay-ms 2000] [--mix hostile=0,web=14]");
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
    mix: values.mix ? parseMix(values.mix) : undefined,
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

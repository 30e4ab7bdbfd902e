/** One line per command group: a newcomer adds a command by adding a file here. */
import type { Command } from "commander";
import { registerDemo } from "./demo.js";
import { registerKb } from "./kb.js";
import { registerScan } from "./scan.js";
import { registerTriage } from "./triage.js";

export function registerCommands(program: Command): void {
  // command groups are registered below
  registerKb(program);
  registerScan(program);
  registerDemo(program);
  registerTriage(program);
}

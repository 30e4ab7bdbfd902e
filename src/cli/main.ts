#!/usr/bin/env node
/**
 * The `vigie` command. Each command group lives in src/cli/commands/<group>.ts and registers itself here.
 * Usage errors exit with code 2 and a message on stderr.
 */
import { Command, CommanderError } from "commander";
import { registerCommands } from "./commands/index.js";
import { UsageError } from "./errors.js";

export function buildProgram(): Command {
  const program = new Command("vigie")
    .description("Exposure and compromise assessment for on-premises Microsoft Exchange servers")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; real usage errors with 2.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`vigie: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`vigie: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);

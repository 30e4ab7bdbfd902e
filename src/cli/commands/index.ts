/** One line per command group: a newcomer adds a command by adding a file here. */
import type { Command } from "commander";

export function registerCommands(_program: Command): void {
  // command groups are registered below
}

/** One line per command group: a newcomer adds a command by adding a file here. */
import type { Command } from "commander";
import { registerDemo } from "./demo.js";
import { registerCensus } from "./census.js";
import { registerContacts } from "./contacts.js";
import { registerGeo } from "./geo.js";
import { registerImport } from "./import.js";
import { registerKb } from "./kb.js";
import { registerNotify } from "./notify.js";
import { registerRemediation } from "./remediation.js";
import { registerReport } from "./report.js";
import { registerScan } from "./scan.js";
import { registerServe } from "./serve.js";
import { registerToken } from "./token.js";
import { registerTimeline } from "./timeline.js";
import { registerTriage } from "./triage.js";
import { registerUser } from "./user.js";
import { registerWorker } from "./queue.js";

export function registerCommands(program: Command): void {
  // command groups are registered below
  registerKb(program);
  registerImport(program);
  registerGeo(program);
  registerCensus(program);
  registerReport(program);
  registerScan(program);
  registerDemo(program);
  registerTriage(program);
  registerTimeline(program);
  registerServe(program);
  registerUser(program);
  registerToken(program);
  registerContacts(program);
  registerNotify(program);
  registerRemediation(program);
  registerWorker(program);
}

/**
 * `vigie user add|list|remove`: accounts for `vigie serve`. Roles admin, analyst, viewer; a constituency
 * (CIDRs, addresses, ASNs) limits what a user sees and exports. Passwords are read from the terminal (not echoed)
 * or from the first line of stdin with --password-stdin; --no-password makes an API-only account (tokens).
 */
import type { Command } from "commander";
import { ROLES, type Role } from "../../store/store.js";
import { Scope } from "../../serve/auth/constituency.js";
import { UsageError } from "../errors.js";
import { renderTable, safe } from "../format/terminal.js";
import { addDbOption, openStore } from "../storeOption.js";

async function readStdinFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.length;
    if (size > 8192) break;
  }
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

/** Ask on the terminal without echo. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    let value = "";
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (d: Buffer): void => {
      for (const ch of d.toString("utf8")) {
        if (ch === "\r" || ch === "\n") {
          done();
          resolve(value);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(new UsageError("cancelled"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (): void => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

export function parseConstituency(text: string | undefined): string[] {
  if (text === undefined) return [];
  const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  try {
    Scope.parse(list);
  } catch (err) {
    throw new UsageError(`--constituency: ${(err as Error).message}`);
  }
  return list;
}

export function registerUser(program: Command): void {
  const user = program.command("user").description("accounts for vigie serve: add, list, remove");

  addDbOption(
    user
      .command("add")
      .description("add a user (asks for a password on the terminal, or reads it from stdin with --password-stdin)")
      .argument("<name>", "user name")
      .requiredOption("--role <role>", `one of ${ROLES.join(", ")}`)
      .option("--constituency <list>", "comma-separated CIDRs, addresses or ASNs the user is limited to (default: everything)")
      .option("--password-stdin", "read the password from the first line of stdin")
      .option("--no-password", "no password: API tokens only, no dashboard log-in"),
  ).action(async (name: string, o: { role: string; constituency?: string; passwordStdin?: boolean; password: boolean; db?: string }) => {
    if (!(ROLES as readonly string[]).includes(o.role)) throw new UsageError(`--role ${o.role}: one of ${ROLES.join(", ")}`);
    const constituency = parseConstituency(o.constituency);
    let password: string | null = null;
    if (o.password) {
      if (o.passwordStdin) password = await readStdinFirstLine();
      else if (process.stdin.isTTY) {
        password = await askHidden(`Password for ${name}: `);
        if ((await askHidden("Again: ")) !== password) throw new UsageError("the passwords differ");
      } else throw new UsageError("no terminal to ask a password on: use --password-stdin (or --no-password for an API-only user)");
      if (password.length < 8) throw new UsageError("the password needs at least 8 characters");
    }
    const store = await openStore(o.db);
    try {
      const u = await store.accounts.addUser({ name, role: o.role as Role, constituency, password });
      process.stdout.write(`user ${u.name} added (${u.role}${u.constituency.length ? `, limited to ${u.constituency.join(", ")}` : ""})\n`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    } finally {
      await store.close();
    }
  });

  addDbOption(user.command("list").description("list users").option("--json", "JSON array")).action(async (o: { json?: boolean; db?: string }) => {
    const store = await openStore(o.db);
    try {
      const users = await store.accounts.listUsers();
      if (o.json) process.stdout.write(JSON.stringify(users) + "\n");
      else
        process.stdout.write(
          renderTable(users, [
            { header: "USER", value: (u) => u.name },
            { header: "ROLE", value: (u) => u.role },
            { header: "CONSTITUENCY", value: (u) => (u.constituency.length ? u.constituency.join(",") : "(everything)"), max: 100 },
            { header: "CREATED", value: (u) => u.createdAt },
          ]) + "\n",
        );
    } finally {
      await store.close();
    }
  });

  addDbOption(user.command("remove").description("remove a user with their tokens and sessions").argument("<name>", "user name")).action(async (name: string, o: { db?: string }) => {
    const store = await openStore(o.db);
    try {
      if (!(await store.accounts.removeUser(name))) throw new UsageError(`no user ${safe(name, 80)}`);
      process.stdout.write(`user ${name} removed\n`);
    } finally {
      await store.close();
    }
  });
}

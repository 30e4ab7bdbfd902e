/** `vigie token create|revoke|list`: API tokens for `vigie serve` (shown once; only their SHA-256 is stored). */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { renderTable, safe } from "../format/terminal.js";
import { addDbOption, openStore } from "../storeOption.js";

export function registerToken(program: Command): void {
  const token = program.command("token").description("API tokens for vigie serve: create, revoke, list");

  addDbOption(
    token.command("create").description("create an API token for a user (printed once)").requiredOption("--user <name>", "the user it acts as").option("--json", 'print {"token","id"}'),
  ).action(async (o: { user: string; json?: boolean; db?: string }) => {
    const store = await openStore(o.db);
    try {
      if (!(await store.accounts.getUser(o.user))) throw new UsageError(`--user ${safe(o.user, 80)}: no such user (vigie user add)`);
      const t = await store.accounts.createToken(o.user);
      if (o.json) process.stdout.write(JSON.stringify({ token: t.token, id: t.id }) + "\n");
      else process.stdout.write(`${t.token}\n(token id ${t.id}; shown once: use it as "Authorization: Bearer <token>"; revoke with vigie token revoke ${t.id})\n`);
    } finally {
      await store.close();
    }
  });

  addDbOption(token.command("revoke").description("revoke a token, by its id or the token itself").argument("<id-or-token>", "token id or token")).action(async (id: string, o: { db?: string }) => {
    const store = await openStore(o.db);
    try {
      if (!(await store.accounts.revokeToken(id))) throw new UsageError("no such active token");
      process.stdout.write("token revoked\n");
    } finally {
      await store.close();
    }
  });

  addDbOption(token.command("list").description("list tokens (ids, never the secrets)").option("--user <name>", "only this user's").option("--json", "JSON array")).action(
    async (o: { user?: string; json?: boolean; db?: string }) => {
      const store = await openStore(o.db);
      try {
        const list = await store.accounts.listTokens(o.user);
        if (o.json) process.stdout.write(JSON.stringify(list) + "\n");
        else
          process.stdout.write(
            renderTable(list, [
              { header: "ID", value: (t) => t.id },
              { header: "USER", value: (t) => t.user },
              { header: "CREATED", value: (t) => t.createdAt },
              { header: "REVOKED", value: (t) => t.revokedAt ?? "-" },
            ]) + "\n",
          );
      } finally {
        await store.close();
      }
    },
  );
}

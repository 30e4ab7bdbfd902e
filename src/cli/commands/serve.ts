/**
 * `vigie serve`: the API and the dashboard over the store, on 127.0.0.1 by default. Nothing is open without an
 * account. Plain HTTP on another address is refused unless --insecure-http is given (then a warning).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { checkListen, isLoopbackHost, startServer } from "../../serve/app.js";
import { UsageError } from "../errors.js";
import { openKnowledgeBase } from "./kb.js";
import { addDbOption, DEFAULT_DB, openStore } from "../storeOption.js";
import { isPostgresUrl, redactUrl } from "../../store/open.js";

export function registerServe(program: Command): void {
  addDbOption(
    program
      .command("serve")
      .description("serve the API (/api, documented at /api/openapi.json) and the dashboard; every user needs an account")
      .option("--port <n>", "TCP port", "8080")
      .option("--host <address>", "address to listen on (other than loopback: only with TLS or --insecure-http)", "127.0.0.1")
      .option("--insecure-http", "allow plain HTTP on an address other than loopback (passwords and cookies cross the network in clear)")
      .option("--max-upload-mb <n>", "largest triage bundle accepted, in MB", "100")
      .option("--secure-cookies", "mark session cookies Secure (when a TLS proxy serves the dashboard)")
      .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM; with --tls-key); cookies are then Secure")
      .option("--tls-key <file>", "the certificate's private key (PEM)")
      .option("--kb-dir <dir>", "folder of imported knowledge-base updates"),
  ).action(async (o: { port: string; host: string; maxUploadMb: string; secureCookies?: boolean; insecureHttp?: boolean; tlsCert?: string; tlsKey?: string; kbDir?: string; db?: string }) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${o.port}: 0-65535`);
    const mb = Number(o.maxUploadMb);
    if (!Number.isFinite(mb) || mb <= 0 || mb > 4096) throw new UsageError(`--max-upload-mb ${o.maxUploadMb}: 1-4096`);
    if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new UsageError("--tls-cert and --tls-key go together");
    const tlsGiven = o.tlsCert !== undefined;
    try {
      checkListen(o.host, tlsGiven, o.insecureHttp === true);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (!tlsGiven && !isLoopbackHost(o.host)) process.stderr.write(`vigie serve: warning: plain HTTP on ${o.host} (--insecure-http): anyone on the network path can read passwords, cookies and tokens\n`);
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (o.tlsCert !== undefined && o.tlsKey !== undefined) {
      try {
        tls = { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) };
      } catch (err) {
        throw new UsageError(`TLS files: ${(err as Error).message}`);
      }
    }
    const kb = openKnowledgeBase(o.kbDir !== undefined ? { kbDir: o.kbDir } : {});
    const store = await openStore(o.db);
    store.useKnowledgeBase(kb);
    let running;
    try {
      running = await startServer({
        store,
        kb,
        host: o.host,
        port,
        maxUploadBytes: Math.floor(mb * 1024 * 1024),
        secureCookies: o.secureCookies === true,
        insecureHttp: o.insecureHttp === true,
        ...(tls ? { tls } : {}),
      });
    } catch (err) {
      await store.close();
      throw new UsageError(`cannot listen on ${o.host}:${port}: ${(err as Error).message}`);
    }
    process.stdout.write(`vigie serve: ${running.url}/ (store ${store.label})\n`);
    if ((await store.accounts.countUsers()) === 0) {
      const db = o.db && o.db !== DEFAULT_DB ? ` --db ${isPostgresUrl(o.db) ? redactUrl(o.db) : o.db}` : "";
      process.stdout.write(
        `No account yet, so nothing is open. Create the first admin, then log in:\n  vigie user add <name> --role admin${db}\n` +
          `API tokens: vigie token create --user <name>${db}\n`,
      );
    }
    const stop = (): void => {
      void running.close().then(() => store.close());
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

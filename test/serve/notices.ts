// Notices for the serve tests, recorded the real way: the built `vigie notify` CLI sends snapshot "a" of the serve
// fixture (test/serve/fixture.ts) about CVE-2021-26855 to a real SMTP server (smtp-server) on loopback, at a fixed
// notice time. In snapshot "b" two of the notified servers are patched (193.51.224.2 and 217.160.0.1).
import { writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { SMTPServer } from "smtp-server";
import { runCli } from "../helpers/cli.js";
import { CVE, type Fixture } from "./fixture.js";

export const NOTICE_AT = "2021-03-03T09:00:00.000Z";
export const EVIL_ORG = "<b>Evil</b> Org";

/** Who owns what in the serve fixture (193.51.224.0/24 is the `fr` user's range, AS12322 its ASN). */
export const CONTACTS = [
  "scope,organisation,email,language",
  "193.51.224.0/24,Renater Lab,cert@lab.renater.example,fr",
  "AS12322,Free,abuse@free.example,en",
  "81.169.0.0/16,Strato,cert@strato.example,en",
  "217.160.0.0/16,IONOS,cert@ionos.example,en",
  "8.8.8.0/24,Google,security@google.example,en",
  `203.0.113.0/24,${EVIL_ORG},abuse@evil.example,en`,
].join("\n") + "\n";

export interface Received {
  to: string[];
  raw: string;
}

/** Runs `vigie notify` against a loopback SMTP server; returns what the server received, in order. */
export async function recordNotices(fx: Fixture, o: { snapshot: string; cve: string } = { snapshot: "a", cve: CVE }): Promise<Received[]> {
  const received: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("utf8") });
        cb(null, "2.0.0 Ok: queued as TEST");
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.server.address() as AddressInfo).port;
    const contacts = path.join(fx.dir, "contacts.csv");
    writeFileSync(contacts, CONTACTS);
    const r = await runCli(
      ["notify", "--contacts", contacts, "--smtp", `smtp://127.0.0.1:${port}`, "--from", "CERT Example <cert@cert.example>", "--snapshot", o.snapshot, "--cve", o.cve, "--at", NOTICE_AT, "--rate", "6000", "--json", "--db", fx.db],
      { env: { VIGIE_KB_DIR: path.join(fx.dir, "kb"), VIGIE_DATA_DIR: path.join(fx.dir, "data") } },
    );
    if (r.code !== 0) throw new Error(`vigie notify exited ${r.code}: ${r.stderr}${r.stdout}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return received;
}

// `vigie serve` as a user starts it: a fresh store says how to create the first admin and opens nothing.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "../helpers/cli.js";

describe("vigie serve", () => {
  it("on a fresh store prints how to create the first admin, binds 127.0.0.1, and answers 401", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "vigie-serve-cli-"));
    const db = path.join(dir, "fresh.db");
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--db", db], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, VIGIE_KB_DIR: path.join(dir, "kb") } });
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL in: ${out}`)), 20_000);
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          out += d;
          const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (m && out.includes("vigie token create")) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      expect(out).toContain("No account yet, so nothing is open");
      expect(out).toContain(`vigie user add <name> --role admin --db ${db}`);
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
      expect((await fetch(`${url}/api/census?by=country`)).status).toBe(401);
      expect((await fetch(`${url}/api/snapshots`)).status).toBe(401);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("refuses a bad port or upload limit as a usage error", async () => {
    expect((await runCli(["serve", "--port", "http"])).code).toBe(2);
    expect((await runCli(["serve", "--max-upload-mb", "-1"])).code).toBe(2);
  });
});

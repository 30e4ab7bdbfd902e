// The census bench's ground truth is independent of the code under test: hand-written verdicts and address plan
// (bench/census/truthPlan.ts), no import from src/, and a plan the shipped country data agrees with.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUILDS, CU_BUILDS, CVE_ORDER, verdicts } from "../../bench/census/truthPlan.js";

describe("census bench ground truth", () => {
  it("takes nothing from src/ (no explainer, no geo lookup)", () => {
    const imports = (f: string) => [...readFileSync(f, "utf8").matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);
    expect(imports("bench/census/generate.ts")).toEqual(["node:fs", "node:path", "node:zlib", "./truthPlan.js"]);
    expect(imports("bench/census/truthPlan.ts")).toEqual([]);
  });

  it("has a verdict for every CVE on every row, and a CU row for every 2013+ build", () => {
    const cus = new Set(CU_BUILDS.map((c) => c.build));
    expect(BUILDS.length).toBeGreaterThanOrEqual(20);
    for (const row of [...BUILDS, ...CU_BUILDS]) {
      expect(verdicts(row).map((v) => v.id)).toEqual([...CVE_ORDER]);
      expect(row.source.length, row.build).toBeGreaterThan(10);
    }
    for (const row of BUILDS.filter((b) => !b.build.startsWith("14."))) expect(cus.has(row.build.split(".").slice(0, 3).join(".")), row.build).toBe(true);
  });

  it("draws every country from blocks the shipped country database agrees with, address by address", () => {
    const out = execFileSync(process.execPath, ["dist/bench/census/checkPlan.js"], { encoding: "utf8" });
    expect(out).not.toMatch(/^BAD/m);
    expect(out.match(/^ok /gm)?.length).toBeGreaterThanOrEqual(40);
  });
});

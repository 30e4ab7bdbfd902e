// The assessment rules on a small hand-made knowledge base whose answers are known independently of the
// shipped data (test/fixtures/kb-mini): one case per rule.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";

const kb = loadKnowledgeBase({ builtinDir: path.resolve("test/fixtures/kb-mini"), overlayDir: null });
const explainer = new BuildExplainer(kb);

function status(build: string, cve: string): string {
  const v = explainer.explain(build).cves.find((c) => c.id === cve);
  if (!v) throw new Error(`no verdict for ${cve}`);
  return v.status;
}

describe("per-build rules", () => {
  it.each([
    // [build, CVE, expected]
    ["15.1.1847.3", "CVE-2021-26855", "vulnerable"], // below the fix on its line
    ["15.1.1847.10", "CVE-2021-26855", "vulnerable"],
    ["15.1.1847.12", "CVE-2021-26855", "patched"], // the special SU names it
    ["15.1.2176.2", "CVE-2021-26855", "vulnerable"],
    ["15.1.2176.9", "CVE-2021-26855", "patched"], // the fix itself
    ["15.1.2176.12", "CVE-2021-26855", "patched"], // a later cumulative SU
    ["15.1.2242.4", "CVE-2021-26855", "patched"], // CU released after every fix
    ["14.3.513.0", "CVE-2021-26855", "not_affected"], // 2010 not listed
    ["15.1.1847.3", "CVE-2020-0688", "vulnerable"],
    ["15.1.1847.7", "CVE-2020-0688", "patched"],
    ["15.1.1847.10", "CVE-2020-0688", "patched"], // cumulative SU after the fix
    ["15.1.1847.12", "CVE-2020-0688", "unknown"], // special SU does not imply Feb20SU
    ["15.1.2176.2", "CVE-2020-0688", "patched"], // newer line shipped with it
    ["14.3.513.0", "CVE-2020-0688", "vulnerable"], // affected, no fix for the product at all
    ["15.1.1847.12", "CVE-2021-34473", "vulnerable"], // old line never fixed; special SU does not name it
    ["15.1.2176.9", "CVE-2021-34473", "vulnerable"],
    ["15.1.2176.12", "CVE-2021-34473", "patched"],
    ["15.1.2242.4", "CVE-2024-99999", "unknown"], // only a setting protects: the build cannot show it
    ["14.3.513.0", "CVE-2024-99999", "not_affected"],
  ])("%s %s is %s", (build, cve, expected) => {
    expect(status(build, cve)).toBe(expected);
  });

  it("gives a reason and a remediation naming the update to install", () => {
    const v = explainer.explain("15.1.2176.2").cves.find((c) => c.id === "CVE-2021-26855")!;
    expect(v.fixedIn).toBe("15.1.2176.9");
    expect(v.reason).toContain("Mar21SU");
    expect(v.remediation).toContain("KB5000871");
    const never = explainer.explain("15.1.1847.12").cves.find((c) => c.id === "CVE-2021-34473")!;
    expect(never.fixedIn).toBeNull();
    expect(never.remediation).toMatch(/Upgrade to Exchange Server 2016 CU20/);
    const special = explainer.explain("15.1.1847.12").cves.find((c) => c.id === "CVE-2020-0688")!;
    expect(special.reason).toMatch(/special update/);
    expect(special.remediation).toContain("KB4536987");
    expect(explainer.explain("15.1.2242.4").cves.find((c) => c.id === "CVE-2024-99999")!.remediation).toBe("Enable Extended Protection");
  });
});

describe("precision and candidates", () => {
  it("3-part build: candidates of the CU, patched only if all are, mixed is unknown", () => {
    const e = explainer.explain("15.1.2176");
    expect(e.precision).toBe("cu");
    expect(e.cu).toBe("CU19");
    expect(e.update).toBeNull();
    expect(e.candidates).toEqual(["15.1.2176.2", "15.1.2176.9", "15.1.2176.12"]);
    expect(status("15.1.2176", "CVE-2021-26855")).toBe("unknown");
    expect(status("15.1.2176", "CVE-2020-0688")).toBe("patched");
    expect(status("15.1.1847", "CVE-2021-34473")).toBe("vulnerable");
    const mixed = e.cves.find((c) => c.id === "CVE-2021-26855")!;
    expect(mixed.reason).toContain("15.1.2176.2");
    expect(mixed.fixedIn).toBe("15.1.2176.9");
  });

  it("2-part build: every build of the product is a candidate", () => {
    const e = explainer.explain("15.1");
    expect(e.precision).toBe("major");
    expect(e.product).toBe("Exchange Server 2016");
    expect(e.candidates).toHaveLength(8);
    expect(status("15.1", "CVE-2021-26855")).toBe("unknown");
  });

  it("long format and AdminDisplayVersion are the same build", () => {
    expect(explainer.explain("15.01.2176.009").build).toBe("15.1.2176.9");
    expect(explainer.explain("Version 15.1 (Build 2176.9)").update).toBe("Mar21SU");
  });

  it("a 4-part build the tables lack: provable verdicts only", () => {
    const older = explainer.explain("15.1.2176.5");
    expect(older.precision).toBe("exact");
    expect(older.cu).toBe("CU19");
    expect(older.update).toBeNull();
    expect(older.candidates).toEqual([]);
    expect(older.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe("vulnerable"); // below the fix
    const newer = explainer.explain("15.1.2176.99");
    expect(newer.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe("unknown");
    expect(newer.cves.find((c) => c.id === "CVE-2021-26855")!.reason).toMatch(/newer than the knowledge base: refresh with `vigie kb update`/);
    const unknownLine = explainer.explain("15.1.9999.1");
    expect(unknownLine.product).toBe("Exchange Server 2016");
    expect(unknownLine.cu).toBeNull();
    // A CU line above every known one: CUs are cumulative, so what the newest known CU (CU20) shipped with is
    // provable; the rest is not.
    expect(unknownLine.precision).toBe("exact");
    expect(status("15.1.9999.1", "CVE-2021-26855")).toBe("patched");
    expect(status("15.1.9999.1", "CVE-2024-99999")).toBe("unknown");
    expect(unknownLine.cves.find((c) => c.id === "CVE-2024-99999")!.reason).toMatch(/newer than the knowledge base: refresh with `vigie kb update`/);
    // Between known lines: the product is known, nothing else.
    const between = explainer.explain("15.1.2000.1");
    expect(between.product).toBe("Exchange Server 2016");
    expect(between.cves.every((c) => c.status === "unknown")).toBe(true);
  });

  it("garbage never crashes and never guesses", () => {
    for (const input of ["", "garbage", "15.1.2176.9.1", "../../etc/passwd", "\u001b[31mred", "9".repeat(10_000), "15..1", "-1.2.3.4"]) {
      const e = explainer.explain(input);
      expect(e.precision).toBe("unknown");
      expect(e.product).toBeNull();
      expect(e.cves.every((c) => c.status === "unknown")).toBe(true);
      expect(e.build.length).toBeLessThanOrEqual(65);
    }
    expect(explainer.explain("16.0.1.1").product).toBeNull();
  });
});

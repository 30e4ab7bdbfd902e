// The shipped knowledge base (knowledge/): consistency checks table-driven over every build and every fix (they
// compare the engine with the data, so they cannot catch a wrong fact in the data), plus named cases written by
// hand. The facts themselves are checked against hand-derived oracles in oracle.test.ts
// (test/fixtures/oracle/verdicts.csv and builds.csv, every row with its source).
import { describe, expect, it } from "vitest";
import { BuildExplainer } from "../../src/assess/explainBuild.js";
import { CVE_STATUSES } from "../../src/assess/types.js";
import { buildKey, parseBuild } from "../../src/knowledge/buildNumber.js";
import { loadKnowledgeBase } from "../../src/knowledge/load.js";

const kb = loadKnowledgeBase({ overlayDir: null });
const explainer = new BuildExplainer(kb);
const key = (b: string): number => buildKey(parseBuild(b)!.parts);
const verdict = (build: string, cve: string) => {
  const v = explainer.explain(build).cves.find((c) => c.id === cve);
  if (!v) throw new Error(`${cve} missing for ${build}`);
  return v;
};

const PROXYLOGON = ["CVE-2021-26855", "CVE-2021-26857", "CVE-2021-26858", "CVE-2021-27065"];

describe("shipped knowledge base", () => {
  it("holds every product and the required advisories, each with sources", () => {
    expect([...kb.products.keys()].sort()).toEqual(["2010", "2013", "2016", "2019", "SE"]);
    const ids = kb.advisories.map((a) => a.id);
    for (const id of [...PROXYLOGON, "CVE-2021-34473", "CVE-2021-34523", "CVE-2021-31207", "CVE-2022-41040", "CVE-2022-41082", "CVE-2020-0688"]) {
      expect(ids).toContain(id);
    }
    for (const a of kb.advisories) {
      expect(a.sources.length).toBeGreaterThan(0);
      expect(a.kev, `${a.id} KEV data`).not.toBeNull();
    }
    for (const b of kb.builds) expect(b.sources.length, b.build).toBeGreaterThan(0);
    // Exchange 2010 SP3 from at least RU30.
    for (const ru of ["14.3.496.0", "14.3.509.0", "14.3.513.0"]) expect(kb.byBuild.get(ru)?.product).toBe("2010");
  });

  it.each(kb.builds.map((b) => [b.build, b] as const))("consistency: %s explains to its own table row", (_b, b) => {
    const e = explainer.explain(b.build);
    expect(e.precision).toBe("exact");
    expect(e.product).toBe(b.productName);
    expect(e.cu).toBe(b.line);
    expect(e.update).toBe(b.update);
    expect(e.releaseDate).toBe(b.releaseDate);
    expect(e.candidates).toEqual([b.build]);
    expect(e.cves.map((c) => c.id)).toEqual(kb.advisories.map((a) => a.id));
    for (const c of e.cves) {
      expect(CVE_STATUSES).toContain(c.status);
      expect(c.reason.length).toBeGreaterThan(10);
      if (c.status === "vulnerable" || c.status === "unknown") expect(c.remediation, `${b.build} ${c.id}`).toBeTruthy();
      if (c.status === "patched") {
        expect(c.fixedIn).not.toBeNull();
        expect(key(b.build)).toBeGreaterThanOrEqual(key(c.fixedIn!));
      }
      if (c.status === "vulnerable" && c.fixedIn !== null) expect(key(b.build)).toBeLessThan(key(c.fixedIn));
    }
  });

  it("statuses never go from patched back to vulnerable along a line of cumulative updates", () => {
    for (const line of kb.lines.values()) {
      for (const a of kb.advisories) {
        let patched = false;
        for (const b of line.builds) {
          const s = explainer.verdictsFor(b)[kb.advisories.indexOf(a)]!.status;
          if (patched && b.cumulative) expect(s, `${b.build} ${a.id}`).not.toBe("vulnerable");
          if (s === "patched") patched = true;
        }
      }
    }
  });

  it("consistency: every fix in the data makes its fixing build patched and the build before it on the line vulnerable", () => {
    let checked = 0;
    for (const a of kb.advisories) {
      for (const { build } of a.fixByLine.values()) {
        expect(verdict(build.build, a.id).status, `${a.id} first fixed ${build.build}`).toBe("patched");
        const line = kb.line(build.product, build.line)!;
        const i = line.builds.indexOf(build);
        if (i > 0) {
          expect(verdict(line.builds[i - 1]!.build, a.id).status, `${a.id} last vulnerable ${line.builds[i - 1]!.build}`).toBe("vulnerable");
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("every 3-part prefix: patched only if all candidates are, vulnerable only if all are, else unknown", () => {
    for (const [prefix, builds] of kb.byPrefix) {
      const e = explainer.explain(prefix);
      expect(e.precision).toBe("cu");
      expect(e.candidates).toEqual(builds.map((b) => b.build));
      e.cves.forEach((c, i) => {
        const statuses = new Set(builds.map((b) => explainer.verdictsFor(b)[i]!.status));
        expect(c.status, `${prefix} ${c.id}`).toBe(statuses.size === 1 ? [...statuses][0] : "unknown");
      });
    }
  });
});

describe("named cases", () => {
  it("the issue's examples", () => {
    expect(explainer.explain("15.1.2176.9").cu).toBe("CU19");
    expect(verdict("15.1.2176.9", "CVE-2021-26855").status).toBe("patched");
    expect(verdict("15.1.2176.2", "CVE-2021-26855").status).toBe("vulnerable");
    expect(verdict("15.1.2176", "CVE-2021-26855").status).toBe("unknown");
    const recent = explainer.explain("15.2.1544.4");
    expect(recent.product).toBe("Exchange Server 2019");
    expect(recent.cu).toBe("CU14");
    expect(verdict("15.2.1544.4", "CVE-2021-26855").status).toBe("patched");
  });

  // First build fixing ProxyLogon per CU line, read from microsoft/CSS-Exchange
  // Shared/Get-ExchangeBuildVersionInformation.ps1 (Mar21SU entries) and Microsoft's build-numbers page,
  // independently of knowledge/advisories. Where the two sources differ (2016 CU8, CU9) the lower build is listed.
  const MARCH_2021: Array<[string, string, string]> = [
    ["2013", "CU21", "15.0.1395.12"],
    ["2013", "CU22", "15.0.1473.6"],
    ["2013", "CU23", "15.0.1497.12"],
    ["2013", "SP1", "15.0.847.64"],
    ["2016", "CU8", "15.1.1415.8"],
    ["2016", "CU9", "15.1.1466.13"],
    ["2016", "CU10", "15.1.1531.12"],
    ["2016", "CU11", "15.1.1591.18"],
    ["2016", "CU12", "15.1.1713.10"],
    ["2016", "CU13", "15.1.1779.8"],
    ["2016", "CU14", "15.1.1847.12"],
    ["2016", "CU15", "15.1.1913.12"],
    ["2016", "CU16", "15.1.1979.8"],
    ["2016", "CU17", "15.1.2044.13"],
    ["2016", "CU18", "15.1.2106.13"],
    ["2016", "CU19", "15.1.2176.9"],
    ["2019", "RTM", "15.2.221.18"],
    ["2019", "CU1", "15.2.330.11"],
    ["2019", "CU2", "15.2.397.11"],
    ["2019", "CU3", "15.2.464.15"],
    ["2019", "CU4", "15.2.529.13"],
    ["2019", "CU5", "15.2.595.8"],
    ["2019", "CU6", "15.2.659.12"],
    ["2019", "CU7", "15.2.721.13"],
    ["2019", "CU8", "15.2.792.10"],
  ];

  it.each(MARCH_2021)("ProxyLogon on %s %s: first fixed %s, everything before it vulnerable", (product, line, first) => {
    const l = kb.line(product as "2013", line)!;
    expect(l, `${product} ${line}`).toBeDefined();
    for (const b of l.builds) {
      for (const cve of ["CVE-2021-26855", "CVE-2021-26858", "CVE-2021-27065", "CVE-2021-26857"]) {
        const expected = key(b.build) < key(first) ? "vulnerable" : "patched";
        expect(verdict(b.build, cve).status, `${b.build} ${cve}`).toBe(expected);
      }
    }
  });

  it("CUs released with the March 2021 fixes are patched from their first build", () => {
    for (const b of ["15.1.2242.4", "15.2.858.5"]) for (const cve of PROXYLOGON) expect(verdict(b, cve).status).toBe("patched");
  });

  it("a special March 2021 SU does not carry earlier fixes it does not name", () => {
    // 2016 CU14: Feb20SU (15.1.1847.7) fixed CVE-2020-0688; the Mar21SU for this out-of-support CU carries only ProxyLogon.
    const special = kb.byBuild.get("15.1.1847.12")!;
    expect(special.cumulative).toBe(false);
    expect(verdict("15.1.1847.7", "CVE-2020-0688").status).toBe("patched");
    const v = verdict("15.1.1847.12", "CVE-2020-0688");
    expect(v.status).toBe("unknown");
    expect(v.reason).toMatch(/special update/);
    expect(verdict("15.1.1847.12", "CVE-2021-26855").status).toBe("patched");
    // ProxyShell (April/May 2021) never reached these lines.
    expect(verdict("15.1.1847.12", "CVE-2021-34473").status).toBe("vulnerable");
    expect(verdict("15.0.1395.12", "CVE-2021-34473").status).toBe("vulnerable");
  });

  it("Exchange 2010 SP3: of the four ProxyLogon CVEs only CVE-2021-26857 applies, fixed by RU32", () => {
    for (const cve of ["CVE-2021-26855", "CVE-2021-26858", "CVE-2021-27065"]) {
      expect(verdict("14.3.513.0", cve).status).toBe("not_affected");
      expect(verdict("14.3.509.0", cve).status).toBe("not_affected");
    }
    expect(verdict("14.3.509.0", "CVE-2021-26857").status).toBe("vulnerable");
    expect(verdict("14.3.513.0", "CVE-2021-26857").status).toBe("patched");
    expect(verdict("14.3.496.0", "CVE-2020-0688").status).toBe("patched");
  });

  it("2-part builds and unknown builds say so", () => {
    const major = explainer.explain("15.2");
    expect(major.precision).toBe("major");
    expect(major.product).toBeNull(); // 2019 and SE share 15.2
    expect(major.candidates.length).toBeGreaterThan(100);
    const future = explainer.explain("15.2.9999.1");
    expect(future.cves.every((c) => c.status !== "patched")).toBe(true);
    const newSu = explainer.explain("15.1.2507.999");
    expect(newSu.cu).toBe("CU23");
    expect(newSu.update).toBeNull();
    expect(newSu.cves.find((c) => c.id === "CVE-2021-26855")!.status).toBe("patched"); // CU23 shipped with it
  });
});

describe("audit of builds resting on one third-party source", () => {
  const thirdPartyOnly = kb.builds.filter((b) => b.sources.every((s) => s.id === "righel" || s.id === "ms-gebn"));

  it("every build whose only independent source is righel/eightwone records why it is kept", () => {
    expect(thirdPartyOnly.length).toBeGreaterThan(20);
    for (const b of thirdPartyOnly) expect(b.audit, b.build).toMatch(/^keep: /);
  });

  it("an audit saying no verdict rests on a build is true", () => {
    let checked = 0;
    for (const b of thirdPartyOnly) {
      const m = /every CVE has the same status on it as on (\S+) before it/.exec(b.audit ?? "");
      if (!m) continue;
      const prev = kb.byBuild.get(m[1]!)!;
      expect(prev.line).toBe(b.line);
      expect(explainer.verdictsFor(b).map((v) => v.status), b.build).toEqual(explainer.verdictsFor(prev).map((v) => v.status));
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });

  it("a build said to be in Microsoft's CSV cites it", () => {
    const saying = thirdPartyOnly.filter((b) => /Get-ExchangeBuildNumber CSV/.test(b.audit ?? ""));
    expect(saying.length).toBeGreaterThan(0);
    for (const b of saying) expect(b.sources.map((s) => s.id), b.build).toContain("ms-gebn");
  });

  it("15.2.858.2 is not a release build but what 2019 CU9 reports", () => {
    expect(kb.byBuild.has("15.2.858.2")).toBe(false);
    const alias = kb.aliases.get("15.2.858.2")!;
    expect(alias.build.build).toBe("15.2.858.5");
    expect(alias.sources.map((s) => s.url).join(" ")).toMatch(/CSS-Exchange\/issues\/396/);
    const e = explainer.explain("15.2.858.2");
    expect(e).toMatchObject({ product: "Exchange Server 2019", cu: "CU9", update: "CU9", precision: "exact", candidates: ["15.2.858.5"] });
    expect(e.reportedAlias?.installedBuild).toBe("15.2.858.5");
    expect(explainer.explain("15.2.858").candidates).not.toContain("15.2.858.2");
  });

  it("every product has a sourced end of support", () => {
    const eos = Object.fromEntries([...kb.products.values()].map((p) => [p.key, p.endOfSupport]));
    expect(eos).toEqual({ "2010": "2020-10-13", "2013": "2023-04-11", "2016": "2025-10-14", "2019": "2025-10-14", SE: null });
    for (const p of kb.products.values()) expect(p.endOfSupportSources.length, p.key).toBeGreaterThan(0);
  });
});

// remediationSeries on hand-written facts (no store): which notified servers are still vulnerable in each
// snapshot, per group; a scan that did not reach a server carries its state forward, an import covers everything
// (absent = gone), servers count from their own notice's snapshot on, and the include filter hides the rest.
import { describe, expect, it } from "vitest";
import { remediationSeries } from "../../src/notify/remediation.js";
import type { NotifiedItem, RemediationFacts, Snapshot } from "../../src/store/store.js";

const snap = (id: string, date: string, kind: Snapshot["kind"]): Snapshot => ({ id, kind, date, createdAt: date, finishedAt: date, status: "done", spec: {} });
const item = (organisation: string, ip: string, cve: string, snapshotId: string, country = "FR"): NotifiedItem => ({
  noticeId: `${organisation}-${snapshotId}`,
  organisation,
  snapshotId,
  notifiedAt: "2021-03-03T09:00:00.000Z",
  ip,
  port: 443,
  hostname: null,
  cve,
  status: "vulnerable",
  country,
  asn: 64500,
});
const A = "CVE-2021-26855";
const B = "CVE-2021-34473";

const facts: RemediationFacts = {
  snapshots: [snap("s1", "2021-03-02", "import"), snap("s2", "2021-03-09", "scan"), snap("s3", "2021-03-16", "import"), snap("s4", "2021-03-23", "import")],
  items: [
    item("Lab", "192.0.2.1", A, "s1"),
    item("Lab", "192.0.2.1", B, "s1"), // two CVEs, one server
    item("Lab", "192.0.2.2", A, "s1"),
    item("Other", "198.51.100.1", A, "s3", "DE"), // told only from s3 on
  ],
  seen: [
    { snapshotId: "s1", ip: "192.0.2.1", statusKey: `${A}=vulnerable;${B}=vulnerable` },
    { snapshotId: "s1", ip: "192.0.2.2", statusKey: `${A}=vulnerable` },
    // s2 is a scan that reached only 192.0.2.1: A fixed, B still vulnerable -> still vulnerable.
    { snapshotId: "s2", ip: "192.0.2.1", statusKey: `${A}=patched;${B}=vulnerable` },
    // s3: 192.0.2.1 fully patched; 192.0.2.2 absent from the import -> gone.
    { snapshotId: "s3", ip: "192.0.2.1", statusKey: `${A}=patched;${B}=patched` },
    { snapshotId: "s3", ip: "198.51.100.1", statusKey: `${A}=vulnerable` },
    // s4: 192.0.2.2 back and vulnerable again; 198.51.100.1 no longer Exchange (covered, nothing there).
    { snapshotId: "s4", ip: "192.0.2.1", statusKey: `${A}=patched;${B}=patched` },
    { snapshotId: "s4", ip: "192.0.2.2", statusKey: `${A}=vulnerable` },
    { snapshotId: "s4", ip: "198.51.100.1", statusKey: null },
  ],
};

const table = (s: ReturnType<typeof remediationSeries>) => Object.fromEntries(s.map((g) => [g.key, g.points.map((p) => `${p.snapshot}:${p.stillVulnerable}/${p.notified}`)]));

describe("remediationSeries", () => {
  it("per organisation: carried forward through a scan that missed a server, gone when an import lacks it", () => {
    expect(table(remediationSeries(facts, "org"))).toEqual({
      Lab: ["s1:2/2", "s2:2/2", "s3:0/2", "s4:1/2"],
      Other: ["s1:0/0", "s2:0/0", "s3:1/1", "s4:0/1"],
    });
  });

  it("per country, one CVE, and only the items the caller may see", () => {
    expect(table(remediationSeries(facts, "country", new Set([A])))).toEqual({
      FR: ["s1:2/2", "s2:1/2", "s3:0/2", "s4:1/2"],
      DE: ["s1:0/0", "s2:0/0", "s3:1/1", "s4:0/1"],
    });
    expect(table(remediationSeries(facts, "org", undefined, (i) => i.ip.startsWith("198.51.100."))).Lab).toBeUndefined();
  });
});

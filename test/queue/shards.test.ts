// Shards of a queued scan (pure) and target lines with their own port (as discovery tools report them).
import { describe, expect, it } from "vitest";
import { Exclusions, expandTargets, parseTarget } from "../../src/observe/targets.js";
import { countHostPorts } from "../../src/pipeline/scan.js";
import { shardSpecs } from "../../src/pipeline/shards.js";
import { parseQueueUrl } from "../../src/queue/scanQueue.js";

const specs = (lines: string[]) => lines.map(parseTarget);
const expandAll = (lines: string[]) => [...expandTargets(specs(lines), new Exclusions())].map((t) => `${t.ip ?? t.hostname}${t.spec.port ? `:${t.spec.port}` : ""}`);

describe("shards", () => {
  it("cut ranges into sub-ranges of the size, in order, keeping hostnames and lines with a port whole", () => {
    const shards = [...shardSpecs(specs(["10.0.0.0/29", "mail.example.org", "192.0.2.7:8443", "10.0.1.250-10.0.1.253"]), 3)];
    expect(shards.map((s) => s.lines)).toEqual([
      ["10.0.0.0-10.0.0.2"],
      ["10.0.0.3-10.0.0.5"],
      ["10.0.0.6-10.0.0.7", "mail.example.org"],
      ["192.0.2.7:8443", "10.0.1.250-10.0.1.251"],
      ["10.0.1.252-10.0.1.253"],
    ]);
    expect(shards.map((s) => s.no)).toEqual([0, 1, 2, 3, 4]);
  });

  it("together they expand to exactly the scan's targets, each once", () => {
    const lines = ["10.9.0.0/27", "10.9.1.5", "2001:db8::/124", "a.example", "10.9.2.1-10.9.2.9", "[2001:db8::99]:443"];
    for (const size of [1, 2, 7, 16, 1000]) {
      const fromShards = [...shardSpecs(specs(lines), size)].flatMap((s) => {
        expect(s.size).toBeLessThanOrEqual(size);
        return expandAll(s.lines);
      });
      expect(fromShards).toEqual(expandAll(lines));
    }
  });

  it("host:ports: a line with its own port counts once, others once per port", () => {
    expect(countHostPorts(specs(["10.0.0.0/30", "10.0.0.9:8443", "x.example"]), [443, 80])).toBe(4 * 2 + 1 + 2);
  });
});

describe("targets with a port", () => {
  it("IPv4, bracketed IPv6 and hostnames take a port; ranges do not", () => {
    expect(parseTarget("192.0.2.1:8443")).toMatchObject({ kind: "range", port: 8443, text: "192.0.2.1:8443" });
    expect(parseTarget("[2001:db8::1]:443")).toMatchObject({ kind: "range", family: 6, port: 443 });
    expect(parseTarget("mail-1.example.org:587")).toMatchObject({ kind: "hostname", hostname: "mail-1.example.org", port: 587 });
    expect(parseTarget("2001:db8::443").port).toBeUndefined();
    expect(() => parseTarget("10.0.0.0/24:443")).toThrow(/one address or hostname, not a range/);
    expect(() => parseTarget("192.0.2.1:0")).toThrow(/port 0/);
    expect(() => parseTarget("192.0.2.1:70000")).toThrow(/port 70000/);
  });
});

describe("queue URL", () => {
  it("takes redis:// and rediss:// with an optional database number, and names what is wrong", () => {
    expect(parseQueueUrl("redis://127.0.0.1:6379/2").hostname).toBe("127.0.0.1");
    expect(parseQueueUrl("rediss://user:pw@queue.example:6380").port).toBe("6380");
    expect(() => parseQueueUrl("http://x:6379")).toThrow(/not redis: or rediss:/);
    expect(() => parseQueueUrl("redis://x:6379/abc")).toThrow(/not a database number/);
    expect(() => parseQueueUrl("x y")).toThrow(/not a URL/);
  });
});

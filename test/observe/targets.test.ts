import { describe, expect, it } from "vitest";
import { countTargets, Exclusions, expandTargets, parseTarget, targetLines } from "../../src/observe/targets.js";
import { negotiateMessage, parseChallenge } from "../../src/observe/ntlm.js";

const expand = (lines: string[], excl: string[] = []): string[] => {
  const ex = new Exclusions();
  for (const e of excl) ex.add(parseTarget(e));
  return [...expandTargets(lines.map(parseTarget), ex)].map((t) => t.ip ?? `name:${t.hostname}`);
};

describe("targets", () => {
  it("addresses, CIDR, ranges, short ranges, hostnames, IPv6", () => {
    expect(expand(["127.0.0.1"])).toEqual(["127.0.0.1"]);
    expect(expand(["10.1.2.0/30"])).toEqual(["10.1.2.0", "10.1.2.1", "10.1.2.2", "10.1.2.3"]);
    expect(expand(["10.1.2.7/30"])).toEqual(["10.1.2.4", "10.1.2.5", "10.1.2.6", "10.1.2.7"]);
    expect(expand(["10.0.0.254-10.0.1.1"])).toEqual(["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"]);
    expect(expand(["10.0.0.1-3"])).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    expect(expand(["Mail.Example.com."])).toEqual(["name:mail.example.com"]);
    expect(expand(["::1"])).toEqual(["::1"]);
    expect(expand(["2001:db8::/126"])).toEqual(["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"]);
    expect(expand(["::ffff:127.0.0.1"])).toEqual(["::ffff:7f00:1"]);
  });

  it("exclusions are never yielded", () => {
    expect(expand(["10.0.0.0/29"], ["10.0.0.2", "10.0.0.4-5", "10.0.0.7/32"])).toEqual(["10.0.0.0", "10.0.0.1", "10.0.0.3", "10.0.0.6"]);
    expect(expand(["a.example", "b.example"], ["b.example"])).toEqual(["name:a.example"]);
  });

  it("refuses bad lines with the reason, and huge ranges", () => {
    expect(() => parseTarget("10.0.0.300")).toThrow(/not an address/);
    expect(() => parseTarget("10.0.0.0/33")).toThrow(/longer than 32/);
    expect(() => parseTarget("10.0.0.5-10.0.0.1")).toThrow(/ends before it starts/);
    expect(() => parseTarget("0.0.0.0/0")).toThrow(/split it/);
    expect(() => parseTarget("2001:db8::/64")).toThrow(/split it/);
    expect(() => parseTarget("http://x")).toThrow(/not an address/);
  });

  it("target files: comments and blanks", () => {
    expect(targetLines("# list\n10.0.0.1  # mail\n\n  example.org\r\n")).toEqual(["10.0.0.1", "example.org"]);
    expect(countTargets(["10.0.0.0/24", "x.example"].map(parseTarget))).toBe(257n);
  });
});

describe("NTLM", () => {
  it("builds a NEGOTIATE and reads a CHALLENGE's names and OS version", () => {
    expect(Buffer.from(negotiateMessage(), "base64").subarray(0, 12).toString("latin1")).toBe("NTLMSSP\0\u0001\0\0\0");
    const av = (id: number, s: string): Buffer => {
      const v = Buffer.from(s, "utf16le");
      const h = Buffer.alloc(4);
      h.writeUInt16LE(id, 0);
      h.writeUInt16LE(v.length, 2);
      return Buffer.concat([h, v]);
    };
    const info = Buffer.concat([av(2, "CONTOSO"), av(1, "EX01"), av(4, "contoso.local"), av(3, "ex01.contoso.local"), Buffer.alloc(4)]);
    const msg = Buffer.alloc(56);
    msg.write("NTLMSSP\0", 0, "latin1");
    msg.writeUInt32LE(2, 8);
    msg.writeUInt32LE(0x02000000 | 0x00800000, 20);
    msg.writeUInt16LE(info.length, 40);
    msg.writeUInt16LE(info.length, 42);
    msg.writeUInt32LE(56, 44);
    msg.writeUInt8(10, 48);
    msg.writeUInt8(0, 49);
    msg.writeUInt16LE(17763, 50);
    expect(parseChallenge(Buffer.concat([msg, info]))).toEqual({
      netbiosDomain: "CONTOSO",
      netbiosComputer: "EX01",
      dnsDomain: "contoso.local",
      dnsComputer: "ex01.contoso.local",
      osVersion: "10.0.17763",
    });
    // Hostile: offsets past the end, truncated, wrong type.
    const bad = Buffer.concat([msg]);
    bad.writeUInt32LE(10_000, 44);
    expect(parseChallenge(bad)).toEqual({ osVersion: "10.0.17763" });
    expect(parseChallenge(Buffer.from("NTLMSSP\0"))).toBeUndefined();
    expect(parseChallenge(Buffer.alloc(100))).toBeUndefined();
  });
});

/**
 * Bench: how fast `BuildExplainer.explain` answers, per kind of input, beside a naive peer — on one core.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kb-explain.js [count]
 *
 * What it measures, each as builds/s over `count` inputs drawn with a fixed-seed generator:
 *  - known 4-part builds (every build of knowledge/): computed once at load, so a map lookup;
 *  - known 3-part builds (every CU prefix): also computed once at load;
 *  - long-format known builds ("15.01.2176.009"): parsed, then the lookup;
 *  - unseen 4-part builds on known lines: a known CU prefix with a random revision the tables lack
 *    ("15.1.2176.4711"), and builds above the newest one of their line ("newer than the knowledge base"): these
 *    are judged rule by rule on every call (results about builds the tables lack are never cached; the bench
 *    checks that two calls give two distinct objects);
 *  - unseen 3-part builds: a CU number between or above the known ones ("15.1.2300"), judged on every call.
 * Every input of the unseen sets is generated afresh (each count inputs long, mostly distinct values).
 *
 * The peer, labelled "naive JSON peer": plain JavaScript over the raw knowledge/*.json files as a hand-written
 * lookup would do it — find the build by a linear scan of the build rows, then per advisory the fix row of the
 * same product and line, and compare build numbers (below: vulnerable, else patched; product not listed:
 * not affected; no fix on the line: unknown). It knows nothing of precision, reported-version aliases, end of
 * support, special updates or settings, so it answers less than Vigie; it is the floor a simple script gets.
 * For a 3-part input it scans for the first build of that prefix. Ratios are Vigie / peer.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { BuildExplainer } from "../src/assess/explainBuild.js";
import { builtinKnowledgeDir, loadKnowledgeBase } from "../src/knowledge/load.js";

const count = Number(process.argv[2] ?? 500_000);
const loadStart = process.hrtime.bigint();
const kb = loadKnowledgeBase({ overlayDir: null });
const explainer = new BuildExplainer(kb);
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

// A deterministic pseudo-random generator (xorshift32), so runs are comparable.
let seed = 0x9e3779b9;
const rand = (n: number): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const pick = <T>(list: readonly T[]): T => list[rand(list.length)]!;

// ------------------------------------------------------------------ inputs
const known = new Set(kb.builds.map((b) => b.build));
const exact = kb.builds.map((b) => b.build);
const prefixes = [...kb.byPrefix.keys()];
const longFormat = exact.map((b) => b.split(".").map((p, i) => (i === 1 ? p.padStart(2, "0") : i > 1 ? p.padStart(3, "0") : p)).join("."));
const newestOfLine = [...kb.byPrefix.values()].map((builds) => builds[builds.length - 1]!);

function unseenFourPart(n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    if (rand(4) === 0) {
      // Newer than the newest known build of a line.
      const b = pick(newestOfLine).build.split(".").map(Number);
      out.push(`${b[0]}.${b[1]}.${b[2]}.${b[3]! + 1 + rand(500)}`);
    } else {
      const candidate = `${pick(prefixes)}.${rand(100_000)}`;
      if (!known.has(candidate) && !kb.aliases.has(candidate)) out.push(candidate);
    }
  }
  return out;
}

function unseenThreePart(n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const [a, b, c] = pick(prefixes).split(".").map(Number) as [number, number, number];
    const candidate = `${a}.${b}.${c + 1 + rand(400)}`;
    if (!kb.byPrefix.has(candidate)) out.push(candidate);
  }
  return out;
}

// ------------------------------------------------------------------ the naive peer
interface RawBuild {
  build: string;
  line: string;
}
interface RawTable {
  product: string;
  builds: RawBuild[];
}
interface RawAdvisory {
  id: string;
  affects: string[];
  fixes: Array<{ product: string; line: string; fixedIn: string }>;
}
const dir = builtinKnowledgeDir();
const rawTables = readdirSync(path.join(dir, "builds"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(path.join(dir, "builds", f), "utf8")) as RawTable);
const rawRows = rawTables.flatMap((t) => t.builds.map((b) => ({ product: t.product, build: b.build, line: b.line })));
const rawAdvisories = readdirSync(path.join(dir, "advisories"))
  .filter((f) => /^CVE-.*\.json$/.test(f))
  .map((f) => JSON.parse(readFileSync(path.join(dir, "advisories", f), "utf8")) as RawAdvisory);

function compare(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

function naiveExplain(input: string): { status: string }[] | null {
  const text = input.split(".").map((p) => String(Number(p))).join(".");
  const three = text.split(".").length === 3;
  const row = three
    ? rawRows.find((r) => r.build.startsWith(`${text}.`))
    : (rawRows.find((r) => r.build === text) ?? rawRows.find((r) => r.build.startsWith(`${text.split(".").slice(0, 3).join(".")}.`)));
  if (!row) return null;
  return rawAdvisories.map((a) => {
    if (!a.affects.includes(row.product)) return { status: "not_affected" };
    const fix = a.fixes.find((f) => f.product === row.product && f.line === row.line);
    if (!fix) return { status: "unknown" };
    return { status: compare(three ? row.build : text, fix.fixedIn) < 0 ? "vulnerable" : "patched" };
  });
}

// ------------------------------------------------------------------ timing
interface Figure {
  perSecond: number;
  seconds: number;
  cpu: number;
  vulnerable: number;
}

function time(inputs: readonly string[], explain: (b: string) => { status: string }[] | null): Figure {
  let vulnerable = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < inputs.length; i++) {
    const cves = explain(inputs[i]!);
    if (cves?.[0]?.status === "vulnerable") vulnerable++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: inputs.length / seconds, seconds, cpu: (cpu.user + cpu.system) / 1e6, vulnerable };
}

const vigie = (b: string) => explainer.explain(b).cves;
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const peerCount = Math.max(1, Math.round(count / 10));

function row(label: string, draw: () => string[]): void {
  const inputs = draw();
  const v = time(inputs, vigie);
  const p = time(inputs.slice(0, peerCount), naiveExplain);
  console.log(
    [
      label.padEnd(40),
      `${fmt(v.perSecond)}/s`.padStart(14),
      `(${inputs.length.toLocaleString("en")} in ${v.seconds.toFixed(2)} s, cpu ${v.cpu.toFixed(2)} s)`.padEnd(34),
      `${fmt(p.perSecond)}/s`.padStart(12),
      `${(v.perSecond / p.perSecond).toFixed(1)}×`.padStart(9),
    ].join(" "),
  );
}

console.log(`knowledge base: ${kb.builds.length} builds, ${kb.advisories.length} advisories, loaded and indexed in ${loadMs.toFixed(0)} ms`);
console.log(`peer: naive JSON lookup (linear scans over knowledge/*.json), ${peerCount.toLocaleString("en")} inputs of each set`);
console.log(`${"input".padEnd(40)} ${"Vigie".padStart(14)} ${"".padEnd(34)} ${"peer".padStart(12)} ${"ratio".padStart(9)}`);
row("known 4-part builds", () => Array.from({ length: count }, () => pick(exact)));
row("known 3-part builds (CU prefixes)", () => Array.from({ length: count }, () => pick(prefixes)));
row("known builds, long format 15.01.2176.009", () => Array.from({ length: count }, () => pick(longFormat)));
row("unseen 4-part (random rev., newer)", () => unseenFourPart(count));
row("unseen 3-part (CU between/above known)", () => unseenThreePart(count));

// Unseen builds are judged on every call, not served from a cache filled by earlier calls.
const probe = unseenFourPart(1)[0]!;
const recomputed = explainer.explain(probe) !== explainer.explain(probe);
const knownShared = explainer.explain(exact[0]!) === explainer.explain(exact[0]!);
console.log(`unseen build ${probe}: judged afresh on each call: ${recomputed ? "yes" : "NO"}; known build answers shared: ${knownShared ? "yes" : "no"}`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
if (!recomputed) process.exitCode = 1;

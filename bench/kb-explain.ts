/**
 * Bench (issue 2): explain 1,000,000 random builds from the knowledge base through the library API, on one
 * core. Prints builds/s and peak RSS. Goal: >= 1,000,000 builds/s.
 *
 *   npm run build && node dist/bench/kb-explain.js [count]
 */
import { BuildExplainer } from "../src/assess/explainBuild.js";
import { loadKnowledgeBase } from "../src/knowledge/load.js";

const count = Number(process.argv[2] ?? 1_000_000);
const loadStart = process.hrtime.bigint();
const kb = loadKnowledgeBase({ overlayDir: null });
const explainer = new BuildExplainer(kb);
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

// A deterministic pseudo-random pick (xorshift), so runs are comparable.
let seed = 0x9e3779b9;
const rand = (n: number): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};

function run(label: string, inputs: string[]): void {
  const picks = new Array<string>(count);
  for (let i = 0; i < count; i++) picks[i] = inputs[rand(inputs.length)]!;
  let vulnerable = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const e = explainer.explain(picks[i]!);
    if (e.cves[0]?.status === "vulnerable") vulnerable++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    [
      label.padEnd(28),
      `${count.toLocaleString("en")} builds`.padStart(18),
      `${(seconds).toFixed(3)} s`.padStart(10),
      `${Math.round(count / seconds).toLocaleString("en")} builds/s`.padStart(22),
      `cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`.padStart(12),
      `(first CVE vulnerable in ${vulnerable})`,
    ].join(" "),
  );
}

console.log(`knowledge base: ${kb.builds.length} builds, ${kb.advisories.length} advisories, loaded and indexed in ${loadMs.toFixed(0)} ms`);
const exact = kb.builds.map((b) => b.build);
run("4-part (exact) builds", exact);
run("3-part (CU) builds", [...kb.byPrefix.keys()]);
run("long format 15.01.2176.009", exact.map((b) => b.split(".").map((p, i) => (i === 1 ? p.padStart(2, "0") : i > 1 ? p.padStart(3, "0") : p)).join(".")));
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; goal >= 1,000,000 builds/s on one core`);

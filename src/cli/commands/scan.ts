/**
 * `vigie scan`, `vigie hosts`, `vigie assess`: live fingerprinting into the store, reading it back, and
 * re-assessing stored observations after a knowledge-base update (no traffic).
 */
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { BuildExplainer } from "../../assess/explainBuild.js";
import type { CveStatus } from "../../pipeline/vocabulary.js";
import { CVE_STATUSES } from "../../pipeline/vocabulary.js";
import { DEFAULT_LIMITS } from "../../observe/http/hostClient.js";
import { DEFAULT_MAX_REQUESTS, MAX_REQUESTS_PER_HOST } from "../../observe/probes/probeHost.js";
import { readTargetFile, type TargetFileFormat } from "../../import/discovery.js";
import { targetLines } from "../../observe/targets.js";
import { openGeo } from "../../enrich/load.js";
import { lazyPublicGeo } from "../../enrich/publicAddress.js";
import { assessObservation } from "../../pipeline/assessObservation.js";
import { resumeScan, ScanSetupError, startScan, type ScanProgress, type ScanSettings } from "../../pipeline/scan.js";
import type { HostRecord } from "../../store/store.js";
import { UsageError } from "../errors.js";
import { supportJudge } from "../../census/endOfSupport.js";
import { compareHosts, HOST_CSV_HEADER, hostCsv, hostJsonLine, hostTable, type HostFormat, type HostSupport } from "../format/hosts.js";
import { progressLine } from "../format/progress.js";
import { addDbOption, openStore, resolveSnapshot, snapshotSupport } from "../storeOption.js";
import { openKnowledgeBase } from "./kb.js";
import { addQueueOptions, queuedScanCommand, type QueueScanOptions } from "./queue.js";

function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name}: "${v}" is not a whole number from ${min} to ${max}`);
    return n;
  };
}

function parsePorts(v: string): number[] {
  const ports = v.split(",").map((p) => p.trim()).filter(Boolean).map(Number);
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new UsageError(`--ports: "${v}" is not a comma-separated list of ports (1-65535)`);
  }
  return [...new Set(ports)];
}

function readLinesFile(file: string, what: string): string[] {
  try {
    return targetLines(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${what} ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

const FORMAT_NAMES: Record<TargetFileFormat, string> = {
  targets: "target list",
  "masscan-list": "masscan list",
  "masscan-json": "masscan JSON",
  "masscan-grepable": "masscan grepable",
  "zmap-csv": "zmap CSV",
};

/** -f: a plain target list, or masscan/zmap output (recognised from the file) whose open ports become targets. */
function readTargetsFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`--targets-file ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const read = readTargetFile(text, targetLines);
  if (read.format === "targets") return read.lines;
  const name = FORMAT_NAMES[read.format];
  for (const s of read.skipped.slice(0, 10)) process.stderr.write(`vigie: ${file}:${s.no}: ${s.error} (record skipped)\n`);
  if (read.skipped.length > 10) process.stderr.write(`vigie: ${file}: ${read.skipped.length - 10} more records skipped\n`);
  if (read.lines.length === 0) throw new UsageError(`${file}: ${name} output with no open TCP port${read.skipped.length > 0 ? ` (${read.skipped.length} records unreadable)` : ""}`);
  process.stderr.write(`vigie: ${file}: ${name}: ${read.lines.length} open ports to fingerprint\n`);
  return read.lines;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function formatOf(opts: { json?: boolean; csv?: boolean }): HostFormat {
  if (opts.json && opts.csv) throw new UsageError("choose one of --json and --csv");
  return opts.json ? "json" : opts.csv ? "csv" : "table";
}

export interface ScanOptions {
  targetsFile?: string;
  exclude?: string;
  excludeFile?: string;
  ports: number[];
  smtp?: boolean;
  concurrency: number;
  rate: number;
  connectTimeout: number;
  readTimeout: number;
  requestTimeout: number;
  hostTimeout: number;
  maxBody: number;
  maxRequests: number;
  activeChecks?: boolean;
  resume?: string;
  json?: boolean;
  csv?: boolean;
  progress?: boolean;
  db?: string;
  kbDir?: string;
}

/** The target lines of a new scan: arguments, stdin (-) and --targets-file. */
export async function scanTargetLines(targets: readonly string[], opts: Pick<ScanOptions, "targetsFile">): Promise<string[]> {
  const lines: string[] = [];
  for (const t of targets) {
    if (t === "-") lines.push(...targetLines(await readStdin()));
    else lines.push(t.trim());
  }
  if (opts.targetsFile) lines.push(...readTargetsFile(opts.targetsFile));
  if (lines.length === 0) throw new UsageError("no targets: give addresses, ranges or hostnames, --targets-file <file>, or - for stdin");
  return lines;
}

/** The settings of a new scan from its options (stored with the snapshot: a resume or a worker uses the same). */
export function scanSettings(opts: ScanOptions): ScanSettings {
  const exclude = [
    ...(opts.exclude ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    ...(opts.excludeFile ? readLinesFile(opts.excludeFile, "--exclude-file") : []),
  ];
  const ports = opts.smtp ? [...new Set([...opts.ports, 25, 587])] : opts.ports;
  return {
    ports,
    concurrency: opts.concurrency,
    rate: opts.rate,
    activeChecks: opts.activeChecks ?? false,
    exclude,
    hostTimeoutMs: opts.hostTimeout,
    maxRequests: opts.maxRequests,
    limits: {
      connectTimeoutMs: opts.connectTimeout,
      readTimeoutMs: opts.readTimeout,
      requestTimeoutMs: opts.requestTimeout,
      maxHeaderBytes: DEFAULT_LIMITS.maxHeaderBytes,
      maxBodyBytes: opts.maxBody,
    },
  };
}

export function registerScan(program: Command): void {
  const scan = program
    .command("scan")
    .description("fingerprint Exchange servers over the network and judge each per CVE (results stream into the store)")
    .argument("[targets...]", "addresses, CIDR ranges, a-b ranges, hostnames, address:port; - reads targets from stdin")
    .option("-f, --targets-file <file>", "file of targets, one per line (# comments), or masscan (-oL, -oJ, -oG) / zmap CSV output: its open ports")
    .option("--exclude <list>", "comma-separated addresses/ranges/hostnames never to contact")
    .option("--exclude-file <file>", "file of exclusions, one per line")
    .option("-p, --ports <list>", "ports to probe", parsePorts, [443, 80])
    .option("--smtp", "also probe SMTP on 25 and 587")
    .option("-c, --concurrency <n>", "host:ports probed at once (with --queue: each worker's own --concurrency applies)", intOption("--concurrency", 1, 10000), 200)
    .option("--rate <n>", "requests per second over the whole scan (0: no limit)", intOption("--rate", 0, 1_000_000), 0)
    .option("--connect-timeout <ms>", "TCP/TLS connect timeout", intOption("--connect-timeout", 100, 120000), DEFAULT_LIMITS.connectTimeoutMs)
    .option("--read-timeout <ms>", "time to response headers, and longest pause in a body", intOption("--read-timeout", 100, 120000), DEFAULT_LIMITS.readTimeoutMs)
    .option("--request-timeout <ms>", "total time for one request", intOption("--request-timeout", 100, 300000), DEFAULT_LIMITS.requestTimeoutMs)
    .option("--host-timeout <ms>", "total time for one host:port, all probes", intOption("--host-timeout", 1000, 600000), 30000)
    .option("--max-body <bytes>", "body bytes read per response", intOption("--max-body", 1024, 64 * 1024 * 1024), DEFAULT_LIMITS.maxBodyBytes)
    .option(
      "--max-requests <n>",
      `HTTP requests per host:port at most, every probe counted (ECP candidate paths and --active-checks included; with --queue: stored with the scan, every worker applies it)`,
      intOption("--max-requests", 1, MAX_REQUESTS_PER_HOST),
      DEFAULT_MAX_REQUESTS,
    )
    .option("--active-checks", "also run vendor-published defender checks (CVE-2021-26855 header check); off by default")
    .option("--resume <scan-id>", "finish an interrupted scan (same targets and settings)")
    .option("--json", "JSON Lines, one object per responding host:port")
    .option("--csv", "CSV, one row per responding host:port")
    .addOption(new Option("--no-progress", "no progress bar (it is shown only on a terminal anyway)"))
    .option("--kb-dir <dir>", "folder of imported knowledge-base updates");
  addDbOption(scan);
  addQueueOptions(scan);
  scan.action(async (targets: string[], opts: ScanOptions & QueueScanOptions) => {
    const format = formatOf(opts);
    if (opts.status !== undefined || opts.queue !== undefined) {
      await queuedScanCommand(targets, opts, format);
      return;
    }
    if (opts.detach) throw new UsageError("--detach needs --queue: only a queued scan runs without this process");
    const explainer = new BuildExplainer(openKnowledgeBase(opts));
    // Hosts shown as they are found: support judged on the day each was seen (the scan's own day).
    const judge = supportJudge(explainer.kb);
    const liveSupport: HostSupport = (h) => judge.at(h.product, h.observedAt);
    const store = await openStore(opts.db);
    const controller = new AbortController();
    const onSignal = (): void => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write("\nvigie: stopping after the hosts in flight (Ctrl-C again to quit now)\n");
      controller.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const shown: HostRecord[] = [];
    const showProgress = opts.progress !== false && process.stderr.isTTY === true;
    if (format === "csv") process.stdout.write(`${HOST_CSV_HEADER}\n`);
    const callbacks = {
      signal: controller.signal,
      geo: lazyPublicGeo(() => openGeo()),
      onHosts: (hosts: readonly HostRecord[]) => {
        if (format === "json") process.stdout.write(hosts.map((h) => `${hostJsonLine(h, liveSupport)}\n`).join(""));
        else if (format === "csv") process.stdout.write(hosts.map((h) => `${hostCsv(h, liveSupport)}\n`).join(""));
        else shown.push(...hosts);
      },
      onProgress: showProgress ? (p: ScanProgress) => process.stderr.write(`\r${progressLine(p)}`) : undefined,
    };
    let id: string;
    let progress: ScanProgress;
    try {
      if (opts.resume !== undefined) {
        if (targets.length > 0 || opts.targetsFile) throw new UsageError("--resume takes no targets: it finishes the scan's own");
        id = opts.resume;
        progress = await resumeScan(store, explainer, id, callbacks);
      } else {
        const started = await startScan(store, explainer, await scanTargetLines(targets, opts), scanSettings(opts), callbacks);
        id = started.id;
        progress = started.progress;
      }
    } catch (err) {
      if (err instanceof ScanSetupError) throw new UsageError(err.message);
      throw err;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (showProgress) process.stderr.write("\n");
    }
    if (format === "table") {
      shown.sort(compareHosts);
      process.stdout.write(shown.length > 0 ? `${hostTable(shown)}\n` : "no host answered\n");
    }
    const seconds = (Date.now() - progress.startedAt) / 1000;
    process.stderr.write(
      `vigie: scan ${id}: ${progress.done}/${progress.total} host:ports in ${seconds.toFixed(1)} s, ${progress.responded} answered, ${progress.exchange} Exchange; stored in ${store.label}\n`,
    );
    if (controller.signal.aborted) process.stderr.write(`vigie: interrupted; finish with: vigie scan --resume ${id} --db ${store.label}\n`);
    await store.close();
  });

  const hosts = program
    .command("hosts")
    .description("list stored results")
    .option("--snapshot <id>", "snapshot (default: the newest)")
    .option("--status <status>", `only hosts with a CVE in this status: ${CVE_STATUSES.join(", ")}`)
    .option("--cve <id>", "only this CVE (with --status: this CVE in that status)")
    .option("--exchange", "only Exchange servers")
    .option("--json", 'JSON Lines (each with "endOfSupport" and "outOfSupport" on the snapshot\'s date, and "triage": the newest triage report attached to its IP, or null)')
    .option("--csv", "CSV");
  addDbOption(hosts);
  hosts.action(async (opts: { snapshot?: string; status?: string; cve?: string; exchange?: boolean; json?: boolean; csv?: boolean; db?: string }) => {
    const format = formatOf(opts);
    if (opts.status !== undefined && !CVE_STATUSES.includes(opts.status as CveStatus)) {
      throw new UsageError(`--status: "${opts.status}" is not one of ${CVE_STATUSES.join(", ")}`);
    }
    if (opts.cve !== undefined && !/^CVE-\d{4}-\d{4,7}$/i.test(opts.cve)) throw new UsageError(`--cve: "${opts.cve}" is not a CVE id`);
    const store = await openStore(opts.db);
    const snapshotId = await resolveSnapshot(store, opts.snapshot);
    const query = {
      snapshotId,
      ...(opts.status !== undefined ? { status: opts.status as CveStatus } : {}),
      ...(opts.cve !== undefined ? { cve: opts.cve.toUpperCase() } : {}),
      ...(opts.exchange ? { exchangeOnly: true } : {}),
    };
    const rows: HostRecord[] = [];
    if (format === "csv") process.stdout.write(`${HOST_CSV_HEADER}\n`);
    // Triage verdicts attached to hosts (by IP): few rows, read once.
    const triage = format === "json" ? await store.triageReports.latestByIp() : undefined;
    const support = await snapshotSupport(store, snapshotId);
    for await (const h of store.hosts(query)) {
      if (format === "json") process.stdout.write(`${hostJsonLine(h, support, triage)}\n`);
      else if (format === "csv") process.stdout.write(`${hostCsv(h, support)}\n`);
      else rows.push(h);
    }
    if (format === "table") process.stdout.write(`${rows.length > 0 ? hostTable(rows) : "no hosts match"}\n${rows.length} host:ports in ${snapshotId}\n`);
    await store.close();
  });

  const assess = program
    .command("assess")
    .description("re-assess stored observations with the current knowledge base (no network traffic)")
    .option("--snapshot <id>", "one snapshot (default: all)")
    .option("--kb-dir <dir>", "folder of imported knowledge-base updates");
  addDbOption(assess);
  assess.action(async (opts: { snapshot?: string; db?: string; kbDir?: string }) => {
    const explainer = new BuildExplainer(openKnowledgeBase(opts));
    const store = await openStore(opts.db);
    store.useKnowledgeBase(explainer.kb);
    const ids = opts.snapshot !== undefined ? [await resolveSnapshot(store, opts.snapshot)] : (await store.listSnapshots()).map((s) => s.id);
    for (const id of ids) {
      let hostsSeen = 0;
      let changed = 0;
      const PAGE = 2000;
      for (let offset = 0; ; offset += PAGE) {
        const page: HostRecord[] = [];
        for await (const h of store.hosts({ snapshotId: id, limit: PAGE, offset })) page.push(h);
        if (page.length === 0) break;
        // The store keeps statuses, not texts (reasons are rendered from the knowledge base when read): only
        // hosts whose verdicts or identification changed are written again.
        const updated: HostRecord[] = [];
        for (const h of page) {
          const next = assessObservation(explainer, id, h.observation, { country: h.country, asn: h.asn, asOrg: h.asOrg });
          const verdictsChanged = JSON.stringify(next.cves) !== JSON.stringify(h.cves) || next.build !== h.build || next.product !== h.product;
          if (verdictsChanged) changed++;
          if (verdictsChanged || next.cu !== h.cu || next.precision !== h.precision || JSON.stringify(next.identification) !== JSON.stringify(h.identification)) updated.push(next);
        }
        if (updated.length > 0) await store.saveBatch(id, updated, []);
        hostsSeen += page.length;
      }
      process.stdout.write(`${id}: ${hostsSeen} host:ports re-assessed, ${changed} with changed verdicts\n`);
    }
    await store.close();
  });
}

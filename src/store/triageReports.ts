/**
 * Triage reports: from `vigie triage --db` (source "cli") and dashboard uploads ("upload"): who stored which
 * bundle, its verdict, the server it names, and the JSON report. A report is attached to hosts by IP address
 * (triage_report_hosts): every host record with one of its addresses carries the verdict of the newest one.
 */
import type { HostTriage, StoredTriageReport, TriageReportInfo, TriageReportServer, TriageReportStore } from "./store.js";
import type { SqlEngine, SqlValue } from "./sql/engine.js";

const COLS = 'r.id, r."user" AS "user", r.name, r.created_at AS "createdAt", r.verdict, r.findings, r.source, r.hostname, r.fqdn';

interface Row extends TriageReportInfo {
  source: string;
  hostname: string | null;
  fqdn: string | null;
}

export class SqlTriageReports implements TriageReportStore {
  constructor(private readonly engine: SqlEngine) {}

  async add(r: TriageReportInfo & { report: string } & Partial<TriageReportServer>): Promise<void> {
    const addresses = [...new Set(r.addresses ?? [])];
    await this.engine.transaction(async (tx) => {
      await tx.run('INSERT INTO serve_triage_reports (id, "user", name, created_at, verdict, findings, report, source, hostname, fqdn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        r.id,
        r.user,
        r.name,
        r.createdAt,
        r.verdict,
        r.findings,
        r.report,
        r.source ?? "upload",
        r.hostname ?? null,
        r.fqdn ?? null,
      ]);
      for (const ip of addresses) await tx.run("INSERT INTO triage_report_hosts (report_id, ip) VALUES (?, ?)", [r.id, ip]);
    });
  }

  private async withAddresses(rows: Row[]): Promise<StoredTriageReport[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const links = await this.engine.all<{ report_id: string; ip: string }>(
      `SELECT report_id, ip FROM triage_report_hosts WHERE report_id IN (${ids.map(() => "?").join(", ")}) ORDER BY ip`,
      ids,
    );
    const by = new Map<string, string[]>();
    for (const l of links) (by.get(l.report_id) ?? by.set(l.report_id, []).get(l.report_id)!).push(l.ip);
    return rows.map((r) => ({ ...r, findings: Number(r.findings), source: r.source === "cli" ? "cli" : "upload", addresses: by.get(r.id) ?? [] }));
  }

  async list(user?: string): Promise<StoredTriageReport[]> {
    const rows =
      user !== undefined
        ? await this.engine.all<Row>(`SELECT ${COLS} FROM serve_triage_reports r WHERE r."user" = ? ORDER BY r.created_at DESC, r.id LIMIT 500`, [user])
        : await this.engine.all<Row>(`SELECT ${COLS} FROM serve_triage_reports r ORDER BY r.created_at DESC, r.id LIMIT 500`);
    return this.withAddresses(rows);
  }

  async get(id: string): Promise<(StoredTriageReport & { report: string }) | undefined> {
    const r = await this.engine.get<Row & { report: string }>(`SELECT ${COLS}, r.report FROM serve_triage_reports r WHERE r.id = ?`, [id]);
    if (!r) return undefined;
    const [withA] = await this.withAddresses([r]);
    return { ...withA!, report: r.report };
  }

  async latestByIp(ips?: readonly string[]): Promise<Map<string, HostTriage>> {
    const out = new Map<string, HostTriage>();
    if (ips !== undefined && ips.length === 0) return out;
    const params: SqlValue[] = [];
    let where = "";
    if (ips !== undefined) {
      where = `WHERE t.ip IN (${ips.map(() => "?").join(", ")})`;
      params.push(...ips);
    }
    const rows = await this.engine.all<{ ip: string; id: string; verdict: string; created_at: string; findings: number; name: string; hostname: string | null }>(
      `SELECT ip, id, verdict, created_at, findings, name, hostname FROM (
         SELECT t.ip, r.id, r.verdict, r.created_at, r.findings, r.name, r.hostname,
                ROW_NUMBER() OVER (PARTITION BY t.ip ORDER BY r.created_at DESC, r.id DESC) AS rn
         FROM triage_report_hosts t JOIN serve_triage_reports r ON r.id = t.report_id ${where}) x
       WHERE rn = 1`,
      params,
    );
    for (const r of rows) out.set(r.ip, { reportId: r.id, verdict: r.verdict, createdAt: r.created_at, findings: Number(r.findings), name: r.name, hostname: r.hostname });
    return out;
  }

  async forIp(ip: string): Promise<StoredTriageReport[]> {
    const rows = await this.engine.all<Row>(
      `SELECT ${COLS} FROM serve_triage_reports r JOIN triage_report_hosts t ON t.report_id = r.id WHERE t.ip = ? ORDER BY r.created_at DESC, r.id DESC LIMIT 100`,
      [ip],
    );
    return this.withAddresses(rows);
  }
}

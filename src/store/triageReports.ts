/** Triage reports kept by `vigie serve`: who uploaded which bundle, its verdict, and the JSON report. */
import type { TriageReportInfo, TriageReportStore } from "./store.js";
import type { SqlEngine } from "./sql/engine.js";

const COLS = 'id, "user" AS "user", name, created_at AS "createdAt", verdict, findings';

export class SqlTriageReports implements TriageReportStore {
  constructor(private readonly engine: SqlEngine) {}

  async add(r: TriageReportInfo & { report: string }): Promise<void> {
    await this.engine.run('INSERT INTO serve_triage_reports (id, "user", name, created_at, verdict, findings, report) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      r.id,
      r.user,
      r.name,
      r.createdAt,
      r.verdict,
      r.findings,
      r.report,
    ]);
  }

  async list(user?: string): Promise<TriageReportInfo[]> {
    const rows =
      user !== undefined
        ? await this.engine.all<TriageReportInfo>(`SELECT ${COLS} FROM serve_triage_reports WHERE "user" = ? ORDER BY created_at DESC LIMIT 500`, [user])
        : await this.engine.all<TriageReportInfo>(`SELECT ${COLS} FROM serve_triage_reports ORDER BY created_at DESC LIMIT 500`);
    return rows.map((r) => ({ ...r, findings: Number(r.findings) }));
  }

  async get(id: string): Promise<(TriageReportInfo & { report: string }) | undefined> {
    const r = await this.engine.get<TriageReportInfo & { report: string }>(`SELECT ${COLS}, report FROM serve_triage_reports WHERE id = ?`, [id]);
    return r ? { ...r, findings: Number(r.findings) } : undefined;
  }
}

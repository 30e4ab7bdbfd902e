/**
 * Notices to network owners (migration 7): one row per notice with the message as sent, its (server, CVE)
 * items, and per recipient the delivery state and the relay's reply. A notice is written with every recipient
 * `pending` before anything is sent; each send marks its recipients `sending` first and records the outcome
 * after, so a run killed at any point loses nothing (a `sending` recipient is sent again, with the same
 * Message-ID, on the next run).
 */
import type { CveStatus } from "../pipeline/vocabulary.js";
import type { SqlCensus } from "./census.js";
import type { SqlEngine } from "./sql/engine.js";
import type {
  DeliveryOutcome,
  DeliveryStatus,
  NewNotice,
  NoticeItem,
  NoticeKind,
  NoticeRecipient,
  NoticeRecord,
  NoticeStore,
  NotifiedItem,
  RemediationFacts,
  SeenState,
  Snapshot,
} from "./store.js";

interface NoticeRow {
  id: string;
  kind: NoticeKind;
  snapshot_id: string;
  organisation: string;
  language: string;
  notified_at: string;
  created_at: string;
  message_id: string;
}

interface ItemRow {
  notice_id: string;
  ip: string;
  port: number;
  hostname: string | null;
  cve: string;
  status: string;
  country: string | null;
  asn: number | string | null;
}

interface RecipientRow {
  notice_id: string;
  address: string;
  status: DeliveryStatus;
  reply: string | null;
  attempts: number;
  updated_at: string | null;
}

const NOTICE_COLS = "n.id, n.kind, n.snapshot_id, n.organisation, n.language, n.notified_at, n.created_at, n.message_id";

const toItem = (r: ItemRow): NoticeItem => ({
  ip: r.ip,
  port: Number(r.port),
  hostname: r.hostname,
  cve: r.cve,
  status: r.status as CveStatus,
  country: r.country,
  asn: r.asn === null ? null : Number(r.asn),
});
const toRecipient = (r: RecipientRow): NoticeRecipient => ({ address: r.address, status: r.status, reply: r.reply, attempts: Number(r.attempts), updatedAt: r.updated_at });

export class SqlNotices implements NoticeStore {
  constructor(
    private readonly engine: SqlEngine,
    private readonly census: SqlCensus,
    private readonly snapshots: () => Promise<Snapshot[]>,
    /** After every committed write (PostgreSQL bumps the store's change mark, so cached answers are dropped). */
    private readonly afterWrite: () => Promise<void> = async () => undefined,
  ) {}

  private async details(rows: NoticeRow[]): Promise<NoticeRecord[]> {
    const out: NoticeRecord[] = [];
    for (const r of rows) {
      const items = await this.engine.all<ItemRow>("SELECT * FROM notice_items WHERE notice_id = ? ORDER BY ip, cve", [r.id]);
      const recipients = await this.engine.all<RecipientRow>("SELECT * FROM notice_recipients WHERE notice_id = ? ORDER BY seq", [r.id]);
      out.push({
        id: r.id,
        kind: r.kind,
        snapshotId: r.snapshot_id,
        organisation: r.organisation,
        language: r.language,
        notifiedAt: r.notified_at,
        createdAt: r.created_at,
        messageId: r.message_id,
        items: items.map(toItem),
        recipients: recipients.map(toRecipient),
      });
    }
    return out;
  }

  async add(n: NewNotice): Promise<void> {
    const now = new Date().toISOString();
    await this.engine.transaction(async (tx) => {
      await tx.run("INSERT INTO notices (id, kind, snapshot_id, organisation, language, notified_at, created_at, message_id, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        n.id,
        n.kind,
        n.snapshotId,
        n.organisation,
        n.language,
        n.notifiedAt,
        now,
        n.messageId,
        n.raw,
      ]);
      for (const i of n.items) {
        await tx.run("INSERT INTO notice_items (notice_id, ip, port, hostname, cve, status, country, asn) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
          n.id,
          i.ip,
          i.port,
          i.hostname,
          i.cve,
          i.status,
          i.country,
          i.asn,
        ]);
      }
      for (let k = 0; k < n.recipients.length; k++) {
        await tx.run("INSERT INTO notice_recipients (notice_id, address, seq, status, updated_at) VALUES (?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING", [
          n.id,
          n.recipients[k]!,
          k,
          now,
        ]);
      }
    });
    await this.afterWrite();
  }

  async noticedItems(kind: NoticeKind, snapshotId: string, organisation: string): Promise<Set<string>> {
    const rows = await this.engine.all<{ ip: string; cve: string }>(
      "SELECT i.ip, i.cve FROM notice_items i JOIN notices n ON n.id = i.notice_id WHERE n.kind = ? AND n.snapshot_id = ? AND n.organisation = ?",
      [kind, snapshotId, organisation],
    );
    return new Set(rows.map((r) => `${r.ip}|${r.cve}`));
  }

  async undelivered(): Promise<Array<NoticeRecord & { raw: string }>> {
    const rows = await this.engine.all<NoticeRow & { raw: string }>(
      `SELECT ${NOTICE_COLS}, n.raw FROM notices n
       WHERE EXISTS (SELECT 1 FROM notice_recipients r WHERE r.notice_id = n.id AND r.status IN ('pending', 'sending', 'deferred'))
       ORDER BY n.created_at, n.organisation, n.id`,
    );
    const detailed = await this.details(rows);
    return detailed.map((d, i) => ({ ...d, raw: rows[i]!.raw }));
  }

  async markSending(noticeId: string, addresses: readonly string[], at: string): Promise<void> {
    await this.engine.transaction(async (tx) => {
      for (const a of addresses) {
        await tx.run("UPDATE notice_recipients SET status = 'sending', attempts = attempts + 1, updated_at = ? WHERE notice_id = ? AND address = ?", [at, noticeId, a]);
      }
    });
    await this.afterWrite();
  }

  async recordDelivery(noticeId: string, outcomes: readonly DeliveryOutcome[], at: string): Promise<void> {
    await this.engine.transaction(async (tx) => {
      for (const o of outcomes) {
        await tx.run("UPDATE notice_recipients SET status = ?, reply = ?, updated_at = ? WHERE notice_id = ? AND address = ?", [o.status, o.reply.slice(0, 2000), at, noticeId, o.address]);
      }
    });
    await this.afterWrite();
  }

  async list(filter: { snapshotId?: string; kind?: NoticeKind } = {}): Promise<NoticeRecord[]> {
    const clauses: string[] = [];
    const params: string[] = [];
    if (filter.snapshotId !== undefined) {
      clauses.push("n.snapshot_id = ?");
      params.push(filter.snapshotId);
    }
    if (filter.kind !== undefined) {
      clauses.push("n.kind = ?");
      params.push(filter.kind);
    }
    const rows = await this.engine.all<NoticeRow>(
      `SELECT ${NOTICE_COLS} FROM notices n${clauses.length ? ` WHERE ${clauses.join(" AND ")}` : ""} ORDER BY n.created_at, n.organisation, n.id`,
      params,
    );
    return this.details(rows);
  }

  async raw(noticeId: string): Promise<string | undefined> {
    return (await this.engine.get<{ raw: string }>("SELECT raw FROM notices WHERE id = ?", [noticeId]))?.raw;
  }

  async remediationFacts(): Promise<RemediationFacts> {
    const snapshots = await this.snapshots();
    for (const s of snapshots) await this.census.refresh(s.id);
    const items = (
      await this.engine.all<ItemRow & { organisation: string; snapshot_id: string; notified_at: string }>(
        `SELECT i.*, n.organisation, n.snapshot_id, n.notified_at FROM notice_items i JOIN notices n ON n.id = i.notice_id
         WHERE n.kind = 'notice' AND EXISTS (SELECT 1 FROM notice_recipients r WHERE r.notice_id = n.id AND r.status = 'sent')
         ORDER BY n.notified_at, i.ip, i.cve`,
      )
    ).map((r): NotifiedItem => ({ ...toItem(r), noticeId: r.notice_id, organisation: r.organisation, snapshotId: r.snapshot_id, notifiedAt: r.notified_at }));
    const seen = await this.engine.all<SeenState>(
      `SELECT c.snapshot_id AS "snapshotId", c.ip AS ip, k.key AS "statusKey"
         FROM census_hosts c JOIN census_keys k ON k.id = c.key_id WHERE c.ip IN (SELECT ip FROM notice_items)
       UNION ALL
       SELECT DISTINCT h.snapshot_id, h.ip, NULL FROM hosts h
         WHERE h.ip IN (SELECT ip FROM notice_items)
           AND NOT EXISTS (SELECT 1 FROM hosts x WHERE x.snapshot_id = h.snapshot_id AND x.ip = h.ip AND x.is_exchange = 1)
       UNION ALL
       SELECT DISTINCT d.snapshot_id, d.ip, NULL FROM scan_done d
         WHERE d.ip IN (SELECT ip FROM notice_items) AND NOT EXISTS (SELECT 1 FROM hosts x WHERE x.snapshot_id = d.snapshot_id AND x.ip = d.ip)`,
    );
    return { snapshots, items, seen };
  }
}

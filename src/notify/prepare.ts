/**
 * The notices of one snapshot, planned and composed but neither recorded nor sent: what `vigie notify` records
 * and sends, what `vigie notify --dry-run` writes as .eml files, and what the dashboard's dry run shows.
 */
import { supportJudge } from "../census/endOfSupport.js";
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import type { OwnerRow, Store } from "../store/store.js";
import type { ContactBook } from "./contacts.js";
import { composeNotice, planNotices, type ComposeContext, type ComposedNotice, type Plan } from "./notify.js";

/** Keep only what the CSV and the text use of an observation (a stored one can be tens of kilobytes). */
export function slimOwnerRow(row: OwnerRow): OwnerRow {
  const { certificate: _certificate, ntlm, ...o } = row.observation;
  const netbiosComputer = ntlm?.netbiosComputer;
  return { ...row, observation: { ...o, evidence: [], errors: [], ...(netbiosComputer !== undefined ? { ntlm: { netbiosComputer } } : {}) } };
}

export async function snapshotInfo(store: Store, id: string): Promise<ComposeContext["snapshot"]> {
  const s = await store.getSnapshot(id);
  if (!s) throw new Error(`no snapshot ${JSON.stringify(id)}`);
  const format = typeof s.spec.format === "string" ? s.spec.format : null;
  return { id: s.id, date: s.date, kind: s.kind, format };
}

/** The per-CVE CSV columns and campaign names the messages use, from the knowledge base. */
export function noticeKnowledge(kb: KnowledgeBase): Pick<ComposeContext, "cveIds" | "campaigns" | "support"> {
  return {
    support: supportJudge(kb),
    cveIds: kb.advisories.map((a) => a.id).sort(),
    campaigns: new Map(kb.advisories.filter((a) => a.campaign !== undefined).map((a) => [a.id, a.campaign!])),
  };
}

export interface PrepareOptions {
  snapshotId: string;
  from: string;
  /** The notice time (ISO). */
  at: string;
  cves?: ReadonlySet<string>;
  unknown: boolean;
  /** Only servers this returns true for (a constituency); every server when undefined. */
  include?: (ip: string, asn: number | null) => boolean;
}

export interface PreparedNotices {
  plan: Plan;
  composed: ComposedNotice[];
}

/** Plan (servers -> owners, minus what each organisation was already told for this snapshot) and compose. */
export async function prepareNotices(store: Store, book: ContactBook, kb: Pick<ComposeContext, "cveIds" | "campaigns" | "support">, o: PrepareOptions): Promise<PreparedNotices> {
  const snapshot = await snapshotInfo(store, o.snapshotId);
  const rows = (async function* () {
    for await (const r of store.census.owners(o.snapshotId, "ip")) if (!o.include || o.include(r.ip, r.asn)) yield slimOwnerRow(r);
  })();
  const plan = await planNotices(rows, book, { unknown: o.unknown, ...(o.cves ? { cves: o.cves } : {}) }, (org) => store.notices.noticedItems("notice", o.snapshotId, org));
  const composed: ComposedNotice[] = [];
  for (const p of plan.orgs) composed.push(await composeNotice(p, { kind: "notice", from: o.from, at: o.at, snapshot, ...kb }));
  return { plan, composed };
}

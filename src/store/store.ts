/**
 * The store interface: snapshots (one per scan or import), the hosts seen in each with their observation,
 * identification and assessment, scan progress for resuming, census counts, the dashboard's host lists,
 * accounts and triage reports. The CLI and the server reach storage only through it. One implementation over
 * SQL (sqlStore.ts) runs on SQLite (the embedded default) and PostgreSQL (teams); one schema (migrations.ts).
 */
import type { KnowledgeBase } from "../knowledge/knowledgeBase.js";
import type { Assessment, Confidence, CveStatus, CveVerdict, Identification, Observation } from "../pipeline/vocabulary.js";

export type SnapshotKind = "scan" | "import";
export type SnapshotStatus = "running" | "done" | "interrupted";

export interface Snapshot {
  id: string;
  kind: SnapshotKind;
  /** The day the data describes (YYYY-MM-DD): census and trends are by this date. */
  date: string;
  createdAt: string;
  finishedAt: string | null;
  status: SnapshotStatus;
  /** What produced it: scan targets and options, or the imported file and format. */
  spec: Record<string, unknown>;
}

/** A stored host: its observation and identification, the Assessment made of them, and its enrichment. */
export interface HostRecord extends Assessment {
  snapshotId: string;
  ip: string;
  port: number;
  hostname: string | null;
  observedAt: string;
  observation: Observation;
  identification: Identification;
  /** Enrichment (country ISO 3166 alpha-2, ASN, organisation), filled where known. */
  country: string | null;
  asn: number | null;
  asOrg: string | null;
  assessedAt: string;
}

export interface HostQuery {
  snapshotId: string;
  /** Only hosts with at least one CVE in this status (with `cve`, that CVE in this status). */
  status?: CveStatus;
  cve?: string;
  exchangeOnly?: boolean;
  country?: string;
  asn?: number;
  limit?: number;
  offset?: number;
}

export interface TargetKey {
  ip: string;
  port: number;
}

/** A constituency: the address ranges and ASNs a user may see (src/serve/auth/constituency.ts builds it). */
export interface StoreScope {
  /** Stable id of the same ranges and ASNs (cache keys). */
  readonly id: string;
  /** CIDRs ("192.0.2.0/24", "2001:db8::/32") and single addresses. */
  readonly cidrs: readonly string[];
  readonly asns: readonly number[];
  contains(ip: string, asn: number | null): boolean;
}

export type GroupColumn = "country" | "asn" | "product" | "cu" | "none";

export interface CensusCountRow {
  group: string | number | null;
  key: string;
  n: number;
}

export interface CensusFilter {
  country?: string;
  /** Only servers inside this constituency. */
  scope?: StoreScope;
  /** Only servers identified at least this surely (high > medium > low); low or absent: every server. */
  minConfidence?: Confidence;
}

/** Servers of a census group per identification confidence. */
export interface ConfidenceCountRow {
  group: string | number | null;
  confidence: Confidence;
  n: number;
}

export interface DiffCountRows {
  both: Array<{ group: string | number | null; before: string; after: string; n: number }>;
  appeared: CensusCountRow[];
  disappeared: CensusCountRow[];
}

/** An Exchange server of a snapshot for owner reports, with the first/last snapshot date it was seen. */
export interface OwnerRow {
  ip: string;
  port: number;
  hostname: string | null;
  observed_at: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  /** Its verdicts, rendered from the stored statuses with the store's knowledge base. */
  cves: CveVerdict[];
  observation: Observation;
  first_seen: string;
  last_seen: string;
}

/**
 * Census counts over one row per Exchange SERVER of a snapshot (per distinct IP, its most precise Exchange
 * record: exact > cu > major > unknown, then port 443), rebuilt when the snapshot's hosts change.
 */
export interface CensusStore {
  /** Servers per (group, status key) in one snapshot. */
  counts(snapshotId: string, by: GroupColumn, filter?: CensusFilter): Promise<CensusCountRow[]>;
  /** An organisation name recorded for each ASN in a snapshot (for labels). */
  asnNames(snapshotId: string): Promise<Map<number, string>>;
  /** Servers of two snapshots matched by IP: pairs of status keys, and the servers only in one of them. */
  diff(from: string, to: string, by: GroupColumn, filter?: CensusFilter): Promise<DiffCountRows>;
  /** Every Exchange server of a snapshot, ordered by ASN then IP, or by IP. */
  owners(snapshotId: string, orderBy: "asn" | "ip"): AsyncIterable<OwnerRow>;
  /** Rebuild a snapshot's census rows if its hosts changed; true when rebuilt. */
  refresh(snapshotId: string): Promise<boolean>;
  /** Servers per (group, identification confidence), same servers and filters as counts. */
  confidenceCounts(snapshotId: string, by: GroupColumn, filter?: CensusFilter): Promise<ConfidenceCountRow[]>;
  /** Servers per (group, verdict of the newest triage report attached to their IP), same servers and filters as counts. */
  triageCounts(snapshotId: string, by: GroupColumn, filter?: CensusFilter): Promise<TriageCountRow[]>;
  /** Servers per (group, stored product name), same servers and filters as counts (end-of-support counts are judged from it). */
  productCounts(snapshotId: string, by: GroupColumn, filter?: CensusFilter): Promise<ProductCountRow[]>;
}

/** Servers of a census group whose stored product has this name (null: not told). */
export interface ProductCountRow {
  group: string | number | null;
  product: string | null;
  n: number;
}

export const HOST_SORTS = ["id", "ip", "country", "asn", "product", "build", "observed"] as const;
export type HostSort = (typeof HOST_SORTS)[number];

/** The dashboard's host list: filters, order, paging. */
export interface HostListQuery {
  snapshot: string;
  status?: string;
  cve?: string;
  country?: string;
  asn?: number;
  exchange?: boolean;
  /** Address prefix ("192.0.2."). */
  ip?: string;
  sort: HostSort;
  order: "asc" | "desc";
  limit: number;
  offset: number;
  /**
   * Keyset paging, any sort: hosts after this one in the list's order (the last host of the previous page, by
   * its key in the snapshot; `vigie serve` hands it out sealed in an opaque cursor).
   */
  after?: { ip: string; port: number };
}

/** One host of the list: only what a list shows. */
export interface HostSummaryRow {
  id: number;
  ip: string;
  port: number;
  hostname: string | null;
  title: string | null;
  isExchange: boolean;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  /** How surely it was identified as Exchange (null: not Exchange, or stored before confidence was recorded). */
  confidence: Confidence | null;
  country: string | null;
  asn: number | null;
  asOrg: string | null;
  observedAt: string;
  /** CVE ids in status vulnerable, sorted. */
  vulnerable: string[];
}

export interface HostHistoryRow {
  snapshot: string;
  date: string;
  build: string | null;
  product: string | null;
  vulnerable: string[];
}

export interface HostListStore {
  count(q: HostListQuery, scope?: StoreScope): Promise<number>;
  page(q: HostListQuery, scope?: StoreScope): Promise<HostSummaryRow[]>;
  /** Every host matching (no paging), in the list's order. */
  all(q: Omit<HostListQuery, "limit" | "offset" | "after">, scope?: StoreScope): AsyncIterable<HostSummaryRow>;
  /**
   * Every record of one ip:port across snapshots, newest first (at most 100); with a scope, only the snapshots
   * in which the address was inside it by that snapshot's own row (its ASN then).
   */
  history(ip: string, port: number, scope?: StoreScope): Promise<HostHistoryRow[]>;
}

export const ROLES = ["admin", "analyst", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  name: string;
  role: Role;
  /** CIDRs and ASNs ("AS64500" or "64500") the user is limited to; empty = everything. */
  constituency: string[];
  createdAt: string;
}

export interface TokenInfo {
  id: string;
  user: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Accounts of `vigie serve`: users, API tokens (stored as SHA-256), dashboard sessions (id as SHA-256). */
export interface AccountStore {
  addUser(u: { name: string; role: Role; constituency: string[]; password: string | null }): Promise<User>;
  getUser(name: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  /** Removes the user with its tokens and sessions. */
  removeUser(name: string): Promise<boolean>;
  /** The user if the password is right; undefined otherwise (also for users without a password). */
  verifyLogin(name: string, password: string): Promise<User | undefined>;
  /** A new API token: the secret is returned once; only its SHA-256 is stored. */
  createToken(user: string): Promise<{ id: string; token: string }>;
  /** Revoke by token id or by the token itself. */
  revokeToken(idOrToken: string): Promise<boolean>;
  listTokens(user?: string): Promise<TokenInfo[]>;
  userForToken(token: string): Promise<User | undefined>;
  createSession(user: string): Promise<{ id: string; csrf: string }>;
  sessionUser(id: string): Promise<{ user: User; csrf: string } | undefined>;
  deleteSession(id: string): Promise<void>;
}

export interface TriageReportInfo {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  verdict: string;
  findings: number;
}

/** Where a report came from, and the server it names (collector manifest and/or --host). */
export interface TriageReportServer {
  source: "cli" | "upload";
  hostname: string | null;
  fqdn: string | null;
  /** The IP addresses the report is attached to: hosts with these addresses carry its verdict. */
  addresses: string[];
}

export type StoredTriageReport = TriageReportInfo & TriageReportServer;

/** A host's triage: the newest report attached to its IP address. */
export interface HostTriage {
  reportId: string;
  verdict: string;
  createdAt: string;
  findings: number;
  name: string;
  hostname: string | null;
}

/** Triage reports, from `vigie triage --db` and dashboard uploads (the JSON report as text), attached to hosts by IP. */
export interface TriageReportStore {
  add(r: TriageReportInfo & { report: string } & Partial<TriageReportServer>): Promise<void>;
  /** Newest first, at most 500; only this user's when given. */
  list(user?: string): Promise<StoredTriageReport[]>;
  get(id: string): Promise<(StoredTriageReport & { report: string }) | undefined>;
  /** The newest report attached to each of these addresses (all attached addresses when omitted). */
  latestByIp(ips?: readonly string[]): Promise<Map<string, HostTriage>>;
  /** Every report attached to one address, newest first (at most 100). */
  forIp(ip: string): Promise<StoredTriageReport[]>;
}

/** Servers of a census group per triage verdict (the newest report attached to each server's IP). */
export interface TriageCountRow {
  group: string | number | null;
  verdict: string;
  n: number;
}

/** Notices to network owners (issue 11): what was sent to whom about which (server, CVE), and how it went. */
export type NoticeKind = "notice" | "reminder";
/** pending: recorded, not yet tried; sending: handed to the relay, outcome not recorded (an interrupted run). */
export type DeliveryStatus = "pending" | "sending" | "sent" | "deferred" | "failed";

export interface NoticeItem {
  ip: string;
  port: number;
  hostname: string | null;
  cve: string;
  /** The verdict the notice told (vulnerable, or unknown with --unknown). */
  status: CveStatus;
  country: string | null;
  asn: number | null;
}

export interface NewNotice {
  id: string;
  kind: NoticeKind;
  /** The snapshot the notice reports (for a reminder: the newest one showing the servers still vulnerable). */
  snapshotId: string;
  organisation: string;
  language: string;
  /** The notice time (--at, default now). */
  notifiedAt: string;
  messageId: string;
  /** The whole RFC 5322 message as it is sent (and sent again, unchanged, on a retry). */
  raw: string;
  recipients: readonly string[];
  items: readonly NoticeItem[];
}

export interface NoticeRecipient {
  address: string;
  status: DeliveryStatus;
  /** The relay's last reply (or the error) for this recipient. */
  reply: string | null;
  attempts: number;
  updatedAt: string | null;
}

export interface NoticeRecord {
  id: string;
  kind: NoticeKind;
  snapshotId: string;
  organisation: string;
  language: string;
  notifiedAt: string;
  createdAt: string;
  messageId: string;
  recipients: NoticeRecipient[];
  items: NoticeItem[];
}

export interface DeliveryOutcome {
  address: string;
  status: "sent" | "deferred" | "failed";
  reply: string;
}

/** A (server, CVE) told to an organisation in a notice that reached at least one recipient. */
export interface NotifiedItem extends NoticeItem {
  noticeId: string;
  organisation: string;
  snapshotId: string;
  notifiedAt: string;
}

/** What a snapshot shows of one notified address: its Exchange status key, or null when covered but not Exchange. */
export interface SeenState {
  snapshotId: string;
  ip: string;
  /** "CVE-A=vulnerable;CVE-B=patched", or null: scanned or recorded but no Exchange server there. */
  statusKey: string | null;
}

export interface RemediationFacts {
  /** Every snapshot, oldest first. */
  snapshots: Snapshot[];
  items: NotifiedItem[];
  /** For the notified addresses only: what each snapshot recorded there. */
  seen: SeenState[];
}

/** Notices and what became of them (src/notify uses it; a dashboard page can too). */
export interface NoticeStore {
  /** Record a notice with its items and its recipients (all pending), in one transaction, before it is sent. */
  add(notice: NewNotice): Promise<void>;
  /** "ip|cve" of the items already in notices of this kind, snapshot and organisation. */
  noticedItems(kind: NoticeKind, snapshotId: string, organisation: string): Promise<Set<string>>;
  /** Notices with a recipient pending, sending (interrupted run) or deferred, oldest first, with their message. */
  undelivered(): Promise<Array<NoticeRecord & { raw: string }>>;
  /** Mark recipients as handed to the relay (attempts + 1) just before the message goes. */
  markSending(noticeId: string, addresses: readonly string[], at: string): Promise<void>;
  recordDelivery(noticeId: string, outcomes: readonly DeliveryOutcome[], at: string): Promise<void>;
  /** Notices, oldest first (optionally of one snapshot or kind), without their message bytes. */
  list(filter?: { snapshotId?: string; kind?: NoticeKind }): Promise<NoticeRecord[]>;
  /** The message of one notice as sent (RFC 5322), for reading it again. */
  raw(noticeId: string): Promise<string | undefined>;
  /** Notified items and what every snapshot shows at their addresses, for remediation tracking. */
  remediationFacts(): Promise<RemediationFacts>;
}

export interface Store {
  /** Where the data is, for people: the SQLite file, or the PostgreSQL URL without its password. */
  readonly label: string;
  readonly census: CensusStore;
  readonly hostList: HostListStore;
  readonly accounts: AccountStore;
  readonly triageReports: TriageReportStore;
  readonly notices: NoticeStore;
  /** Changes whenever the data may have changed (cached answers keyed by it). Cheap. */
  changeMark(): Promise<string>;
  /**
   * The knowledge base whose words (reasons, fixing builds, remediation) are given to the stored per-CVE
   * statuses when hosts are read; default: the built-in one with the updates in $VIGIE_KB_DIR, loaded on first use.
   */
  useKnowledgeBase(kb: KnowledgeBase): void;
  /** Tune this connection for a bulk load (an import): optional. */
  bulkLoadSettings?(): void;

  createSnapshot(snapshot: Omit<Snapshot, "createdAt" | "finishedAt" | "status"> & { status?: SnapshotStatus }): Promise<Snapshot>;
  getSnapshot(id: string): Promise<Snapshot | undefined>;
  /** Oldest first. */
  listSnapshots(): Promise<Snapshot[]>;
  /** The newest snapshot (by date, then creation). */
  latestSnapshot(): Promise<Snapshot | undefined>;
  setSnapshotStatus(id: string, status: SnapshotStatus): Promise<void>;

  /** The scan's target lines as given (so a resume needs neither the file nor stdin again). */
  addScanInputs(snapshotId: string, lines: readonly string[]): Promise<void>;
  scanInputs(snapshotId: string): Promise<string[]>;

  /**
   * Save a batch in one transaction: host records (insert, or replace the same snapshot+ip+port) and the targets
   * now finished (including those that did not answer). A batch is all or nothing.
   */
  saveBatch(snapshotId: string, hosts: readonly HostRecord[], done: readonly TargetKey[]): Promise<void>;
  /** Targets of a scan already finished, as "ip|port" keys. */
  finishedTargets(snapshotId: string): Promise<Set<string>>;

  countHosts(query: HostQuery): Promise<number>;
  hosts(query: HostQuery): AsyncIterable<HostRecord>;
  host(snapshotId: string, ip: string, port: number): Promise<HostRecord | undefined>;

  close(): Promise<void>;
}

export const targetKey = (ip: string, port: number): string => `${ip}|${port}`;

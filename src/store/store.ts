/**
 * The store interface: snapshots (one per scan or import), the hosts seen in each with their observation,
 * identification and assessment, and scan progress for resuming. SQLite (sqliteStore.ts) is the embedded
 * default; the interface is asynchronous so that a PostgreSQL store can implement it unchanged.
 */
import type { CveStatus, CveVerdict, Precision } from "../pipeline/vocabulary.js";
import type { Identification } from "../pipeline/vocabulary.js";
import type { Observation } from "../pipeline/vocabulary.js";

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

export interface HostRecord {
  snapshotId: string;
  ip: string;
  port: number;
  hostname: string | null;
  observedAt: string;
  observation: Observation;
  identification: Identification;
  isExchange: boolean;
  /** Product display name, null when not Exchange or not known. */
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: Precision;
  cves: CveVerdict[];
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

export interface Store {
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

// Shapes of the API's answers (see /api/openapi.json).
export interface Session {
  user: string;
  role: "admin" | "analyst" | "viewer";
  constituency: string[];
  csrf: string | null;
}
export interface Snapshot {
  id: string;
  kind: string;
  date: string;
  status: string;
}
export interface CveCounts {
  vulnerable: number;
  patched: number;
  unknown: number;
}
export interface Census {
  snapshot: string;
  by: string;
  groups: Array<{
    key: string;
    exposed: number;
    cves: Record<string, CveCounts>;
    triage: { compromised: number; suspicious: number; clean: number };
    /** Servers by Microsoft support of their product on the snapshot's date. */
    endOfSupport: { outOfSupport: number; supported: number; unknown: number };
  }>;
}
export interface HostSummary {
  ip: string;
  port: number;
  hostname: string | null;
  title: string | null;
  isExchange: boolean;
  product: string | null;
  cu: string | null;
  build: string | null;
  precision: string;
  country: string | null;
  asn: number | null;
  asOrg: string | null;
  vulnerable: string[];
  observedAt: string;
  /** The product's last day of Microsoft support (null: none, or not known). */
  endOfSupport: string | null;
  /** Out of support on the snapshot's date; null when the product is not known. */
  outOfSupport: boolean | null;
}
export interface HostList {
  snapshot: string;
  total: number;
  offset: number;
  limit: number;
  hosts: HostSummary[];
}
export interface CveVerdict {
  id: string;
  status: string;
  reason: string;
  fixedIn: string | null;
  remediation: string | null;
}
export interface Evidence {
  probe: string;
  kind: string;
  field: string;
  value: string;
  build?: string;
}
export interface HostDetail {
  snapshot: string;
  host: HostSummary & {
    assessedAt: string;
    cves: CveVerdict[];
    observation: {
      title?: string;
      source: string;
      tls: boolean;
      evidence: Evidence[];
      errors: string[];
      certificate?: { subject: string; issuer: string; sans: string[]; validFrom: string; validTo: string; fingerprint256: string; selfSigned: boolean };
      ntlm?: Record<string, string>;
    };
  };
  explanation: Explanation | null;
  history: Array<{ snapshot: string; date: string; build: string | null; product: string | null; vulnerable: string[] }>;
  /** Triage reports attached to the host's IP, newest first (the first is its verdict). */
  triage: Array<{ id: string; verdict: string; createdAt: string; findings: number; name: string; source: string; hostname: string | null; fqdn: string | null }>;
}
export interface Explanation {
  build: string;
  product: string | null;
  cu: string | null;
  update: string | null;
  releaseDate: string | null;
  precision: string;
  candidates: string[];
  cves: CveVerdict[];
}
export interface KbCve {
  id: string;
  title: string;
  campaign: string | null;
  published: string;
  cvss: number | null;
  kev: boolean;
  summary: string;
}
export interface Finding {
  rule: string;
  title: string;
  severity: string;
  effect: string;
  cve: string | null;
  file: string;
  line: number | null;
  timestamp: string | null;
  sourceIp: string | null;
  excerpt: string;
}
export interface TriageSummary {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  verdict: string;
  findings: number;
}
export interface TriageReport {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  verdict: string;
  hostname: string | null;
  fqdn: string | null;
  addresses: string[];
  report: { verdict: string; findings: Finding[]; problems: Array<{ file: string; message: string }>; coverage: Array<{ logType: string; files: number; lines: number; first: string | null; last: string | null }> };
}
export interface RemediationGroup {
  key: string;
  notified: number;
  remediated: number;
  stillVulnerable: number;
  unknown: number;
  gone: number;
  medianDaysToFix: number | null;
  p90DaysToFix: number | null;
}
export interface RemediationSeries {
  by: string;
  cves: string[];
  snapshots: Array<{ id: string; date: string; kind: string }>;
  series: Array<{ key: string; points: Array<{ snapshot: string; date: string; notified: number; stillVulnerable: number }> }>;
  events: Array<{ id: string; date: string; kind: string; title: string; campaign: string; cves: string[]; sources: string[] }>;
  sources: Record<string, { id: string; title?: string; url: string } | null>;
}
export interface OverdueServer {
  organisation: string;
  ip: string;
  port: number;
  hostname: string | null;
  cve: string;
  country: string | null;
  asn: number | null;
  notifiedAt: string;
  daysSinceNotice: number;
  snapshot: string;
  snapshotDate: string;
}
export interface NoticeItem {
  ip: string;
  port: number;
  hostname: string | null;
  cve: string;
  status: string;
  country: string | null;
  asn: number | null;
}
export interface NoticeSummary {
  id: string;
  kind: string;
  snapshotId: string;
  organisation: string;
  language: string;
  notifiedAt: string;
  messageId: string;
  recipients: Array<{ address: string; status: string; reply: string | null; attempts: number }>;
  items: NoticeItem[];
}
export interface DryRunResult {
  dryRun: true;
  snapshot: string;
  at: string;
  contacts: { organisations: number; rows: number; skipped: number; badRows: Array<{ line: number; reason: string }> };
  unowned: number;
  alreadyNotified: number;
  total: number;
  organisations: Array<{ organisation: string; recipients: string[]; language: string; servers: number; items: number }>;
  messages: Array<{
    organisation: string;
    recipients: string[];
    language: string;
    subject: string;
    messageId: string;
    servers: number;
    items: NoticeItem[];
    text: string;
    attachment: { filename: string; contentType: string; content: string };
  }>;
}

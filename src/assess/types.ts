/** The vocabulary of an Assessment: per-CVE verdicts for one identified build. */

export type CveStatus = "vulnerable" | "patched" | "not_affected" | "unknown";
export const CVE_STATUSES: readonly CveStatus[] = ["vulnerable", "patched", "not_affected", "unknown"];

/** How much of the build is known: all 4 parts, the CU (3 parts), the major version, or nothing usable. */
export type Precision = "exact" | "cu" | "major" | "unknown";

export interface CveVerdict {
  id: string;
  status: CveStatus;
  /** Why, in a sentence an admin can check. */
  reason: string;
  /** The first build on this server's CU line that fixes the CVE; null where the line never got a fix. */
  fixedIn: string | null;
  /** What to install; null when nothing is needed. */
  remediation: string | null;
}

export interface BuildExplanation {
  /** The build as given, normalised (leading zeros removed); the raw input where it is not a build number. */
  build: string;
  /** "Exchange Server 2016"; null when the product cannot be told. */
  product: string | null;
  /** CU line: "CU19", "SP3" (2010), "RTM"; null when not known. */
  cu: string | null;
  /** The update name when the exact build is known: "Mar21SU", "CU19"; null otherwise. */
  update: string | null;
  releaseDate: string | null;
  precision: Precision;
  /** Known builds this server could be running. */
  candidates: string[];
  /**
   * Where the given value is a version servers report that is not a release build (2019 CU9 reports OWA
   * version 15.2.858.2, installed build 15.2.858.5): the installed build and why.
   */
  reportedAlias?: { installedBuild: string; seenIn: string; note: string; sources: string[] } | undefined;
  /** Last day of Microsoft's support for the product; null when it has none (or the product is not known). */
  endOfSupport?: string | null;
  cves: CveVerdict[];
}

/** Assessment types of src/assess; the verdict vocabulary itself lives in src/pipeline/vocabulary.ts. */
import type { CveVerdict, Precision } from "../pipeline/vocabulary.js";

export { CVE_STATUSES } from "../pipeline/vocabulary.js";
export type { CveStatus, CveVerdict, Precision } from "../pipeline/vocabulary.js";

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

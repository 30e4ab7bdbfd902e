/**
 * Schemas of the knowledge-base data files (knowledge/builds/*.json, knowledge/advisories/*.json).
 * Every file is validated with these at load; a file that does not validate is refused as a whole,
 * with the path and the offending field named.
 */
import { z } from "zod";

/** Product keys Vigie knows. "SE" is Exchange Server Subscription Edition. */
export const PRODUCT_KEYS = ["2010", "2013", "2016", "2019", "SE"] as const;
export const productKeySchema = z.enum(PRODUCT_KEYS);
export type ProductKey = z.infer<typeof productKeySchema>;

/** A 4-part build number as Exchange reports it, without leading zeros: 15.1.2176.9 */
export const buildNumberSchema = z
  .string()
  .regex(/^(0|[1-9]\d{0,4})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/, "expected a 4-part build like 15.1.2176.9");

export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date YYYY-MM-DD")
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), "not a real date");

export const kbSchema = z.string().regex(/^KB\d{6,8}$/, "expected a KB number like KB5000871");

/** A cited source: every record names one or more of these by id. */
export const sourceSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    title: z.string().min(1),
    /** Where the fact can be checked: a URL, or repository + path (+ commit). */
    url: z.string().min(1),
    /** When the source was read (the snapshot date of a repository, or the day of reading). */
    retrieved: isoDateSchema.optional(),
  })
  .strict();
export type Source = z.infer<typeof sourceSchema>;

/**
 * Kinds of update:
 *  - rtm / cu / sp: a full installer that starts a new line (for 2013, "SP1" is the line that CU4 would have been);
 *  - su: security update on a line; hu: hotfix update on a line (both cumulative on their line unless `cumulative: false`);
 *  - ru: an update rollup (Exchange 2010 SP3, line "SP3").
 */
export const updateKindSchema = z.enum(["rtm", "cu", "sp", "su", "hu", "ru"]);
export type UpdateKind = z.infer<typeof updateKindSchema>;

export const buildRecordSchema = z
  .object({
    build: buildNumberSchema,
    /** The CU line the build belongs to: "RTM", "CU19", "SP1" (2013), "SP3" (2010). */
    line: z.string().regex(/^(RTM|CU\d{1,2}|SP\d)$/),
    /** The name of this update on its line: the line name itself for the CU, else e.g. "Mar21SU", "Aug23SUv2", "Apr24HU", "RU32". */
    update: z.string().regex(/^[A-Za-z0-9]+$/),
    kind: updateKindSchema,
    releaseDate: isoDateSchema,
    /** True when only the month is known from the sources (date is then the first of the month). */
    dateApproximate: z.boolean().optional(),
    kb: kbSchema.optional(),
    /**
     * False for an update that carries only the fixes it names (the March 2021 SUs for out-of-support CUs):
     * installing it does not imply the line's earlier security updates are installed.
     */
    cumulative: z.boolean().optional(),
    /** With cumulative:false, the CVEs this update fixes. */
    namedFixes: z.array(z.string().regex(/^CVE-\d{4}-\d{4,7}$/)).optional(),
    /** Source ids (from the file's `sources`) that list this build. */
    sources: z.array(z.string()).min(1),
    note: z.string().optional(),
    /**
     * Why a build that rests on one third-party source (righel/eightwone) is kept: the audit's decision and
     * reason. Builds found to be something else are listed in `reportedAliases` instead.
     */
    audit: z
      .object({ decision: z.literal("keep"), reason: z.string().min(1) })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.cumulative === false && (b.namedFixes === undefined || b.namedFixes.length === 0)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: "cumulative:false needs namedFixes" });
    }
  });
export type BuildRecord = z.infer<typeof buildRecordSchema>;

/**
 * A version a server reports that is not a release build: e.g. Exchange 2019 CU9 servers report OWA version
 * 15.2.858.2 while the installed build is 15.2.858.5. Explaining the reported value explains the installed build.
 */
export const reportedAliasSchema = z
  .object({
    /** The value servers show (X-OWA-Version, owaVer, the OWA path, the registry OwaVersion). */
    reported: buildNumberSchema,
    /** The release build that is installed when that value is shown; must be in the builds table. */
    build: buildNumberSchema,
    /** Where the value is seen. */
    seenIn: z.string().min(1),
    sources: z.array(z.string()).min(1),
    note: z.string().min(1),
  })
  .strict();
export type ReportedAlias = z.infer<typeof reportedAliasSchema>;

export const productBuildsFileSchema = z
  .object({
    product: productKeySchema,
    /** Display name: "Exchange Server 2016". */
    name: z.string().min(1),
    /** Major.minor prefix of every build of the product: "15.1". */
    major: z.string().regex(/^\d+\.\d+$/),
    sources: z.array(sourceSchema).min(1),
    builds: z.array(buildRecordSchema).min(1),
    reportedAliases: z.array(reportedAliasSchema).optional(),
  })
  .strict();

/** knowledge/lifecycle.json: per product, the end of Microsoft's support (extended support end). */
export const lifecycleFileSchema = z
  .object({
    sources: z.array(sourceSchema).min(1),
    products: z
      .array(
        z
          .object({
            product: productKeySchema,
            /** Last day of support; null for a product under the Modern Lifecycle Policy with no end date yet. */
            endOfSupport: isoDateSchema.nullable(),
            note: z.string().optional(),
            sources: z.array(z.string()).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type LifecycleFile = z.infer<typeof lifecycleFileSchema>;

/**
 * knowledge/platforms.json: the Windows Server versions Microsoft's supportability matrix lists per product, and
 * the IIS version each ships. The identification uses it to tell a real server from an imitation (a build its
 * own IIS could not run) and to accept a page-only answer (the IIS version the product can run on).
 */
export const platformsFileSchema = z
  .object({
    sources: z.array(sourceSchema).min(1),
    windows: z
      .array(
        z
          .object({
            name: z.string().regex(/^Windows Server \d{4}( R2)?( SP\d)?$/, 'expected a name like "Windows Server 2012 R2"'),
            iis: z.string().regex(/^\d{1,2}\.\d$/, 'expected an IIS version like "8.5"'),
            sources: z.array(z.string()).min(1),
          })
          .strict(),
      )
      .min(1),
    products: z
      .array(
        z
          .object({
            product: productKeySchema,
            windows: z.array(z.string()).min(1),
            note: z.string().optional(),
            sources: z.array(z.string()).min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
export type PlatformsFile = z.infer<typeof platformsFileSchema>;
export type ProductBuildsFile = z.infer<typeof productBuildsFileSchema>;

/** The update that fixes a CVE on one CU line. */
export const lineFixSchema = z
  .object({
    product: productKeySchema,
    line: z.string().regex(/^(RTM|CU\d{1,2}|SP\d)$/),
    /** First build on that line that carries the fix (must exist in the builds table). */
    fixedIn: buildNumberSchema,
    /** Update name of that build ("Mar21SU", "CU20", "RU32"). */
    update: z.string(),
    kb: kbSchema.optional(),
    sources: z.array(z.string()).min(1),
    note: z.string().optional(),
  })
  .strict();
export type LineFix = z.infer<typeof lineFixSchema>;

export const kevSchema = z
  .object({
    dateAdded: isoDateSchema,
    dueDate: isoDateSchema,
    knownRansomwareCampaignUse: z.enum(["Known", "Unknown"]),
    vulnerabilityName: z.string().optional(),
    requiredAction: z.string().optional(),
  })
  .strict();
export type Kev = z.infer<typeof kevSchema>;

export const advisorySchema = z
  .object({
    id: z.string().regex(/^CVE-\d{4}-\d{4,7}$/),
    title: z.string().min(1),
    /** Public name of the chain or campaign, where there is one: "ProxyLogon", "ProxyShell", "ProxyNotShell". */
    campaign: z.string().optional(),
    published: isoDateSchema,
    cvss: z.number().min(0).max(10).optional(),
    /** Products the vendor lists as affected; every other product is not_affected. */
    affects: z.array(productKeySchema).min(1),
    /** CISA KEV entry; null only for a CVE kept for context that is not (yet) in the catalog. */
    kev: kevSchema.nullable(),
    /**
     * Per CU line, the first build that fixes it. A line of an affected product that is listed nowhere and whose
     * first build is older than the newest listed fix of that product never got a fix: upgrade needed.
     * A line whose first build is newer than every listed fix of its product shipped with the fix.
     */
    fixes: z.array(lineFixSchema),
    /** Short plain-language summary for reports. */
    summary: z.string().min(1),
    /**
     * "unknown" for a CVE known only from a KEV import, with no fix data yet: every affected build is then
     * judged `unknown` rather than guessed. Default "known".
     */
    fixData: z.enum(["known", "unknown"]).optional(),
    /**
     * Where a setting, not a build, protects a line that got no build fix (e.g. Extended Protection for
     * CVE-2024-21410): such lines are judged `unknown` (a build cannot show the setting) with this as remediation.
     */
    configurationFix: z.string().min(1).optional(),
    /**
     * Per CU line, the first build on which the protecting setting exists (Extended Protection: the August 2022
     * SU). Builds below it, and lines that never got it, cannot have the setting: they are judged vulnerable.
     * Same line rules as `fixes` (a line first released after every listed build of its product has it).
     */
    configurationAvailableFrom: z.array(lineFixSchema).optional(),
    /**
     * Products Microsoft assessed and found not affected although they were out of support when the CVE was
     * published (Exchange 2010 for CVE-2021-26855 in March 2021): they stay not_affected instead of unknown.
     */
    assessedNotAffected: z
      .array(z.object({ product: productKeySchema, sources: z.array(z.string()).min(1), note: z.string().min(1) }).strict())
      .optional(),
    sources: z.array(sourceSchema).min(1),
  })
  .strict();
export type Advisory = z.infer<typeof advisorySchema>;

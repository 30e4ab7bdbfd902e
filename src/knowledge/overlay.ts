/**
 * What `vigie kb update --kev` keeps in the user's overlay folder (kev.json): the Exchange entries of the
 * CISA Known Exploited Vulnerabilities catalog as last imported.
 */
import { z } from "zod";
import { isoDateSchema } from "./schema.js";

export const overlayKevEntrySchema = z
  .object({
    cveID: z.string().regex(/^CVE-\d{4}-\d{4,7}$/),
    vendorProject: z.string(),
    product: z.string(),
    vulnerabilityName: z.string(),
    dateAdded: isoDateSchema,
    dueDate: isoDateSchema,
    knownRansomwareCampaignUse: z.enum(["Known", "Unknown"]),
    requiredAction: z.string(),
    shortDescription: z.string(),
  })
  .strict();
export type OverlayKevEntry = z.infer<typeof overlayKevEntrySchema>;

export const overlayKevSchema = z
  .object({
    importedAt: z.string(),
    importedFrom: z.string(),
    catalogVersion: z.string(),
    dateReleased: z.string(),
    entries: z.array(overlayKevEntrySchema),
    /** CVEs removed from the catalog (applied with --allow-removals): their shipped KEV data is dropped. */
    withdrawn: z.array(z.string()).optional(),
  })
  .strict();
export type OverlayKev = z.infer<typeof overlayKevSchema>;

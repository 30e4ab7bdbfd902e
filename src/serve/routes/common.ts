/** Shared parameter schemas and look-ups for the routes. */
import { z } from "zod";
import type { AppContext } from "../context.js";
import { HttpError } from "../http.js";

export const snapshotParam = z.string().min(1).max(200);
export const countryParam = z
  .string()
  .regex(/^[A-Za-z]{2}$/, "an ISO 3166 alpha-2 code like FR")
  .transform((s) => s.toUpperCase());
export const cveParam = z
  .string()
  .regex(/^CVE-\d{4}-\d{4,7}$/i, "a CVE id like CVE-2021-26855")
  .transform((s) => s.toUpperCase());

/** The snapshot named, else the newest; 404 when there is none. */
export async function resolveSnapshot(ctx: AppContext, id: string | undefined): Promise<string> {
  if (id !== undefined) {
    if (!(await ctx.store.getSnapshot(id))) throw new HttpError(404, `no snapshot ${JSON.stringify(id)}`);
    return id;
  }
  const latest = await ctx.store.latestSnapshot();
  if (!latest) throw new HttpError(404, "the store holds no snapshot yet");
  return latest.id;
}

/**
 * Vigie's own JSON lines: one Observation per line, exactly the schema of src/pipeline/vocabulary.ts (what a
 * converter from any other tool writes). Validated with zod; the source is rewritten to "import:jsonl".
 */
import { observationSchema, type Observation } from "../pipeline/vocabulary.js";
import { parseJsonObject, RecordError, requireIp, type RecordContext } from "./record.js";

export function parseJsonl(text: string, ctx: RecordContext): Observation[] {
  const rec = parseJsonObject(text);
  if (rec.observedAt === undefined) rec.observedAt = ctx.defaultObservedAt;
  if (rec.source === undefined) rec.source = `import:${ctx.format}`;
  const parsed = observationSchema.safeParse(rec);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new RecordError(`not an Observation: ${i.path.join(".") || "(record)"}: ${i.message}`);
  }
  requireIp(parsed.data.ip);
  return [{ ...parsed.data, source: `import:${ctx.format}` }];
}

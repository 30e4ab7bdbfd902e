/** One interface over the formats: lines in, records (observations or an error with its line number) out. */
import type { Observation } from "../pipeline/vocabulary.js";
import { parseCensys } from "./censys.js";
import { parseJsonl } from "./jsonl.js";
import { parseMasscan } from "./masscan.js";
import { nmapXmlParser } from "./nmapXml.js";
import { RecordError, type ImportFormat, type RecordContext } from "./record.js";
import { parseShodan } from "./shodan.js";
import { parseZgrab2 } from "./zgrab2.js";

export type RecordOutcome = { no: number; observations: Observation[] } | { no: number; error: string };

export interface RecordParser {
  line(text: string, no: number): RecordOutcome[];
  end(): RecordOutcome[];
}

/** A line parser returns null for a line that is not a record (structure, comment). */
const LINE_PARSERS: Record<Exclude<ImportFormat, "nmap-xml">, (text: string, ctx: RecordContext) => Observation[] | null> = {
  zgrab2: parseZgrab2,
  shodan: parseShodan,
  censys: parseCensys,
  masscan: parseMasscan,
  jsonl: parseJsonl,
};

export function recordParser(ctx: RecordContext): RecordParser {
  if (ctx.format === "nmap-xml") return nmapXmlParser(ctx);
  const parse = LINE_PARSERS[ctx.format];
  const skipBlank = (t: string) => t.trim() === "";
  return {
    line(text, no) {
      if (skipBlank(text)) return [];
      try {
        const observations = parse(text, ctx);
        return observations === null ? [] : [{ no, observations }];
      } catch (err) {
        if (err instanceof RecordError) return [{ no, error: err.message }];
        throw err;
      }
    },
    end: () => [],
  };
}

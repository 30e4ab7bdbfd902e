/**
 * Shards of a scan for the queue: the scan's targets cut, in their fixed order, into lists of target lines of at
 * most `size` addresses or hostnames each. A range is cut into sub-ranges (`a-b`); lines with their own port and
 * hostnames are kept as they are. Pure and deterministic: the same inputs and size always give the same shards,
 * so a resumed scan finds its shards again by number.
 */
import { bigIntToIp, type TargetSpec } from "../observe/targets.js";

export interface Shard {
  /** 0, 1, 2 … in target order. */
  no: number;
  lines: string[];
  /** Addresses and hostnames in it (before exclusions). */
  size: number;
}

export const DEFAULT_SHARD_SIZE = 256;

export function* shardSpecs(specs: readonly TargetSpec[], size: number): Generator<Shard> {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`shard size must be a positive whole number, not ${size}`);
  let no = 0;
  let lines: string[] = [];
  let filled = 0;
  const add = (line: string, n: number): Shard | undefined => {
    lines.push(line);
    filled += n;
    if (filled < size) return undefined;
    const shard = { no: no++, lines, size: filled };
    lines = [];
    filled = 0;
    return shard;
  };
  for (const spec of specs) {
    if (spec.kind === "hostname" || spec.port !== undefined || spec.first === spec.last) {
      const full = add(spec.kind === "hostname" || spec.port !== undefined ? spec.text : bigIntToIp(spec.first!, spec.family!), 1);
      if (full) yield full;
      continue;
    }
    for (let from = spec.first!; from <= spec.last!; ) {
      const room = BigInt(size - filled);
      const to = spec.last! - from + 1n > room ? from + room - 1n : spec.last!;
      const text = from === to ? bigIntToIp(from, spec.family!) : `${bigIntToIp(from, spec.family!)}-${bigIntToIp(to, spec.family!)}`;
      const full = add(text, Number(to - from + 1n));
      if (full) yield full;
      from = to + 1n;
    }
  }
  if (lines.length > 0) yield { no: no++, lines, size: filled };
}

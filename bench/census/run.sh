#!/usr/bin/env bash
# Census bench: generate a synthetic zgrab2 file, then time `vigie import` + `vigie census` against
# `jq -c . >/dev/null` reading the same file, in one run, and check the census against the ground truth.
#   bench/census/run.sh [records]        (default 20000; the issue's figure is 400000)
# Needs jq and GNU time: installed with apt-get when missing (bench machines only; tests do not need them).
set -euo pipefail
N="${1:-20000}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
need=()
command -v jq >/dev/null || need+=(jq)
[ -x /usr/bin/time ] || need+=(time)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -f dist/src/cli/main.js ] && [ "${SKIP_BUILD:-}" = 1 ] || npx tsc -p tsconfig.json
OUT="$ROOT/bench/out/census"
mkdir -p "$OUT"
FILE="$OUT/scan-$N.jsonl"
TRUTH="$OUT/scan-$N.truth.json"
DB="$OUT/bench-$N.db"
[ -f "$FILE" ] && [ -f "$TRUTH" ] || node dist/bench/census/generate.js --records "$N" --out "$FILE" --truth "$TRUTH"
rm -f "$DB" "$DB-wal" "$DB-shm"
export VIGIE_DATA_DIR="$OUT/data-empty"   # the shipped geo databases, whatever the user loaded
SIZE=$(stat -c %s "$FILE")

measure() { # label, command...: prints "label seconds peakKB"
  local label="$1"; shift
  /usr/bin/time -o "$OUT/.time" -f "%e %M" "$@" >/dev/null 2>"$OUT/$label.stderr"
  echo "$label $(tail -1 "$OUT/.time")"
}
# Warm the page cache so both read from memory.
cat "$FILE" >/dev/null
JQ=$(measure jq bash -c "jq -c . '$FILE' >/dev/null")
IMP=$(measure import node dist/src/cli/main.js import "$FILE" --format zgrab2 --date 2021-03-09 --snapshot bench --db "$DB")
CEN=$(measure census node dist/src/cli/main.js census --snapshot bench --by country --json --db "$DB")
QUERY=$(node --input-type=module -e "
import { openSqliteStore } from '$ROOT/dist/src/store/sqliteStore.js';
import { buildCensus } from '$ROOT/dist/src/census/census.js';
const s = await openSqliteStore('$DB'); const t = process.hrtime.bigint();
const c = buildCensus('bench', 'country', await s.census.counts('bench', 'country'));
console.log((Number(process.hrtime.bigint() - t) / 1e9).toFixed(3), c.groups.reduce((n, g) => n + g.exposed, 0));")

# Ground truth: per country and per CVE.
node dist/src/cli/main.js census --snapshot bench --by country --json --db "$DB" > "$OUT/census-$N.json"
CHECK=$(node -e "
const t = require('$TRUTH'); const c = require('$OUT/census-$N.json');
let bad = 0;
const got = Object.fromEntries(c.groups.map((g) => [g.key, g]));
for (const [cc, want] of Object.entries(t.byCountry)) {
  const g = got[cc]; if (!g || g.exposed !== want.exposed) { bad++; continue; }
  for (const [id, v] of Object.entries(want.cves)) { const x = g.cves[id]; if (!x || x.vulnerable !== v.vulnerable || x.patched !== v.patched || x.unknown !== v.unknown) bad++; }
}
if (Object.keys(got).length !== Object.keys(t.byCountry).length) bad++;
console.log(bad === 0 ? 'census equals ground truth (' + t.exchangeServers + ' Exchange servers, ' + Object.keys(t.byCountry).length + ' countries)' : bad + ' MISMATCHES against ground truth');
")

node -e "
const [jq, imp, cen] = [process.argv[1], process.argv[2], process.argv[3]].map((l) => l.split(' '));
const size = Number(process.argv[4]) / 1e6, n = Number(process.argv[5]);
const row = (name, s, kb, mb = true) => [name, Number(s).toFixed(2), mb ? (size / s).toFixed(1) : '-', mb ? Math.round(n / s).toString() : '-', (Number(kb) / 1024).toFixed(0)];
const rows = [row('jq -c . >/dev/null', jq[1], jq[2]), row('vigie import', imp[1], imp[2]), row('vigie census (CLI)', cen[1], cen[2], false)];
const head = ['', 'seconds', 'MB/s', 'records/s', 'peak RSS MB'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const fmt = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
console.log('file: ' + n + ' records, ' + size.toFixed(1) + ' MB');
console.log(fmt(head)); console.log(w.map((x) => '-'.repeat(x)).join('  ')); rows.forEach((r) => console.log(fmt(r)));
const ratio = Number(jq[1]) / Number(imp[1]);
console.log('import speed / jq speed: ' + ratio.toFixed(2) + (ratio >= 1 ? ' (goal met: at least as fast as jq)' : ' (goal NOT met)'));
console.log('peak RSS of import: ' + (Number(imp[2]) / 1024).toFixed(0) + ' MB' + (Number(imp[2]) / 1024 < 500 ? ' (goal < 500 MB met)' : ' (goal < 500 MB NOT met)'));
" "$JQ" "$IMP" "$CEN" "$SIZE" "$N"
read -r QS QN <<<"$QUERY"
echo "census query alone (GROUP BY over $QN servers): ${QS} s$(node -e "console.log(Number('$QS') < 1 ? ' (goal < 1 s met)' : ' (goal < 1 s NOT met)')")"
echo "$CHECK"

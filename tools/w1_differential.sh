#!/usr/bin/env bash
# Differential test of point-in-time training sets: Strata's W1 (fixtures/features/w1.yaml) must equal
# the independent DuckDB implementation tools/w1_reference.py cell by cell (floats within 1e-9 relative)
# on the edge-case fixtures (both semantics) and on a generated dataset, computed in one pass and, with a
# memory budget of 1 MiB, in passes over ranges of entities; and W1 with 180- and 365-day windows on 20
# generated months, both semantics, in one pass and in passes.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STRATA_BIN:-.build/debug/strata}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

check() {  # data directory, name, extra flags; VIEW and WINDOWS choose another view (W1 long)
  local data=$1 name=$2 flag=${3:-}
  "$BIN" ingest --db "$work/$name.db" "$data/members.csv" "$data/transactions.csv" "$data/user_logs.csv" "$data/labels.csv" > /dev/null
  STRATA_PROGRESS=1 "$BIN" training-set --db "$work/$name.db" --features "${VIEW:-fixtures/features/w1.yaml}" --labels labels --out w1 $flag > "$work/$name.log" 2>&1
  if [ -n "${STRATA_FEATURE_MEMORY_MIB:-}" ] && ! grep -q "pass 2 of" "$work/$name.log"; then
    echo "w1 differential: $name: a budget of $STRATA_FEATURE_MEMORY_MIB MiB did not split the work into passes"; failures=$((failures + 1))
  fi
  "$BIN" scan --db "$work/$name.db" w1 --format csv > "$work/$name.strata.csv"
  python3 tools/w1_reference.py --data "$data" --out "$work/$name.duckdb.csv" --windows "${WINDOWS:-7,30,90}" $flag > /dev/null
  checks=$((checks + 1))
  if python3 tools/compare_csv.py "$work/$name.strata.csv" "$work/$name.duckdb.csv" > "$work/$name.compare"; then
    echo "w1 differential: $name: $(cat "$work/$name.compare")"
  else
    echo "w1 differential: MISMATCH $name"; head -25 "$work/$name.compare"
    failures=$((failures + 1))
  fi
}

check fixtures/w1 fixtures
check fixtures/w1 fixtures-inclusive --inclusive
"$BIN" generate --out "$work/gen" --members 2000 --start 20160601 --months 9 --seed 11 --label-months 5 > /dev/null
check "$work/gen" generated
STRATA_FEATURE_MEMORY_MIB=1 check "$work/gen" generated-in-passes
# W1 with 180- and 365-day windows over 20 months: months between a window's first and last are carried
# (Sources/StrataFeatures/README.md), in one pass and in passes.
sed -e 's/days: \[7, 30, 90\]/days: [7, 30, 90, 180, 365]/' -e 's/^name: w1$/name: w1long/' fixtures/features/w1.yaml > "$work/w1long.yaml"
grep -q "days: \[7, 30, 90, 180, 365\]" "$work/w1long.yaml" || { echo "w1 differential: fixtures/features/w1.yaml no longer has days: [7, 30, 90]"; exit 1; }
"$BIN" generate --out "$work/gen-long" --members 1500 --start 20150101 --months 20 --seed 12 --label-months 6 > /dev/null
VIEW="$work/w1long.yaml" WINDOWS=7,30,90,180,365 check "$work/gen-long" generated-long
VIEW="$work/w1long.yaml" WINDOWS=7,30,90,180,365 check "$work/gen-long" generated-long-inclusive --inclusive
VIEW="$work/w1long.yaml" WINDOWS=7,30,90,180,365 STRATA_FEATURE_MEMORY_MIB=1 check "$work/gen-long" generated-long-in-passes
echo "w1 differential: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]

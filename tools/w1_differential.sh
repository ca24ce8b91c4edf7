#!/usr/bin/env bash
# Differential test of point-in-time training sets: Strata's W1 (fixtures/features/w1.yaml) must equal
# the independent DuckDB implementation tools/w1_reference.py cell by cell (floats within 1e-9 relative)
# on the edge-case fixtures (both semantics) and on a generated dataset, computed in one pass and, with a
# memory budget of 1 MiB, in passes over ranges of entities.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STRATA_BIN:-.build/debug/strata}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

check() {  # data directory, name, extra flags
  local data=$1 name=$2 flag=${3:-}
  "$BIN" ingest --db "$work/$name.db" "$data/members.csv" "$data/transactions.csv" "$data/user_logs.csv" "$data/labels.csv" > /dev/null
  STRATA_PROGRESS=1 "$BIN" training-set --db "$work/$name.db" --features fixtures/features/w1.yaml --labels labels --out w1 $flag > "$work/$name.log" 2>&1
  if [ -n "${STRATA_FEATURE_MEMORY_MIB:-}" ] && ! grep -q "pass 2 of" "$work/$name.log"; then
    echo "w1 differential: $name: a budget of $STRATA_FEATURE_MEMORY_MIB MiB did not split the work into passes"; failures=$((failures + 1))
  fi
  "$BIN" scan --db "$work/$name.db" w1 --format csv > "$work/$name.strata.csv"
  python3 tools/w1_reference.py --data "$data" --out "$work/$name.duckdb.csv" $flag > /dev/null
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
echo "w1 differential: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]

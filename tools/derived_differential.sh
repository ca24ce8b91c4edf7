#!/usr/bin/env bash
# Differential test of SQL derived features and filtered window aggregates: the training set Strata builds
# from fixtures/features/derived.yaml must equal the independent DuckDB computation
# tools/derived_reference.py cell by cell (floats within 1e-9 relative, NaN equal to NaN), on the W1
# edge-case fixtures and on two generated datasets (the second with members rows removed, emptied and
# repeated), with both semantics. Then views that must fail (integer `//` and `%` by zero, BIGINT overflow
# in an expression and in a window SUM) must fail in Strata with an error naming the feature, and in
# DuckDB too; and a SUM whose partial sums leave BIGINT but whose total fits must be computed exactly.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STRATA_BIN:-.build/debug/strata}
VIEW=fixtures/features/derived.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

fail() { echo "derived differential: FAILED $*"; failures=$((failures + 1)); }

ingest() {  # data directory, store
  "$BIN" ingest --db "$2" "$1/members.csv" "$1/transactions.csv" "$1/user_logs.csv" "$1/labels.csv" > /dev/null
}

check() {  # data directory, name, view, extra flags: Strata's training set equals the DuckDB reference
  local data=$1 name=$2 view=$3 flag=${4:-}
  checks=$((checks + 1))
  [ -d "$work/$name.db" ] || ingest "$data" "$work/$name.db"
  if ! "$BIN" training-set --db "$work/$name.db" --features "$view" --labels labels --out d $flag \
      > /dev/null 2> "$work/$name.err"; then
    fail "$name: strata training-set exited with an error:"; head -5 "$work/$name.err"; return
  fi
  if ! "$BIN" scan --db "$work/$name.db" d --format csv > "$work/$name.strata.csv" 2> "$work/$name.err"; then
    fail "$name: strata scan exited with an error:"; head -5 "$work/$name.err"; return
  fi
  if ! python3 tools/derived_reference.py --features "$view" --data "$data" --out "$work/$name.duckdb.csv" $flag \
      2> "$work/$name.referr"; then
    fail "$name: the DuckDB reference failed:"; head -5 "$work/$name.referr"; return
  fi
  if python3 tools/compare_csv.py "$work/$name.strata.csv" "$work/$name.duckdb.csv" > "$work/$name.compare"; then
    echo "derived differential: $name: $(cat "$work/$name.compare")"
  else
    fail "$name: cells differ (A = Strata, B = DuckDB)"; head -25 "$work/$name.compare"
  fi
}

expect_failure() {  # data directory, store name, view, feature: both engines must refuse the view
  local data=$1 name=$2 view=$3 feature=$4 what
  what="$(basename "$view" .yaml) on $name"
  checks=$((checks + 1))
  [ -d "$work/$name.db" ] || ingest "$data" "$work/$name.db"
  local status=0
  "$BIN" training-set --db "$work/$name.db" --features "$view" --labels labels --out must_fail \
    > "$work/fail.out" 2> "$work/fail.err" || status=$?
  if [ "$status" -eq 0 ]; then
    fail "$what: strata training-set succeeded; expected an error naming $feature"; return
  fi
  if ! grep -qF "$feature" "$work/fail.err"; then
    fail "$what: strata exited with status $status but its error does not name $feature:"; head -5 "$work/fail.err"; return
  fi
  if "$BIN" scan --db "$work/$name.db" must_fail --limit 1 > /dev/null 2>&1; then
    fail "$what: the failed training set was committed"; return
  fi
  if python3 tools/derived_reference.py --features "$view" --data "$data" --out "$work/fail.csv" > /dev/null 2> "$work/fail.referr"; then
    fail "$what: the DuckDB reference computed it; the view is no failure test"; return
  fi
  echo "derived differential: $what fails as it must (status $status): $(grep -m1 -F "$feature" "$work/fail.err" | cut -c1-160)"
}

# 1. The hand-written W1 edge cases (users without members rows or events, ties, cutoff-day events, dirty values).
check fixtures/w1 fixtures "$VIEW"
check fixtures/w1 fixtures-inclusive "$VIEW" --inclusive

# 2. The generated dataset of the W1 differential, both semantics.
"$BIN" generate --out "$work/gen" --members 2000 --start 20160601 --months 9 --seed 11 --label-months 5 > /dev/null
check "$work/gen" generated "$VIEW"
check "$work/gen" generated-inclusive "$VIEW" --inclusive

# 3. Another shape: more members, another period and seed; then members.csv edited so that some label users
#    have no members row, some have empty city / bd / registration_init_time, and some a second, later row
#    (which wins) with another city and no gender.
"$BIN" generate --out "$work/gen2" --members 3000 --start 20160101 --months 12 --seed 23 --label-months 6 > /dev/null
python3 - "$work/gen2/members.csv" <<'EOF'
import sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().splitlines()
header, rows, later = lines[0], [], []
for i, line in enumerate(lines[1:]):
    f = line.split(",")
    if i % 9 == 4:
        continue                      # no members row at all
    if i % 13 == 0: f[2] = ""         # bd
    if i % 17 == 0: f[1] = ""         # city
    if i % 19 == 0: f[5] = ""         # registration_init_time
    rows.append(",".join(f))
    if i % 23 == 0:
        g = list(f); g[1], g[2], g[3] = "99", "25", ""
        later.append(",".join(g))     # ingested last: this row is the user's attributes
open(path, "w", encoding="utf-8").write("\n".join([header] + rows + later) + "\n")
EOF
check "$work/gen2" generated2 "$VIEW"
check "$work/gen2" generated2-inclusive "$VIEW" --inclusive

# 4. Views that must fail: integer `//` and `%` by zero, BIGINT overflow in an expression (written so
#    that constant folding cannot see it), and a window SUM whose total leaves BIGINT.
cat > "$work/int_divide_by_zero.yaml" <<'EOF'
name: int_divide_by_zero
entity: msno
features:
  - window: {source: user_logs, time: date, days: [7]}
    aggregates:
      - {name: w7_num_25, function: sum, column: num_25}
  - derived: {name: bad_int_div, expression: "w7_num_25 // (w7_num_25 - w7_num_25)"}
EOF
cat > "$work/modulo_by_zero.yaml" <<'EOF'
name: modulo_by_zero
entity: msno
features:
  - window: {source: transactions, time: transaction_date, days: [365]}
    aggregates:
      - {name: tx_count, function: count}
  - derived: {name: bad_modulo, expression: "tx_count % (tx_count - tx_count)"}
EOF
cat > "$work/expression_overflow.yaml" <<'EOF'
name: expression_overflow
entity: msno
features:
  - window: {source: transactions, time: transaction_date, days: [365]}
    aggregates:
      - {name: tx_count, function: count}
  - derived: {name: bad_overflow, expression: "tx_count + 9223372036854775807"}
EOF
expect_failure "$work/gen" generated "$work/int_divide_by_zero.yaml" bad_int_div
expect_failure "$work/gen" generated "$work/modulo_by_zero.yaml" bad_modulo
expect_failure "$work/gen" generated "$work/expression_overflow.yaml" bad_overflow

# The W1 fixtures plus huge num_100 values: User1's three rows sum to 3e18 (partial sums leave BIGINT,
# the total fits: exact, as DuckDB's HUGEINT sum); User6's two rows sum to 1e19 (an error).
mkdir "$work/big"
cp fixtures/w1/*.csv "$work/big/"
cat >> "$work/big/user_logs.csv" <<'EOF'
User1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,20170120,0,0,0,0,6000000000000000000,1,1.0
User1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,20170121,0,0,0,0,6000000000000000000,1,1.0
User1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,20170122,0,0,0,0,-9000000000000000000,1,1.0
User6xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,20170125,0,0,0,0,5000000000000000000,1,1.0
User6xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=,20170126,0,0,0,0,5000000000000000000,1,1.0
EOF
cat > "$work/big_sum_fits.yaml" <<'EOF'
name: big_sum_fits
entity: msno
features:
  - window: {source: user_logs, time: date, days: [30]}
    aggregates:
      - {name: w30_big_sum, function: sum, column: num_100, filter: "date <= DATE '2017-01-22'"}
      - {name: w30_big_mean, function: mean, column: num_100, filter: "date <= DATE '2017-01-22'"}
  - derived: {name: big_half, expression: "w30_big_sum // 2 + w30_big_sum % 2"}
EOF
cat > "$work/sum_overflow.yaml" <<'EOF'
name: sum_overflow
entity: msno
features:
  - window: {source: user_logs, time: date, days: [30]}
    aggregates:
      - {name: w30_big_sum, function: sum, column: num_100}
EOF
check "$work/big" big "$work/big_sum_fits.yaml"
expect_failure "$work/big" big "$work/sum_overflow.yaml" w30_big_sum

echo "derived differential: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]

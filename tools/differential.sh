#!/usr/bin/env bash
# Differential test: tools/strata_read.py, written from format-spec/ alone, must print exactly what
# `strata scan --format csv` prints, for every table, on the fixtures, the real KKBox samples (when
# ../shared is there) and a generated dataset; and its own checksum pass must agree with `strata verify`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STRATA_BIN:-.build/debug/strata}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

compare_store() {
  local db=$1
  for table in $(python3 tools/strata_read.py "$db" --tables); do
    "$BIN" scan --db "$db" "$table" --format csv > "$work/strata.csv"
    python3 tools/strata_read.py "$db" "$table" > "$work/reader.csv"
    checks=$((checks + 1))
    if cmp -s "$work/strata.csv" "$work/reader.csv"; then
      echo "differential: $db $table: $(($(wc -l < "$work/strata.csv") - 1)) rows identical"
    else
      echo "differential: MISMATCH $db $table"; diff "$work/strata.csv" "$work/reader.csv" | head -5
      failures=$((failures + 1))
    fi
  done
  # A date range with partition pruning.
  if python3 tools/strata_read.py "$db" --tables | grep -qx user_logs; then
    "$BIN" scan --db "$db" user_logs --from 20170105 --to 20170212 --format csv > "$work/strata.csv"
    python3 tools/strata_read.py "$db" user_logs --from 20170105 --to 20170212 > "$work/reader.csv"
    checks=$((checks + 1))
    cmp -s "$work/strata.csv" "$work/reader.csv" || { echo "differential: MISMATCH $db user_logs --from/--to"; failures=$((failures + 1)); }
  fi
  checks=$((checks + 1))
  python3 tools/strata_read.py "$db" --verify >/dev/null || { echo "differential: reader's verify failed on $db"; failures=$((failures + 1)); }
}

# Fixtures, with every codec forced.
for codec in none lz4 zstd auto; do
  "$BIN" ingest --db "$work/fixtures-$codec" --compression "$codec" --max-rejects 100% fixtures/csv/members_quirks.csv \
    fixtures/csv/transactions_bad.csv fixtures/csv/user_logs_edges.csv > /dev/null 2>&1
  "$BIN" ingest --db "$work/fixtures-$codec" --compression "$codec" --cutoff 20170301 fixtures/csv/train.csv > /dev/null
  compare_store "$work/fixtures-$codec"
done

# The real rows of ../shared/kkbox-sample, one store per file.
samples=../shared/kkbox-sample
if [ -d "$samples" ]; then
  index=0
  while IFS= read -r file; do
    [ "$(head -c 5 "$file")" = "msno" ] && [ "$(head -1 "$file" | tr -d '\r')" = "msno" ] && continue
    index=$((index + 1))
    # Kaggle's train.csv layout (msno,is_churn) takes its cutoff from the command line.
    cutoff=()
    [ "$(head -1 "$file" | tr -d '\r' | sed 's/^\xEF\xBB\xBF//')" = "msno,is_churn" ] && cutoff=(--cutoff 20170301)
    "$BIN" ingest --db "$work/sample-$index" "${cutoff[@]}" "$file" > /dev/null
    compare_store "$work/sample-$index"
  done < <(find "$samples" -name '*.csv' | sort)
else
  echo "differential: $samples is absent (a fresh clone has none): real-sample stores skipped"
fi

# A generated dataset: about 200k log rows over five months, several segments per table.
"$BIN" generate --out "$work/gen" --members 3000 --months 5 --start 20161201 --seed 7 > /dev/null
"$BIN" ingest --db "$work/gen-db" "$work"/gen/*.csv > /dev/null
compare_store "$work/gen-db"
# Appended and compacted: several clustered segments in each month, then one.
"$BIN" ingest --db "$work/gen-db" --allow-duplicate "$work"/gen/user_logs.csv > /dev/null
compare_store "$work/gen-db"
"$BIN" compact --db "$work/gen-db" user_logs > /dev/null
compare_store "$work/gen-db"

# A manifest that claims an order its segment does not have (valid checksums): both readers' checks report it.
cp -r "$work/gen-db" "$work/lying-db"
python3 - "$work/lying-db" <<'PY'
import glob, json, struct, sys, zlib
path = sorted(glob.glob(sys.argv[1] + "/manifest/*.manifest"))[-1]
data = open(path, "rb").read()
size = struct.unpack_from("<I", data, 12)[0]
payload = json.loads(data[16:16 + size])
payload["tables"]["user_logs"]["segments"][0]["sortedBy"] = ["date"]  # rows are by msno first: not by date
body = json.dumps(payload).encode()
head = data[:12] + struct.pack("<I", len(body)) + body
open(path, "wb").write(head + struct.pack("<I", zlib.crc32(head) & 0xFFFFFFFF))
PY
checks=$((checks + 1))
reader_says=$(python3 tools/strata_read.py "$work/lying-db" --verify 2>&1 || true)
strata_says=$("$BIN" verify --db "$work/lying-db" 2>&1 || true)
if [[ $reader_says == *"out of the order (date)"* && $strata_says == *"out of the order (date)"* ]]; then
  echo "differential: a segment lying about its order is reported by both readers"
else
  echo "differential: a segment lying about its order was NOT reported by both readers"; failures=$((failures + 1))
fi

echo "differential: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]

#!/usr/bin/env bash
# tools/kaggle.sh on the real KKBox rows of ../shared/kkbox-sample (set A: all four tables, 30,000 users,
# Kaggle's train.csv labels with its single cutoff): the whole job runs and scores every labelled user.
# Skipped, with a message, when ../shared is absent (a fresh clone has none).
set -euo pipefail
cd "$(dirname "$0")/.."
sample=../shared/kkbox-sample/arjl153__WSDM---KKBox-s-Churn-Prediction-Challenge
if [ ! -f "$sample/memb_s.csv" ]; then
  echo "skipped: $sample is absent (a fresh clone has no ../shared)"
  exit 0
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if ! STRATA_BIN=${STRATA_BIN:-.build/debug/strata} NO_COLOR=1 tools/kaggle.sh "$sample" --out "$out/job" >"$out/log" 2>&1; then
  tail -n 30 "$out/log"
  echo "kaggle.sh failed on the real sample" >&2
  exit 1
fi
rows=$(($(wc -l <"$out/job/predictions.csv") - 1))
grep -q "random split by user" "$out/log" || { echo "expected the random split (one cutoff)" >&2; exit 1; }
[ "$rows" -eq 30000 ] || { echo "expected 30000 predictions, got $rows" >&2; exit 1; }
echo "kaggle.sh on the real sample: $rows users scored; $(grep -m1 'test: AUC' "$out/log" | sed 's/^ *//')"

#!/usr/bin/env bash
# The LightGBM export round trip: models trained by Strata, exported with `strata models export --to
# lightgbm`, loaded by the lightgbm Python package, predict what Strata predicts (within 1e-9) on every
# row of the training set — on two generated datasets of different shapes, with deep and shallow trees,
# categorical features (city, gender as text, payment method) and NULLs. Every row's three reasons (Strata's
# TreeSHAP, in bulk: the leaf tables) are checked against LightGBM's own pred_contrib.
set -euo pipefail
cd "$(dirname "$0")/.."
strata=${STRATA_BIN:-.build/debug/strata}
python3 -c "import lightgbm, pandas" 2>/dev/null || python3 -m pip install -q lightgbm pandas
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

check() {  # SHAPE GENERATE-ARGS...
  local shape=$1
  shift
  local db=$dir/$shape
  "$strata" generate --out "$dir/$shape-csv" "$@" >/dev/null
  "$strata" ingest --db "$db" "$dir/$shape-csv"/{members,transactions,user_logs,labels}.csv >/dev/null
  "$strata" training-set --db "$db" --features fixtures/features/w1.yaml --labels labels --out w1 >/dev/null
  "$strata" train --db "$db" --training-set w1 --rounds 60 --num-leaves 31 --register churn >/dev/null
  "$strata" train --db "$db" --training-set w1 --rounds 200 --num-leaves 4 --learning-rate 0.3 --min-data-in-leaf 5 --register churn >/dev/null
  "$strata" train --db "$db" --training-set w1 --rounds 40 --num-leaves 63 --feature-fraction 0.7 --bagging-fraction 0.8 --bagging-freq 1 --register churn >/dev/null
  "$strata" query --db "$db" "SELECT * FROM w1 ORDER BY msno, cutoff_date" --format csv >"$dir/features.csv"
  for version in 1 2 3; do
    "$strata" models export --db "$db" "churn@$version" --to lightgbm --out "$dir/model.txt" >/dev/null
    "$strata" predict --db "$db" --model "churn@$version" --training-set w1 --out "p$version" --explain all >/dev/null
    "$strata" query --db "$db" "SELECT msno, cutoff_date, churn_probability, reason_1_feature, reason_1_contribution, reason_2_feature, reason_2_contribution, reason_3_feature, reason_3_contribution FROM p$version ORDER BY msno, cutoff_date" --format csv >"$dir/expected.csv"
    printf '%s churn@%s: ' "$shape" "$version"
    python3 tools/lightgbm_export_check.py --model "$dir/model.txt" --features "$dir/features.csv" --expected "$dir/expected.csv"
  done
}

check small --members 3000 --start 20160101 --months 8 --seed 42
check dense --members 1500 --start 20150601 --months 14 --seed 9 --label-months 10

#!/usr/bin/env bash
# The weekly report's discount policy against the baselines, on generated data with campaigns:
# generate → ingest (with campaigns.csv) → W1 → churn model (production) → uplift model → strata report
# as of the first campaign-free label month, with --truth (the generator's response of each user).
# Prints the uplift run and the report's simulation table (churn, offers, discount given per policy).
#
#   tools/bench/report_policy.sh [--members N] [--months K] [--seed S] [--label-months L] [--strata BIN] [--dir DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
members=10000; months=15; seed=42; label_months=8; bin="$root/.build/release/strata"; dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --members) members=$2; shift 2 ;;
    --months) months=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --label-months) label_months=$2; shift 2 ;;
    --strata) bin=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "report_policy.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || { echo "report_policy.sh: build first (swift build -c release --product strata)" >&2; exit 1; }
dir=${dir:-$(mktemp -d)}
rm -rf "$dir/csv" "$dir/store" "$dir/report"
start=20160101
"$bin" generate --out "$dir/csv" --members "$members" --months "$months" --start "$start" --seed "$seed" --label-months "$label_months"
"$bin" ingest --db "$dir/store" "$dir"/csv/{members,transactions,user_logs,labels,campaigns}.csv >/dev/null
"$bin" training-set --db "$dir/store" --features "$root/fixtures/features/w1.yaml" --labels labels --out w1 >/dev/null
"$bin" train --db "$dir/store" --training-set w1 --register churn | head -1
"$bin" models promote --db "$dir/store" churn 1 --stage production >/dev/null
"$bin" train --db "$dir/store" --model uplift
# The first campaign-free label month: two months before the end (generate's --campaign-free-months 2).
as_of=$(python3 -c "
y, m = divmod(int('$start'[:4]) * 12 + int('$start'[4:6]) - 1 + $months - 2, 12)
print(f'{y}{m + 1:02d}01')")
"$bin" report --db "$dir/store" --as-of "$as_of" --out "$dir/report" --truth "$dir/csv/truth/campaign_response.csv"

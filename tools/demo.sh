#!/usr/bin/env bash
# The main job, end to end, on data it generates itself: build, generate a KKBox-shaped dataset, ingest
# it, explore it with SQL, build a leakage-free training set, train and register a churn model, promote
# it, score every user into risk buckets with reasons, learn from the campaigns what each discount does and
# write the weekly report (--dry-run: the email as an .eml), then serve features and scores over HTTP (strata
# serve on a free port, called with curl, stopped with SIGTERM) and show the serving log it committed.
# DEMO_DIR (default /tmp/strata-demo), DEMO_MEMBERS (default 10000, scale S), DEMO_MONTHS (15).
set -euo pipefail
start_dir=$PWD
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="/opt/swift/usr/bin:$PATH"
source tools/cmdline.sh

dir=${DEMO_DIR:-/tmp/strata-demo}
case $dir in /*) ;; *) dir=$start_dir/$dir ;; esac
members=${DEMO_MEMBERS:-10000}
months=${DEMO_MONTHS:-15}

# The demo deletes and recreates its directory: refuse one that holds anything but an earlier demo's.
if [ -d "$dir" ] && [ ! -e "$dir/.strata-demo" ]; then
  for entry in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    case ${entry##*/} in csv|store) continue ;; esac
    echo "demo.sh: $dir holds ${entry##*/}, so it is not a strata demo directory; set DEMO_DIR to another path" >&2
    exit 1
  done
fi

step tools/setup.sh
show_cmd swift build -c release --product strata
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
if ! swift build -c release --product strata >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  echo "demo.sh: the build failed" >&2
  exit 1
fi
tail -n 1 "$build_log"
# Every command below runs the strata just built, by name, exactly as printed.
export PATH="$repo/.build/release:$PATH"
echo
echo "# the commands below run in $(quote_arg "$repo") with:"
echo "#   export PATH=$(quote_arg "$repo/.build/release"):\$PATH"
rm -rf "$dir"
mkdir -p "$dir"
touch "$dir/.strata-demo"

step strata generate --out "$dir/csv" --members "$members" --start 20160101 --months "$months" --seed 42
step ls -l "$dir/csv"
step strata ingest --db "$dir/store" "$dir/csv/members.csv" "$dir/csv/transactions.csv" "$dir/csv/user_logs.csv" "$dir/csv/labels.csv" "$dir/csv/campaigns.csv"
step strata tables --db "$dir/store"
step strata describe --db "$dir/store" user_logs
step strata scan --db "$dir/store" transactions --limit 5
step strata scan --db "$dir/store" user_logs --columns msno,date,num_unq,total_secs --from 20170301 --to 20170301 --limit 5
step strata scan --db "$dir/store" labels --limit 3 --format json
step strata verify --db "$dir/store"

# Exploring with SQL: listening per month (W2), churn by city through a join, and what pruning skips.
step strata query --db "$dir/store" "SELECT year(date) * 100 + month(date) AS month, count(DISTINCT msno) AS users, round(sum(CASE WHEN total_secs BETWEEN 0 AND 86400 THEN total_secs END) / 3600, 1) AS hours FROM user_logs GROUP BY month ORDER BY month"
step strata query --db "$dir/store" "SELECT m.city, count(*) AS labels, round(avg(l.is_churn), 3) AS churn_rate FROM labels l JOIN members m USING (msno) GROUP BY m.city HAVING count(*) > 1000 ORDER BY churn_rate DESC LIMIT 5"
step strata query --db "$dir/store" "EXPLAIN SELECT msno, sum(total_secs) AS secs FROM user_logs WHERE date >= DATE '2017-02-01' AND date < DATE '2017-03-01' GROUP BY msno ORDER BY secs DESC LIMIT 10"

# Features: W1 as a feature view, a leakage-free training set, and online vectors by msno.
step strata features apply --db "$dir/store" fixtures/features/w1.yaml
step strata training-set --db "$dir/store" --features fixtures/features/w1.yaml --labels labels --out w1_train
step strata scan --db "$dir/store" w1_train --columns msno,cutoff_date,is_churn,w30_total_secs,w30_active_days,last_is_auto_renew,days_to_expire,tenure_days --limit 5
step strata features materialize --db "$dir/store" --as-of 20170401
users=$(sed -n '2p;3p' "$dir/csv/members.csv" | cut -d, -f1 | tr '\n' ' ')
step strata features get --db "$dir/store" $users --format json
step strata features list --db "$dir/store"

# The churn model: trees and the logistic baseline on the training set, a registry, and risk buckets.
step strata train --db "$dir/store" --training-set w1_train --register churn
step strata train --db "$dir/store" --training-set w1_train --model logistic --register churn
step strata runs compare --db "$dir/store" run-000001 run-000002
step strata models promote --db "$dir/store" churn 1 --stage production
step strata predict --db "$dir/store" --model churn@production --as-of 20170401 --out churn_risk
step strata query --db "$dir/store" "SELECT reason_1_feature, count(*) AS users, round(avg(reason_1_contribution), 2) AS mean_push FROM churn_risk WHERE bucket = 'A' GROUP BY 1 ORDER BY users DESC, 1"
step strata models list --db "$dir/store"

# The weekly report: an uplift model learns from the randomised offers of campaigns.csv what each discount
# does; the report (as of a campaign-free month) picks each user's offer and is scored against the
# generator's truth. --dry-run writes the email (.eml) instead of sending it.
step strata train --db "$dir/store" --model uplift --campaigns campaigns
step strata report --db "$dir/store" --as-of 20170301 --out "$dir/report" --truth "$dir/csv/truth/campaign_response.csv" --dry-run
step strata report list --db "$dir/store"
echo "# the report: $dir/report/report-20170301.html (CSV and .eml beside it)"
step strata versions --db "$dir/store"

# Serving: the same store over HTTP, on a free port, stopped (SIGTERM) at the end.
echo
echo "# strata serve, in the background; every request below is printed and run with curl"
show_cmd strata serve --db "$dir/store" --listen 127.0.0.1:0 --log-sample 1
serve_out=$dir/serve.out
strata serve --db "$dir/store" --listen 127.0.0.1:0 --log-sample 1 >"$serve_out" 2>"$dir/serve.log" &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null; rm -f "$build_log"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$serve_out" 2>/dev/null && break; sleep 0.1; done
cat "$serve_out"
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$serve_out")
[ -n "$url" ] || { cat "$dir/serve.log" >&2; echo "demo.sh: strata serve did not start" >&2; exit 1; }
user=$(sed -n '2p' "$dir/csv/members.csv" | cut -d, -f1)
user_path=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$user")
step curl -sS --fail-with-body "$url/healthz"
echo
step curl -sS --fail-with-body "$url/readyz"
echo
step curl -sS --fail-with-body "$url/v1/features/$user_path"
echo
step curl -sS --fail-with-body -X POST "$url/v1/score" -H 'Content-Type: application/json' -d "{\"msno\": [\"$user\"]}"
echo
step curl -sS --fail-with-body "$url/v1/models"
echo
printf '\n$ %s\n' "curl -sS -X POST $url/v1/score -d '{\"msno\": [\"nobody\"]}' -w ' (HTTP %{http_code})'"
curl -sS -X POST "$url/v1/score" -d '{"msno": ["nobody"]}' -w ' (HTTP %{http_code})'
echo
printf '\n$ %s\n' "curl -sS $url/metrics | grep -E '^strata_(model_version|serving_log)'"
curl -sS --fail-with-body "$url/metrics" | grep -E '^strata_(model_version|serving_log)'
echo "# the dashboard is at $url/ while the server runs"
show_cmd kill -TERM "$serve_pid"
kill -TERM "$serve_pid"
wait "$serve_pid"
trap 'rm -f "$build_log"' EXIT
step strata scan --db "$dir/store" serving_log --columns day,msno,model,churn_probability,bucket

# The loop by itself: a new store fed month by month from an inbox; each `strata pipeline run` ingests the
# month's files, verifies, materialises, monitors drift, retrains when the policy says so, gates the
# challenger against the champion, stages, checks and promotes it, predicts and reports.
echo
echo "# the continuous-training loop on its own store ($dir/loop), two months"
show_cmd tools/loop_fixture.sh "$dir/loop"
STRATA_BIN=$repo/.build/release/strata tools/loop_fixture.sh "$dir/loop" >/dev/null
step strata pipeline run --db "$dir/loop/store" --config "$dir/loop/pipeline.yaml" --as-of 2016-09-01
cp "$dir/loop/drops/2016-10-01"/*.csv "$dir/loop/inbox/"
step strata pipeline run --db "$dir/loop/store" --config "$dir/loop/pipeline.yaml" --as-of 2016-10-01
step strata pipeline history --db "$dir/loop/store"
store=$(quote_arg "$dir/store")
echo
echo "The store is $dir/store (the generated CSV files are in $dir/csv). Run strata on it:"
echo "  export PATH=$(quote_arg "$repo/.build/release"):\$PATH"
echo "  strata tables --db $store"
echo "  strata query --db $store \"SELECT gender, count(*) FROM members GROUP BY ALL\""

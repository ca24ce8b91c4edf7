#!/usr/bin/env bash
# A store and a pipeline config for one pipeline run (the Airflow test's): generated data cut into what
# has arrived by the as-of day, in DIR/inbox; DIR/pipeline.yaml; the store DIR/store is made by the run.
# Prints the as-of day (YYYY-MM-DD) as its last line.
#   tools/loop_fixture.sh DIR        (STRATA_BIN: the strata binary, default .build/release/strata;
#                                     LOOP_MEMBERS: members to generate, default 1500)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:?usage: tools/loop_fixture.sh DIR}"
strata="${STRATA_BIN:-$root/.build/release/strata}"
as_of=2016-09-01
mkdir -p "$dir"
rm -rf "$dir/data" "$dir/drops" "$dir/inbox" "$dir/store" "$dir/reports"
"$strata" generate --out "$dir/data" --members "${LOOP_MEMBERS:-1500}" --start 20150101 --months 24 --label-months 24 --campaign-share 0 --seed 11 >/dev/null
# The drops of the as-of day and of the month after (DIR/drops/2016-10-01, for tests of a second run).
python3 "$root/tools/loop_months.py" "$dir/data" "$dir/drops" "$as_of" 2016-10-01 >/dev/null
mkdir -p "$dir/inbox"
cp "$dir/drops/$as_of"/*.csv "$dir/inbox/"
cp "$root/fixtures/features/w1.yaml" "$dir/churn.yaml"
cat > "$dir/pipeline.yaml" <<YAML
inbox: inbox
features: churn.yaml
training: {months: 6, rounds: 60}
search: {trials: 3, max_rounds: 120, early_stopping: 20}
report: {out: reports}
YAML
echo "$as_of"

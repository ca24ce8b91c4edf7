#!/usr/bin/env bash
# Builds Strata and runs every test: the Swift suites, the independent reader's own tests, and the
# differential checks: the reader (written from format-spec/ alone) decodes what Strata writes, W1, SQL
# and feature views with derived SQL expressions and filtered windows equal independent DuckDB
# implementations; the CLI keeps its conventions (tools/test_cli_golden.py); `strata serve` answers every
# route as specified, hot-swaps under load and keeps its serving log, and its dashboard renders in headless
# Chromium, screenshots in test-output/screenshots/ (tools/test_serve.py); LightGBM loads exported
# models and predicts the same; tools/kaggle.sh runs on real KKBox rows; and another package can depend
# on Strata's libraries (tools/check_dependency.sh). Every stage runs even when an earlier one
# fails; the exit status is 1 when any failed, and the failed stages are listed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

tools/setup.sh || exit 1
swift build --build-tests || { echo "test.sh: the build failed" >&2; exit 1; }

failed=()
timings=()
stage() {
  local name=$1 started=$SECONDS
  shift
  echo "== $name"
  if ! "$@"; then failed+=("$name"); fi
  timings+=("$(printf '%5d s  %s' $((SECONDS - started)) "$name")")
}
stage "swift test" swift test --skip-build
stage "reader tests" python3 -m pytest -q -p no:cacheprovider tools/test_strata_read.py
stage "storage differential" tools/differential.sh
stage "W1 differential" tools/w1_differential.sh
stage "SQL differential" tools/sql_differential.sh
stage "derived-SQL differential" tools/derived_differential.sh
stage "CLI golden tests" python3 -m pytest -q -p no:cacheprovider tools/test_cli_golden.py
stage "serve: HTTP and browser tests" env STRATA_REQUIRE_BROWSER=1 python3 -m pytest -q -p no:cacheprovider tools/test_serve.py
stage "report: SMTP, browser and uplift-metric tests" env STRATA_REQUIRE_BROWSER=1 python3 -m pytest -q -p no:cacheprovider tools/test_report.py
stage "monitor: drift statistics vs scipy and Evidently, strata monitor" python3 -m pytest -q -p no:cacheprovider tools/test_monitor.py
stage "pipeline: runs, resume after SIGKILL, gates, alerts, concept drift, the drift dashboard" env STRATA_REQUIRE_BROWSER=1 python3 -m pytest -q -p no:cacheprovider tools/test_pipeline.py
stage "LightGBM export round trip" tools/lightgbm_roundtrip.sh
stage "Kaggle files (real sample)" tools/kaggle_sample_check.sh
stage "dependency check" tools/check_dependency.sh

echo "== time per stage"
printf '%s\n' "${timings[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: every stage passed"

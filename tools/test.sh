#!/usr/bin/env bash
# Builds Strata and runs every test: the Swift suites, the independent reader's own tests, and the
# differential checks: the reader (written from format-spec/ alone) decodes what Strata writes, W1 and
# SQL results equal independent DuckDB implementations.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

tools/setup.sh
swift build --build-tests
swift test --skip-build
python3 -m pytest -q -p no:cacheprovider tools/test_strata_read.py
tools/differential.sh
tools/w1_differential.sh
tools/sql_differential.sh

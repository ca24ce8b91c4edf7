#!/usr/bin/env bash
# Differential test of SQL: every query of tools/sql_corpus.sql and of a seeded random generator must give
# the same result from `strata query` as from DuckDB on one generated dataset (cells compared with floats
# within 1e-9 relative; rows in order only under ORDER BY). Extra flags go to tools/sql_differential.py,
# e.g. --only 12, --grep date_trunc, --duckdb-only, --seed 7.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${STRATA_BIN:-.build/debug/strata}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tools/sql_differential.py --bin "$BIN" --work "$work" "$@"

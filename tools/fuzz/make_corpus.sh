#!/usr/bin/env bash
# Rebuilds tools/fuzz/corpus/ from the repository's fixtures and a tiny generated store:
#   csv          fixtures/csv/*.csv, fixtures/w1/*.csv, heads of generated KKBox CSVs
#   sql          tools/sql_corpus.sql split into single queries; every fifth one is kept (65 of 322: the corpus
#                stays a few dozen files; all of them add coverage, libFuzzer's -merge keeps 313)
#   featureview  fixtures/features/w1.yaml and tools/fuzz/seeds/featureview/*.yaml
#   segment, manifest, online, model
#                files of the fuzz targets' fixture store (generated 60 members → ingest → W1 training set →
#                GBDT and logistic runs → online table), segments also re-written with every compression
#                policy and small chunks (FuzzSegment with STRATA_FUZZ_EXPORT_SEEDS)
# Needs the fuzz targets built (tools/fuzz.sh builds them). Run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${STRATA_FUZZ_BIN:-$repo/.build-fuzz/debug}"
corpus="$here/corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}" SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

rm -rf "$corpus"
mkdir -p "$corpus"/{csv,sql,featureview,segment,manifest,online,model}

STRATA_FUZZ_EXPORT_SEEDS="$work/export" STRATA_FUZZ_TMP="$work" nice -n 19 "$bin/FuzzSegment"
for kind in segment manifest online model csv; do cp "$work/export/$kind"/* "$corpus/$kind/"; done

for f in "$repo"/fixtures/csv/*.csv; do cp "$f" "$corpus/csv/fixture-$(basename "$f")"; done
for f in "$repo"/fixtures/w1/*.csv; do cp "$f" "$corpus/csv/w1-$(basename "$f")"; done

cp "$repo/fixtures/features/w1.yaml" "$corpus/featureview/w1.yaml"
cp "$here"/seeds/featureview/*.yaml "$corpus/featureview/"

# One file per query of the SQL corpus (a query ends at the first line ending with ';').
mkdir -p "$work/sql"
python3 - "$repo/tools/sql_corpus.sql" "$work/sql" <<'PY'
import sys
lines, out, query, n = open(sys.argv[1], encoding="utf-8").read().split("\n"), sys.argv[2], [], 0
for line in lines:
    if not query and (line.startswith("--") or not line.strip()):
        continue
    query.append(line)
    if line.rstrip().endswith(";"):
        n += 1
        if n % 5 == 1:
            open(f"{out}/q{n:03d}.sql", "w", encoding="utf-8").write("\n".join(query) + "\n")
        query = []
print(f"{n} queries", file=sys.stderr)
PY
cp "$work"/sql/*.sql "$corpus/sql/"

du -sh "$corpus"/*
for d in "$corpus"/*; do echo "$(basename "$d"): $(ls "$d" | wc -l) files"; done

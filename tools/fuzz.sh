#!/usr/bin/env bash
# libFuzzer targets for Strata under AddressSanitizer (tools/fuzz/README.md).
#
#   tools/fuzz.sh TARGET SECONDS    build, then fuzz TARGET for SECONDS
#   tools/fuzz.sh all SECONDS       every target in turn, SECONDS each
#   tools/fuzz.sh build             build only
#
# TARGET: csv sql featureview segment manifest online model (or FuzzCSV, FuzzSQL, ...).
# The target's corpus (tools/fuzz/corpus/NAME) is copied to a scratch directory, so the committed corpus
# never grows. libFuzzer runs in fork mode (-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1):
# a crash is saved and fuzzing goes on until SECONDS are spent. Limits: -rss_limit_mb=2048 -timeout=10.
# Everything runs under nice -n 19. Output: .build-fuzz/runs/NAME-DATE/{log,artifacts/,corpus/}.
#
# Environment: STRATA_FUZZ_ROOT  the Strata checkout to build against (default: this repository);
#              ASAN_OPTIONS      default detect_leaks=1 (see README); FUZZ_ARGS  extra libFuzzer flags.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$repo/tools/fuzz"
scratch="$repo/.build-fuzz"
targets=(csv sql featureview segment manifest online model)

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

binary_name() {
    case "$(echo "$1" | tr '[:upper:]' '[:lower:]')" in
        csv | fuzzcsv) echo FuzzCSV ;;
        sql | fuzzsql) echo FuzzSQL ;;
        featureview | fuzzfeatureview | features) echo FuzzFeatureView ;;
        segment | fuzzsegment) echo FuzzSegment ;;
        manifest | fuzzmanifest) echo FuzzManifest ;;
        online | fuzzonline) echo FuzzOnline ;;
        model | fuzzmodel) echo FuzzModel ;;
        *) return 1 ;;
    esac
}

corpus_name() { binary_name "$1" | sed 's/^Fuzz//' | tr '[:upper:]' '[:lower:]'; }

find_swift() {
    if command -v swift > /dev/null 2>&1; then return; fi
    if [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; return; fi
    echo "fuzz.sh: Swift 6 is needed (on PATH or at /opt/swift)" >&2
    exit 1
}

# The C libraries Strata links (the same list as tools/setup.sh); installed only when missing.
install_missing() {
    local missing=()
    for package in liblz4-dev libzstd-dev zlib1g-dev pkg-config; do
        dpkg -s "$package" > /dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "fuzz.sh: installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

build() {
    find_swift
    install_missing
    local runtime
    runtime="$(dirname "$(dirname "$(command -v swift)")")/lib/clang"
    if ! ls "$runtime"/*/lib/linux/libclang_rt.fuzzer-x86_64.a > /dev/null 2>&1 && ! ls "$runtime"/*/lib/*/libclang_rt.fuzzer*.a > /dev/null 2>&1; then
        echo "fuzz.sh: warning: no libclang_rt.fuzzer under $runtime; the link will fail without libFuzzer" >&2
    fi
    echo "fuzz.sh: building the fuzz targets (debug, -sanitize=fuzzer,address) in $scratch"
    local status=0
    mkdir -p "$scratch"
    nice -n 19 swift build -c debug --package-path "$fuzz" --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library > "$scratch/build.log" 2>&1 || status=$?
    grep -v "Cannot export local symbol '__asan" "$scratch/build.log" || true
    # Never fuzz binaries left by an earlier build: a failed build stops here.
    if [ "$status" -ne 0 ]; then
        echo "fuzz.sh: the build failed (exit $status; log $scratch/build.log). A build directory left by an older" >&2
        echo "checkout can cause this (for example \"no such module\" for a C target added since): rm -rf $scratch" >&2
        exit 1
    fi
    for target in "${targets[@]}"; do
        local name
        name="$(binary_name "$target")"
        [ -x "$scratch/debug/$name" ] || { echo "fuzz.sh: the build did not produce $scratch/debug/$name" >&2; exit 1; }
    done
}

run() {
    local name corpus seconds run log
    name="$(binary_name "$1")" || { echo "fuzz.sh: unknown target $1 (targets: ${targets[*]})" >&2; exit 2; }
    corpus="$(corpus_name "$1")"
    seconds="$2"
    run="$scratch/runs/$corpus-$(date +%Y%m%d-%H%M%S)"
    log="$run/log"
    mkdir -p "$run/corpus" "$run/artifacts" "$run/tmp"
    cp "$fuzz/corpus/$corpus"/* "$run/corpus/" 2> /dev/null || true
    local dict=()
    [ -f "$fuzz/dict/$corpus.dict" ] && dict=("-dict=$fuzz/dict/$corpus.dict")
    echo "fuzz.sh: $name for ${seconds}s; corpus $(ls "$run/corpus" | wc -l) files; log $log"
    # Leak detection is on (set ASAN_OPTIONS=detect_leaks=0 to turn it off). The Swift backtracer is off so that libFuzzer and ASan
    # report crashes themselves.
    (
        cd "$run"
        export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
        export SWIFT_BACKTRACE="enable=no"
        export STRATA_FUZZ_TMP="$run/tmp"
        export STRATA_ROOT="$repo"
        # shellcheck disable=SC2086
        nice -n 19 "$scratch/debug/$name" "$run/corpus" ${dict[@]+"${dict[@]}"} \
            -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
            -rss_limit_mb=2048 -timeout=10 -max_total_time="$seconds" \
            -artifact_prefix="$run/artifacts/" ${FUZZ_ARGS:-} > "$log" 2>&1
    ) || echo "fuzz.sh: $name exited with status $?"
    rm -rf "$run/tmp"
    echo "fuzz.sh: $name final stats:"
    # A run that died early has no stats lines: that must not stop `all` (set -e with pipefail).
    { grep -E '^#[0-9]+' "$log" || true; } | tail -1 | sed 's/^/  /'
    { grep -E 'INFO: exiting|INFO: fuzzed for' "$log" || true; } | tail -2 | sed 's/^/  /'
    local artifacts
    artifacts="$(find "$run/artifacts" -type f | sort)"
    if [ -n "$artifacts" ]; then
        echo "fuzz.sh: $name findings ($(echo "$artifacts" | wc -l) files; reproduce with $scratch/debug/$name FILE):"
        echo "$artifacts" | sed 's/^/  /'
    else
        echo "fuzz.sh: $name: no crashes, timeouts, leaks or OOMs"
    fi
}

[ $# -ge 1 ] || usage
case "$1" in
    build) build ;;
    all)
        [ $# -eq 2 ] || usage
        build
        for target in "${targets[@]}"; do run "$target" "$2"; done
        ;;
    *)
        [ $# -eq 2 ] || usage
        binary_name "$1" > /dev/null || { echo "fuzz.sh: unknown target $1 (targets: ${targets[*]})" >&2; exit 2; }
        build
        run "$1" "$2"
        ;;
esac

#!/usr/bin/env bash
# Replays the artifacts of a fuzz run and groups them by the crashing Strata frame.
#
#   tools/fuzz/triage.sh RUN_DIR            print "artifact  kind  frame" for every artifact of the run
#   tools/fuzz/triage.sh RUN_DIR --save     also copy one reproducer per new (kind, frame) to
#                                           tools/fuzz/findings/TARGET-N.bin and list it in findings/README.md
#
# RUN_DIR is a directory made by tools/fuzz.sh (.build-fuzz/runs/NAME-DATE). The frame is the first stack
# frame in Strata's Sources/ (file:line); the kind is the Swift trap message, the sanitizer's error, or
# timeout / out-of-memory / leak.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
run="${1:?usage: triage.sh RUN_DIR [--save]}"
save="${2:-}"
corpus="$(basename "$run" | sed 's/-[0-9]*-[0-9]*$//')"
case "$corpus" in
    csv) name=FuzzCSV ;; sql) name=FuzzSQL ;; featureview) name=FuzzFeatureView ;; segment) name=FuzzSegment ;;
    manifest) name=FuzzManifest ;; online) name=FuzzOnline ;; model) name=FuzzModel ;;
    *) echo "triage.sh: cannot tell the target of $run" >&2; exit 2 ;;
esac
bin="$repo/.build-fuzz/debug/$name"
findings="$here/findings"
index="$findings/README.md"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

declare -A seen
if [ -f "$index" ]; then
    while IFS= read -r key; do seen["$key"]=1; done < <(grep -o 'key: `[^`]*`' "$index" | sed 's/^key: `//; s/`$//')
fi

for artifact in $(find "$run/artifacts" -type f | sort); do
    log="$tmp/log"
    kind_of_file="$(basename "$artifact" | cut -d- -f1)"
    extra=()
    [ "$kind_of_file" = timeout ] && extra=(-timeout=10)
    [ "$kind_of_file" = oom ] && extra=(-rss_limit_mb=2048)
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" SWIFT_BACKTRACE=enable=no STRATA_FUZZ_TMP="$tmp" STRATA_ROOT="$repo" \
        timeout 120 nice -n 19 "$bin" ${extra[@]+"${extra[@]}"} "$artifact" > "$log" 2>&1
    kind="$(grep -m1 -oE 'ERROR: AddressSanitizer: [a-z-]+|LeakSanitizer: detected memory leaks|ERROR: libFuzzer: (timeout|out-of-memory)[^)]*' "$log" | sed 's/^ERROR: //')"
    [ -z "$kind" ] && kind="$(grep -m1 -oE 'Swift runtime failure: [^/]*[a-z]' "$log")"
    [ -z "$kind" ] && kind="$(grep -m1 -oE '(Fatal error|Precondition failed|Assertion failed).*' "$log" | cut -c1-100)"
    [ -z "$kind" ] && kind="$(grep -m1 -oE 'ERROR: libFuzzer: [a-z -]+' "$log" | sed 's/^ERROR: //')"
    trap_site="$(grep -m1 -oE '^[A-Za-z/+]+\.swift:[0-9]+: (Fatal error|Precondition failed)' "$log" | cut -d: -f1-2)"
    [ -n "$trap_site" ] && kind="$kind ($trap_site)"
    [ -z "$kind" ] && kind="$kind_of_file (no report on replay)"
    frame="$(grep -oE '/Sources/Strata[A-Za-z]*/[A-Za-z+_]+\.swift:[0-9]+' "$log" | head -1 | sed 's|^/||')"
    [ -z "$frame" ] && frame="(no Strata frame)"
    printf '%s\t%s\t%s\n' "$(basename "$artifact")" "$kind" "$frame"
    key="$corpus $frame $(echo "$kind" | sed 's/ (.*//')"
    if [ "$save" = --save ] && [ -z "${seen[$key]:-}" ]; then
        seen["$key"]=1
        mkdir -p "$findings"
        [ -f "$index" ] || printf '# Fuzzing findings\n\nOne reproducer per (target, crashing Strata frame, kind). Replay: `.build-fuzz/debug/FuzzX findings/FILE` (see ../README.md).\n\n' > "$index"
        n=1
        while [ -e "$findings/$corpus-$n.bin" ]; do n=$((n + 1)); done
        cp "$artifact" "$findings/$corpus-$n.bin"
        echo "- \`$corpus-$n.bin\` ($name): $kind at \`$frame\` — key: \`$key\`" >> "$index"
        echo "  saved $findings/$corpus-$n.bin"
    fi
done

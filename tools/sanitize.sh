#!/usr/bin/env bash
# The Swift test suites under a sanitizer, in their own build directory (.build-address, .build-thread).
#
#   tools/sanitize.sh address    AddressSanitizer, LeakSanitizer on
#   tools/sanitize.sh thread     ThreadSanitizer
#   tools/sanitize.sh address --filter GBDTTests    (extra arguments go to swift test)
#
# Leak reports whose allocation is made inside XCTest's runner or Foundation (String(contentsOfFile:),
# Process) and not freed by them are suppressed (tools/sanitizer-suppressions/lsan.txt lists each, with the
# frames seen); a leak in Strata's own code still fails the run. Not part of tools/test.sh: a sanitizer build
# of every dependency takes about ten minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
kind=${1:-}
case "$kind" in
  address | thread) shift ;;
  *) echo "usage: tools/sanitize.sh address|thread [swift test arguments]" >&2; exit 2 ;;
esac
suppressions="$PWD/tools/sanitizer-suppressions"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$suppressions/lsan.txt:print_suppressions=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1}"
exec swift test --sanitize="$kind" --scratch-path ".build-$kind" "$@"

#!/usr/bin/env bash
# The continuous-training loop replayed month by month on generated data with a drift (two seeds by
# default): see tools/simulate_loop.py. Arguments go to it (--seeds, --members, --out, --drift-from).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "${STRATA_BIN:-}" ]]; then
    (cd "$root" && swift build -c release --product strata >/dev/null)
    STRATA_BIN="$root/.build/release/strata"
fi
exec python3 "$root/tools/simulate_loop.py" --strata "$STRATA_BIN" "$@"

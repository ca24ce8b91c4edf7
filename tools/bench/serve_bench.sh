#!/usr/bin/env bash
# The serving benchmark (issue 12): `strata serve` against Redis and against
# FastAPI + uvicorn + LightGBM + Redis, loaded by wrk on this machine. Not part of CI: at scale M it takes
# about 20 minutes (generating and preparing the store the first time, then about 10 minutes of load).
#
#   tools/bench/serve_bench.sh [--shape M|B|S] [--data DIR] [--store DIR] [--json FILE] [...]
#
# Installs what it needs only when missing: wrk, redis-server (and redis-tools' redis-benchmark,
# redis-cli) and a C compiler from Debian; fastapi, uvicorn (with uvloop and httptools), redis-py,
# lightgbm and numpy from PyPI. Every option is passed to serve_bench.py (`--help` lists them). The strata
# binary is $STRATA_BIN, else --strata BIN, else .build/release/strata
# (swift build -c release --product strata).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v redis-benchmark >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; } || missing+=(redis-tools)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
if [ ${#missing[@]} -gt 0 ]; then
  echo "serve_bench: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c "import fastapi, uvicorn, uvloop, httptools, redis, lightgbm, numpy" 2>/dev/null; then
  echo "serve_bench: pip install fastapi uvicorn[standard] redis lightgbm numpy" >&2
  python3 -m pip install -q fastapi "uvicorn[standard]" redis lightgbm numpy
fi

exec python3 "$here/serve_bench.py" "$@"

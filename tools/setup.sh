#!/usr/bin/env bash
# Installs what Strata needs on a fresh Debian machine, only when missing:
# the system's lz4/zstd/zlib headers, pkg-config, curl, headless Chromium and its driver (the dashboard's
# browser test), and the Python packages of the tool scripts.
set -euo pipefail

missing=()
for package in liblz4-dev libzstd-dev zlib1g-dev libcairo2-dev libcurl4-openssl-dev pkg-config curl openssl chromium chromium-driver; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The independent reader and its tests (lz4, zstandard, numpy, pytest), the differentials (duckdb), the
# golden CLI tests (PyYAML), the LightGBM export round trip (lightgbm, pandas), and the server's
# integration and browser tests (requests, selenium).
if ! python3 -c "import lz4.block, zstandard, numpy, pytest, duckdb, yaml, lightgbm, pandas, requests, selenium, aiosmtpd, sklift" 2>/dev/null; then
  echo "setup: pip install lz4 zstandard numpy pytest duckdb pyyaml lightgbm pandas requests selenium aiosmtpd scikit-uplift" >&2
  python3 -m pip install -q lz4 zstandard numpy pytest duckdb pyyaml lightgbm pandas requests selenium aiosmtpd scikit-uplift
fi

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  echo "setup: add /opt/swift/usr/bin to PATH" >&2
fi

#!/usr/bin/env python3
"""W1 (point-in-time training set) and W4 (online lookups) benchmarks: Strata side by side with DuckDB,
Polars and pandas (W1) and a Python dict, SQLite, DuckDB and Redis (W4), on the same generated data.

    python3 tools/bench/features_bench.py --scale M [--runs 3] [--json results.json]

Needs the release builds (`swift build -c release --product strata` and `--product strata-bench`) and the dataset of
tools/bench/ingest_bench.py (generated here when missing). Not part of CI.

W1: Strata's figure is the whole `strata training-set` process reading the ingested store (the peers'
`compute` phase starts with the data already loaded in memory, so the comparison favours the peers).
W4: Strata materialises the online table with `strata features materialize`, then replays the same 100,000
msno that w4_peers.py draws (numpy default_rng(7)) through `strata-bench lookup`, in process.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchlib import run_with_rss

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(ROOT, "tools", "bench", "peers")
STRATA = os.path.join(ROOT, ".build", "release", "strata")
STRATA_BENCH = os.path.join(ROOT, ".build", "release", "strata-bench")
FEATURES = os.path.join(ROOT, "fixtures", "features", "w1.yaml")
SCALES = {
    "S": ["--members", "10000", "--start", "20160101", "--months", "15"],
    "M": ["--members", "100000", "--start", "20150101", "--months", "27"],
}


def prepare(scale, data_root):
    data = os.path.join(data_root, scale)
    csv_dir = os.path.join(data, "csv")
    if not os.path.exists(os.path.join(csv_dir, "labels.csv")):
        subprocess.run([STRATA, "generate", "--out", csv_dir] + SCALES[scale], check=True)
    db = os.path.join(data, "features.db")
    subprocess.run(["rm", "-rf", db], check=True)
    subprocess.run([STRATA, "ingest", "--db", db] + [os.path.join(csv_dir, t + ".csv") for t in
                   ("members", "transactions", "user_logs", "labels")], check=True, capture_output=True)
    return csv_dir, db


def w1(csv_dir, db, runs):
    results = {}
    strata = []
    for run in range(runs):
        seconds, rss, _ = run_with_rss([STRATA, "training-set", "--db", db, "--features", FEATURES, "--labels", "labels",
                                        "--out", f"w1_bench_{run}"])
        strata.append({"seconds": seconds, "peak_rss_bytes": rss})
    results["strata"] = min(strata, key=lambda r: r["seconds"])
    for engine in ("duckdb", "polars", "pandas"):
        print(f"W1: {engine} …", file=sys.stderr)
        best = None
        for _ in range(runs):
            out = subprocess.run([sys.executable, os.path.join(PEERS, "w1_peers.py"), "--data", csv_dir, "--engine", engine, "--json"],
                                 check=True, capture_output=True, text=True).stdout
            run = json.loads(out)
            if best is None or run["compute_seconds"] < best["compute_seconds"]:
                best = run
        results[engine] = best
    return results


def w4(csv_dir, db, work):
    print("W4: strata materialize + lookups …", file=sys.stderr)
    keys = os.path.join(work, "w4_keys.txt")
    print("W4: peers …", file=sys.stderr)
    peers = json.loads(subprocess.run([sys.executable, os.path.join(PEERS, "w4_peers.py"), "--data", csv_dir, "--keys-out", keys,
                                       "--work", work, "--json"], check=True, capture_output=True, text=True).stdout)
    max_cutoff = max(int(line.split(",")[1]) for line in open(os.path.join(csv_dir, "labels.csv")).read().split("\n")[1:] if line)
    seconds, rss, _ = run_with_rss([STRATA, "features", "materialize", "--db", db, "--as-of", str(max_cutoff), "--features", FEATURES])
    lookups = [json.loads(subprocess.run([STRATA_BENCH, "lookup", "--db", db, "--keys", keys],
                                         check=True, capture_output=True, text=True).stdout) for _ in range(3)]
    best = min(lookups, key=lambda r: r["p99_us"])
    return {"strata": {"materialize_seconds": seconds, "peak_rss_bytes": rss, **best}, "peers": peers}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--data", help="dataset root (default: bench-data/ in the repo)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="also write all figures to this file")
    args = parser.parse_args()
    if not (os.access(STRATA, os.X_OK) and os.access(STRATA_BENCH, os.X_OK)):
        sys.exit("build the release binaries first: swift build -c release --product strata && swift build -c release --product strata-bench")
    csv_dir, db = prepare(args.scale, args.data or os.path.join(ROOT, "bench-data"))
    work = os.path.dirname(db)
    results = {"scale": args.scale, "w1": w1(csv_dir, db, args.runs), "w4": w4(csv_dir, db, work)}
    report(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


def report(results):
    w1 = results["w1"]
    strata = w1["strata"]
    print(f"\nW1, scale {results['scale']}: Strata = whole `strata training-set` process from the store; peers = compute phase")
    print(f"{'engine':<10}{'load s':>10}{'compute s':>12}{'write s':>10}{'peak RSS MiB':>14}{'compute / strata':>18}")
    print(f"{'strata':<10}{'-':>10}{strata['seconds']:>12.2f}{'-':>10}{strata['peak_rss_bytes'] / 2**20:>14.0f}{1:>18.2f}")
    for engine in ("duckdb", "polars", "pandas"):
        run = w1[engine]
        print(f"{engine:<10}{run['load_seconds']:>10.2f}{run['compute_seconds']:>12.2f}{run['write_seconds']:>10.2f}"
              f"{run['peak_rss_bytes'] / 2**20:>14.0f}{run['compute_seconds'] / strata['seconds']:>18.2f}")
    w4 = results["w4"]
    s = w4["strata"]
    print(f"\nW4, scale {results['scale']}: 100,000 lookups of whole vectors, µs per lookup")
    print(f"{'store':<22}{'p50':>10}{'p99':>10}{'mean':>10}")
    print(f"{'strata (in process)':<22}{s['p50_us']:>10.3f}{s['p99_us']:>10.3f}{s['mean_us']:>10.3f}   materialize {s['materialize_seconds']:.2f} s")
    for name, store in w4["peers"].get("stores", {}).items():
        if "p50_us" in store:
            print(f"{name:<22}{store['p50_us']:>10.3f}{store['p99_us']:>10.3f}{store['mean_us']:>10.3f}")
        else:
            print(f"{name:<22}  {store}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Ingest and full-column-scan benchmark: Strata side by side with DuckDB, pyarrow and Polars (W3).

Generates the dataset once with `strata generate` (scale S or M, tools/bench/README.md), then, each engine in
a fresh process, times CSV -> native columnar per table, reports bytes on disk and peak RSS, times a
full-column scan of user_logs (sum of total_secs and num_25), and prints everything as ratios to Strata.

    python3 tools/bench/ingest_bench.py --scale M [--runs 3] [--json results.json]

Not part of CI: it takes minutes at scale M and needs the release build (`swift build -c release`).
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
SCALES = {
    "S": ["--members", "10000", "--start", "20160101", "--months", "15"],
    "M": ["--members", "100000", "--start", "20150101", "--months", "27"],
}
TABLES = ["members", "transactions", "user_logs", "labels"]


def strata_ingest(strata, csv_dir, work):
    db = os.path.join(work, "strata.db")
    subprocess.run(["rm", "-rf", db], check=True)
    tables = {}
    total = 0.0
    peak = 0
    for table in TABLES:
        seconds, rss, _ = run_with_rss([strata, "ingest", "--db", db, os.path.join(csv_dir, table + ".csv")])
        total += seconds
        peak = max(peak, rss)
        tables[table] = {"seconds": seconds, "peak_rss_bytes": rss}
    listing = subprocess.run([strata, "tables", "--db", db, "--format", "json"], check=True, capture_output=True, text=True).stdout
    for row in json.loads(listing):
        tables[row["table"]].update(disk_bytes=row["bytes"], csv_bytes=row["csv_bytes"], rows=row["rows"])
    return {"total_seconds": total, "peak_rss_bytes": peak, "tables": tables, "db": db}


def strata_scan(strata, db, runs):
    command = [strata, "scan", "--db", db, "user_logs", "--columns", "total_secs,num_25", "--summary", "--format", "json"]
    subprocess.run(command, check=True, capture_output=True)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        times.append(time.perf_counter() - started)
    summary = {row["column"]: row for row in json.loads(out)}
    rows = int(summary["num_25"]["rows"])
    seconds = statistics.median(times)
    return {"seconds": seconds, "rows": rows, "gb_per_s": rows * 16 / seconds / 1e9,
            "sum_total_secs": float(summary["total_secs"]["sum"]), "sum_num_25": int(summary["num_25"]["sum"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--data", help="where datasets are generated and kept (default: bench-data/ in the repo)")
    parser.add_argument("--runs", type=int, default=3, help="alternated runs per engine; the median is reported")
    parser.add_argument("--peers", default="duckdb,pyarrow,polars", help="peers to run (default: duckdb,pyarrow,polars)")
    parser.add_argument("--json", help="also write all figures to this file")
    args = parser.parse_args()

    strata = os.path.join(ROOT, ".build", "release", "strata")
    if not os.access(strata, os.X_OK):
        sys.exit("build the release binary first: swift build -c release --product strata")
    data = os.path.join(args.data or os.path.join(ROOT, "bench-data"), args.scale)
    csv_dir = os.path.join(data, "csv")
    if not os.path.exists(os.path.join(csv_dir, "labels.csv")):
        print(f"generating scale {args.scale} into {csv_dir} …", file=sys.stderr)
        _, _, out = run_with_rss([strata, "generate", "--out", csv_dir] + SCALES[args.scale])
        print(out.strip(), file=sys.stderr)
    work = os.path.join(data, "work")
    os.makedirs(work, exist_ok=True)
    csv_bytes = {t: os.path.getsize(os.path.join(csv_dir, t + ".csv")) for t in TABLES}

    results = {"scale": args.scale, "csv_bytes": csv_bytes, "engines": {}}
    # Engines alternate run by run (the machine's speed drifts); each figure is the median run's.
    engines = ["strata"] + args.peers.split(",")
    runs = {engine: [] for engine in engines}
    for run in range(args.runs):
        for engine in engines:
            print(f"ingest run {run + 1}: {engine} …", file=sys.stderr)
            if engine == "strata":
                runs[engine].append(strata_ingest(strata, csv_dir, work))
            else:
                out = subprocess.run([sys.executable, os.path.join(PEERS, "ingest_peers.py"), "--data", csv_dir, "--out", work,
                                      "--engine", engine, "--json"], check=True, capture_output=True, text=True).stdout
                runs[engine].append(json.loads(out))
    for engine in engines:
        ordered = sorted(runs[engine], key=lambda r: r["total_seconds"])
        results["engines"][engine] = dict(ordered[(len(ordered) - 1) // 2], all_total_seconds=[r["total_seconds"] for r in runs[engine]])
    best = results["engines"]["strata"]

    print("scan: strata …", file=sys.stderr)
    results["scan"] = {"strata": strata_scan(strata, best["db"], 5)}
    for engine in args.peers.split(","):
        print(f"scan: {engine} …", file=sys.stderr)
        out = subprocess.run([sys.executable, os.path.join(PEERS, "scan_peers.py"), "--work", work, "--engine", engine, "--json"],
                             check=True, capture_output=True, text=True).stdout
        results["scan"][engine] = json.loads(out)

    report(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


def report(results):
    engines = results["engines"]
    strata = engines["strata"]
    print(f"\nW3 ingest, scale {results['scale']}: seconds per table (median of alternated runs), ratio = peer / strata (>1: strata faster)")
    header = f"{'table':<14}{'csv MB':>9}" + "".join(f"{e:>12}" for e in engines) + "".join(f"{e + '/strata':>16}" for e in engines if e != "strata")
    print(header)
    for table in TABLES + ["TOTAL"]:
        cells = []
        for engine, run in engines.items():
            cells.append(run["total_seconds"] if table == "TOTAL" else run["tables"][table]["seconds"])
        mb = sum(results["csv_bytes"].values()) if table == "TOTAL" else results["csv_bytes"][table]
        line = f"{table:<14}{mb / 1e6:>9.1f}" + "".join(f"{c:>12.2f}" for c in cells)
        line += "".join(f"{c / cells[0]:>16.2f}" for c in cells[1:])
        print(line)
    print(f"{'MB/s (total)':<23}" + "".join(f"{sum(results['csv_bytes'].values()) / 1e6 / run['total_seconds']:>12.0f}" for run in engines.values()))
    print(f"{'peak RSS MiB':<23}" + "".join(f"{run['peak_rss_bytes'] / 2**20:>12.0f}" for run in engines.values()))

    print(f"\nBytes on disk / CSV bytes (smaller is better); ratio = peer bytes / strata bytes (>1: strata smaller)")
    print(f"{'table':<14}" + "".join(f"{e:>12}" for e in engines) + "".join(f"{e + '/strata':>16}" for e in engines if e != "strata"))
    for table in TABLES:
        disk = [run["tables"][table]["disk_bytes"] for run in engines.values()]
        csv = results["csv_bytes"][table]
        print(f"{table:<14}" + "".join(f"{d / csv:>12.3f}" for d in disk) + "".join(f"{d / disk[0]:>16.2f}" for d in disk[1:]))

    scans = results["scan"]
    print(f"\nFull-column scan of user_logs (total_secs + num_25, decoded), median seconds; ratio = peer / strata")
    base = scans["strata"]["seconds"]
    for engine, scan in scans.items():
        print(f"{engine:<10}{scan['seconds']:>9.3f} s {scan['gb_per_s']:>7.2f} GB/s  ratio {scan['seconds'] / base:>6.2f}  "
              f"sum(num_25)={scan['sum_num_25']} sum(total_secs)={scan['sum_total_secs']:.6e}")


if __name__ == "__main__":
    main()

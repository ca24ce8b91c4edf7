#!/usr/bin/env python3
"""SQL query benchmark: `strata query` side by side with DuckDB and Polars on the same generated data, W2
(tools/bench/README.md: w2_monthly, w2_top10) plus exploration queries (the SQL is in peers/query_peers.py).

    python3 tools/bench/query_bench.py --scale M [--runs 5] [--json results.json] [--peers-only]

Needs the release builds (`swift build -c release --product strata` and `--product strata-bench`); the CSVs are generated and the store
bench-data/<scale>/query.db ingested when missing. Not part of CI.

Strata: each query is a whole `strata query --db STORE "SQL" --format csv` process, timed with its start, the
store read from the OS page cache (one untimed run first warms the cache, the process itself is cold) and the
CSV written to a pipe; the figure is the median of --runs, the peak RSS the largest of those runs. Then the
same query repeated --runs times inside one process (`strata-bench query --repeat`: plan, open, execute, format every cell)
gives the "in-process" figure, without process start.
Peers: tools/bench/peers/query_peers.py, one fresh process per engine: load (the four CSVs -> in-memory tables,
reported apart) then compute per query, the median of --runs in that warm process, results fully materialised.
So the comparison favours the peers: their figure excludes process start and data loading.

Cross-check: every query's column names and rows are compared between Strata and DuckDB (integers and strings
exactly, floats within 1e-9 relative) and with Polars (the same, except that round(x, 3) columns may differ by
1e-3 absolute: sums added in another order can round to the next thousandth); limit10 returns arbitrary rows, so
only its columns and row count are compared. Any mismatch stops the driver with exit status 1, before anything
is written. With --scale M the report and the figures go to tools/bench/results-query-M.txt/.json.
"""
import argparse
import csv
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys

from benchlib import run_with_rss

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "tools", "bench")
PEERS = os.path.join(BENCH, "peers")
STRATA = os.path.join(ROOT, ".build", "release", "strata")
STRATA_BENCH = os.path.join(ROOT, ".build", "release", "strata-bench")
SCALES = {
    "S": ["--members", "10000", "--start", "20160101", "--months", "15"],
    "M": ["--members", "100000", "--start", "20150101", "--months", "27"],
}
TABLES = ("members", "transactions", "user_logs", "labels")
ENGINES = ("duckdb", "polars")
sys.path.insert(0, PEERS)
from query_peers import QUERIES, W2, ROUNDED, ROW_COUNT_ONLY, checksum  # noqa: E402  (one copy of the SQL)

REL_TOL = 1e-9
ROUNDED_ABS_TOL = 1e-3  # Polars comparisons only, round(x, 3) columns only
INT_RE = re.compile(r"[+-]?[0-9]+")
FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def prepare(scale, data_root, need_store):
    data = os.path.join(data_root, scale)
    csv_dir = os.path.join(data, "csv")
    if not os.path.exists(os.path.join(csv_dir, "labels.csv")):
        print(f"generating scale {scale} into {csv_dir} …", file=sys.stderr)
        subprocess.run([STRATA, "generate", "--out", csv_dir] + SCALES[scale], check=True)
    db = os.path.join(data, "query.db")
    if need_store and not os.path.exists(db):
        print(f"ingesting {db} …", file=sys.stderr)
        try:
            subprocess.run([STRATA, "ingest", "--db", db] + [os.path.join(csv_dir, t + ".csv") for t in TABLES],
                           check=True, capture_output=True)
        except subprocess.CalledProcessError as error:
            subprocess.run(["rm", "-rf", db], check=True)  # no half-built store for the next run to trust
            sys.exit(f"strata ingest failed ({error.returncode}):\n{error.stderr.decode(errors='replace')}")
    return csv_dir, db


def cell(text):
    """A cell of `strata query --format csv`: empty = NULL, else an integer, a float or text (dates stay text)."""
    if text == "":
        return None
    if INT_RE.fullmatch(text):
        return int(text)
    if FLOAT_RE.fullmatch(text):
        return float(text)
    return text


def parse_csv(text):
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        return [], []
    return records[0], [[cell(v) for v in record] for record in records[1:]]


def strata_queries(db, names, runs, warmup):
    results = {}
    for name in names:
        print(f"strata: {name} …", file=sys.stderr)
        command = [STRATA, "query", "--db", db, QUERIES[name], "--format", "csv"]
        outputs = [run_with_rss(command)[2] for _ in range(warmup)]  # warms the page cache
        timed = [run_with_rss(command) for _ in range(runs)]
        outputs += [out for _, _, out in timed]
        if any(out != outputs[0] for out in outputs) and name not in ROW_COUNT_ONLY:
            sys.exit(f"MISMATCH: strata returned different output for {name} from one run to the next")
        columns, rows = parse_csv(outputs[0])
        times = [seconds for seconds, _, _ in timed]
        # The same query repeated inside one process: what it costs without process start and store open.
        repeated = subprocess.run([STRATA_BENCH, "query", "--db", db, "--repeat", str(runs), QUERIES[name]], check=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True).stderr
        in_process = [float(x) for x in repeated.split("in-process seconds:")[1].split()]
        results[name] = {"seconds": statistics.median(times), "runs_seconds": times,
                         "in_process_seconds": statistics.median(in_process), "in_process_runs_seconds": in_process,
                         "peak_rss_bytes": max(rss for _, rss, _ in timed), "columns": columns,
                         "row_count": len(rows), "rows": rows, "checksum": checksum(columns, rows)}
    return {"queries": results}


def run_peer(engine, csv_dir, names, runs, warmup):
    print(f"{engine}: load + {len(names)} queries …", file=sys.stderr)
    out = subprocess.run([sys.executable, os.path.join(PEERS, "query_peers.py"), "--data", csv_dir, "--engine", engine,
                          "--queries", ",".join(names), "--runs", str(runs), "--warmup", str(warmup), "--json"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def compare(name, a_label, a, b_label, b, rounded_tol):
    """Differences between two results of one query (a list of messages) and how many float cells agreed only
    thanks to the rounded-column tolerance."""
    diffs, loose = [], 0
    if a["columns"] != b["columns"]:
        return [f"{name}: columns {a_label} {a['columns']} vs {b_label} {b['columns']}"], 0
    if a["row_count"] != b["row_count"]:
        return [f"{name}: {a_label} {a['row_count']} rows vs {b_label} {b['row_count']} rows"], 0
    if name in ROW_COUNT_ONLY:
        return [], 0
    rounded = set(ROUNDED.get(name, ()))
    for i, (ra, rb) in enumerate(zip(a["rows"], b["rows"])):
        for column, x, y in zip(a["columns"], ra, rb):
            if x is None or y is None or isinstance(x, str) or isinstance(y, str):
                same = x == y
            elif isinstance(x, int) and isinstance(y, int):
                same = x == y
            elif math.isclose(x, y, rel_tol=REL_TOL):
                same = True
            elif column in rounded and math.isclose(x, y, rel_tol=REL_TOL, abs_tol=rounded_tol):
                same, loose = True, loose + 1
            else:
                same = False
            if not same:
                diffs.append(f"{name}: row {i + 1} column {column}: {a_label} {x!r} vs {b_label} {y!r}")
    return diffs, loose


def cross_check(results, names):
    engines = [e for e in ("strata",) + ENGINES if e in results]
    checks, diffs = {}, []
    for name in names:
        checks[name] = {}
        for i, a in enumerate(engines):
            for b in engines[i + 1:]:
                tol = ROUNDED_ABS_TOL if "polars" in (a, b) else 0.0
                found, loose = compare(name, a, results[a]["queries"][name], b, results[b]["queries"][name], tol)
                checks[name][f"{a}~{b}"] = {"ok": not found, "rounded_cells_within_1e-3": loose}
                diffs += found
    return checks, diffs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=SCALES, default="S")
    parser.add_argument("--data", help="dataset root (default: bench-data/ in the repo)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (median reported), default 5")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per query first, default 1")
    parser.add_argument("--queries", default="all", help=f"comma list of {', '.join(QUERIES)}, or all (default)")
    parser.add_argument("--json", help="also write all figures to this file")
    parser.add_argument("--peers-only", action="store_true",
                        help="skip Strata: peers measured and cross-checked against each other; no results-query files")
    args = parser.parse_args()
    names = list(QUERIES) if args.queries == "all" else args.queries.split(",")
    if set(names) - set(QUERIES):
        parser.error(f"unknown query: {', '.join(sorted(set(names) - set(QUERIES)))}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not (os.access(STRATA, os.X_OK) and os.access(STRATA_BENCH, os.X_OK)) and not args.peers_only:
        sys.exit("build the release binaries first: swift build -c release --product strata && swift build -c release --product strata-bench")
    csv_dir, db = prepare(args.scale, args.data or os.path.join(ROOT, "bench-data"), need_store=not args.peers_only)

    results = {"scale": args.scale, "runs": args.runs, "warmup": args.warmup, "queries": {n: QUERIES[n] for n in names}}
    if not args.peers_only:
        results["strata"] = strata_queries(db, names, args.runs, args.warmup)
    for engine in ENGINES:
        results[engine] = run_peer(engine, csv_dir, names, args.runs, args.warmup)
    results["cross_check"], diffs = cross_check(results, names)
    if diffs:
        print("\n".join(diffs[:40]), file=sys.stderr)
        sys.exit(f"MISMATCH: {len(diffs)} differing cells/shapes between engines (first {min(len(diffs), 40)} above)")

    text = report(results, names)
    print(text)
    paths = [args.json] if args.json else []
    if args.scale == "M" and not args.peers_only and args.queries == "all":
        with open(os.path.join(BENCH, "results-query-M.txt"), "w") as handle:
            handle.write(text + "\n")
        paths.append(os.path.join(BENCH, "results-query-M.json"))
    for path in paths:
        with open(path, "w") as handle:
            json.dump(results, handle, indent=2)


def report(results, names):
    strata = results["strata"]["queries"] if "strata" in results else None
    duck, polars = results["duckdb"], results["polars"]
    lines = [f"\nSQL queries, scale {results['scale']}: median of {results['runs']} runs after {results['warmup']} untimed."
             " Strata = whole `strata query --format csv` process (start, store from the page cache, CSV out);",
             "Strata in-process = the same query repeated inside one process (plan, open, execute, format every cell);",
             "DuckDB / Polars = compute only, tables already in memory (load below).",
             "ratio = Strata seconds / peer seconds (< 1: Strata faster, > 1: the peer faster)."]
    lines.append(f"{'query':<15}{'rows':>6}{'strata s':>10}{'in-proc s':>11}{'duckdb s':>10}{'polars s':>10}"
                 f"{'strata/duckdb':>15}{'strata/polars':>15}{'in-proc/duckdb':>16}{'strata RSS MiB':>16}")

    def line(label, rows, s, i, d, p, rss):
        ratio = (lambda mine, peer: f"{mine / peer:>{15}.2f}" if mine is not None else f"{'-':>15}")
        return (f"{label:<15}{rows:>6}" + (f"{s:>10.4f}" if s is not None else f"{'-':>10}")
                + (f"{i:>11.4f}" if i is not None else f"{'-':>11}") + f"{d:>10.4f}{p:>10.4f}"
                + ratio(s, d) + ratio(s, p) + " " + ratio(i, d) + (f"{rss / 2**20:>16.0f}" if rss is not None else f"{'-':>16}"))

    for name in names:
        s = strata[name] if strata else None
        lines.append(line(name, duck["queries"][name]["row_count"], s and s["seconds"], s and s["in_process_seconds"],
                          duck["queries"][name]["seconds"], polars["queries"][name]["seconds"], s and s["peak_rss_bytes"]))
    if all(n in names for n in W2):
        lines.append(line("W2 total", "", sum(strata[n]["seconds"] for n in W2) if strata else None,
                          sum(strata[n]["in_process_seconds"] for n in W2) if strata else None,
                          sum(duck["queries"][n]["seconds"] for n in W2), sum(polars["queries"][n]["seconds"] for n in W2),
                          max(strata[n]["peak_rss_bytes"] for n in W2) if strata else None))
    lines.append("")
    for engine, run in (("duckdb", duck), ("polars", polars)):
        lines.append(f"{engine} {run['version']}, {run['threads']} threads: load (4 CSVs -> memory) {run['load_seconds']:.2f} s, "
                     f"process peak RSS {run['peak_rss_bytes'] / 2**20:.0f} MiB")
    loose = sum(c["rounded_cells_within_1e-3"] for q in results["cross_check"].values() for c in q.values())
    engines = " = ".join(e for e in ("strata",) + ENGINES if e in results)
    lines.append(f"cross-check: {engines} on every query (limit10: columns and row count only); "
                 f"{loose} rounded cells agreed only within 1e-3")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

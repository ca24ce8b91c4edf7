#!/usr/bin/env python3
"""Full-column scan peer over the outputs of ingest_peers.py (user_logs):
sum(total_secs), sum(num_25), count(*).

    python3 scan_peers.py --work WORKDIR --engine duckdb|pyarrow|polars|all [--json]

DuckDB scans WORKDIR/duckdb/user_logs.duckdb (connection opened once, before the clock); pyarrow and Polars
both read the same Parquet file (default WORKDIR/pyarrow/user_logs.parquet) so that the readers, not the
writers, are compared. Per engine: `--warmup` untimed runs, then `--runs` timed ones; `seconds` is their
median and gb_per_s = rows * 16 bytes (two decoded 8-byte columns) / seconds / 1e9.
Several engines (comma list or `all`): each runs in a fresh child process and the JSON is aggregated.
"""
import argparse, json, math, os, resource, statistics, subprocess, sys, time

ENGINES = ("duckdb", "pyarrow", "polars")
THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count())
# Polars sizes its thread pool once, at import: set it before any engine is imported.
os.environ["POLARS_MAX_THREADS"] = str(THREADS)
SQL = "SELECT sum(total_secs), sum(num_25), count(*) FROM user_logs"


def scanner_duckdb(path):
    import duckdb
    con = duckdb.connect(path, read_only=True, config={"threads": THREADS})
    return duckdb.__version__, lambda: con.execute(SQL).fetchone()


def scanner_pyarrow(path):
    import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
    pa.set_cpu_count(THREADS)

    def scan():
        t = pq.read_table(path, columns=["total_secs", "num_25"], use_threads=True)
        return pc.sum(t["total_secs"]).as_py(), pc.sum(t["num_25"]).as_py(), t.num_rows
    return pa.__version__, scan


def scanner_polars(path):
    import polars as pl
    q = pl.scan_parquet(path).select(pl.col("total_secs").sum(), pl.col("num_25").sum(), pl.len())
    return pl.__version__, lambda: q.collect().row(0)


def run_engine(engine, path, runs, warmup):
    version, scan = globals()["scanner_" + engine](path)  # imports and setup stay outside the clock
    for _ in range(warmup):
        scan()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        total_secs, num_25, rows = scan()
        times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    return {"workload": "scan", "engine": engine, "version": version, "threads": THREADS,
            "file": os.path.abspath(path), "rows": int(rows),
            "sum_total_secs": float(total_secs), "sum_num_25": int(num_25),
            "seconds": seconds, "runs_seconds": times, "gb_per_s": rows * 16 / seconds / 1e9,
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}  # KiB on Linux


def run_fresh(engines, argv):
    """One child process per engine, so no engine inherits another's heap, caches or threads."""
    results = {}
    for e in engines:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, "--engine", e, "--json"],
                           stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"engine {e} failed (exit {p.returncode})")
        results[e] = json.loads(p.stdout)
    # Cross-check: integers exactly, the float sum within 1e-9 relative (summation order differs).
    ref = next(iter(results.values()))
    agree = all(r["rows"] == ref["rows"] and r["sum_num_25"] == ref["sum_num_25"]
                and math.isclose(r["sum_total_secs"], ref["sum_total_secs"], rel_tol=1e-9)
                for r in results.values())
    if not agree:
        print("warning: results differ between engines", file=sys.stderr)
    return {"workload": "scan", "threads": THREADS, "results_agree": agree, "engines": results}


def print_table(results):
    print(f"{'engine':8} {'rows':>11} {'median_s':>9} {'GB/s':>7} {'sum_total_secs':>24} {'sum_num_25':>14} "
          f"{'peak_rss_MiB':>12}")
    for e, r in results.items():
        print(f"{e:8} {r['rows']:>11} {r['seconds']:>9.4f} {r['gb_per_s']:>7.2f} {r['sum_total_secs']!r:>24} "
              f"{r['sum_num_25']:>14} {r['peak_rss_bytes'] / 2**20:>12.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", help="the --out directory of ingest_peers.py")
    ap.add_argument("--duckdb-file", help="default: WORK/duckdb/user_logs.duckdb")
    ap.add_argument("--parquet-file", help="default: WORK/pyarrow/user_logs.parquet")
    ap.add_argument("--engine", default="all", help="duckdb, pyarrow, polars, a comma list, or all (default)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs (median reported), default 5")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first, default 1")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a = ap.parse_args()
    engines = list(ENGINES) if a.engine == "all" else a.engine.split(",")
    if set(engines) - set(ENGINES):
        ap.error(f"unknown engine: {', '.join(sorted(set(engines) - set(ENGINES)))}")
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    duck = a.duckdb_file or (a.work and os.path.join(a.work, "duckdb", "user_logs.duckdb"))
    parq = a.parquet_file or (a.work and os.path.join(a.work, "pyarrow", "user_logs.parquet"))
    for e in engines:
        f = duck if e == "duckdb" else parq
        if not f or not os.path.exists(f):
            flag = "--duckdb-file" if e == "duckdb" else "--parquet-file"
            ap.error(f"{e}: no input file ({f}); give --work or {flag}")
    if len(engines) == 1:
        results = run_engine(engines[0], duck if engines[0] == "duckdb" else parq, a.runs, a.warmup)
        table_view = {engines[0]: results}
    else:
        argv = ["--runs", str(a.runs), "--warmup", str(a.warmup)]
        argv += ["--duckdb-file", duck] if "duckdb" in engines else []
        argv += ["--parquet-file", parq] if set(engines) - {"duckdb"} else []
        results = run_fresh(engines, argv)
        table_view = results["engines"]
    if a.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(table_view)


if __name__ == "__main__":
    main()

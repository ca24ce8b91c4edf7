#!/usr/bin/env python3
"""W3 peer: ingest CSV -> native columnar, one table at a time (tools/bench/README.md, W3).

    python3 ingest_peers.py --data DIR --out WORKDIR --engine duckdb|pyarrow|polars|all [--json]

Outputs: WORKDIR/duckdb/<table>.duckdb, WORKDIR/pyarrow/<table>.parquet, WORKDIR/polars/<table>.parquet.
Each table's time covers parse + persist (DuckDB: connect .. CTAS .. CHECKPOINT .. close), measured with
perf_counter in this process. `ratio` = disk_bytes / csv_bytes (smaller is denser).
Several engines (comma list or `all`): each runs in a fresh child process and the JSON is aggregated.
"""
import argparse, json, os, resource, subprocess, sys, time

ENGINES = ("duckdb", "pyarrow", "polars")
TABLES = {
    "members": "msno city bd gender registered_via registration_init_time",
    "transactions": "msno payment_method_id payment_plan_days plan_list_price actual_amount_paid "
                    "is_auto_renew transaction_date membership_expire_date is_cancel",
    "user_logs": "msno date num_25 num_50 num_75 num_985 num_100 num_unq total_secs",
    "labels": "msno cutoff_date is_churn",
}
TABLES = {t: cols.split() for t, cols in TABLES.items()}
THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count())
# Polars sizes its thread pool once, at import: set it before any engine is imported.
os.environ["POLARS_MAX_THREADS"] = str(THREADS)


def kind(col):
    """Input types of the conventions: all int64 except the two strings and total_secs."""
    return "str" if col in ("msno", "gender") else "f64" if col == "total_secs" else "i64"


def ingest_duckdb(table, csv, out):
    import duckdb
    sql_type = {"str": "VARCHAR", "i64": "BIGINT", "f64": "DOUBLE"}
    cols = ", ".join(f"'{c}': '{sql_type[kind(c)]}'" for c in TABLES[table])
    path = "'" + csv.replace("'", "''") + "'"
    con = duckdb.connect(out, config={"threads": THREADS})
    # auto_detect=false: types and dialect come only from us; empty field -> NULL.
    rows = con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv({path}, header=true, delim=',', "
                       f"quote='\"', nullstr='', auto_detect=false, columns={{{cols}}})").fetchone()[0]
    con.execute("CHECKPOINT")  # everything in the .duckdb file, nothing left in the WAL
    con.close()
    return rows


def ingest_pyarrow(table, csv, out):
    import pyarrow as pa, pyarrow.csv as pcsv, pyarrow.parquet as pq
    arrow_type = {"str": pa.string(), "i64": pa.int64(), "f64": pa.float64()}
    conv = pcsv.ConvertOptions(column_types={c: arrow_type[kind(c)] for c in TABLES[table]},
                               null_values=[""], strings_can_be_null=True)  # only "" is NULL, strings too
    t = pcsv.read_csv(csv, read_options=pcsv.ReadOptions(use_threads=True), convert_options=conv)
    pq.write_table(t, out, compression="zstd")
    return t.num_rows


def ingest_polars(table, csv, out):
    import polars as pl
    pl_type = {"str": pl.String, "i64": pl.Int64, "f64": pl.Float64}
    schema = {c: pl_type[kind(c)] for c in TABLES[table]}
    (pl.scan_csv(csv, schema=schema, empty_string_is_null=True)
       .sink_parquet(out, compression="zstd", engine="streaming"))
    return None  # counted after the clock stops


def count_polars(out):
    import polars as pl
    return pl.scan_parquet(out).select(pl.len()).collect().item()  # footer metadata only


def load_engine(engine):
    """Import the engine (and set its thread count) before any clock starts; returns its version."""
    import importlib
    for m in {"pyarrow": ["pyarrow.csv", "pyarrow.parquet"]}.get(engine, [engine]):
        importlib.import_module(m)
    mod = importlib.import_module(engine)
    if engine == "pyarrow":
        mod.set_cpu_count(THREADS)
    return mod.__version__


def run_engine(engine, data, work, tables):
    out_dir = os.path.join(work, engine)
    os.makedirs(out_dir, exist_ok=True)
    ext = ".duckdb" if engine == "duckdb" else ".parquet"
    ingest, version = globals()["ingest_" + engine], load_engine(engine)
    res = {}
    for table in tables:
        csv = os.path.join(data, table + ".csv")
        with open(csv, newline="") as f:  # the column order must match ours: CSV headers are not re-mapped
            header = f.readline().rstrip("\r\n").split(",")
        if header != TABLES[table]:
            sys.exit(f"{csv}: header {header} != expected {TABLES[table]}")
        out = os.path.join(out_dir, table + ext)
        for stale in (out, out + ".wal"):
            if os.path.exists(stale):
                os.remove(stale)
        t0 = time.perf_counter()
        rows = ingest(table, csv, out)
        seconds = time.perf_counter() - t0
        if rows is None:
            rows = count_polars(out)
        disk = os.path.getsize(out) + (os.path.getsize(out + ".wal") if os.path.exists(out + ".wal") else 0)
        csv_bytes = os.path.getsize(csv)
        res[table] = {"seconds": seconds, "rows": rows, "csv_bytes": csv_bytes, "disk_bytes": disk,
                      "ratio": disk / csv_bytes, "path": os.path.abspath(out)}
    return {"workload": "W3", "engine": engine, "version": version, "threads": THREADS,
            "tables": res, "total_seconds": sum(r["seconds"] for r in res.values()),
            # ru_maxrss is KiB on Linux: the peak of this whole process, across all its tables.
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def run_fresh(engines, argv):
    """One child process per engine, so no engine inherits another's heap, caches or threads."""
    results = {}
    for e in engines:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), *argv, "--engine", e, "--json"],
                           stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"engine {e} failed (exit {p.returncode})")
        results[e] = json.loads(p.stdout)
    rows = {e: {t: r["rows"] for t, r in res["tables"].items()} for e, res in results.items()}
    consistent = len({json.dumps(r, sort_keys=True) for r in rows.values()}) == 1
    if not consistent:
        print(f"warning: row counts differ between engines: {rows}", file=sys.stderr)
    return {"workload": "W3", "threads": THREADS, "rows_consistent": consistent, "engines": results}


def print_table(results):
    print(f"{'engine':8} {'table':13} {'rows':>11} {'seconds':>9} {'csv_bytes':>13} {'disk_bytes':>13} "
          f"{'ratio':>6} {'peak_rss_MiB':>12}")
    for e, res in results.items():
        for t, r in res["tables"].items():
            print(f"{e:8} {t:13} {r['rows']:>11} {r['seconds']:>9.3f} {r['csv_bytes']:>13} "
                  f"{r['disk_bytes']:>13} {r['ratio']:>6.3f} {res['peak_rss_bytes'] / 2**20:>12.1f}")
        print(f"{e:8} {'TOTAL':13} {'':>11} {res['total_seconds']:>9.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory holding the four KKBox .csv files")
    ap.add_argument("--out", required=True, help="output directory (one subdirectory per engine)")
    ap.add_argument("--engine", default="all", help="duckdb, pyarrow, polars, a comma list, or all (default)")
    ap.add_argument("--tables", default=",".join(TABLES), help="comma list of tables (default: all four)")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a = ap.parse_args()
    engines = list(ENGINES) if a.engine == "all" else a.engine.split(",")
    tables = a.tables.split(",")
    for name, bad in (("engine", set(engines) - set(ENGINES)), ("table", set(tables) - set(TABLES))):
        if bad:
            ap.error(f"unknown {name}: {', '.join(sorted(bad))}")
    if len(engines) == 1:
        results = run_engine(engines[0], a.data, a.out, tables)
        table_view = {engines[0]: results}
    else:
        results = run_fresh(engines, ["--data", a.data, "--out", a.out, "--tables", ",".join(tables)])
        table_view = results["engines"]
    if a.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(table_view)


if __name__ == "__main__":
    main()

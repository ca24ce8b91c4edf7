#!/usr/bin/env python3
"""The SQL query set of tools/bench/query_bench.py (W2 of tools/bench/README.md plus exploration queries) run by a peer
engine on the four KKBox CSVs, phases timed.

    python3 query_peers.py --data DIR --engine duckdb|polars [--queries all|q1,q2] [--runs 5] [--warmup 1] [--json]

Phases (time.perf_counter): load = the four CSVs -> in-memory tables with the explicit types of Sources/StrataIngest/KKBoxTables.swift,
then compute per query: `--warmup` untimed runs, then `--runs` timed ones in the same warm process; `seconds`
is their median. Every run materialises the whole result (fetchall() / collect()).

Dates, each peer in its fastest idiomatic form (measured at scale M, 2 cores):
  duckdb  `date` is parsed as DATE by the CSV reader (read_csv types + dateformat '%Y%m%d'), so the queries are
          Strata's SQL verbatim (year(date) * 100 + month(date), DATE '2017-02-01' + 30 ...). Same load time as
          BIGINT (4.5 s for user_logs) and the same query times; a strptime/make_date pass would add ~4 s.
  polars  dates stay YYYYMMDD Int64, as in W2's own definition: month = date // 100 and date ranges become
          integer bounds computed here with datetime (2017-02-01 + 30 days -> 20170303). Converting to pl.Date
          would add 0.3-0.5 s to load and ~0.2 s to the monthly query. Polars' round() is called with
          mode="half_away_from_zero", SQL's rounding (its default is half to even).
Results: column names and rows (dates as YYYY-MM-DD, HUGEINT sums as int) plus a checksum per query (per column:
NULL count, sum of values / of CRC-32s of strings, and a row-order-weighted sum), so that query_bench.py can
cross-check engines. Threads: BENCH_THREADS, default all cores (POLARS_MAX_THREADS is set from it).
"""
import argparse, datetime, decimal, json, os, resource, statistics, sys, time, zlib

THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count())
# Polars sizes its thread pool once, at import: set it before any engine is imported.
os.environ["POLARS_MAX_THREADS"] = str(THREADS)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import w1_reference as ref  # noqa: E402  (SCHEMAS, check_header, read_csv_expr)

ENGINES = ("duckdb", "polars")
TABLES = ("members", "transactions", "user_logs", "labels")
HEAVY_DAYS = 400  # at scale M, 7,315 users have more than 400 log days (at most 638)

# The Strata SQL of each query; DuckDB runs it as it is. Order = report order.
QUERIES = {
    "w2_monthly": "SELECT year(date) * 100 + month(date) AS m, "
                  "round(sum(CASE WHEN total_secs BETWEEN 0 AND 86400 THEN total_secs END), 3) AS total_secs, "
                  "count(DISTINCT msno) AS users, count(*) AS n FROM user_logs GROUP BY m ORDER BY m",
    "w2_top10": "SELECT msno, round(sum(total_secs), 3) AS secs FROM user_logs "
                "WHERE date >= DATE '2017-02-01' AND date < DATE '2017-02-01' + 30 AND total_secs BETWEEN 0 AND 86400 "
                "GROUP BY msno ORDER BY secs DESC, msno LIMIT 10",
    "plans": "SELECT payment_plan_days, count(*) AS n, avg(actual_amount_paid) AS avg_paid, sum(is_cancel) AS cancels "
             "FROM transactions GROUP BY payment_plan_days ORDER BY payment_plan_days",
    "churn_by_city": "SELECT city, count(*) AS n, avg(is_churn) AS churn_rate FROM labels JOIN members USING (msno) "
                     "GROUP BY city ORDER BY city",
    "week_range": "SELECT count(*) AS n, sum(num_100) AS plays FROM user_logs "
                  "WHERE date BETWEEN DATE '2016-06-01' AND DATE '2016-06-07'",
    "heavy_users": f"SELECT msno, count(*) AS days FROM user_logs GROUP BY msno HAVING count(*) > {HEAVY_DAYS} "
                   "ORDER BY days DESC, msno LIMIT 20",
    "limit10": "SELECT * FROM user_logs LIMIT 10",
}
W2 = ("w2_monthly", "w2_top10")
# Columns produced by round(..., 3): the only ones where engines may legitimately differ in the last digit.
ROUNDED = {"w2_monthly": ["total_secs"], "w2_top10": ["secs"]}
# SELECT * ... LIMIT 10 returns arbitrary rows: compare the row count and the column names only.
ROW_COUNT_ONLY = {"limit10"}


def ymd(iso):
    """'2017-02-01' -> 20170201, the YYYYMMDD integer form of the generated CSVs."""
    return int(iso.replace("-", ""))


def plus_days(iso, days):
    return ymd((datetime.date.fromisoformat(iso) + datetime.timedelta(days=days)).isoformat())


# ---------------------------------------------------------------------------------------------- results
def plain(value):
    """A result cell as a JSON value: dates ISO (as Strata prints them), decimals/HUGEINTs as numbers."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def checksum(columns, rows):
    """Order-independent per-column figures (NULL count, sum) plus an order-sensitive weighted sum.
    Strings contribute their CRC-32; booleans and numbers their value."""
    out = {}
    for j, name in enumerate(columns):
        nulls, total, weighted = 0, 0, 0
        for i, row in enumerate(rows):
            v = row[j]
            if v is None:
                nulls += 1
                continue
            if isinstance(v, str):
                v = zlib.crc32(v.encode())
            total += v
            weighted += (i + 1) * v
        out[name] = {"nulls": nulls, "sum": total, "weighted_sum": weighted}
    return out


# ---------------------------------------------------------------------------------------------- DuckDB
class DuckDBPeer:
    def __init__(self):
        import duckdb
        self.version = duckdb.__version__
        self.con = duckdb.connect(config={"threads": THREADS})

    def load(self, data):
        for table in TABLES:
            path = os.path.join(data, f"{table}.csv")
            ref.check_header(path, table)
            expr = ref.read_csv_expr(path, table, lenient_dates=False)
            if table == "user_logs":  # the only date the queries read: parsed as DATE by the reader itself
                expr = expr.replace("'date': 'BIGINT'", "'date': 'DATE'")[:-1] + ", dateformat = '%Y%m%d')"
            self.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {expr}")

    def query(self, name):
        return lambda: self.con.execute(QUERIES[name])

    def result(self, cursor):
        rows = cursor.fetchall()
        return [d[0] for d in cursor.description], rows


# ---------------------------------------------------------------------------------------------- Polars
class PolarsPeer:
    def __init__(self):
        import polars as pl
        self.pl = pl
        self.version = pl.__version__

    def load(self, data):
        pl = self.pl
        types = {"VARCHAR": pl.String, "BIGINT": pl.Int64, "DOUBLE": pl.Float64}
        self.t = {}
        for table in TABLES:
            path = os.path.join(data, f"{table}.csv")
            ref.check_header(path, table)
            schema = {c: types[t] for c, t in ref.SCHEMAS[table]}
            self.t[table] = pl.read_csv(path, schema=schema, has_header=True, empty_string_is_null=True)

    def plans(self):
        pl, t = self.pl, self.t
        valid = pl.col("total_secs").is_between(0, 86400)  # closed on both ends, like BETWEEN
        logs = t["user_logs"].lazy()

        def rnd(e):
            return e.round(3, mode="half_away_from_zero")

        def sql_sum(e, count):
            """SQL SUM: NULL over no rows (Polars sums an empty selection to 0)."""
            return pl.when(count > 0).then(e)

        lo, hi = ymd("2017-02-01"), plus_days("2017-02-01", 30)
        return {
            "w2_monthly": logs.group_by(m=pl.col("date") // 100)
                              .agg(total_secs=pl.col("total_secs").filter(valid).sum(), valid_n=valid.sum(),
                                   users=pl.col("msno").n_unique(), n=pl.len())
                              .select("m", rnd(sql_sum(pl.col("total_secs"), pl.col("valid_n"))).alias("total_secs"),
                                      "users", "n")
                              .sort("m"),
            "w2_top10": logs.filter((pl.col("date") >= lo) & (pl.col("date") < hi) & valid)
                            .group_by("msno").agg(secs=rnd(pl.col("total_secs").sum()))
                            .sort(["secs", "msno"], descending=[True, False]).head(10),
            "plans": t["transactions"].lazy().group_by("payment_plan_days")
                                      .agg(n=pl.len(), avg_paid=pl.col("actual_amount_paid").mean(),
                                           cancels=sql_sum(pl.col("is_cancel").sum(), pl.col("is_cancel").count()))
                                      .sort("payment_plan_days", nulls_last=True),
            "churn_by_city": t["labels"].lazy().join(t["members"].lazy(), on="msno", how="inner")
                                        .group_by("city").agg(n=pl.len(), churn_rate=pl.col("is_churn").mean())
                                        .sort("city", nulls_last=True),
            "week_range": logs.filter(pl.col("date").is_between(ymd("2016-06-01"), ymd("2016-06-07")))
                              .select(n=pl.len(), plays=sql_sum(pl.col("num_100").sum(), pl.col("num_100").count())),
            "heavy_users": logs.group_by("msno").agg(days=pl.len()).filter(pl.col("days") > HEAVY_DAYS)
                               .sort(["days", "msno"], descending=[True, False]).head(20),
            "limit10": logs.head(10),
        }

    def query(self, name):
        if not hasattr(self, "_plans"):
            self._plans = self.plans()
        plan = self._plans[name]
        return plan.collect

    def result(self, frame):
        return frame.columns, frame.rows()


PEERS = {"duckdb": DuckDBPeer, "polars": PolarsPeer}


def run(engine, data, names, runs, warmup):
    peer = PEERS[engine]()  # imports outside the clock
    t0 = time.perf_counter()
    peer.load(data)
    load_seconds = time.perf_counter() - t0
    queries = {}
    for name in names:
        execute = peer.query(name)
        for _ in range(warmup):
            peer.result(execute())
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            columns, rows = peer.result(execute())  # fully materialised inside the clock
            times.append(time.perf_counter() - t)
        rows = [[plain(v) for v in row] for row in rows]
        queries[name] = {"seconds": statistics.median(times), "runs_seconds": times, "columns": list(columns),
                         "row_count": len(rows), "rows": rows, "checksum": checksum(columns, rows)}
    return {"workload": "query", "engine": engine, "version": peer.version, "threads": THREADS,
            "data": os.path.abspath(data), "runs": runs, "warmup": warmup, "load_seconds": load_seconds,
            "queries": queries, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with the four KKBox CSVs")
    ap.add_argument("--engine", required=True, choices=ENGINES)
    ap.add_argument("--queries", default="all", help=f"comma list of {', '.join(QUERIES)}, or all (default)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per query (median reported), default 5")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per query first, default 1")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a = ap.parse_args()
    names = list(QUERIES) if a.queries == "all" else a.queries.split(",")
    if set(names) - set(QUERIES):
        ap.error(f"unknown query: {', '.join(sorted(set(names) - set(QUERIES)))}")
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    try:
        r = run(a.engine, a.data, names, a.runs, a.warmup)
    except ref.InputError as e:
        sys.exit(f"query_peers: {e}")
    if a.json:
        print(json.dumps(r, indent=2))
        return
    print(f"{r['engine']} {r['version']} threads={r['threads']}: load {r['load_seconds']:.3f} s, "
          f"peak RSS {r['peak_rss_bytes'] / 2**20:.1f} MiB")
    for name, q in r["queries"].items():
        print(f"  {name:<14} {q['seconds']:>8.4f} s  {q['row_count']:>4} rows")


if __name__ == "__main__":
    main()

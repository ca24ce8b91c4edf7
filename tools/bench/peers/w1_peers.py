#!/usr/bin/env python3
"""W1 (point-in-time training set, tools/bench/README.md) computed by a peer engine, phases timed.

    python3 w1_peers.py --data DIR --engine duckdb|polars|pandas [--out FILE.csv] [--json]
    python3 w1_peers.py --data DIR --engine duckdb --store FILE.duckdb [--json]

With --store (DuckDB only), store to store like `strata training-set`: the tables live in DuckDB's own
database file (made from the CSVs on first use, untimed), and the timed phase opens the file, builds W1
into a table of that file and checkpoints it; nothing is written as CSV.

Each engine works in its own idiom, on the definition of tools/w1_reference.py:
  duckdb  the reference's SQL (range join + FILTER aggregates, row_number() for the last transaction);
  polars  join + filter + group_by for the log windows, join_asof for the last transaction and for
          cumulative transaction counts;
  pandas  one sliced group-by per distinct cutoff for the log windows (logs sorted by day), merge_asof
          for the last transaction and the cumulative counts.
Phases (time.perf_counter): load = CSV -> engine with explicit types, compute, write = the engine's CSV
writer (to --out, else a temporary file that is removed). Check a result with tools/compare_csv.py against
tools/w1_reference.py. Threads: BENCH_THREADS, default all cores (pandas computes on one).
"""
import argparse, json, os, resource, sys, tempfile, time

THREADS = int(os.environ.get("BENCH_THREADS") or os.cpu_count())
# Polars sizes its thread pool once, at import: set it before any engine is imported.
os.environ["POLARS_MAX_THREADS"] = str(THREADS)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import w1_reference as ref  # noqa: E402  (SCHEMAS, OUTPUT_COLUMNS, the SQL)

ENGINES = ("duckdb", "polars", "pandas")
TABLES = ("members", "transactions", "user_logs", "labels")
WINDOWS = ref.WINDOWS
LAST_TX = ref.LAST_TX_COLUMNS


def csv_path(data, table):
    return os.path.join(data, f"{table}.csv")


# ---------------------------------------------------------------------------------------------- DuckDB
class DuckDBPeer:
    def __init__(self, inclusive, store=None):
        import duckdb
        self.version = duckdb.__version__
        self.threads = THREADS
        self.inclusive = inclusive
        self.store = store
        if store and not os.path.exists(store):
            made = duckdb.connect(store, config={"threads": THREADS})
            ref.load_tables(made, os.environ["W1_STORE_DATA"], lenient_dates=False)
            made.execute("CHECKPOINT")
            made.close()
        self.con = None if store else duckdb.connect(config={"threads": THREADS})

    def load(self, data):
        if self.store:
            import duckdb
            self.con = duckdb.connect(self.store, config={"threads": THREADS})
            return
        # Dates stay BIGINT YYYYMMDD here; d() is applied inside the query, as for the other engines.
        ref.load_tables(self.con, data, lenient_dates=False)

    def compute(self):
        # Materialised so that compute and write are timed apart; insertion order keeps the ORDER BY.
        self.con.execute(f"CREATE OR REPLACE TABLE w1 AS {ref.w1_sql(inclusive=self.inclusive)}")
        return self.con.execute("SELECT count(*) FROM w1").fetchone()[0]

    def write(self, path):
        if self.store:
            self.con.execute("CHECKPOINT")
            self.con.close()
            return
        literal = "'" + path.replace("'", "''") + "'"
        self.con.execute(f"COPY w1 TO {literal} (FORMAT csv, HEADER true, DELIMITER ',')")


# ---------------------------------------------------------------------------------------------- Polars
class PolarsPeer:
    def __init__(self, inclusive):
        import polars as pl
        self.pl = pl
        self.version = pl.__version__
        self.threads = pl.thread_pool_size()
        self.inclusive = inclusive

    def load(self, data):
        pl = self.pl
        types = {"VARCHAR": pl.String, "BIGINT": pl.Int64, "DOUBLE": pl.Float64}
        self.t = {}
        for table in TABLES:
            ref.check_header(csv_path(data, table), table)
            schema = {c: types[t] for c, t in ref.SCHEMAS[table]}
            # row_index_name numbers the data rows in file order: the rid / label order of W1.
            self.t[table] = pl.read_csv(csv_path(data, table), schema=schema, has_header=True,
                                        row_index_name="rid", empty_string_is_null=True)

    def days(self, c):
        pl = self.pl
        col = pl.col(c)
        return pl.date(col // 10000, col // 100 % 100, col % 100).cast(pl.Int32).cast(pl.Int64)

    def compute(self):
        pl, t, days = self.pl, self.t, self.days
        labels = t["labels"].with_columns(cd=days("cutoff_date"))
        keys = labels.select("msno", "cd").unique()

        # Log windows: every log row of the user in the widest window, then one conditional aggregate per W.
        hi = pl.col("d") <= pl.col("cd") if self.inclusive else pl.col("d") < pl.col("cd")
        aggs = []
        for w in WINDOWS:
            inw = pl.col("d") >= pl.col("cd") - w
            aggs += [pl.col("total_secs").filter(inw).sum().alias(f"w{w}_total_secs"),
                     pl.col("num_100").filter(inw).sum().alias(f"w{w}_num_100"),
                     pl.col("num_25").filter(inw).sum().alias(f"w{w}_num_25"),
                     pl.col("num_unq").filter(inw).sum().alias(f"w{w}_num_unq"),
                     inw.sum().cast(pl.Int64).alias(f"w{w}_active_days")]
        logs = t["user_logs"].lazy().select("msno", days("date").alias("d"), "num_25", "num_100", "num_unq",
                                            "total_secs")
        win = (keys.lazy().join(logs, on="msno")
               .filter((pl.col("d") >= pl.col("cd") - max(WINDOWS)) & hi)
               .group_by("msno", "cd").agg(aggs)
               # Polars sums an empty selection to 0; W1 wants NULL when the window has no rows.
               .with_columns([pl.when(pl.col(f"w{w}_active_days") > 0).then(pl.col(f"w{w}_{a}"))
                              .alias(f"w{w}_{a}")
                              for w in WINDOWS for a in ("total_secs", "num_100", "num_25", "num_unq")])
               .with_columns([pl.col(f"w{w}_total_secs").round(3) for w in WINDOWS])
               .collect(engine="streaming"))

        # Transactions in (msno, day, expiry, rid) order carry running counts; the last row of each
        # (msno, day) is both that day's tie winner and the count of all transactions up to that day, so an
        # as-of join on the day gives the last transaction and the count before the cutoff at once.
        tx = (t["transactions"]
              .with_columns(td=days("transaction_date"), ed=days("membership_expire_date"))
              .sort("msno", "td", "ed", "rid")
              .with_columns(n_cum=pl.int_range(1, pl.len() + 1).over("msno"),
                            cancel_cum=pl.col("is_cancel").cum_sum().over("msno"))
              .unique(subset=["msno", "td"], keep="last", maintain_order=True)
              .sort("td"))
        keys_sorted = keys.sort("cd")
        last = (keys_sorted.join_asof(tx.select("msno", "td", "ed", *LAST_TX, "n_cum", "cancel_cum"),
                                      left_on="cd", right_on="td", by="msno", strategy="backward",
                                      allow_exact_matches=self.inclusive, check_sortedness=False)
                .with_columns(days_to_expire=pl.col("ed") - pl.col("cd")))
        # The 365-day lower bound is inclusive (td >= cd - 365): subtract the counts strictly before it.
        early = (keys_sorted.with_columns(lo=pl.col("cd") - 365)
                 .sort("lo")
                 .join_asof(tx.select("msno", "td", n0=pl.col("n_cum"), c0=pl.col("cancel_cum")), left_on="lo", right_on="td",
                            by="msno", strategy="backward", allow_exact_matches=False, check_sortedness=False)
                 .select("msno", "cd", "n0", "c0"))
        txf = (last.join(early, on=["msno", "cd"], how="left")
               .with_columns(tx_count_365=(pl.col("n_cum").fill_null(0) - pl.col("n0").fill_null(0)))
               .with_columns(cancel_count_365=pl.when(pl.col("tx_count_365") > 0)
                             .then(pl.col("cancel_cum") - pl.col("c0").fill_null(0)))
               .select("msno", "cd", *[pl.col(c).alias(f"last_{c}") for c in LAST_TX], "days_to_expire",
                       "tx_count_365", "cancel_count_365"))

        # Several members rows for one msno: the last one in file order wins.
        members = (t["members"].sort("rid").unique(subset=["msno"], keep="last")
                   .select("msno", "city", "bd", "gender", "registered_via", reg=days("registration_init_time")))

        out = (labels.join(win, on=["msno", "cd"], how="left")
               .join(txf, on=["msno", "cd"], how="left")
               .join(members, on="msno", how="left")
               .with_columns([pl.col(f"w{w}_active_days").fill_null(0) for w in WINDOWS]
                             + [pl.col("tx_count_365").fill_null(0), (pl.col("cd") - pl.col("reg")).alias("tenure_days")])
               # Polars compares strings by their UTF-8 bytes: the byte-wise msno order W1 asks for.
               .sort("cutoff_date", "msno", "rid")
               .select(ref.OUTPUT_COLUMNS))
        self.out = out
        return out.height

    def write(self, path):
        self.out.write_csv(path)


# ---------------------------------------------------------------------------------------------- pandas
def days_from_civil(ymd):
    """YYYYMMDD int64 array -> days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm)."""
    import numpy as np
    y, m, d = ymd // 10000, ymd // 100 % 100, ymd % 100
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


class PandasPeer:
    def __init__(self, inclusive):
        import numpy as np, pandas as pd
        self.np, self.pd = np, pd
        self.version = pd.__version__
        self.threads = 1  # pandas' C parser and group-bys run on one core
        self.inclusive = inclusive

    def load(self, data):
        pd = self.pd
        self.t = {}
        for table in TABLES:
            ref.check_header(csv_path(data, table), table)
            # The big tables get plain int64 (fast; an empty integer field is then a parse error); the
            # small ones nullable Int64, since members rows may lack attributes.
            small = table in ("members", "labels")
            types = {"VARCHAR": "str", "BIGINT": "Int64" if small else "int64", "DOUBLE": "float64"}
            # Only the empty field is NULL ("NA", "null" ... stay text); the header is given, not inferred.
            self.t[table] = pd.read_csv(csv_path(data, table), header=0,
                                        names=[c for c, _ in ref.SCHEMAS[table]],
                                        dtype={c: types[t] for c, t in ref.SCHEMAS[table]},
                                        keep_default_na=False, na_values=[""])

    def compute(self):
        np, pd, t = self.np, self.pd, self.t
        labels = t["labels"].assign(lrid=np.arange(len(t["labels"])),
                                    cd=days_from_civil(t["labels"]["cutoff_date"].to_numpy()))
        # Integer codes for the users that have labels; group-bys and merges then work on int64.
        users = pd.Index(labels["msno"].unique())
        labels["code"] = users.get_indexer(labels["msno"])
        keys = labels[["code", "cd"]].drop_duplicates()

        # Log windows. Sorted by day, the rows of [cd - 90, cd) are one slice per distinct cutoff; one
        # group-by over that slice, with the rows outside a narrower window zeroed, gives all three windows.
        logs = t["user_logs"]
        code = users.get_indexer(logs["msno"])
        keep = code >= 0
        d = days_from_civil(logs["date"].to_numpy()[keep])
        order = np.argsort(d, kind="stable")
        d, code = d[order], code[keep][order]
        vals = {c: logs[c].to_numpy()[keep][order] for c in ("total_secs", "num_100", "num_25", "num_unq")}
        side = "right" if self.inclusive else "left"
        parts = []
        for cd, group in keys.groupby("cd", sort=True):
            lo, hi = np.searchsorted(d, cd - max(WINDOWS), "left"), np.searchsorted(d, cd, side)
            cols = {"code": code[lo:hi]}
            for w in WINDOWS:
                inw = d[lo:hi] >= cd - w
                cols[f"w{w}_active_days"] = inw.astype(np.int64)
                for c, v in vals.items():
                    cols[f"w{w}_{c}"] = np.where(inw, v[lo:hi], 0)
            agg = pd.DataFrame(cols).groupby("code").sum()
            agg = agg.reindex(group["code"].to_numpy()).reset_index()
            agg["cd"] = cd
            parts.append(agg)
        win = pd.concat(parts, ignore_index=True)
        for w in WINDOWS:
            empty = win[f"w{w}_active_days"].fillna(0).eq(0)
            win[f"w{w}_active_days"] = win[f"w{w}_active_days"].fillna(0).astype("int64")
            for c in vals:
                s = win[f"w{w}_{c}"].mask(empty)  # NULL, not 0, when the window has no rows
                win[f"w{w}_{c}"] = s.round(3) if c == "total_secs" else s.astype("Int64")

        # Transactions: running counts in (user, day, expiry, rid) order; the last row of each (user, day)
        # is that day's tie winner and carries the counts up to that day; merge_asof on the day.
        tx = t["transactions"].assign(rid=np.arange(len(t["transactions"])),
                                      code=users.get_indexer(t["transactions"]["msno"]))
        tx = tx[tx["code"] >= 0].assign(td=lambda f: days_from_civil(f["transaction_date"].to_numpy()),
                                        ed=lambda f: days_from_civil(f["membership_expire_date"].to_numpy()))
        tx = tx.sort_values(["code", "td", "ed", "rid"], kind="stable")
        tx["n_cum"] = tx.groupby("code").cumcount() + 1
        tx["cancel_cum"] = tx.groupby("code")["is_cancel"].cumsum()
        tx = tx.drop_duplicates(["code", "td"], keep="last").sort_values("td", kind="stable")
        keys = keys.sort_values("cd", kind="stable")
        last = pd.merge_asof(keys, tx[["code", "td", "ed", *LAST_TX, "n_cum", "cancel_cum"]], left_on="cd",
                             right_on="td", by="code", direction="backward", allow_exact_matches=self.inclusive)
        # The 365-day lower bound is inclusive (td >= cd - 365): subtract the counts strictly before it.
        early = pd.merge_asof(keys.assign(lo=keys["cd"] - 365).sort_values("lo", kind="stable"),
                              tx[["code", "td", "n_cum", "cancel_cum"]].rename(
                                  columns={"n_cum": "n0", "cancel_cum": "c0"}),
                              left_on="lo", right_on="td", by="code", direction="backward",
                              allow_exact_matches=False)
        txf = last.merge(early[["code", "cd", "n0", "c0"]], on=["code", "cd"], how="left")
        txf["tx_count_365"] = (txf["n_cum"].fillna(0) - txf["n0"].fillna(0)).astype("int64")
        txf["cancel_count_365"] = (txf["cancel_cum"] - txf["c0"].fillna(0)).where(txf["tx_count_365"] > 0)
        txf["days_to_expire"] = txf["ed"] - txf["cd"]
        txf = txf.rename(columns={c: f"last_{c}" for c in LAST_TX})
        for c in [f"last_{c}" for c in LAST_TX] + ["days_to_expire", "cancel_count_365"]:
            txf[c] = txf[c].astype("Int64")

        # Several members rows for one msno: the last one in file order wins.
        members = t["members"].drop_duplicates("msno", keep="last")
        reg = members["registration_init_time"]
        members = members.assign(reg=pd.Series(days_from_civil(reg.fillna(19700101).to_numpy("int64")),
                                               index=members.index, dtype="Int64").mask(reg.isna()))

        out = (labels.merge(win, on=["code", "cd"], how="left")
               .merge(txf[["code", "cd", *[f"last_{c}" for c in LAST_TX], "days_to_expire", "tx_count_365",
                           "cancel_count_365"]], on=["code", "cd"], how="left")
               .merge(members[["msno", "city", "bd", "gender", "registered_via", "reg"]], on="msno", how="left"))
        for w in WINDOWS:
            out[f"w{w}_active_days"] = out[f"w{w}_active_days"].fillna(0).astype("int64")
        out["tx_count_365"] = out["tx_count_365"].fillna(0).astype("int64")
        out["tenure_days"] = out["cd"] - out["reg"]
        for c in ("city", "bd", "registered_via"):
            out[c] = out[c].astype("Int64")
        # Python (and pandas' str) order is code-point order, which is UTF-8 byte order.
        self.out = out.sort_values(["cutoff_date", "msno", "lrid"], kind="stable")[ref.OUTPUT_COLUMNS]
        return len(self.out)

    def write(self, path):
        self.out.to_csv(path, index=False, lineterminator="\n")


PEERS = {"duckdb": DuckDBPeer, "polars": PolarsPeer, "pandas": PandasPeer}


def run(engine, data, out, inclusive, store=None):
    if store:
        os.environ["W1_STORE_DATA"] = data
        peer = DuckDBPeer(inclusive, store)  # imports and the database file outside the clock
    else:
        peer = PEERS[engine](inclusive)  # imports outside the clock
    t0 = time.perf_counter()
    peer.load(data)
    t1 = time.perf_counter()
    rows = peer.compute()
    t2 = time.perf_counter()
    if out:
        peer.write(out)
    else:
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        os.close(fd)
        try:
            peer.write(tmp)
        finally:
            os.unlink(tmp)
    t3 = time.perf_counter()
    return {"workload": "w1", "engine": engine, "version": peer.version, "threads": peer.threads,
            "data": os.path.abspath(data), "inclusive": inclusive,
            "load_seconds": t1 - t0, "compute_seconds": t2 - t1, "write_seconds": t3 - t2, "rows": int(rows),
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}  # KiB on Linux


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with the four KKBox CSVs")
    ap.add_argument("--engine", required=True, choices=ENGINES)
    ap.add_argument("--out", help="write the training set here (default: a temporary file, removed)")
    ap.add_argument("--inclusive", action="store_true", help="events on the cutoff day count (<= instead of <)")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    ap.add_argument("--store", help="DuckDB only: read the tables from this database file (made from the CSVs when missing) "
                                    "and write W1 into it")
    a = ap.parse_args()
    if a.store and a.engine != "duckdb":
        sys.exit("w1_peers: --store is for --engine duckdb")
    try:
        r = run(a.engine, a.data, a.out, a.inclusive, a.store)
    except ref.InputError as e:
        sys.exit(f"w1_peers: {e}")
    except Exception as e:  # duckdb.Error for a --store that is not a DuckDB file, or lacks the tables
        if type(e).__module__.startswith("duckdb") or type(e).__module__.startswith("_duckdb"):
            sys.exit(f"w1_peers: {a.store or 'duckdb'}: {e}")
        raise
    if a.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['engine']} {r['version']} threads={r['threads']}: load {r['load_seconds']:.3f} s, "
              f"compute {r['compute_seconds']:.3f} s, write {r['write_seconds']:.3f} s, {r['rows']} rows, "
              f"peak RSS {r['peak_rss_bytes'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent reference implementation of workload W1 (tools/bench/README.md) in DuckDB SQL.

    python3 tools/w1_reference.py --data DIR --out FILE.csv [--inclusive]

DIR holds members.csv, transactions.csv, user_logs.csv and labels.csv in Kaggle KKBox column order.
The output has one row per labels.csv row, sorted by (cutoff_date, msno byte-wise, labels.csv order),
and is written in the canonical text form (NULL = empty field, floats as Python repr, RFC 4180 quoting
only where needed) so that it can serve as the differential oracle for `strata training-set`.

--inclusive switches every "strictly before the cutoff" to "on or before the cutoff" (Feast semantics).

The SQL lives in functions (load_tables, w1_sql) so the benchmark peers can run exactly the same query.
"""
import argparse
import datetime, csv, os, sys

# Kaggle column order and the explicit types of Sources/StrataIngest/KKBoxTables.swift (dates are YYYYMMDD integers).
SCHEMAS = {
    "members": [("msno", "VARCHAR"), ("city", "BIGINT"), ("bd", "BIGINT"), ("gender", "VARCHAR"),
                ("registered_via", "BIGINT"), ("registration_init_time", "BIGINT")],
    "transactions": [("msno", "VARCHAR"), ("payment_method_id", "BIGINT"), ("payment_plan_days", "BIGINT"),
                     ("plan_list_price", "BIGINT"), ("actual_amount_paid", "BIGINT"), ("is_auto_renew", "BIGINT"),
                     ("transaction_date", "BIGINT"), ("membership_expire_date", "BIGINT"), ("is_cancel", "BIGINT")],
    "user_logs": [("msno", "VARCHAR"), ("date", "BIGINT"), ("num_25", "BIGINT"), ("num_50", "BIGINT"),
                  ("num_75", "BIGINT"), ("num_985", "BIGINT"), ("num_100", "BIGINT"), ("num_unq", "BIGINT"),
                  ("total_secs", "DOUBLE")],
    "labels": [("msno", "VARCHAR"), ("cutoff_date", "BIGINT"), ("is_churn", "BIGINT")],
}
DATE_COLUMNS = {"members": ["registration_init_time"], "transactions": ["transaction_date", "membership_expire_date"],
                "user_logs": ["date"], "labels": ["cutoff_date"]}
WINDOWS = (7, 30, 90)
LAST_TX_COLUMNS = ["payment_method_id", "payment_plan_days", "plan_list_price", "actual_amount_paid",
                   "is_auto_renew", "is_cancel"]


def output_columns(windows):
    return (["msno", "cutoff_date", "is_churn"]
            + [f"w{w}_{a}" for w in windows for a in ("total_secs", "num_100", "num_25", "num_unq", "active_days")]
            + [f"last_{c}" for c in LAST_TX_COLUMNS]
            + ["days_to_expire", "tx_count_365", "cancel_count_365", "city", "bd", "gender", "registered_via", "tenure_days"])


OUTPUT_COLUMNS = output_columns(WINDOWS)


def set_windows(windows):
    """W1 with other listening windows (W1 long: 7, 30, 90, 180, 365): the query and its columns."""
    global WINDOWS, OUTPUT_COLUMNS
    WINDOWS = tuple(windows)
    OUTPUT_COLUMNS = output_columns(WINDOWS)

# d(x): YYYYMMDD integer -> days since 1970-01-01. make_date rejects impossible dates (20150230) with an
# error instead of rolling them over, which is what an oracle must do.
DNUM_MACRO = ("CREATE OR REPLACE MACRO dnum(x) AS "
              "make_date(x // 10000, x // 100 % 100, x % 100) - DATE '1970-01-01'")


class InputError(Exception):
    pass


def check_header(path, table):
    """The CSV reader below skips the header without looking at it, so check the names ourselves."""
    expected = [name for name, _ in SCHEMAS[table]]
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), None)
    except OSError as e:
        raise InputError(f"{path}: {e.strerror}") from None
    if header != expected:
        raise InputError(f"{path}: header is {header}, expected {','.join(expected)}")


def read_csv_expr(path, table, lenient_dates):
    """A read_csv call with every option spelled out: no sniffing, explicit types, empty field = NULL."""
    types = dict(SCHEMAS[table])
    if lenient_dates:
        for c in DATE_COLUMNS[table]:
            types[c] = "VARCHAR"
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}"
    literal = "'" + path.replace("'", "''") + "'"
    return (f"read_csv({literal}, header = true, auto_detect = false, delim = ',', quote = '\"', "
            f"escape = '\"', nullstr = '', columns = {columns})")


def lenient_date(c):
    """Accept YYYYMMDD and YYYY-MM-DD (one real KKBox sample uses the latter); anything else is an error."""
    return (f"CASE WHEN \"{c}\" IS NULL THEN NULL "
            f"WHEN regexp_full_match(\"{c}\", '[0-9]{{8}}') THEN CAST(\"{c}\" AS BIGINT) "
            f"WHEN regexp_full_match(\"{c}\", '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"THEN CAST(replace(\"{c}\", '-', '') AS BIGINT) "
            f"ELSE error('invalid date in column {c}: ' || \"{c}\") END AS \"{c}\"")


def load_tables(con, data_dir, lenient_dates=True, tables=("members", "transactions", "user_logs", "labels")):
    """Create one table per CSV. rowid of each table is the 0-based data-row index in its file: DuckDB keeps
    insertion order (preserve_insertion_order, set explicitly) through a parallel CSV scan into CTAS."""
    import duckdb  # imported here so that the Polars/pandas peers can share SCHEMAS without loading DuckDB
    con.execute("SET preserve_insertion_order = true")
    con.execute(DNUM_MACRO)
    for table in tables:
        path = os.path.join(data_dir, f"{table}.csv")
        check_header(path, table)
        if lenient_dates:
            select = ", ".join(lenient_date(c) if c in DATE_COLUMNS[table] else f'"{c}"' for c, _ in SCHEMAS[table])
        else:
            select = "*"
        try:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {select} FROM {read_csv_expr(path, table, lenient_dates)}")
            if lenient_dates:
                # Evaluate d() on every date now, so an impossible date fails here, naming file and column.
                for c in DATE_COLUMNS[table]:
                    try:
                        con.execute(f'SELECT count(dnum("{c}")) FROM {table}').fetchone()
                    except duckdb.Error as e:
                        raise InputError(f"{path}: column {c}: {e}") from None
        except duckdb.Error as e:
            raise InputError(f"{path}: {e}") from None


def w1_sql(inclusive=False, labels="labels"):
    """The W1 query. `labels` names a table (msno, cutoff_date, is_churn) whose rowid is its file order."""
    before = "<=" if inclusive else "<"   # event date vs cutoff
    win = []
    for w in WINDOWS:
        f = f"FILTER (WHERE l.d >= k.cd - {w})"
        win += [f"round(sum(l.total_secs) {f}, 3) AS w{w}_total_secs",
                f"sum(l.num_100) {f} AS w{w}_num_100",
                f"sum(l.num_25) {f} AS w{w}_num_25",
                f"sum(l.num_unq) {f} AS w{w}_num_unq",
                f"count(*) {f} AS w{w}_active_days"]
    out = ["lab.msno", "lab.cutoff_date", "lab.is_churn"]
    for w in WINDOWS:
        out += [f"w.w{w}_total_secs", f"w.w{w}_num_100", f"w.w{w}_num_25", f"w.w{w}_num_unq",
                f"coalesce(w.w{w}_active_days, 0) AS w{w}_active_days"]
    out += [f"lt.last_{c}" for c in LAST_TX_COLUMNS]
    out += ["lt.days_to_expire", "coalesce(t365.tx_count_365, 0) AS tx_count_365", "t365.cancel_count_365",
            "m.city", "m.bd", "m.gender", "m.registered_via", "lab.cd - m.reg AS tenure_days"]
    nl = ",\n    "
    return f"""
WITH
lab AS (SELECT rowid AS lrid, msno, cutoff_date, is_churn, dnum(cutoff_date) AS cd FROM {labels}),
-- Features depend on (msno, cd) only: compute them once per distinct pair, then fan out to label rows.
keys AS (SELECT DISTINCT msno, cd FROM lab WHERE msno IS NOT NULL AND cd IS NOT NULL),
logs AS (SELECT msno, dnum(date) AS d, num_25, num_100, num_unq, total_secs FROM user_logs),
w AS (
  SELECT k.msno, k.cd,
    {nl.join(win)}
  FROM keys k JOIN logs l ON l.msno = k.msno AND l.d >= k.cd - {max(WINDOWS)} AND l.d {before} k.cd
  GROUP BY k.msno, k.cd),
tx AS (SELECT rowid AS rid, msno, {", ".join(LAST_TX_COLUMNS)},
              dnum(transaction_date) AS td, dnum(membership_expire_date) AS ed FROM transactions),
lt AS (
  SELECT k.msno, k.cd, {", ".join(f"t.{c} AS last_{c}" for c in LAST_TX_COLUMNS)}, t.ed - k.cd AS days_to_expire
  FROM keys k JOIN tx t ON t.msno = k.msno AND t.td {before} k.cd
  QUALIFY row_number() OVER (PARTITION BY k.msno, k.cd
                             ORDER BY t.td DESC, t.ed DESC NULLS LAST, t.rid DESC) = 1),
t365 AS (
  SELECT k.msno, k.cd, count(*) AS tx_count_365, sum(t.is_cancel) AS cancel_count_365
  FROM keys k JOIN tx t ON t.msno = k.msno AND t.td >= k.cd - 365 AND t.td {before} k.cd
  GROUP BY k.msno, k.cd),
-- Several members rows for one msno: the last one in file order wins (Strata's documented rule).
m AS (
  SELECT msno, city, bd, gender, registered_via, dnum(registration_init_time) AS reg
  FROM (SELECT rowid AS rid, * FROM members) WHERE msno IS NOT NULL
  QUALIFY row_number() OVER (PARTITION BY msno ORDER BY rid DESC) = 1)
SELECT
    {nl.join(out)}
FROM lab
LEFT JOIN w ON w.msno = lab.msno AND w.cd = lab.cd
LEFT JOIN lt ON lt.msno = lab.msno AND lt.cd = lab.cd
LEFT JOIN t365 ON t365.msno = lab.msno AND t365.cd = lab.cd
LEFT JOIN m ON m.msno = lab.msno
-- encode() turns msno into a BLOB, whose order is byte-wise whatever the default collation.
ORDER BY lab.cutoff_date, encode(lab.msno), lab.lrid
"""


def csv_field(v):
    """Canonical text of one value (format-spec §10): NULL empty, bools 1/0, floats as repr, dates YYYY-MM-DD,
    RFC 4180 quotes only where needed."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    if isinstance(v, str):
        if any(ch in v for ch in ',"\n\r'):
            return '"' + v.replace('"', '""') + '"'
        return v
    raise TypeError(f"unexpected value type {type(v).__name__}: {v!r}")


def ymd_text(v):
    """A date kept as the integer YYYYMMDD (the labels' cutoff_date) in its text form, YYYY-MM-DD."""
    return "" if v is None else f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}"


def write_result(cursor, path, columns=OUTPUT_COLUMNS, batch=65536, ymd_columns=("cutoff_date",)):
    """Stream the result of an executed query to `path` in the canonical text form; returns the row count.
    `ymd_columns` hold dates as YYYYMMDD integers and are written as dates."""
    names = [d[0] for d in cursor.description]
    if names != columns:
        raise RuntimeError(f"query columns {names} differ from {columns}")
    formats = [ymd_text if name in ymd_columns else csv_field for name in names]
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(names) + "\n")
        while rows := cursor.fetchmany(batch):
            f.write("".join(",".join(fmt(v) for fmt, v in zip(formats, r)) + "\n" for r in rows))
            n += len(rows)
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="directory with members.csv, transactions.csv, user_logs.csv, labels.csv")
    ap.add_argument("--out", required=True, help="output CSV file")
    ap.add_argument("--inclusive", action="store_true", help="events on the cutoff day count (<= instead of <)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    ap.add_argument("--windows", default="7,30,90", help="listening windows in days (default 7,30,90: W1)")
    a = ap.parse_args()
    try:
        set_windows(int(w) for w in a.windows.split(","))
    except ValueError:
        sys.exit(f"w1_reference: --windows takes whole numbers of days separated by commas, got {a.windows!r}")
    import duckdb
    con = duckdb.connect(config={"threads": a.threads} if a.threads > 0 else {})
    try:
        load_tables(con, a.data, lenient_dates=True)
    except InputError as e:
        sys.exit(f"w1_reference: {e}")
    n = write_result(con.execute(w1_sql(inclusive=a.inclusive)), a.out, columns=OUTPUT_COLUMNS)
    print(f"w1_reference: {n} rows x {len(OUTPUT_COLUMNS)} columns -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

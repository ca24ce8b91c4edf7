#!/usr/bin/env python3
"""Independent reference implementation of a feature view (window aggregates with SQL filters, last
values, attributes and SQL derived expressions) in DuckDB, the differential oracle of
`strata training-set` for fixtures/features/derived.yaml.

    python3 tools/derived_reference.py --features VIEW.yaml --data DIR --out FILE.csv [--inclusive]

DIR holds members.csv, transactions.csv, user_logs.csv and labels.csv in Kaggle KKBox column order (as
written by `strata generate`). The view is read from its YAML text here (not by Strata) and computed
for every labels.csv row with W1's point-in-time semantics (tools/w1_reference.py):

* window: `cutoff - days <= time < cutoff` (`<= cutoff` with --inclusive); an aggregate's `filter:` is
  DuckDB's `agg(x) FILTER (WHERE predicate)` over the source table's columns; sum of integers is
  DuckDB's exact HUGEINT sum cast to BIGINT (an overflow is an error), mean is DOUBLE; count and
  count_distinct of no rows are 0, the others NULL; `round: n` is SQL round(x, n) of DOUBLE results,
  then `fill` replaces NULL;
* last: the row with the largest time (within ttl_days: `time >= cutoff - ttl_days`), then the largest
  order columns, then the latest row of the file; attributes: the entity's last row of the file;
* derived: the expression text is evaluated by DuckDB itself over a table whose columns are the
  earlier features (by output name), `cutoff` (a DATE) and one STRUCT per last/attributes group holding
  every column of the chosen source row, so `group.column` is DuckDB's struct field access. The output
  type follows DuckDB's typing, mapped to Strata's (integers -> BIGINT, DOUBLE, DATE, BOOLEAN, VARCHAR);
  `round: n` applies SQL round(x, n) to DOUBLE results.

Only Strata's documented differences from DuckDB are translated in the expression text: a decimal
literal is a DOUBLE (DuckDB: DECIMAL), and date_trunc returns a DATE (DuckDB: TIMESTAMP).

The output has the columns of `strata scan --format csv` of the training set (msno, cutoff_date,
is_churn, then the features in declaration order), rows sorted by (cutoff_date, msno byte-wise, labels.csv
order), NULL as an empty field, floats as Python repr (inf, -inf, nan), booleans as 0/1, dates as
YYYY-MM-DD. A computation DuckDB refuses (a BIGINT overflow, `//` or `%` by zero) exits with status 1 and a
message naming the feature.
"""
import argparse, datetime, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from w1_reference import SCHEMAS, DATE_COLUMNS, InputError, load_tables, write_result  # noqa: E402

FUNCTIONS = {"sum", "count", "mean", "min", "max", "count_distinct"}
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT"}


class ViewError(Exception):
    pass


def q(name):
    return '"' + name.replace('"', '""') + '"'


def lit(text):
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------------
# The view

def read_view(path):
    import yaml
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ViewError(f"{path}: not a feature view (no features list)")
    entity = doc.get("entity", "msno")
    if entity != "msno":
        raise ViewError(f"{path}: entity {entity!r}; this reference knows the KKBox tables keyed by msno")
    items = []
    for entry in doc["features"]:
        if "window" in entry:
            w = entry["window"]
            aggs = []
            for a in entry["aggregates"]:
                if a["function"] not in FUNCTIONS:
                    raise ViewError(f"unknown function {a['function']!r}")
                aggs.append(dict(name=str(a["name"]), function=a["function"], column=a.get("column"),
                                 round=a.get("round"), fill=a.get("fill"), filter=a.get("filter")))
            items.append(("window", dict(source=w["source"], time=w["time"], days=[int(d) for d in w["days"]],
                                         aggregates=aggs)))
        elif "last" in entry:
            g = entry["last"]
            items.append(("last", dict(name=g["name"], source=g["source"], time=g["time"], order=g.get("order") or [],
                                       ttl=g.get("ttl_days"), columns=list(g["columns"].items()))))
        elif "attributes" in entry:
            g = entry["attributes"]
            items.append(("attributes", dict(name=g["name"], source=g["source"], columns=list(g["columns"].items()))))
        elif "derived" in entry:
            d = entry["derived"]
            items.append(("derived", dict(name=d["name"], expression=str(d["expression"]), round=d.get("round"))))
        else:
            raise ViewError(f"unknown feature item {entry!r}")
    return doc["name"], items


def output_names(items):
    names = []
    for kind, item in items:
        if kind == "window":
            names += [a["name"].replace("{days}", str(d)) for d in item["days"] for a in item["aggregates"]]
        elif kind in ("last", "attributes"):
            names += [out for out, _ in item["columns"]]
        else:
            names.append(item["name"])
    return names


# --------------------------------------------------------------------------------------------------
# Strata's documented differences from DuckDB, translated in expression text

def translate(sql):
    """Decimal literals -> DOUBLE; date_trunc(...) -> strata_date_trunc(...) (a DATE). Strings, quoted
    identifiers and comments are copied unchanged."""
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif c.isalpha() or c == "_":
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(sql, i)
            word = m.group(0)
            rest = sql[m.end():].lstrip()
            out.append("strata_date_trunc" if word.lower() == "date_trunc" and rest.startswith("(") else word)
            i = m.end()
        elif c.isdigit() or (c == "." and i + 1 < n and sql[i + 1].isdigit()):
            m = re.compile(r"([0-9]*\.?[0-9]*)([eE][+-]?[0-9]+)?").match(sql, i)
            text = m.group(0)
            if "." in text and not m.group(2):
                out.append(f"CAST({lit(text)} AS DOUBLE)")
            else:
                out.append(text)
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Computation

def source_types(table):
    types = dict(SCHEMAS[table])
    for c in DATE_COLUMNS[table]:
        types[c] = "DATE"
    return types


def prepare(con, data_dir):
    """Loads the CSVs (w1_reference's strict loader), then s_<table> with DATE columns and __rid = file row."""
    load_tables(con, data_dir, lenient_dates=True)
    con.execute("CREATE OR REPLACE MACRO ymd(x) AS make_date(x // 10000, x // 100 % 100, x % 100)")
    con.execute("CREATE OR REPLACE MACRO strata_date_trunc(p, d) AS CAST(date_trunc(p, d) AS DATE)")
    for table in SCHEMAS:
        cols = ", ".join(f"ymd({q(c)}) AS {q(c)}" if c in DATE_COLUMNS[table] else q(c) for c, _ in SCHEMAS[table])
        con.execute(f"CREATE OR REPLACE TABLE s_{table} AS SELECT rowid AS __rid, {cols} FROM {table} ORDER BY rowid")
    con.execute("CREATE OR REPLACE TABLE lab AS SELECT rowid AS __lrid, msno, cutoff_date, is_churn, "
                "ymd(cutoff_date) AS __cd FROM labels ORDER BY rowid")
    con.execute("CREATE OR REPLACE TABLE keys AS SELECT DISTINCT msno AS __msno, __cd FROM lab "
                "WHERE msno IS NOT NULL AND __cd IS NOT NULL")


def check_source(item):
    if item["source"] not in SCHEMAS:
        raise ViewError(f"unknown source table {item['source']!r}")
    return source_types(item["source"])


def window_sql(item, before):
    types = check_source(item)
    time = q(item["time"])
    aggs, finals = [], []
    for days in item["days"]:
        for a in item["aggregates"]:
            name = a["name"].replace("{days}", str(days))
            cond = f"s.{time} >= k.__cd - {days}"
            if a["filter"] is not None:
                cond += f" AND ({translate(str(a['filter']))})"
            fn, col = a["function"], a["column"]
            if col is not None and col not in types:
                raise ViewError(f"{name}: no column {col!r} in {item['source']}")
            ctype = types.get(col)
            arg = f"s.{q(col)}" if col else "*"
            if fn == "count":
                raw, rtype = f"count({arg})", "BIGINT"
            elif fn == "count_distinct":
                raw, rtype = f"count(DISTINCT {arg})", "BIGINT"
            elif fn == "sum":
                raw, rtype = f"sum({arg})", "DOUBLE" if ctype == "DOUBLE" else "BIGINT"
            elif fn == "mean":
                raw, rtype = f"avg({arg})", "DOUBLE"
            else:
                raw, rtype = f"{fn}({arg})", ctype
            aggs.append(f"{raw} FILTER (WHERE {cond}) AS {q(name)}")
            v = f"w.{q(name)}"
            if fn in ("count", "count_distinct"):
                v = f"coalesce({v}, 0)"
            elif rtype == "BIGINT":
                v = f"CAST({v} AS BIGINT)"  # HUGEINT sum: out of BIGINT is an error, as in Strata
            if a["round"] is not None and rtype == "DOUBLE":
                v = f"round({v}, {int(a['round'])})"
            if a["fill"] is not None:
                fill = a["fill"]
                if rtype == "DOUBLE":
                    v = f"coalesce({v}, CAST({lit(repr(float(fill)))} AS DOUBLE))"
                elif rtype == "DATE":
                    v = f"coalesce({v}, DATE '1970-01-01' + {int(fill)})"
                else:
                    v = f"coalesce({v}, CAST({int(fill)} AS BIGINT))"
            finals.append(f"{v} AS {q(name)}")
    sql = (f"SELECT k.__msno, k.__cd, {', '.join(aggs)} FROM keys k JOIN s_{item['source']} s "
           f"ON s.msno = k.__msno AND s.{time} >= k.__cd - {max(item['days'])} AND s.{time} {before} k.__cd "
           f"GROUP BY k.__msno, k.__cd")
    return sql, finals


def group_struct(table):
    return "struct_pack(" + ", ".join(f"{q(c)} := s.{q(c)}" for c, _ in SCHEMAS[table]) + ")"


def last_sql(item, before):
    types = check_source(item)
    time = q(item["time"])
    ttl = f" AND s.{time} >= k.__cd - {int(item['ttl'])}" if item["ttl"] is not None else ""
    order = ", ".join([f"s.{time} DESC"] + [f"s.{q(o)} DESC NULLS LAST" for o in item["order"]] + ["s.__rid DESC"])
    for _, col in item["columns"]:
        if col not in types:
            raise ViewError(f"no column {col!r} in {item['source']}")
    return (f"SELECT k.__msno, k.__cd, {group_struct(item['source'])} AS grp FROM keys k JOIN s_{item['source']} s "
            f"ON s.msno = k.__msno AND s.{time} {before} k.__cd{ttl} "
            f"QUALIFY row_number() OVER (PARTITION BY k.__msno, k.__cd ORDER BY {order}) = 1")


def attributes_sql(item):
    types = check_source(item)
    for _, col in item["columns"]:
        if col not in types:
            raise ViewError(f"no column {col!r} in {item['source']}")
    return (f"SELECT s.msno AS __msno, {group_struct(item['source'])} AS grp FROM s_{item['source']} s "
            f"WHERE s.msno IS NOT NULL QUALIFY row_number() OVER (PARTITION BY s.msno ORDER BY s.__rid DESC) = 1")


def column_type(con, table, column):
    row = con.execute(f"SELECT column_type FROM (DESCRIBE {table}) WHERE column_name = ?", [column]).fetchone()
    return row[0]


def strata_typed(duck_type, value, rounding, feature):
    """The DuckDB result mapped to Strata's SQL typing (and `round:` for DOUBLE)."""
    t = duck_type.upper()
    if t in INTEGER_TYPES:
        return f"CAST({value} AS BIGINT)"
    if t in ("DOUBLE", "FLOAT") or t.startswith("DECIMAL"):
        v = f"CAST({value} AS DOUBLE)"
        return f"round({v}, {int(rounding)})" if rounding is not None else v
    if t == "DATE":
        return value
    if t.startswith("TIMESTAMP"):
        return f"CAST({value} AS DATE)"
    if t in ("BOOLEAN", "VARCHAR"):
        return value
    raise ViewError(f"derived feature {feature}: DuckDB type {duck_type} has no Strata counterpart")


def compute(con, items, inclusive):
    """Builds table F (one row per (msno, cutoff) key) item by item, in declaration order."""
    import duckdb
    before = "<=" if inclusive else "<"
    con.execute("CREATE OR REPLACE TABLE F AS SELECT __msno, __cd, __cd AS cutoff FROM keys")
    taken = {"cutoff", "__msno", "__cd"}

    def claim(name):
        if name.lower() in taken:
            raise ViewError(f"name {name!r} used twice")
        taken.add(name.lower())

    for index, (kind, item) in enumerate(items):
        try:
            if kind == "window":
                sql, finals = window_sql(item, before)
                for n in output_names([(kind, item)]):
                    claim(n)
                con.execute(f"CREATE OR REPLACE TABLE F AS SELECT F.*, {', '.join(finals)} FROM F "
                            f"LEFT JOIN ({sql}) w ON w.__msno = F.__msno AND w.__cd = F.__cd")
            elif kind in ("last", "attributes"):
                claim(item["name"])
                for out, _ in item["columns"]:
                    claim(out)
                sql = last_sql(item, before) if kind == "last" else attributes_sql(item)
                on = "g.__msno = F.__msno" + (" AND g.__cd = F.__cd" if kind == "last" else "")
                outs = ", ".join(f"g.grp.{q(col)} AS {q(out)}" for out, col in item["columns"])
                con.execute(f"CREATE OR REPLACE TABLE F AS SELECT F.*, {outs}, g.grp AS {q(item['name'])} "
                            f"FROM F LEFT JOIN ({sql}) g ON {on}")
            else:
                name = item["name"]
                claim(name)
                con.execute(f"CREATE OR REPLACE TABLE T AS SELECT *, ({translate(item['expression'])}) AS __new FROM F")
                final = strata_typed(column_type(con, "T", "__new"), "__new", item["round"], name)
                con.execute(f"CREATE OR REPLACE TABLE F AS SELECT * EXCLUDE (__new), {final} AS {q(name)} FROM T")
        except duckdb.Error as e:
            what = item.get("name") or ", ".join(output_names([(kind, item)]))
            raise ViewError(f"feature {what}: {e}") from None


def write_output(con, features, path):
    """The label rows with their features, in the training set's row order, written by w1_reference's writer."""
    cols = ["lab.msno", "lab.cutoff_date", "lab.is_churn"] + [f"F.{q(n)}" for n in features]
    cur = con.execute(f"SELECT {', '.join(cols)} FROM lab LEFT JOIN F ON F.__msno = lab.msno AND F.__cd = lab.__cd "
                      f"ORDER BY lab.cutoff_date, encode(lab.msno), lab.__lrid")
    return write_result(cur, path, columns=["msno", "cutoff_date", "is_churn"] + features)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                                       "features", "derived.yaml"), help="feature view YAML")
    ap.add_argument("--data", required=True, help="directory with members.csv, transactions.csv, user_logs.csv, labels.csv")
    ap.add_argument("--out", required=True, help="output CSV file")
    ap.add_argument("--inclusive", action="store_true", help="events on the cutoff day count (<= instead of <)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    a = ap.parse_args()
    import duckdb
    con = duckdb.connect(config={"threads": a.threads} if a.threads > 0 else {})
    try:
        view_name, items = read_view(a.features)
        prepare(con, a.data)
        compute(con, items, a.inclusive)
        features = output_names(items)
        n = write_output(con, features, a.out)
    except (InputError, ViewError) as e:
        sys.exit(f"derived_reference: {e}")
    except duckdb.Error as e:
        sys.exit(f"derived_reference: {e}")
    print(f"derived_reference: {view_name}: {n} rows x {3 + len(features)} columns -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

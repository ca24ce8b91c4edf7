#!/usr/bin/env python3
"""Differential test of `strata query` against DuckDB.

Builds one generated fixture, ingests it into a Strata store and loads the same CSVs into an in-memory
DuckDB database (same table and column names; msno/gender VARCHAR, total_secs DOUBLE, date columns DATE,
every other column BIGINT, empty field = NULL). Then runs every query of the hand-written corpus
(tools/sql_corpus.sql) and of a seeded random generator in both engines and compares the results cell
by cell:

* column names are not compared; the number of columns and rows and every cell are;
* DuckDB values are normalised (bool -> true/false, DATE -> ISO, TIMESTAMP at midnight -> ISO date,
  DECIMAL -> float); Strata's CSV cells are parsed (empty -> NULL, int, float incl. nan/inf, else
  string); DuckDB strings go through the same parse, since CSV has no types;
* ints and floats compare numerically; floats are equal when both NaN, or equal, or
  |a-b| <= 1e-9 * max(|a|, |b|);
* rows are compared in order when the query has a top-level ORDER BY, otherwise as sorted multisets;
* `-- expect-error` queries must fail in both engines (Strata: exit status > 0 and a message on stderr);
* EXPLAIN queries are not compared: both engines must just succeed (Strata with some output).

`--duckdb-only` checks the corpus itself: every query must run in DuckDB (or fail, if tagged
expect-error) and give the same answer on a second copy of the tables stored in another row order and
queried with one thread (catches ORDER BY ties under LIMIT, float sums that cancel, ...).

`--members --months --start --label-months` size the fixture (defaults: the 1500-member, 8-month one the
corpus is written for) to reach the code paths that only run with many chunks per partition or many
partitions; the random generator's date literals follow the fixture's period. A `--work` directory keeps
the fixture it was built with: reusing it with another size is an error.

Usage: sql_differential.py [--bin PATH] [--work DIR] [--seed N] [--random N] [--only N[,N...]]
                           [--grep TEXT] [--duckdb-only] [--list] [--jobs N] [--verbose]
                           [--members N] [--months M] [--start YYYYMMDD] [--label-months K]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import decimal
import io
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SEED = 20240611
DEFAULT_RANDOM = 200

# ---------------------------------------------------------------------------------------------------------
# Fixture

TABLES = {
    "members": [("msno", "str"), ("city", "int"), ("bd", "int"), ("gender", "str"), ("registered_via", "int"),
                ("registration_init_time", "date")],
    "transactions": [("msno", "str"), ("payment_method_id", "int"), ("payment_plan_days", "int"),
                     ("plan_list_price", "int"), ("actual_amount_paid", "int"), ("is_auto_renew", "int"),
                     ("transaction_date", "date"), ("membership_expire_date", "date"), ("is_cancel", "int")],
    "user_logs": [("msno", "str"), ("date", "date"), ("num_25", "int"), ("num_50", "int"), ("num_75", "int"),
                  ("num_985", "int"), ("num_100", "int"), ("num_unq", "int"), ("total_secs", "double")],
    "labels": [("msno", "str"), ("cutoff_date", "date"), ("is_churn", "int")],
}
FIXTURE_SEED = 5


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


class Fixture:
    """The options of `strata generate` and the value ranges of the data they give (as Generator.swift
    writes it): logs on every day of the period, labels with a cutoff on the first day of each of the last
    `label_months` months but never the first, registrations up to three weeks before the end, transactions
    from a month before the start, expiries up to half a year after the end."""

    def __init__(self, members: int = 1500, months: int = 8, start: str = "20160101", label_months: int = 4):
        self.members, self.months, self.start, self.label_months = members, months, start, label_months
        first = dt.datetime.strptime(start, "%Y%m%d").date()
        end = add_months(first, months)  # the first day after the period
        last = end - dt.timedelta(days=1)
        self.first, self.last = first, last
        self.cutoffs = [add_months(end, -k) for k in range(min(label_months, months - 1), 0, -1)]
        self.date_ranges = {
            "registration_init_time": (dt.date(2004, 3, 30), end - dt.timedelta(days=22)),
            "transaction_date": (add_months(first, -1), last),
            "membership_expire_date": (first, add_months(end, 6)),
            "date": (first, last),
            "cutoff_date": (self.cutoffs[0], self.cutoffs[-1]) if self.cutoffs else (first, first),
        }

    @property
    def days(self) -> int:
        return (self.last - self.first).days

    def generate_args(self) -> list[str]:
        # No campaigns: the corpus's overflow cases are calibrated on the row counts of these exact files.
        return ["--members", str(self.members), "--start", self.start, "--months", str(self.months),
                "--seed", str(FIXTURE_SEED), "--label-months", str(self.label_months), "--campaign-share", "0"]


def build_fixture(binary: str, work: str, ingest: bool, fixture: Fixture) -> str:
    gen = os.path.join(work, "gen")
    stamp = os.path.join(work, "generate-args")
    wanted = " ".join(fixture.generate_args())
    if os.path.exists(os.path.join(gen, "labels.csv")):
        built = open(stamp).read().strip() if os.path.exists(stamp) else " ".join(Fixture().generate_args())
        if built != wanted:
            raise SystemExit(f"sql differential: {work} holds a fixture generated with `{built}`, not `{wanted}`; "
                             "use another --work directory")
    else:
        subprocess.run([binary, "generate", "--out", gen, *fixture.generate_args()], check=True, stdout=subprocess.DEVNULL)
        with open(stamp, "w") as f:
            f.write(wanted + "\n")
    db = os.path.join(work, "s.db")
    if ingest and not os.path.exists(db):
        files = [os.path.join(gen, f"{t}.csv") for t in ("members", "transactions", "user_logs", "labels")]
        subprocess.run([binary, "ingest", "--db", db, *files], check=True, stdout=subprocess.DEVNULL)
    return gen


def duckdb_connect(gen: str, shuffled: bool = False):
    import duckdb
    con = duckdb.connect(":memory:")
    if shuffled:
        con.execute("SET threads = 1")
    for table, columns in TABLES.items():
        exprs = []
        for name, kind in columns:
            q = f'"{name}"'
            if kind == "str":
                exprs.append(f"{q}::VARCHAR AS {q}")
            elif kind == "double":
                exprs.append(f"{q}::DOUBLE AS {q}")
            elif kind == "date":
                exprs.append(f"strptime({q}, '%Y%m%d')::DATE AS {q}")
            else:
                exprs.append(f"{q}::BIGINT AS {q}")
        order = ""
        if shuffled:  # a deterministic permutation unrelated to file order
            order = " ORDER BY hash(" + ", ".join(f'"{n}"' for n, _ in columns) + "), md5(msno)"
        path = os.path.join(gen, f"{table}.csv").replace("'", "''")
        con.execute(f"CREATE TABLE {table} AS SELECT {', '.join(exprs)} "
                    f"FROM read_csv('{path}', header = true, all_varchar = true){order}")
    return con


def sample_msnos(gen: str, count: int, seed: int) -> list[str]:
    with open(os.path.join(gen, "members.csv"), newline="") as f:
        ids = sorted(row["msno"] for row in csv.DictReader(f))
    return random.Random(seed).sample(ids, count)


# ---------------------------------------------------------------------------------------------------------
# Corpus

class Query:
    def __init__(self, number: int, sql: str, origin: str, tags: set[str], note: str = ""):
        self.number, self.sql, self.origin, self.tags, self.note = number, sql, origin, tags, note

    @property
    def expect_error(self) -> bool:
        return "expect-error" in self.tags

    @property
    def explain(self) -> bool:
        return re.match(r"\s*explain\b", self.sql, re.I) is not None


TAGS = {"expect-error"}


def read_corpus(path: str) -> list[tuple[str, set[str], str, int]]:
    """Queries end with a `;` at the end of a line. `--` lines are comments; a comment directly before
    a query (no blank line between) whose text is a tag (`-- expect-error`) applies to that query; the
    other comment lines directly before it are kept as its note."""
    queries, lines, tags, notes, start = [], [], set(), [], 0
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            stripped = line.strip()
            if not lines:
                if not stripped:
                    tags, notes = set(), []
                    continue
                if stripped.startswith("--"):
                    text = stripped[2:].strip()
                    if text.split(" ")[0] in TAGS:
                        tags.add(text.split(" ")[0])
                        if text.split(" ", 1)[1:]:
                            notes.append(text.split(" ", 1)[1])
                    else:
                        notes.append(text)
                    continue
                start = number
            elif stripped.startswith("--"):
                continue
            lines.append(line)
            if stripped.endswith(";"):
                sql = "\n".join(lines).strip()[:-1].strip()
                queries.append((sql, tags, " ".join(notes), start))
                lines, tags, notes = [], set(), []
    if lines:
        raise SystemExit(f"{path}: the last query (line {start}) has no terminating ';'")
    return queries


# ---------------------------------------------------------------------------------------------------------
# Random queries: a small typed grammar that stays inside Strata's SQL subset and away from the places where
# the engines may legitimately differ: LIMIT only under an ORDER BY over every output column; `//` and `%`
# only by nonzero literals; no CAST of a float to VARCHAR; decimal literals only binary-exact ones (DuckDB
# computes them as DECIMAL) and never under a CAST to an integer; DATE +/- only INTEGER (DuckDB has no
# DATE + BIGINT); date_trunc (TIMESTAMP in DuckDB) never in date arithmetic or CAST to VARCHAR; no
# round(avg(double)) (ties decided by the last bits); no grouping by floats; outputs kept small.

INT_LITERALS = {
    "city": [1, 4, 5, 6, 12, 13, 15, 22, 3], "bd": [0, 18, 20, 25, 30, 35, 40, 50, -1], "registered_via": [3, 4, 7, 9, 13],
    "payment_method_id": list(range(20, 42)), "payment_plan_days": [7, 30, 90, 180, 410],
    "plan_list_price": [0, 99, 129, 149, 180, 500, 1000], "actual_amount_paid": [0, 99, 129, 149, 180, 500],
    "is_auto_renew": [0, 1], "is_cancel": [0, 1], "is_churn": [0, 1],
    "num_25": [0, 1, 2, 3, 5, 8], "num_50": [0, 1, 2, 3], "num_75": [0, 1, 2, 3], "num_985": [0, 1, 2, 3],
    "num_100": [0, 5, 10, 20, 30, 40], "num_unq": [1, 5, 10, 20, 30, 40],
}
# Decimal literals are DECIMAL in DuckDB and DOUBLE in Strata: only binary-exact values keep them equal.
DECIMALS = ["0.5", "1.5", "2.25", "0.75", "10.5", "0.125", "100.25", "3.5"]
ALIASES = {"members": "m", "transactions": "t", "user_logs": "u", "labels": "l"}
JOINS = [  # left, right, kinds
    ("labels", "members", ["JOIN", "LEFT JOIN", "INNER JOIN"]),
    ("members", "labels", ["LEFT JOIN", "JOIN", "LEFT OUTER JOIN"]),
    ("transactions", "labels", ["JOIN", "LEFT JOIN"]),
    ("user_logs", "members", ["LEFT JOIN", "JOIN"]),
    ("members", "transactions", ["JOIN", "LEFT JOIN"]),
    ("labels", "transactions", ["JOIN"]),
    ("user_logs", "labels", ["JOIN"]),
]


class Column:
    def __init__(self, ref: str, name: str, kind: str, table: str, nullable: bool):
        self.ref, self.name, self.kind, self.table, self.nullable = ref, name, kind, table, nullable


class Gen:
    def __init__(self, rng: random.Random, msnos: list[str], fixture: Fixture):
        self.r = rng
        self.msnos = msnos
        self.fixture = fixture
        self.columns: list[Column] = []

    # -- helpers
    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, seq):
        return self.r.choice(seq)

    def cols(self, kind: str) -> list[Column]:
        return [c for c in self.columns if c.kind == kind]

    def date_lit(self, column: str | None = None) -> str:
        ranges = self.fixture.date_ranges
        lo, hi = ranges.get(column or "date", ranges["date"])
        day = lo + dt.timedelta(days=self.r.randrange((hi - lo).days + 1))
        if column == "cutoff_date":
            day = self.pick(self.fixture.cutoffs)
        return f"DATE '{day.isoformat()}'"

    def int_lit(self, column: str | None = None) -> str:
        values = INT_LITERALS.get(column or "", None)
        value = self.pick(values) if values else self.r.randint(-5, 40)
        return str(value) if value >= 0 else f"({value})"

    # -- typed expressions; depth bounds nesting. `pure` = no DECIMAL literal anywhere below (DuckDB would
    # compute in exact decimal where Strata uses doubles: matters for CAST to integer).  `finite` = no `/`
    # (which may give inf/nan) below.
    def expr(self, kind: str, depth: int, pure=False, finite=False, trunc=True) -> str:
        if kind == "int":
            return self.int_expr(depth, pure, finite)
        if kind == "double":
            return self.double_expr(depth, pure, finite)
        if kind == "str":
            return self.str_expr(depth)
        if kind == "date":
            return self.date_expr(depth, trunc)
        if kind == "bool":
            return self.bool_expr(depth)
        raise AssertionError(kind)

    def int_expr(self, depth: int, pure=False, finite=False) -> str:
        cols = self.cols("int")
        if depth <= 0 or self.chance(0.25):
            if cols and self.chance(0.8):
                return self.pick(cols).ref
            return self.int_lit()
        d = depth - 1
        choice = self.r.randrange(17)
        if choice <= 2 or (choice in (11, 12) and not self.cols("date")):
            op = self.pick(["+", "-", "+", "-", "*"])
            right = self.int_lit() if op == "*" else self.int_expr(d, pure, finite)
            return f"({self.int_expr(d, pure, finite)} {op} {right})"
        if choice == 3:
            k = self.pick(["2", "3", "7", "10", "(-3)", "100"])
            return f"({self.int_expr(d, pure, finite)} {self.pick(['//', '%'])} {k})"
        if choice == 4:
            return f"(-{self.int_expr(d, pure, finite)})"
        if choice == 5:
            return f"abs({self.int_expr(d, pure, finite)})"
        if choice == 6 and self.cols("date"):
            return f"{self.pick(['year', 'month', 'day'])}({self.date_expr(d)})"
        if choice == 7 and self.cols("date"):
            part = self.pick(["'day'", "'month'", "'year'", "'day'"])
            return f"date_diff({part}, {self.date_expr(d)}, {self.date_expr(d)})"
        if choice == 8 and self.cols("date"):
            return f"({self.date_expr(d, trunc=False)} - {self.date_expr(d, trunc=False)})"
        if choice == 9:
            return f"CASE WHEN {self.bool_expr(d)} THEN {self.int_expr(d, pure, finite)} ELSE {self.int_expr(d, pure, finite)} END"
        if choice == 10:
            base = self.int_expr(0)
            arms = " ".join(f"WHEN {v} THEN {self.int_expr(d, pure, finite)}" for v in self.r.sample(range(0, 12), self.r.randint(1, 3)))
            tail = f" ELSE {self.int_expr(d, pure, finite)}" if self.chance(0.7) else ""
            return f"CASE {base} {arms}{tail} END"
        if choice == 11 and self.cols("double"):
            return f"CAST({self.double_expr(d, pure=True, finite=True)} AS BIGINT)"
        if choice == 12 and cols:
            return f"CAST({self.pick(cols).ref} AS {self.pick(['INTEGER', 'BIGINT'])})"
        if choice == 13:
            return f"coalesce({self.int_expr(d, pure, finite)}, {self.int_expr(d, pure, finite)})"
        if choice == 14:
            return f"round({self.int_expr(d, pure, finite)}{self.pick(['', ', -1', ', 1'])})"
        if choice == 15 and self.cols("str"):
            return f"CAST(CAST({self.int_expr(d, pure, finite)} AS VARCHAR) AS BIGINT)"
        return self.pick(cols).ref if cols else self.int_lit()

    def double_expr(self, depth: int, pure=False, finite=False) -> str:
        cols = self.cols("double")
        if depth <= 0 or self.chance(0.3):
            if cols and self.chance(0.75):
                return self.pick(cols).ref
            if not pure and self.chance(0.6):
                return self.pick(DECIMALS)
            return f"CAST({self.int_expr(0)} AS DOUBLE)"
        d = depth - 1
        choice = self.r.randrange(11)
        if choice <= 2:
            op = self.pick(["+", "-", "*"])
            left = self.double_expr(d, pure, finite)
            right = self.pick([self.double_expr(d, pure, finite), self.int_expr(d, pure, finite)])
            if op == "*":  # keep products small: one side a literal or a plain column
                right = self.pick(DECIMALS) if not pure and self.chance(0.5) else self.int_expr(0)
            return f"({left} {op} {right})"
        if choice == 3 and not finite:
            num = self.pick([self.double_expr(d, pure, finite), self.int_expr(d, pure, finite)])
            den = self.pick([self.double_expr(0, pure, finite), self.int_expr(0), self.int_expr(d, pure, finite)])
            return f"({num} / {den})"
        if choice == 4:
            return f"(-{self.double_expr(d, pure, finite)})"
        if choice == 5:
            return f"abs({self.double_expr(d, pure, finite)})"
        if choice == 6:
            return f"round({self.double_expr(d, pure, finite)}{self.pick(['', ', 0', ', 1', ', 2', ', 3', ', -1'])})"
        if choice == 7:
            return f"CAST({self.int_expr(d, pure, finite)} AS DOUBLE)"
        if choice == 8:
            return f"CASE WHEN {self.bool_expr(d)} THEN {self.double_expr(d, pure, finite)} ELSE {self.double_expr(d, pure, finite)} END"
        if choice == 9:
            return f"coalesce({self.double_expr(d, pure, finite)}, {self.double_expr(d, pure, finite)})"
        return self.pick(cols).ref if cols else f"CAST({self.int_expr(d, pure, finite)} AS DOUBLE)"

    def str_expr(self, depth: int) -> str:
        cols = self.cols("str")
        if depth <= 0 or self.chance(0.45):
            if cols and self.chance(0.85):
                return self.pick(cols).ref
            return self.pick(["'male'", "'female'", "'x'", "'unknown'"])
        d = depth - 1
        choice = self.r.randrange(5)
        gender = [c for c in cols if c.name == "gender"]
        if choice == 0 and gender:
            return f"coalesce({gender[0].ref}, {self.pick(['unknown', 'none', 'female'])!r})"
        if choice == 1:
            return f"CASE WHEN {self.bool_expr(d)} THEN 'yes' ELSE {self.pick(['no', 'maybe'])!r} END"
        if choice == 2:
            return f"CAST({self.int_expr(d)} AS VARCHAR)"
        if choice == 3 and self.cols("date"):
            return f"CAST({self.date_expr(d, trunc=False)} AS VARCHAR)"
        return self.pick(cols).ref if cols else "'x'"

    def date_expr(self, depth: int, trunc=True) -> str:
        cols = self.cols("date")
        if depth <= 0 or self.chance(0.4):
            if cols and self.chance(0.85):
                return self.pick(cols).ref
            return self.date_lit()
        d = depth - 1
        choice = self.r.randrange(6)
        if choice == 0:
            # DuckDB has DATE +/- INTEGER but no DATE +/- BIGINT: columns go through CAST(... AS INTEGER)
            step = self.int_lit() if self.chance(0.5) or not self.cols("int") else f"CAST({self.pick(self.cols('int')).ref} AS INTEGER)"
            return f"({self.date_expr(d, False)} {self.pick(['+', '-'])} {step})"
        if choice == 1 and trunc:
            return f"date_trunc({self.pick(['month', 'year'])!r}, {self.date_expr(d, False)})"
        if choice == 2:
            return f"CAST({self.pick(['2016-03-01', '2016-06-15', '2015-12-31'])!r} AS DATE)"
        if choice == 3:
            return f"coalesce({self.date_expr(d, False)}, {self.date_lit()})"
        if choice == 4:
            return f"CASE WHEN {self.bool_expr(d)} THEN {self.date_expr(d, False)} ELSE {self.date_expr(d, False)} END"
        return self.pick(cols).ref if cols else self.date_lit()

    def literal_for(self, column: Column | None, kind: str) -> str:
        name = column.name if column else None
        if kind == "int":
            return self.int_lit(name)
        if kind == "double":
            return self.pick(["0", "100", "1000", "2500.5", "5000", "(-1)", "0.5", "86400"])
        if kind == "date":
            lit = self.date_lit(name)
            return lit[5:] if self.chance(0.2) else lit  # a bare string literal compared with a date
        if name == "msno":
            return repr(self.pick(self.msnos))
        if name == "gender":
            return self.pick(["'male'", "'female'"])
        return self.pick(["'male'", "'M'", "'a'", "'female'", "'Z'"])

    def operand(self, depth: int) -> tuple[str, str, Column | None]:
        """An expression of some comparable kind and, when it is a plain column, that column."""
        kind = self.pick([c.kind for c in self.columns] + ["int"])
        if self.chance(0.45):
            col = self.pick(self.cols(kind))
            return col.ref, kind, col
        text = self.expr(kind, depth)
        same = [c for c in self.columns if c.ref == text]
        return text, kind, (same[0] if same else None)

    def bool_expr(self, depth: int) -> str:
        if depth <= 0 or self.chance(0.25):
            return self.simple_pred(max(depth - 1, 0))
        d = depth - 1
        choice = self.r.randrange(6)
        if choice <= 1:
            return f"({self.bool_expr(d)} {self.pick(['AND', 'OR'])} {self.bool_expr(d)})"
        if choice == 2:
            return f"(NOT {self.bool_expr(d)})"
        return self.simple_pred(d)

    def simple_pred(self, depth: int) -> str:
        left, kind, col = self.operand(depth)
        choice = self.r.randrange(12)
        if choice <= 4:
            op = self.pick(["=", "<>", "!=", "<", "<=", ">", ">="])
            if self.chance(0.25) and kind != "str":
                right = self.expr(kind, depth)
            else:
                right = self.literal_for(col, kind)
            return f"{left} {op} {right}"
        if choice == 5:
            rarely_null = col is not None and not col.nullable
            return f"{left} IS {'NOT ' if self.chance(0.8 if rarely_null else 0.5) else ''}NULL"
        if choice in (6, 7):
            a, b = sorted([self.literal_for(col, kind), self.literal_for(col, kind)], key=_literal_key) \
                if kind in ("int", "date") else (self.literal_for(col, kind), self.literal_for(col, kind))
            return f"{left} {self.pick(['', 'NOT '])}BETWEEN {a} AND {b}"
        if choice in (8, 9):
            items = [self.literal_for(col, kind) for _ in range(self.r.randint(1, 4))]
            if self.chance(0.2):
                items.insert(self.r.randrange(len(items) + 1), "NULL")
            return f"{left} {self.pick(['', 'NOT '])}IN ({', '.join(items)})"
        if choice == 10 and self.chance(0.5):
            return self.pick(["TRUE", "FALSE", "NOT FALSE", "TRUE"])
        return f"{left} {self.pick(['<', '>=', '='])} {self.literal_for(col, kind)}"


def _literal_key(text: str):
    text = text.strip("()")
    if text.startswith("DATE"):
        return (1, text)
    if text.startswith("'"):
        return (1, "DATE " + text)
    return (0, int(text))


class RandomQueries:
    """Seeded generator of type-correct queries over the fixture."""

    def __init__(self, seed: int, msnos: list[str], fixture: Fixture):
        self.r = random.Random(seed)
        self.msnos = msnos
        self.fixture = fixture

    def scope(self, g: Gen):
        r = self.r
        if r.random() < 0.3:
            left, right, kinds = r.choice(JOINS)
            la, ra = ALIASES[left], ALIASES[right]
            kind = r.choice(kinds)
            g.columns = [Column("msno", "msno", "str", left, False)]
            for table, alias, outer in ((left, la, False), (right, ra, kind.startswith("LEFT"))):
                for name, ckind in TABLES[table]:
                    if name == "msno":
                        continue
                    ref = f"{alias}.{name}" if r.random() < 0.6 else name
                    g.columns.append(Column(ref, name, ckind, table, outer or name == "gender"))
            star = ["msno"] + [n for n, _ in TABLES[left] if n != "msno"] + [n for n, _ in TABLES[right] if n != "msno"]
            return f"{left} {la} {kind} {right} {ra} USING (msno)", left, star
        table = r.choice(["members", "transactions", "user_logs", "labels", "user_logs", "transactions"])
        alias = ALIASES[table] if r.random() < 0.3 else None
        g.columns = [Column(f"{alias}.{n}" if alias else n, n, k, table, n == "gender") for n, k in TABLES[table]]
        return (f"{table} {alias}" if alias else table), table, [n for n, _ in TABLES[table]]

    def anchor(self, g: Gen, table: str) -> str:
        """A selective predicate on the driving table that keeps row-level outputs small."""
        col = {c.name: c.ref for c in g.columns}
        r = self.r
        if table == "user_logs":
            day = self.fixture.first + dt.timedelta(days=r.randrange(self.fixture.days))
            if r.random() < 0.5 or len(g.columns) > len(TABLES[table]):
                return f"{col['date']} = DATE '{day}'"
            return f"{col['date']} BETWEEN DATE '{day}' AND DATE '{day}' + 1"
        if table == "transactions":
            day = self.fixture.first + dt.timedelta(days=r.randrange(self.fixture.days - 3))
            return f"{col['transaction_date']} BETWEEN DATE '{day}' AND DATE '{day + dt.timedelta(days=r.randint(0, 6))}'"
        if table == "members":
            return r.choice([f"{col['city']} = {r.choice([4, 5, 6, 12, 13, 15, 22])}", f"{col['registered_via']} = {r.choice([3, 4, 7, 13])}",
                             f"{col['bd']} BETWEEN {(a := r.randint(18, 40))} AND {a + r.randint(0, 3)}"])
        if len(g.columns) > len(TABLES[table]):  # joined: about a tenth of the members
            return f"{col['cutoff_date']} = DATE '{r.choice(self.fixture.cutoffs)}' AND {r.choice(['msno < ' + repr('5'), 'msno >= ' + repr('u'), 'msno BETWEEN ' + repr('A') + ' AND ' + repr('F')])}"
        return f"{col['cutoff_date']} = DATE '{r.choice(self.fixture.cutoffs)}' AND msno {r.choice(['< ', '>= '])}{r.choice(['A', 'M', 'f', 'u'])!r}"

    def where(self, g: Gen, extra: str | None) -> str:
        parts = [extra] if extra else []
        if self.r.random() < 0.75:
            parts.append(g.bool_expr(self.r.randint(0, 2)))
        return (" WHERE " + " AND ".join(f"({p})" if " OR " in p else p for p in parts)) if parts else ""

    def order_terms(self, g: Gen, items: list[str], aliases: list[str | None]) -> str:
        """ORDER BY over every output column (a total order on the output), in random form and direction."""
        r = self.r
        positions = list(range(len(items)))
        r.shuffle(positions)
        terms = []
        for p in positions:
            form = r.random()
            literal = re.fullmatch(r"\(?-?[\d.]+\)?|'[^']*'|DATE '[^']*'|TRUE|FALSE|NOT FALSE", items[p])
            if form < 0.45 or items[p] == "*" or literal:  # ORDER BY 3 would mean the third column
                term = str(p + 1)
            elif form < 0.75 and aliases[p]:
                term = aliases[p]
            else:
                term = items[p]
            term += r.choice(["", " ASC", " DESC", " DESC"])
            term += r.choice(["", "", "", " NULLS FIRST", " NULLS LAST"])
            terms.append(term)
        return " ORDER BY " + ", ".join(terms)

    def projection(self, g: Gen, count: int) -> tuple[list[str], list[str | None]]:
        items, aliases = [], []
        for i in range(count):
            kind = self.r.choice(["int", "int", "double", "str", "date", "bool"])
            if kind == "double" and not g.cols("double"):
                kind = "int"
            item = g.expr(kind, self.r.randint(1, 3)) if self.r.random() < 0.7 else self.r.choice(g.columns).ref
            alias = f"c{i}" if self.r.random() < 0.5 else None
            items.append(item)
            aliases.append(alias)
        return items, aliases

    def aggregate(self, g: Gen) -> str:
        r = self.r
        choice = r.randrange(14)
        numeric = "double" if g.cols("double") and r.random() < 0.5 else "int"
        if choice == 0:
            return "count(*)"
        if choice == 1:
            return f"count({r.choice(g.columns).ref})"
        if choice == 2:
            col = r.choice([c for c in g.columns if c.name in ("msno", "city", "gender", "date", "is_churn",
                                                               "payment_method_id", "num_unq", "cutoff_date")] or g.columns)
            return f"count(DISTINCT {col.ref})"
        if choice in (3, 4):
            return f"sum({g.expr(numeric, r.randint(0, 1))})"
        if choice == 5:
            return f"avg({g.expr(numeric, r.randint(0, 1))})"
        if choice in (6, 7):
            kind = r.choice(["int", "str", "date", numeric])
            return f"{r.choice(['min', 'max'])}({g.expr(kind, r.randint(0, 1), trunc=False)})"
        if choice == 8:
            return f"sum(CASE WHEN {g.bool_expr(1)} THEN 1 ELSE 0 END)"
        if choice == 9:
            return f"count(CASE WHEN {g.bool_expr(1)} THEN 1 END)"
        if choice == 10:  # avg of integers only: a double average may sit on a rounding tie, then its last bits decide
            return f"round(avg({g.expr('int', 0)}), {r.randint(0, 3)})"
        if choice == 11:
            return f"(max({g.expr('int', 0)}) - min({g.expr('int', 0)}))"
        if choice == 12 and g.cols("date"):
            col = r.choice(g.cols("date")).ref
            return f"(max({col}) - min({col}))"
        return f"(sum({g.expr(numeric, 0)}) / count(*))"

    def group_key(self, g: Gen) -> str:
        r = self.r
        names = {c.name: c for c in g.columns}
        options = []
        for n in ("city", "gender", "registered_via", "is_churn", "is_auto_renew", "is_cancel", "payment_method_id",
                  "payment_plan_days", "cutoff_date", "num_50", "num_985"):
            if n in names:
                options.append(names[n].ref)
        for n in ("date", "transaction_date", "registration_init_time", "membership_expire_date"):
            if n in names:
                ref = names[n].ref
                options += [f"month({ref})", f"year({ref}) * 100 + month({ref})", f"date_trunc('month', {ref})",
                            f"year({ref})"]
        if "gender" in names:
            options.append(f"coalesce({names['gender'].ref}, 'unknown')")
        if "bd" in names:
            options.append(f"CASE WHEN {names['bd'].ref} < 18 THEN 'minor' WHEN {names['bd'].ref} < 40 THEN 'adult' ELSE 'older' END")
            options.append(f"({names['bd'].ref} // 10)")
        if "num_unq" in names:
            options.append(f"({names['num_unq'].ref} % 5)")
        if "total_secs" in names:
            options.append(f"CASE WHEN {names['total_secs'].ref} < 0 THEN 'neg' WHEN {names['total_secs'].ref} > 86400 THEN 'big' ELSE 'ok' END")
        if "msno" in names and r.random() < 0.15:
            return "msno"
        return r.choice(options)

    def having(self, g: Gen) -> str:
        r = self.r
        preds = [f"count(*) > {r.choice([1, 2, 5, 10, 50, 100, 1000])}",
                 f"count(*) <= {r.choice([3, 10, 100, 5000])}",
                 f"count(DISTINCT msno) >= {r.choice([1, 5, 20, 100])}",
                 f"sum({g.expr('int', 0)}) > {r.choice([0, 10, 100, 1000])}",
                 f"avg({g.expr('int', 0)}) < {r.choice(['2.5', '10', '100', '0.5'])}",
                 f"max({g.expr('int', 0)}) <> min({g.expr('int', 0)})"]
        if g.cols("double"):
            preds.append(f"sum({g.cols('double')[0].ref}) > {r.choice(['0', '100000.5', '1000000'])}")
        pred = r.choice(preds)
        if r.random() < 0.3:
            pred = f"{pred} {r.choice(['AND', 'OR'])} {r.choice(preds)}"
        return " HAVING " + pred

    def one(self) -> str:
        r = self.r
        g = Gen(r, self.msnos, self.fixture)
        source, driving, star = self.scope(g)
        kind = r.choices(["rows", "rows-limit", "global", "group"], [24, 20, 14, 42])[0]
        if kind in ("rows", "rows-limit"):
            if r.random() < 0.08:
                items, aliases = ["*"], [None]
            else:
                items, aliases = self.projection(g, r.randint(1, 4))
            joined = " JOIN " in source
            anchor = self.anchor(g, driving) if (kind == "rows" or joined or r.random() < 0.5) else None
            sql = "SELECT " + ", ".join(f"{i} AS {a}" if a else i for i, a in zip(items, aliases))
            sql += " FROM " + source + self.where(g, anchor)
            if kind == "rows-limit":
                if items == ["*"]:
                    order = " ORDER BY " + ", ".join(str(i + 1) + r.choice(["", " DESC"]) for i in range(len(star)))
                else:
                    order = self.order_terms(g, items, aliases)
                sql += order + f" LIMIT {r.choice([1, 3, 5, 10, 20, 50])}"
                if r.random() < 0.35:
                    sql += f" OFFSET {r.choice([0, 1, 2, 7, 30])}"
            return sql
        if kind == "global":
            aggs = [self.aggregate(g) for _ in range(r.randint(1, 4))]
            sql = "SELECT " + ", ".join(aggs) + " FROM " + source + self.where(g, None)
            if r.random() < 0.1:
                sql += self.having(g)
            return sql
        keys = []
        for _ in range(r.choice([1, 1, 2, 2, 3])):
            key = self.group_key(g)
            if key == "msno":  # one group per member already; more keys would multiply the output
                keys = ["msno"]
                break
            if key not in keys:
                keys.append(key)
        aggs = [self.aggregate(g) for _ in range(r.randint(1, 3))]
        key_aliases = [f"k{i}" if r.random() < 0.5 else None for i in range(len(keys))]
        items = keys + aggs
        aliases = key_aliases + [f"a{i}" if r.random() < 0.4 else None for i in range(len(aggs))]
        order_of_items = list(range(len(items)))
        if r.random() < 0.3:
            r.shuffle(order_of_items)
        sel_items = [items[i] for i in order_of_items]
        sel_aliases = [aliases[i] for i in order_of_items]
        sql = "SELECT " + ", ".join(f"{i} AS {a}" if a else i for i, a in zip(sel_items, sel_aliases))
        sql += " FROM " + source + self.where(g, None)
        group_terms = []
        for k, a in zip(keys, key_aliases):
            form = r.random()
            if form < 0.35:
                group_terms.append(str(sel_items.index(k) + 1))
            elif form < 0.6 and a:
                group_terms.append(a)
            else:
                group_terms.append(k)
        sql += " GROUP BY " + ", ".join(group_terms)
        if r.random() < 0.35:
            sql += self.having(g)
        if r.random() < 0.55:
            key_positions = [sel_items.index(k) for k in keys]
            terms = []
            if r.random() < 0.3:
                agg_pos = r.choice([sel_items.index(a) for a in aggs])
                terms.append(f"{agg_pos + 1} DESC" if r.random() < 0.6 else f"{agg_pos + 1}")
            for p in key_positions:
                ref = sel_aliases[p] if sel_aliases[p] and r.random() < 0.5 else (str(p + 1) if r.random() < 0.5 else sel_items[p])
                terms.append(ref + r.choice(["", " ASC", " DESC"]) + r.choice(["", "", " NULLS FIRST", " NULLS LAST"]))
            sql += " ORDER BY " + ", ".join(terms)
            if r.random() < 0.5:
                sql += f" LIMIT {r.choice([1, 2, 5, 10])}"
                if r.random() < 0.3:
                    sql += f" OFFSET {r.choice([1, 3])}"
        return sql

    def generate(self, count: int) -> list[str]:
        return [self.one() for _ in range(count)]


# ---------------------------------------------------------------------------------------------------------
# Results

NULL = None
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?|-?(nan|inf)")


def parse_cell(text: str):
    if text == "":
        return NULL
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def normalise_duckdb(value):
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return parse_cell(value)
    return parse_cell(str(value))


def cells_equal(a, b) -> bool:
    if a is NULL or b is NULL:
        return a is b
    an, bn = isinstance(a, (int, float)), isinstance(b, (int, float))
    if an and bn:
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return fa == fb or abs(fa - fb) <= 1e-9 * max(abs(fa), abs(fb))
    if an or bn:
        return False
    return a == b


def rows_equal(a, b) -> bool:
    return len(a) == len(b) and all(cells_equal(x, y) for x, y in zip(a, b))


def sort_key(row):
    key = []
    for cell in row:
        if cell is NULL:
            key.append((0, 0, 0.0, ""))
        elif isinstance(cell, (int, float)):
            f = float(cell)
            key.append((1, 1, 0.0, "") if math.isnan(f) else (1, 0, float(f"{f:.9g}"), ""))
        else:
            key.append((2, 0, 0.0, cell))
    return key


class Result:
    def __init__(self, columns: int = 0, rows=None, error: str | None = None, seconds: float = 0.0, raw: str = ""):
        self.columns, self.rows, self.error, self.seconds, self.raw = columns, rows or [], error, seconds, raw


def run_duckdb(con, sql: str) -> Result:
    started = time.perf_counter()
    try:
        cur = con.execute(sql)
        rows = cur.fetchall()
        columns = len(cur.description)
    except Exception as e:  # noqa: BLE001 - any DuckDB error is an engine error
        return Result(error=f"{type(e).__name__}: {str(e).splitlines()[0]}", seconds=time.perf_counter() - started)
    return Result(columns, [tuple(normalise_duckdb(v) for v in row) for row in rows], seconds=time.perf_counter() - started)


def run_strata(binary: str, db: str, sql: str, timeout: float) -> Result:
    started = time.perf_counter()
    try:
        proc = subprocess.run([binary, "query", "--db", db, sql, "--format", "csv"], capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(error=f"timeout after {timeout:.0f} s", seconds=timeout)
    seconds = time.perf_counter() - started
    stderr = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        if proc.returncode < 0:
            return Result(error=f"CRASH (signal {-proc.returncode}) {stderr}", seconds=seconds)
        return Result(error=stderr or f"exit status {proc.returncode} with an empty stderr", seconds=seconds)
    text = proc.stdout.decode("utf-8", "replace")
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        return Result(error="INVALID OUTPUT: no header line", seconds=seconds, raw=text)
    header = records[0]
    rows = []
    for record in records[1:]:
        if record == [] and len(header) == 1:
            record = [""]  # a single NULL cell prints as an empty line
        if len(record) != len(header):
            return Result(error=f"INVALID OUTPUT: a row with {len(record)} fields under {len(header)} columns: {record!r}",
                          seconds=seconds, raw=text)
        rows.append(tuple(parse_cell(c) for c in record))
    return Result(len(header), rows, seconds=seconds, raw=text)


def has_order_by(sql: str) -> bool:
    no_strings = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return re.search(r"\border\s+by\b", no_strings, re.I) is not None


def compare(sql: str, left: Result, right: Result, names=("strata", "duckdb")) -> str | None:
    """None when equal, else a description of the first differences (left = Strata, right = DuckDB)."""
    na, nb = names
    if left.columns != right.columns:
        return f"column count: {na} {left.columns}, {nb} {right.columns}\n" + show_rows(left.rows, right.rows, names)
    ordered = has_order_by(sql)
    a, b = left.rows, right.rows
    if len(a) == len(b):
        sa, sb = (a, b) if ordered else (sorted(a, key=sort_key), sorted(b, key=sort_key))
        if all(rows_equal(x, y) for x, y in zip(sa, sb)):
            return None
    only_a, only_b = multiset_difference(a, b)
    head = f"rows: {na} {len(a)}, {nb} {len(b)}"
    if not only_a and not only_b:
        if not ordered:
            return None  # sorting by rounded keys paired near-equal rows differently
        first = next(i for i, (x, y) in enumerate(zip(a, b)) if not rows_equal(x, y))
        return (f"{head}; the same rows in a different order, first difference at row {first}:\n"
                + show_rows(a[first:first + 10], b[first:first + 10], names))
    lines = [f"{head}; {len(only_a)} only in {na}, {len(only_b)} only in {nb}"
             + (" (ignoring order)" if ordered else "")]
    width = max(len(na), len(nb))
    lines += [f"  only in {na:<{width}}: {fmt_row(r)}" for r in only_a[:10]]
    lines += [f"  only in {nb:<{width}}: {fmt_row(r)}" for r in only_b[:10]]
    return "\n".join(lines)


def multiset_difference(a, b):
    """Rows of a not matched in b and rows of b not matched in a (tolerant cell comparison)."""
    buckets: dict = {}
    for row in b:
        buckets.setdefault(bucket_key(row), []).append(row)
    only_a = []
    for row in a:
        candidates = buckets.get(bucket_key(row), [])
        for j, other in enumerate(candidates):
            if rows_equal(row, other):
                candidates.pop(j)
                break
        else:
            only_a.append(row)
    only_b = [row for rows in buckets.values() for row in rows]
    if only_a and only_b and len(only_a) * len(only_b) <= 1_000_000:  # rounding may have split a pair
        still_a = []
        for row in only_a:
            for j, other in enumerate(only_b):
                if rows_equal(row, other):
                    only_b.pop(j)
                    break
            else:
                still_a.append(row)
        only_a = still_a
    return sorted(only_a, key=sort_key), sorted(only_b, key=sort_key)


def bucket_key(row):
    return tuple((k[0], k[1], float(f"{k[2]:.6g}"), k[3]) for k in sort_key(row))


def fmt_cell(c) -> str:
    return "NULL" if c is NULL else repr(c)


def fmt_row(row) -> str:
    return "(" + ", ".join(fmt_cell(c) for c in row) + ")"


def show_rows(a, b, names=("strata", "duckdb")) -> str:
    lines = [f"  {names[0]} ({len(a)} rows):"] + [f"    {fmt_row(r)}" for r in a[:10]]
    lines += [f"  {names[1]} ({len(b)} rows):"] + [f"    {fmt_row(r)}" for r in b[:10]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("STRATA_BIN", ".build/debug/strata"), help="strata binary")
    p.add_argument("--work", help="work directory (fixture and store; reused when present); default: a temp dir")
    p.add_argument("--corpus", default=os.path.join(HERE, "sql_corpus.sql"))
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random query seed (default {DEFAULT_SEED})")
    p.add_argument("--random", type=int, default=DEFAULT_RANDOM, help=f"random queries (default {DEFAULT_RANDOM})")
    p.add_argument("--only", help="run only these query numbers (comma separated)")
    p.add_argument("--grep", help="run only queries containing this text (case-insensitive)")
    p.add_argument("--duckdb-only", action="store_true", help="check the corpus in DuckDB only (validity, determinism)")
    p.add_argument("--list", action="store_true", help="print the numbered queries and exit")
    p.add_argument("--jobs", type=int, default=2, help="strata processes in parallel (default 2)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per strata query (default 60)")
    p.add_argument("--verbose", action="store_true", help="print every query with its timing")
    default = Fixture()
    p.add_argument("--members", type=int, default=default.members, help=f"fixture members (default {default.members})")
    p.add_argument("--months", type=int, default=default.months, help=f"fixture months (default {default.months})")
    p.add_argument("--start", default=default.start, help=f"fixture first day, YYYYMMDD (default {default.start})")
    p.add_argument("--label-months", type=int, default=default.label_months,
                   help=f"fixture months with labels (default {default.label_months})")
    args = p.parse_args()
    try:
        fixture = Fixture(args.members, args.months, args.start, args.label_months)
    except ValueError as e:
        p.error(f"--start {args.start}: {e}")
    if args.members < 40 or args.months < 2 or args.label_months < 1:
        p.error("the fixture needs --members >= 40, --months >= 2 and --label-months >= 1")

    started = time.perf_counter()
    if not os.path.exists(args.bin) and args.duckdb_only and os.path.exists(".build/release/strata"):
        args.bin = ".build/release/strata"  # only `generate` is needed
    if not os.path.exists(args.bin):
        print(f"sql differential: no strata binary at {args.bin}", file=sys.stderr)
        return 2
    tmp = None
    work = args.work
    if not work:
        tmp = tempfile.TemporaryDirectory(prefix="strata-sql-")
        work = tmp.name
    os.makedirs(work, exist_ok=True)
    gen = build_fixture(args.bin, work, ingest=not args.duckdb_only, fixture=fixture)
    db = os.path.join(work, "s.db")

    queries = []
    for sql, tags, note, line in read_corpus(args.corpus):
        queries.append(Query(len(queries) + 1, sql, f"{os.path.basename(args.corpus)}:{line}", tags, note))
    hand = len(queries)
    for i, sql in enumerate(RandomQueries(args.seed, sample_msnos(gen, 40, args.seed), fixture).generate(args.random)):
        queries.append(Query(len(queries) + 1, sql, f"random #{i + 1} (seed {args.seed})", set()))
    selected = queries
    if args.only:
        wanted = {int(x) for x in args.only.split(",")}
        selected = [q for q in selected if q.number in wanted]
    if args.grep:
        selected = [q for q in selected if args.grep.lower() in q.sql.lower()]
    if args.list:
        for q in selected:
            tags = f" [{', '.join(sorted(q.tags))}]" if q.tags else ""
            print(f"#{q.number} {q.origin}{tags}: {q.sql}")
        return 0

    con = duckdb_connect(gen)
    other = duckdb_connect(gen, shuffled=True) if args.duckdb_only else None
    setup = time.perf_counter() - started

    pool = None
    futures = {}
    if not args.duckdb_only:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
        for q in selected:
            futures[q.number] = pool.submit(run_strata, args.bin, db, q.sql, args.timeout)

    passed = failed = 0
    empty = big = 0
    slowest: list[tuple[float, int]] = []
    for q in selected:
        duck = run_duckdb(con, q.sql)
        if args.duckdb_only:
            problem = check_corpus_query(q, duck, run_duckdb(other, q.sql) if not q.explain else duck)
            if not duck.error:
                empty += len(duck.rows) == 0
                big += len(duck.rows) > 2000
            slowest.append((duck.seconds, q.number))
        else:
            strata = futures.pop(q.number).result()
            problem = check_query(q, strata, duck)
            slowest.append((strata.seconds, q.number))
        if args.verbose:
            print(f"#{q.number} {'FAIL' if problem else 'ok'} ({duck.seconds * 1000:.0f} ms duckdb): {q.sql}")
        if problem:
            failed += 1
            print(f"--- FAIL #{q.number} ({q.origin}){' ' + q.note if q.note else ''}")
            print(f"    {q.sql}")
            print("    " + problem.replace("\n", "\n    "))
        else:
            passed += 1
    if pool:
        pool.shutdown()
    elapsed = time.perf_counter() - started
    what = "sql corpus (duckdb only)" if args.duckdb_only else "sql differential"
    random_count = sum(1 for q in selected if q.number > hand)
    slow = ", ".join(f"#{n} {s:.2f}s" for s, n in sorted(slowest, reverse=True)[:3])
    print(f"{what}: {passed} passed, {failed} failed ({len(selected) - random_count} hand-written, {random_count} random; "
          f"{elapsed:.1f} s, setup {setup:.1f} s; slowest {slow})")
    if args.duckdb_only:
        print(f"  {empty} queries return no rows, {big} return more than 2000 rows")
    return 1 if failed else 0


def check_query(q: Query, strata: Result, duck: Result) -> str | None:
    if q.expect_error:
        problems = []
        if not strata.error:
            problems.append(f"strata succeeded ({len(strata.rows)} rows) but an error is expected")
        elif strata.error.startswith(("CRASH", "timeout", "INVALID OUTPUT")) or "empty stderr" in strata.error:
            problems.append(f"strata: {strata.error}")
        if not duck.error:
            problems.append(f"duckdb succeeded ({len(duck.rows)} rows) but an error is expected")
        return "; ".join(problems) or None
    if q.explain:
        if strata.error:
            return f"strata error: {strata.error}"
        if not strata.raw.strip():
            return "strata printed nothing for EXPLAIN"
        return f"duckdb error: {duck.error}" if duck.error else None
    if strata.error or duck.error:
        return f"strata: {strata.error or 'ok, %d rows' % len(strata.rows)}\nduckdb: {duck.error or 'ok, %d rows' % len(duck.rows)}"
    return compare(q.sql, strata, duck)


def check_corpus_query(q: Query, duck: Result, again: Result) -> str | None:
    if q.expect_error:
        return None if duck.error else f"duckdb succeeded ({len(duck.rows)} rows) but the query is tagged expect-error"
    if duck.error:
        return f"duckdb error: {duck.error}"
    if again.error:
        return f"duckdb error on the shuffled copy: {again.error}"
    diff = compare(q.sql, duck, again, names=("duckdb", "shuffled"))
    return None if diff is None else "NONDETERMINISTIC (tables in another row order, 1 thread):\n" + diff


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""One user's rows by msno: `SELECT count(*), sum(total_secs) FROM user_logs WHERE msno = '…'`, in process,
on one or more Strata stores and, beside them, DuckDB reading its own database file.

    python3 tools/bench/point_query.py --db STORE [--db OTHER_STORE …] [--duckdb FILE] [--users 25]
                                       [--repeat 5] [--json FILE]

For each of --users msno drawn at random (seed 7) from the first store's members, every store answers the
query --repeat times inside one `strata-bench query` process (planning, opening, executing, formatting; no
process start-up); the figure per user is the median of those runs, and the report gives the median and the
90th percentile over users, with the chunks EXPLAIN says each store reads. DuckDB runs the same query on the
same users through its Python API (median of --repeat). Every store must give the same answers, and DuckDB
too (sums of doubles, which depend on the order rows are added in, to 1e-9 relative), or the script stops. The whole `strata query` process is timed once
per store too, for what a user at a shell sees.

A store written before entity clustering (an older build's ingest) is the "before" figure: pass it as a
second --db. Not part of CI. Needs `swift build -c release --product strata --product strata-bench` and,
for the peer, `pip install duckdb`.
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, ".build", "release", "strata"))
BENCH = os.environ.get("STRATA_BENCH_BIN", os.path.join(ROOT, ".build", "release", "strata-bench"))
QUERY = "SELECT count(*), sum(total_secs) FROM user_logs WHERE msno = '{}'"


def fail(message):
    sys.exit(f"point_query: {message}")


def strata(args):
    done = subprocess.run([STRATA] + args, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"strata {' '.join(args[:2])} failed: {done.stderr.strip()}")
    return done.stdout


def in_process(db, sql, repeat):
    done = subprocess.run([BENCH, "query", "--db", db, "--repeat", str(repeat), sql], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"strata-bench query failed on {db}: {done.stderr.strip()}")
    seconds = [float(x) for x in re.search(r"in-process seconds: (.*)", done.stderr).group(1).split()]
    return statistics.median(seconds)


def answer(db, sql):
    rows = strata(["query", "--db", db, sql, "--format", "csv"]).strip().split("\n")[1].split(",")
    return int(rows[0]), float(rows[1]) if rows[1] else None


def chunks_read(db, sql):
    plan = strata(["query", "--db", db, "EXPLAIN " + sql])
    found = re.search(r"chunks: (\d+) of (\d+) read", plan)
    partitions = re.search(r"partitions: (\d+) of (\d+) read", plan)
    return int(found.group(1)), int(found.group(2)), int(partitions.group(1))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", action="append", required=True, help="a Strata store (repeat for several)")
    parser.add_argument("--duckdb", help="DuckDB database file holding user_logs (w1_peers.py --store makes one)")
    parser.add_argument("--users", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.users < 1 or args.repeat < 1:
        fail("--users and --repeat must be at least 1")
    for db in args.db:
        if not os.path.isdir(os.path.join(db, "manifest")):
            fail(f"--db {db} is not a Strata store")
    for binary in (STRATA, BENCH):
        if not os.access(binary, os.X_OK):
            fail(f"{binary} is missing: swift build -c release --product strata --product strata-bench")
    members = strata(["scan", "--db", args.db[0], "members", "--columns", "msno", "--format", "csv", "--limit", "100000000"]).split("\n")[1:]
    members = [m for m in members if m]
    users = random.Random(7).sample(members, min(args.users, len(members)))
    report = {"query": QUERY.format("…"), "users": len(users), "repeat": args.repeat, "stores": [], "duckdb": None}
    answers = {}
    for db in args.db:
        per_user = []
        chunks = []
        for user in users:
            sql = QUERY.format(user)
            got = answer(db, sql)
            first = answers.setdefault(user, got)
            # A sum of doubles depends on the order rows are added in, which clustering changes: 1e-9 relative.
            if first[0] != got[0] or abs((got[1] or 0) - (first[1] or 0)) > 1e-9 * max(1.0, abs(first[1] or 0)):
                fail(f"{db} answers {got} for {user}, {args.db[0]} answered {answers[user]}")
            per_user.append(in_process(db, sql, args.repeat))
            chunks.append(chunks_read(db, sql))
        started = time.perf_counter()
        strata(["query", "--db", db, QUERY.format(users[0]), "--format", "csv"])
        process = time.perf_counter() - started
        entry = {"db": db, "median_ms": statistics.median(per_user) * 1e3, "p90_ms": percentile(per_user, 0.9) * 1e3,
                 "chunks_read_max": max(c[0] for c in chunks), "chunks_total": chunks[0][1], "partitions_read": chunks[0][2],
                 "process_s": process}
        report["stores"].append(entry)
        print(f"{db}: median {entry['median_ms']:.2f} ms, p90 {entry['p90_ms']:.2f} ms in process; "
              f"reads at most {entry['chunks_read_max']} of {entry['chunks_total']} chunks over {entry['partitions_read']} partitions; "
              f"whole process {process:.3f} s")
    if args.duckdb:
        import duckdb
        con = duckdb.connect(args.duckdb, read_only=True)
        per_user = []
        for user in users:
            sql = QUERY.format(user)
            runs = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                count, total = con.execute(sql).fetchone()
                runs.append(time.perf_counter() - started)
            mine = answers[user]
            if count != mine[0] or abs((total or 0) - (mine[1] or 0)) > 1e-9 * max(1.0, abs(mine[1] or 0)):
                fail(f"DuckDB answers {(count, total)} for {user}, Strata {mine}")
            per_user.append(statistics.median(runs))
        report["duckdb"] = {"file": args.duckdb, "median_ms": statistics.median(per_user) * 1e3, "p90_ms": percentile(per_user, 0.9) * 1e3}
        print(f"DuckDB {args.duckdb}: median {report['duckdb']['median_ms']:.2f} ms, p90 {report['duckdb']['p90_ms']:.2f} ms in process")
    first = report["stores"][0]
    for other in report["stores"][1:]:
        print(f"{first['db']} / {other['db']}: {other['median_ms'] / first['median_ms']:.1f}x faster (median)")
    if report["duckdb"]:
        print(f"DuckDB / {first['db']}: {report['duckdb']['median_ms'] / first['median_ms']:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()

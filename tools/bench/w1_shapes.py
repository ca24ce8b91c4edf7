#!/usr/bin/env python3
"""W1 store to store on two shapes of data, alternated: `strata training-set` against DuckDB reading its own
database file, and W1 with long windows ([7, 30, 90, 180, 365]) against W1 ([7, 30, 90]).

    python3 tools/bench/w1_shapes.py [--runs 3] [--shapes sparse,dense] [--data DIR] [--json FILE]

Shapes (`strata generate`, 100,000 members x 27 months):
  sparse  the generator's defaults: 8 label months, about 16 M user_logs rows
  dense   labels at every one of the last 24 months, --activity 1.4: about 23 M user_logs rows, 1.1 M labels

Each run starts from a fresh copy of the ingested store (and of the DuckDB file), so every W1 writes into the
same store; the copy is not timed. Strata's time is the whole `strata training-set` process; DuckDB's is the
whole `w1_peers.py --store` process minus Python's start-up (its own phases: open, CREATE TABLE AS, CHECKPOINT).
Runs alternate Strata W1, Strata W1 long, DuckDB; medians are reported. Not part of CI: about 10 minutes per
shape with 3 runs. Needs `swift build -c release --product strata` and `pip install duckdb`.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

from benchlib import run_with_rss

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, ".build", "release", "strata"))
PEER = os.path.join(ROOT, "tools", "bench", "peers", "w1_peers.py")
W1 = os.path.join(ROOT, "fixtures", "features", "w1.yaml")
SHAPES = {
    "sparse": ["--members", "100000", "--start", "20150101", "--months", "27"],
    "dense": ["--members", "100000", "--start", "20150101", "--months", "27", "--label-months", "24", "--activity", "1.4"],
}
TABLES = ["members", "transactions", "user_logs", "labels"]


def prepare(shape, root):
    data = os.path.join(root, shape)
    csv = os.path.join(data, "csv")
    if not os.path.exists(os.path.join(csv, "labels.csv")):
        subprocess.run([STRATA, "generate", "--out", csv] + SHAPES[shape], check=True, stdout=subprocess.DEVNULL)
    store = os.path.join(data, "db0")
    if not os.path.exists(store):
        subprocess.run([STRATA, "ingest", "--db", store] + [os.path.join(csv, t + ".csv") for t in TABLES], check=True,
                       stdout=subprocess.DEVNULL)
    duck = os.path.join(data, "duck0.duckdb")
    if not os.path.exists(duck):
        subprocess.run([sys.executable, PEER, "--data", csv, "--engine", "duckdb", "--store", duck], check=True,
                       stdout=subprocess.DEVNULL)
    long_view = os.path.join(data, "w1long.yaml")
    with open(W1) as f:
        text = f.read()
    if "days: [7, 30, 90]" not in text:
        sys.exit("w1_shapes: fixtures/features/w1.yaml no longer has days: [7, 30, 90]")
    with open(long_view, "w") as f:
        f.write(text.replace("days: [7, 30, 90]", "days: [7, 30, 90, 180, 365]").replace("name: w1", "name: w1long"))
    return data, csv, store, duck, long_view


def fresh_copy(source, target):
    if os.path.isdir(target):
        shutil.rmtree(target)
    elif os.path.exists(target):
        os.remove(target)
    (shutil.copytree if os.path.isdir(source) else shutil.copyfile)(source, target)
    os.sync()


def strata_run(data, store, view):
    run_store = os.path.join(data, "dbrun")
    fresh_copy(store, run_store)
    seconds, rss, out = run_with_rss([STRATA, "training-set", "--db", run_store, "--features", view, "--labels", "labels", "--out", "w1"])
    return {"seconds": seconds, "rss_mib": rss / 2**20, "summary": out.splitlines()[0]}


def duckdb_run(data, csv, duck):
    run_file = os.path.join(data, "duckrun.duckdb")
    fresh_copy(duck, run_file)
    seconds, rss, out = run_with_rss([sys.executable, PEER, "--data", csv, "--engine", "duckdb", "--store", run_file, "--json"])
    phases = json.loads(out)
    return {"seconds": phases["load_seconds"] + phases["compute_seconds"] + phases["write_seconds"], "process_seconds": seconds,
            "rss_mib": rss / 2**20, "version": phases["version"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shapes", default="sparse,dense")
    ap.add_argument("--data", default=os.path.join(ROOT, "bench-data", "w1-shapes"))
    ap.add_argument("--json", help="write every figure here")
    a = ap.parse_args()
    if a.runs < 1:
        sys.exit("w1_shapes: --runs must be at least 1")
    results = {}
    for shape in a.shapes.split(","):
        if shape not in SHAPES:
            sys.exit(f"w1_shapes: unknown shape '{shape}' (known: {', '.join(SHAPES)})")
        data, csv, store, duck, long_view = prepare(shape, a.data)
        runs = {"strata": [], "strata_long": [], "duckdb": []}
        for index in range(a.runs):
            runs["strata"].append(strata_run(data, store, W1))
            runs["strata_long"].append(strata_run(data, store, long_view))
            runs["duckdb"].append(duckdb_run(data, csv, duck))
            print(f"[{shape} run {index + 1}] strata {runs['strata'][-1]['seconds']:.2f} s, long {runs['strata_long'][-1]['seconds']:.2f} s, "
                  f"duckdb {runs['duckdb'][-1]['seconds']:.2f} s", file=sys.stderr)
        median = {k: statistics.median(r["seconds"] for r in v) for k, v in runs.items()}
        results[shape] = {"generate": SHAPES[shape], "runs": runs, "median_seconds": median,
                          "duckdb_over_strata": median["duckdb"] / median["strata"],
                          "long_over_w1": median["strata_long"] / median["strata"],
                          "summary": runs["strata"][0]["summary"]}
    print("| shape | W1 rows | Strata W1 s | DuckDB s (store to store) | DuckDB / Strata | Strata W1 long s | long / W1 | peak RSS MiB (W1, long, DuckDB) |")
    print("|---|---|---|---|---|---|---|---|")
    for shape, r in results.items():
        m = r["median_seconds"]
        rss = [max(x["rss_mib"] for x in r["runs"][k]) for k in ("strata", "strata_long", "duckdb")]
        rows = r["summary"].split(":")[1].split("rows")[0].strip()
        print(f"| {shape} | {rows} | {m['strata']:.2f} | {m['duckdb']:.2f} | {r['duckdb_over_strata']:.1f}x | {m['strata_long']:.2f} | "
              f"{r['long_over_w1']:.2f} | {rss[0]:.0f}, {rss[1]:.0f}, {rss[2]:.0f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()

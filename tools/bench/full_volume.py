#!/usr/bin/env python3
"""The whole job at KKBox's volume on one machine (issue 15, item 7): generate, ingest, W1, train, predict.

    python3 tools/bench/full_volume.py --work DIR [--members 6800000] [--activity 0.38] [--peers duckdb]
                                       [--duckdb-memory 4GB] [--json FILE]

`strata generate` writes KKBox's volume into DIR/csv (kept for later runs: generation is not part of the
job), then each step of the job runs as its own process and is measured: wall seconds, peak RSS (os.wait4
of that process) and the bytes on disk after it (the CSVs, the store). The steps: `strata ingest` of the four
CSVs; `strata training-set` (W1, fixtures/features/w1.yaml); `strata train` on it (the defaults: 200 trees
of 31 leaves); `strata predict` of every member as of the day after the last label month. Each step starts
from the store the previous one left.

--peers duckdb then runs the same W1 store to store in DuckDB (tools/bench/peers/w1_peers.py --store, its
database file made from the CSVs first and timed as its load) with `memory_limit` set and a spill directory
under DIR; a failure or a timeout (--peer-timeout seconds) is reported as a result, not an error.
Needs `swift build -c release --product strata`, and `pip install duckdb` for the peer.
"""
import argparse, json, os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import run_with_rss  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, ".build", "release", "strata"))
W1 = os.path.join(ROOT, "fixtures", "features", "w1.yaml")


def disk(path):
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                pass
    return total


def step(name, command, store, report):
    print(f"[{time.strftime('%H:%M:%S')}] {name}: {' '.join(command)}", flush=True)
    seconds, rss, out = run_with_rss(command)
    row = {"step": name, "seconds": seconds, "peak_rss_bytes": rss, "store_bytes": disk(store), "output": out.strip()[-400:]}
    report["steps"].append(row)
    print(f"    {seconds:.1f} s, peak RSS {rss / 2**20:.0f} MiB, store {row['store_bytes'] / 2**30:.2f} GiB", flush=True)
    return out


def duckdb_peer(csv, work, memory, timeout):
    """W1 in DuckDB store to store, with memory_limit and a spill directory; its load timed apart."""
    database = os.path.join(work, "duck.duckdb")
    spill = os.path.join(work, "duck-spill")
    os.makedirs(spill, exist_ok=True)
    script = f"""
import duckdb, json, os, resource, sys, time
sys.path.insert(0, {os.path.join(ROOT, 'tools')!r})
import w1_reference as ref
config = {{"memory_limit": {memory!r}, "temp_directory": {spill!r}, "threads": os.cpu_count(), "preserve_insertion_order": True}}
phase = sys.argv[1]
started = time.perf_counter()
con = duckdb.connect({database!r}, config=config)
if phase == "load":
    ref.load_tables(con, {csv!r}, lenient_dates=False)
else:
    con.execute(f"CREATE OR REPLACE TABLE w1 AS {{ref.w1_sql(inclusive=False)}}")
    print("rows", con.execute("SELECT count(*) FROM w1").fetchone()[0])
con.execute("CHECKPOINT")
con.close()
print("peak_rss_bytes", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""
    results = {}
    for phase in ("load", "w1"):
        if phase == "load" and os.path.exists(database):
            continue
        started = time.perf_counter()
        try:
            child = subprocess.run([sys.executable, "-c", script, phase], capture_output=True, text=True, timeout=timeout)
            status = "ok" if child.returncode == 0 else f"failed: {(child.stderr or child.stdout).strip().splitlines()[-1:]}"
        except subprocess.TimeoutExpired:
            status = f"timed out after {timeout} s"
        seconds = time.perf_counter() - started
        results[phase] = {"seconds": seconds, "status": status, "database_bytes": os.path.getsize(database) if os.path.exists(database) else 0}
        if status == "ok":
            for line in child.stdout.splitlines():
                key, _, value = line.partition(" ")
                if key in ("rows", "peak_rss_bytes"):
                    results[phase][key] = int(value)
        print(f"    duckdb {phase}: {seconds:.1f} s, {status}, {results[phase]}", flush=True)
        if status != "ok":
            break
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="directory for the CSVs, the store and the peers' files")
    parser.add_argument("--members", type=int, default=6_800_000)
    parser.add_argument("--activity", type=float, default=0.38, help="strata generate --activity (0.38: about 392 M log rows at 6.8 M members)")
    parser.add_argument("--peers", default="", help="comma-separated: duckdb")
    parser.add_argument("--duckdb-memory", default="4GB")
    parser.add_argument("--peer-timeout", type=int, default=3600)
    parser.add_argument("--skip", default="", help="comma-separated steps to skip (ingest,w1,train,predict): reuse the store")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    if not os.path.exists(STRATA):
        sys.exit(f"full_volume: no {STRATA}: swift build -c release --product strata")
    unknown = set(filter(None, args.peers.split(","))) - {"duckdb"}
    if unknown:
        sys.exit(f"full_volume: unknown peer(s) {', '.join(sorted(unknown))}: the peers are duckdb")
    skip = set(filter(None, args.skip.split(",")))
    work = os.path.abspath(args.work)
    csv = os.path.join(work, "csv")
    store = os.path.join(work, "store")
    usage = shutil.disk_usage(work if os.path.exists(work) else os.path.dirname(work))
    report = {"members": args.members, "activity": args.activity, "free_disk_bytes_at_start": usage.free, "steps": []}
    if not os.path.exists(os.path.join(csv, "labels.csv")):
        os.makedirs(work, exist_ok=True)
        seconds, rss, out = run_with_rss([STRATA, "generate", "--out", csv, "--members", str(args.members), "--start", "20150101",
                                          "--months", "26", "--label-months", "2", "--activity", str(args.activity), "--seed", "5"])
        report["generate"] = {"seconds": seconds, "peak_rss_bytes": rss, "output": out.strip()}
        with open(os.path.join(work, "generate.txt"), "w") as note:
            note.write(out)
    report["csv_bytes"] = disk(csv)
    generated = os.path.join(work, "generate.txt")
    report["data"] = open(generated).read().strip() if os.path.exists(generated) else "(generated elsewhere)"
    print(f"data: {report['data']}; {report['csv_bytes'] / 2**30:.1f} GiB of CSV", flush=True)
    started = time.perf_counter()
    if "ingest" not in skip:
        shutil.rmtree(store, ignore_errors=True)
        step("ingest", [STRATA, "ingest", "--db", store] + [os.path.join(csv, f"{t}.csv") for t in ("members", "transactions", "user_logs", "labels")], store, report)
    if "w1" not in skip:
        step("training-set W1", [STRATA, "training-set", "--db", store, "--features", W1, "--labels", "labels", "--out", "w1", "--replace"], store, report)
    if "train" not in skip:
        step("train", [STRATA, "train", "--db", store, "--training-set", "w1", "--register", "churn"], store, report)
    if "predict" not in skip:
        step("predict", [STRATA, "predict", "--db", store, "--model", "churn", "--as-of", "20170301", "--out", "scores", "--replace"], store, report)
    report["job_seconds"] = time.perf_counter() - started
    print(f"job: {report['job_seconds']:.1f} s", flush=True)
    if "duckdb" in args.peers.split(","):
        report["duckdb"] = duckdb_peer(csv, work, args.duckdb_memory, args.peer_timeout)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()

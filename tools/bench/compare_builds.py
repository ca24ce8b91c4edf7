#!/usr/bin/env python3
"""Times two Strata release binaries, OLD and NEW, side by side on the same generated data, and prints the
median seconds of each workload with the ratio NEW / OLD.

Comparing two builds
--------------------
    python3 tools/bench/compare_builds.py --old /tmp/before/.build/release/strata --new .build/release/strata \\
        --data DIR [--runs 5] [--json out.json]

DIR holds the four CSVs of `strata generate` (members.csv, transactions.csv, user_logs.csv, labels.csv), e.g.
`strata generate --out DIR --members 100000 --start 20150101 --months 27` for scale M. An OLD binary is a release
build of the earlier commit in another directory, e.g. `git worktree add /tmp/before main` then
`swift build -c release --product strata` in /tmp/before.

Each binary works on its own store, ingested by itself (the two builds may write different formats), under
--work (default: a temporary directory, removed at the end unless --keep). Every workload runs --warmup untimed
times per binary (default 1; it also fills the page cache), then --runs timed times, alternating OLD, NEW, OLD,
NEW, … so that noise from the machine falls on both alike. Each figure is the median of its runs; ratio = NEW / OLD
(> 1: NEW slower); the verdict is WORSE when the ratio exceeds 1 + --threshold (default 0.05), else ok. With
--runs 1 on a busy machine a single figure can be off by 10-20%: use 5 runs or more before trusting a WORSE.

Workloads (--workloads, default all; the same commands as the other drivers of tools/bench/):
  ingest  the four CSVs into a fresh store, one `strata ingest` per table (ingest_bench.strata_ingest); total
          and per-table seconds, bytes on disk.
  w1      `strata training-set --features fixtures/features/w1.yaml --labels labels` (features_bench.py), whole
          process.
  w2      the W2 queries of peers/query_peers.py, each a whole `strata query --format csv` process, summed; the
          outputs of OLD and NEW are compared.
  w4      100,000 lookups (--lookups) of msno drawn as peers/w4_peers.py draws them (numpy default_rng(7) over the
          distinct msno of members.csv in byte order) from the online table `strata features materialize` wrote
          once (as of the last label cutoff). OLD: `strata features bench-lookup`; NEW: `strata-bench lookup` from
          the directory of NEW when it exists there, else `strata features bench-lookup` (either binary falls back
          to the other form when its own is missing). µs per lookup: p50, p99, mean.
  train   `strata train --training-set w1 --model M --format json` (train_bench.py) on a W1 training set built
          once per store, for each of --train-models (default gbdt,logistic): the run's trainSeconds (the figure
          train_bench.py reports), its durationSeconds, and the whole process; held-out (test) AUCs are compared.
Progress lines of the binaries (stderr) are held back and shown only when a command fails.
"""
import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(BENCH))
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(BENCH, "peers"))
import benchlib  # noqa: E402
from ingest_bench import TABLES, strata_ingest  # noqa: E402
from query_peers import QUERIES, W2  # noqa: E402  (one copy of the SQL)

FEATURES = os.path.join(ROOT, "fixtures", "features", "w1.yaml")
WORKLOADS = ("ingest", "w1", "w2", "w4", "train")
MODELS = ("gbdt", "logistic")
SIDES = ("old", "new")
W4_SEED = 7  # peers/w4_peers.py's SEED


def say(message):
    print(message, file=sys.stderr, flush=True)


def run(command):
    """benchlib.run_with_rss (wall seconds, peak RSS bytes, stdout), with the child's stderr held back and shown
    only if the command fails (run_with_rss then exits with the command line)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        failed = False
        try:
            return benchlib.run_with_rss(command)
        except SystemExit:
            failed = True
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                held.seek(0)
                sys.stderr.write(held.read().decode(errors="replace"))
                sys.stderr.flush()


# ------------------------------------------------------------------------------------------------ checks
def check_binary(label, path):
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        sys.exit(f"compare_builds: {label} binary not found: {path}")
    if not os.access(path, os.X_OK):
        sys.exit(f"compare_builds: {label} binary is not executable: {path}")
    probe = subprocess.run([path, "--help"], capture_output=True)
    if probe.returncode != 0:
        sys.exit(f"compare_builds: {label} binary {path} does not run (`--help` exited {probe.returncode}):\n"
                 + probe.stderr.decode(errors="replace"))
    return path


def check_data(data):
    if not os.path.isdir(data):
        sys.exit(f"compare_builds: --data {data} is not a directory (generate it with `strata generate --out {data} …`)")
    for table in TABLES:
        path = os.path.join(data, table + ".csv")
        if not os.path.isfile(path):
            sys.exit(f"compare_builds: missing {path} (--data must hold members.csv, transactions.csv, user_logs.csv, "
                     f"labels.csv from `strata generate`)")
        if os.path.getsize(path) == 0:
            sys.exit(f"compare_builds: {path} is empty")
    if not os.path.isfile(FEATURES):
        sys.exit(f"compare_builds: missing the feature view {FEATURES}")


def lookup_command(side, binary):
    """The W4 replay command of one binary (without --db/--keys), per the rule of the docstring."""
    helper = os.path.join(os.path.dirname(binary), "strata-bench")
    has_helper = os.path.isfile(helper) and os.access(helper, os.X_OK)
    has_subcommand = subprocess.run([binary, "features", "bench-lookup", "--help"], capture_output=True).returncode == 0
    if side == "new" and has_helper:
        return [helper, "lookup"]
    if has_subcommand:
        return [binary, "features", "bench-lookup"]
    if has_helper:
        return [helper, "lookup"]
    sys.exit(f"compare_builds: {side.upper()} {binary} has no `features bench-lookup` and there is no strata-bench beside it")


# ------------------------------------------------------------------------------------------------ setup
def max_cutoff(data):
    """The last label cutoff, as features_bench.py computes it."""
    with open(os.path.join(data, "labels.csv"), newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        column = header.index("cutoff_date")
        return max(int(row[column]) for row in rows if row)


def write_keys(data, path, count):
    """The msno w4_peers.py draws: uniform with replacement, numpy default_rng(7), over the distinct msno of
    members in byte-wise order."""
    import numpy as np
    with open(os.path.join(data, "members.csv"), newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        column = next(rows).index("msno")
        msnos = sorted({row[column] for row in rows if row and row[column]}, key=lambda m: m.encode())
    if not msnos:
        sys.exit("compare_builds: members.csv has no msno")
    keys = [msnos[i] for i in np.random.default_rng(W4_SEED).integers(0, len(msnos), size=count)]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("".join(k + "\n" for k in keys))


def ingest_store(binary, data, db):
    subprocess.run(["rm", "-rf", db], check=True)
    return run([binary, "ingest", "--db", db] + [os.path.join(data, t + ".csv") for t in TABLES])[0]


# ------------------------------------------------------------------------------------------------ workloads
# Each returns, for one run of one binary, {metric: value} plus extras (peak RSS, outputs) under "_" keys.
def ingest_run(ctx, side, tag):
    result = strata_ingest(ctx["bin"][side], ctx["data"], os.path.join(ctx["work"], side, "ingest"))
    figures = {"ingest total s": result["total_seconds"]}
    figures.update({f"  ingest {t} s": result["tables"][t]["seconds"] for t in TABLES})
    return figures, {"peak_rss_bytes": result["peak_rss_bytes"],
                     "disk_bytes": {t: result["tables"][t].get("disk_bytes") for t in TABLES}}


def w1_run(ctx, side, tag):
    seconds, rss, _ = run([ctx["bin"][side], "training-set", "--db", ctx["db"][side], "--features", FEATURES,
                           "--labels", "labels", "--out", f"w1_cmp_{tag}"])
    return {"W1 training-set s": seconds}, {"peak_rss_bytes": rss}


def w2_run(ctx, side, tag):
    figures, outputs, peak = {}, {}, 0
    for name in W2:
        seconds, rss, out = run([ctx["bin"][side], "query", "--db", ctx["db"][side], QUERIES[name], "--format", "csv"])
        figures[f"  {name} s"] = seconds
        outputs[name] = out
        peak = max(peak, rss)
    return {"W2 total s": sum(figures.values()), **figures}, {"peak_rss_bytes": peak, "outputs": outputs}


def w4_run(ctx, side, tag):
    seconds, rss, out = run(ctx["lookup"][side] + ["--db", ctx["db"][side], "--keys", ctx["keys"]])
    record = json.loads(out)
    return ({"W4 lookup p50 µs": record["p50_us"], "W4 lookup p99 µs": record["p99_us"], "W4 lookup mean µs": record["mean_us"]},
            {"peak_rss_bytes": rss, "process_seconds": seconds, "lookups": record["lookups"], "found": record["found"]})


def train_run(ctx, side, tag):
    figures, extras = {}, {}
    for model in ctx["models"]:
        seconds, rss, out = run([ctx["bin"][side], "train", "--db", ctx["db"][side], "--training-set", "w1",
                                 "--model", model, "--format", "json"])
        record = benchlib.run_record(out)
        if record.get("trainSeconds") is not None:
            figures[f"train {model} fit s (trainSeconds)"] = record["trainSeconds"]
        if record.get("durationSeconds") is not None:
            figures[f"train {model} run s (durationSeconds)"] = record["durationSeconds"]
        figures[f"train {model} process s"] = seconds
        extras[model] = {"peak_rss_bytes": rss, "auc": record.get("validation", {}).get("auc"),
                         "log_loss": record.get("validation", {}).get("logLoss"), "train_rows": record.get("trainRows")}
    return figures, extras


RUNNERS = {"ingest": ingest_run, "w1": w1_run, "w2": w2_run, "w4": w4_run, "train": train_run}


def measure(ctx, workload, runs, warmup):
    """Warm-up then timed runs, alternating OLD, NEW, OLD, NEW, …; returns {side: [(figures, extras), …]}."""
    runner = RUNNERS[workload]
    for i in range(warmup):
        for side in SIDES:
            say(f"{workload}: warm-up {i + 1}/{warmup} {side.upper()} …")
            runner(ctx, side, f"warmup{i}")
    timed = {side: [] for side in SIDES}
    for i in range(runs):
        for side in SIDES:
            say(f"{workload}: run {i + 1}/{runs} {side.upper()} …")
            timed[side].append(runner(ctx, side, str(i)))
    return timed


# ------------------------------------------------------------------------------------------------ report
def summarise(workloads, threshold):
    """One row per metric, in the order the workloads produced them."""
    rows = []
    for workload, timed in workloads.items():
        for metric in timed["old"][0][0]:
            old = [figures[metric] for figures, _ in timed["old"] if metric in figures]
            new = [figures[metric] for figures, _ in timed["new"] if metric in figures]
            if not old or not new:
                continue
            old_median, new_median = statistics.median(old), statistics.median(new)
            ratio = new_median / old_median if old_median > 0 else None
            rows.append({"workload": workload, "metric": metric, "old_runs": old, "new_runs": new,
                         "old_median": old_median, "new_median": new_median, "ratio": ratio,
                         "worse": ratio is not None and ratio > 1 + threshold})
    return rows


def fmt(value):
    return "-" if value is None else f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


def report(results, rows, threshold):
    lines = [f"OLD {results['old']}", f"NEW {results['new']}",
             f"data {results['data']}; {results['runs']} timed runs per binary after {results['warmup']} untimed, "
             f"alternating OLD, NEW; median of runs; ratio = NEW / OLD (> 1: NEW slower); "
             f"WORSE = ratio > {1 + threshold:.2f}", ""]
    header = f"{'metric':<38}{'OLD':>11}{'NEW':>11}{'NEW/OLD':>9}  {'verdict':<8}{'OLD min-max':>20}{'NEW min-max':>20}"
    lines += [header, "-" * len(header)]
    for row in rows:
        spread = lambda values: f"{fmt(min(values))}-{fmt(max(values))}"  # noqa: E731
        ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else "-"
        verdict = "WORSE" if row["worse"] else ("ok" if row["ratio"] is not None else "-")
        lines.append(f"{row['metric']:<38}{fmt(row['old_median']):>11}{fmt(row['new_median']):>11}{ratio:>9}  {verdict:<8}"
                     f"{spread(row['old_runs']):>20}{spread(row['new_runs']):>20}")
    worse = [row["metric"].strip() for row in rows if row["worse"]]
    lines.append(f"\n{len(worse)} of {len(rows)} figures worse by more than {threshold:.0%}" + (f": {', '.join(worse)}" if worse else ""))

    lines += ["", "peak RSS, MiB (largest over the timed runs)", f"{'workload':<24}{'OLD':>10}{'NEW':>10}{'NEW/OLD':>9}"]
    for name, (old, new) in results["peak_rss_mib"].items():
        lines.append(f"{name:<24}{old:>10.1f}{new:>10.1f}{new / old:>9.3f}")

    setup = results["setup"]
    lines += ["", "setup, once per binary (untimed for the table above)", f"{'step':<36}{'OLD':>11}{'NEW':>11}"]
    for step, values in setup["seconds"].items():
        lines.append(f"{step + ' s':<36}{fmt(values['old']):>11}{fmt(values['new']):>11}")
    if "w4_lookup_command" in setup:
        for side in SIDES:
            lines.append(f"W4 lookup command {side.upper()}: {' '.join(setup['w4_lookup_command'][side])}")
    for line in results["checks"]:
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ main
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="the OLD strata binary")
    parser.add_argument("--new", required=True, help="the NEW strata binary")
    parser.add_argument("--data", required=True, help="directory of the four CSVs written by `strata generate`")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per binary and workload (median reported), default 5")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per binary and workload first, default 1")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma list of {', '.join(WORKLOADS)} (default all)")
    parser.add_argument("--train-models", default=",".join(MODELS), help="comma list of gbdt, logistic (default both)")
    parser.add_argument("--lookups", type=int, default=100_000, help="W4 lookups per run, default 100000")
    parser.add_argument("--threshold", type=float, default=0.05, help="WORSE when NEW/OLD > 1 + this, default 0.05")
    parser.add_argument("--work", help="directory for the stores (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the stores (a temporary --work is otherwise removed)")
    parser.add_argument("--json", help="also write every run's figures to this file")
    args = parser.parse_args()
    workloads = [w for w in args.workloads.split(",") if w]
    models = [m for m in args.train_models.split(",") if m]
    if not workloads or set(workloads) - set(WORKLOADS):
        parser.error(f"--workloads: choose among {', '.join(WORKLOADS)}")
    if "train" in workloads and (not models or set(models) - set(MODELS)):
        parser.error(f"--train-models: choose among {', '.join(MODELS)}")
    if args.runs < 1 or args.warmup < 0 or args.lookups < 1:
        parser.error("--runs and --lookups must be at least 1, --warmup at least 0")
    workloads = [w for w in WORKLOADS if w in workloads]

    binaries = {"old": check_binary("OLD", args.old), "new": check_binary("NEW", args.new)}
    data = os.path.abspath(args.data)
    check_data(data)
    if "w4" in workloads:
        try:
            import numpy  # noqa: F401
        except ImportError:
            sys.exit("compare_builds: W4 draws its keys with numpy (pip install numpy), or leave w4 out of --workloads")
    temporary = args.work is None
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="strata-compare-")
    for side in SIDES:
        os.makedirs(os.path.join(work, side), exist_ok=True)
    say(f"work directory {work}")

    ctx = {"bin": binaries, "data": data, "work": work, "models": models,
           "db": {side: os.path.join(work, side, "store.db") for side in SIDES}}
    results = {"old": binaries["old"], "new": binaries["new"], "data": data, "runs": args.runs, "warmup": args.warmup,
               "workloads": {}, "setup": {"seconds": {}}, "checks": []}
    completed = False
    try:
        setup = results["setup"]
        needs_store = [w for w in workloads if w != "ingest"]
        if needs_store:
            for step, action in [("ingest store (one command)", lambda side: ingest_store(binaries[side], data, ctx["db"][side]))] + (
                    [("training-set w1", lambda side: run([binaries[side], "training-set", "--db", ctx["db"][side], "--features",
                                                           FEATURES, "--labels", "labels", "--out", "w1"])[0])]
                    if "train" in workloads else []):
                setup["seconds"][step] = {}
                for side in SIDES:
                    say(f"setup: {step} {side.upper()} …")
                    setup["seconds"][step][side] = action(side)
        if "w4" in workloads:
            ctx["keys"] = os.path.join(work, "w4_keys.txt")
            write_keys(data, ctx["keys"], args.lookups)
            cutoff = max_cutoff(data)
            ctx["lookup"] = {side: lookup_command(side, binaries[side]) for side in SIDES}
            setup["w4_lookup_command"] = ctx["lookup"]
            setup["w4_as_of"] = cutoff
            setup["seconds"]["features materialize"] = {}
            for side in SIDES:
                say(f"setup: features materialize {side.upper()} …")
                setup["seconds"]["features materialize"][side] = run(
                    [binaries[side], "features", "materialize", "--db", ctx["db"][side], "--as-of", str(cutoff), "--features", FEATURES])[0]

        for workload in workloads:
            results["workloads"][workload] = measure(ctx, workload, args.runs, args.warmup)
        rows = summarise(results["workloads"], args.threshold)
        results["rows"] = rows

        # Memory and the checks that compare what the two builds produced.
        rss, checks = {}, results["checks"]
        for workload, timed in results["workloads"].items():
            if workload == "train":
                for model in models:
                    rss[f"train {model}"] = tuple(max(e[model]["peak_rss_bytes"] for _, e in timed[s]) / 2**20 for s in SIDES)
            else:
                rss[workload] = tuple(max(e["peak_rss_bytes"] for _, e in timed[s]) / 2**20 for s in SIDES)
        results["peak_rss_mib"] = rss
        if "ingest" in results["workloads"]:
            last = {s: results["workloads"]["ingest"][s][-1][1]["disk_bytes"] for s in SIDES}
            checks.append("ingest bytes on disk OLD / NEW: " + ", ".join(f"{t} {last['old'][t]} / {last['new'][t]}" for t in TABLES))
        if "w2" in results["workloads"]:
            timed = results["workloads"]["w2"]
            for name in W2:
                outputs = {s: {e["outputs"][name] for _, e in timed[s]} for s in SIDES}
                if len(outputs["old"]) != 1 or len(outputs["new"]) != 1:
                    checks.append(f"W2 {name}: output varies from run to run (OLD {len(outputs['old'])}, NEW {len(outputs['new'])} forms)")
                checks.append(f"W2 {name}: OLD and NEW outputs " + ("identical" if outputs["old"] == outputs["new"] else "DIFFER"))
            for _, e in timed["old"] + timed["new"]:
                e.pop("outputs")  # kept out of the JSON: results, not figures
        if "w4" in results["workloads"]:
            timed = results["workloads"]["w4"]
            for side in SIDES:
                found = sorted({(e["found"], e["lookups"]) for _, e in timed[side]})
                process = [e["process_seconds"] for _, e in timed[side]]
                checks.append(f"W4 {side.upper()}: found/lookups {', '.join(f'{f}/{n}' for f, n in found)}; "
                              f"whole lookup process median {statistics.median(process):.3f} s")
        if "train" in results["workloads"]:
            timed = results["workloads"]["train"]
            for model in models:
                aucs = {s: sorted({e[model]["auc"] for _, e in timed[s]}, key=str) for s in SIDES}
                checks.append(f"train {model}: validation AUC OLD {aucs['old']} NEW {aucs['new']}, "
                              f"{timed['old'][0][1][model]['train_rows']} / {timed['new'][0][1][model]['train_rows']} training rows")

        print(report(results, rows, args.threshold))
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(results, handle, indent=2, ensure_ascii=False)
        completed = True
    finally:
        if temporary and not args.keep and completed:
            shutil.rmtree(work, ignore_errors=True)
        elif not completed:
            say(f"compare_builds: stopped; the stores are kept in {work}")


if __name__ == "__main__":
    main()

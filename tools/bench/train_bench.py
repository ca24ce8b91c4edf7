#!/usr/bin/env python3
"""W5 (training) benchmark: Strata's GBDT and logistic baseline side by side with LightGBM and
scikit-learn's HistGradientBoosting / LogisticRegression, same training set, same hyperparameters
(learning rate 0.05, 31 leaves, 200 rounds), same threads, on two shapes of data.

    python3 tools/bench/train_bench.py [--shapes sparse,dense] [--runs 3] [--peers lightgbm,sklearn_hgb,logistic]
                                       [--data DIR] [--json results.json]

Shapes (`strata generate`, 100,000 members x 27 months):
  sparse  16 label months, the generator's activity: about 660,000 training rows
  dense   labels at every one of the last 24 months, --activity 1.4: about 1.06 M training rows

Each shape's W1 is built once in a Strata store and exported once to CSV for the peers
(tools/bench/peers/w5_peers.py). Train on every cutoff before the last, test on the last; the same rows on
both sides. Runs alternate (Strata GBDT, LightGBM, then the other models) and each figure is the median of
`--runs`: Strata's is the run's `train_seconds` (binning + boosting), a peer's is Dataset/binning + fit.
Not part of CI: about 5 minutes per shape with 3 runs. Needs `swift build -c release --product strata`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import run_record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, ".build", "release", "strata"))
PEERS = os.path.join(ROOT, "tools", "bench", "peers")
SHAPES = {
    "sparse": ["--label-months", "16"],
    "dense": ["--label-months", "24", "--activity", "1.4"],
}
PEER_MODELS = ("lightgbm", "sklearn_hgb", "logistic")


def prepare(shape, root):
    """The shape's store with its W1 and the CSV export; built once, reused by later runs."""
    data = os.path.join(root, f"train-{shape}")
    csv_dir, db, export = os.path.join(data, "csv"), os.path.join(data, "train.db"), os.path.join(data, "w1.csv")
    if not os.path.exists(export):
        subprocess.run([STRATA, "generate", "--out", csv_dir, "--members", "100000", "--start", "20150101", "--months", "27"]
                       + SHAPES[shape], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", db], check=True)
        subprocess.run([STRATA, "ingest", "--db", db] + [os.path.join(csv_dir, t + ".csv") for t in
                       ("members", "transactions", "user_logs", "labels")], check=True, capture_output=True)
        subprocess.run([STRATA, "training-set", "--db", db, "--features", os.path.join(ROOT, "fixtures", "features", "w1.yaml"),
                        "--labels", "labels", "--out", "w1"], check=True, stdout=subprocess.DEVNULL)
        with open(export + ".part", "w") as handle:
            subprocess.run([STRATA, "scan", "--db", db, "w1", "--format", "csv"], check=True, stdout=handle)
        os.rename(export + ".part", export)
    return db, export


def strata_run(db, model):
    out = subprocess.run([STRATA, "train", "--db", db, "--training-set", "w1", "--model", model, "--format", "json"],
                         check=True, capture_output=True, text=True).stdout
    record = run_record(out)
    metrics = record["validation"]
    return {"train_rows": record["trainRows"], "train_seconds": record["trainSeconds"],
            "whole_run_seconds": record["durationSeconds"], "auc": metrics["auc"], "logloss": metrics["logLoss"],
            "precision_top_decile": metrics["precisionTopDecile"], "recall_top_decile": metrics["recallTopDecile"]}


def peer_run(export, model):
    out = subprocess.run([sys.executable, os.path.join(PEERS, "w5_peers.py"), "--train-csv", export, "--model", model, "--json"],
                         check=True, capture_output=True, text=True).stdout
    record = json.loads(out)
    return {key: record[key] for key in ("train_rows", "train_seconds", "auc", "logloss", "precision_top_decile",
                                         "recall_top_decile", "version")}


def median_record(runs):
    """The figures of the median run by time, with every run's time beside them."""
    ordered = sorted(runs, key=lambda run: run["train_seconds"])
    record = dict(ordered[(len(ordered) - 1) // 2])
    record["train_seconds"] = statistics.median(run["train_seconds"] for run in runs)
    record["all_train_seconds"] = [run["train_seconds"] for run in runs]
    return record


def bench_shape(shape, root, runs, peers):
    db, export = prepare(shape, root)
    order = [("strata_gbdt", lambda: strata_run(db, "gbdt"))]
    order += [(peer, (lambda peer=peer: peer_run(export, peer))) for peer in peers]
    order += [("strata_logistic", lambda: strata_run(db, "logistic"))]
    collected = {name: [] for name, _ in order}
    for run in range(runs):
        for name, measure in order:
            collected[name].append(measure())
            print(f"  {shape} run {run + 1}: {name} {collected[name][-1]['train_seconds']:.2f} s", file=sys.stderr)
    return {name: median_record(records) for name, records in collected.items()}


def report(shape, results):
    print(f"\nW5 {shape}: train phase, median of {len(results['strata_gbdt']['all_train_seconds'])} alternated runs "
          f"(Strata: binning + boosting; peers: Dataset/binning + fit)")
    print(f"{'model':<18}{'train rows':>12}{'seconds':>10}{'auc':>9}{'log loss':>10}{'prec@10%':>10}{'rec@10%':>9}")
    for name, record in results.items():
        print(f"{name.replace('_', ' '):<18}{record['train_rows']:>12}{record['train_seconds']:>10.2f}{record['auc']:>9.4f}"
              f"{record['logloss']:>10.4f}{record['precision_top_decile']:>10.4f}{record['recall_top_decile']:>9.4f}")
    if "lightgbm" in results:
        lightgbm, gbdt = results["lightgbm"], results["strata_gbdt"]
        print(f"strata gbdt vs lightgbm: AUC {gbdt['auc'] - lightgbm['auc']:+.4f}, train time ratio "
              f"{gbdt['train_seconds'] / lightgbm['train_seconds']:.2f} (runs: Strata "
              f"{', '.join(f'{s:.2f}' for s in gbdt['all_train_seconds'])}; LightGBM "
              f"{', '.join(f'{s:.2f}' for s in lightgbm['all_train_seconds'])}; whole `strata train` run "
              f"{gbdt['whole_run_seconds']:.2f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="sparse,dense")
    parser.add_argument("--peers", default=",".join(PEER_MODELS))
    parser.add_argument("--data", help="dataset root (default: bench-data/ in the repo)")
    parser.add_argument("--runs", type=int, default=3, help="alternated runs per model; the median is reported")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not os.access(STRATA, os.X_OK):
        sys.exit("build the release binary first: swift build -c release --product strata")
    shapes = [shape for shape in args.shapes.split(",") if shape]
    peers = [peer for peer in args.peers.split(",") if peer]
    for name in shapes:
        if name not in SHAPES:
            sys.exit(f"train_bench: unknown shape {name!r} (known: {', '.join(SHAPES)})")
    for name in peers:
        if name not in PEER_MODELS:
            sys.exit(f"train_bench: unknown peer {name!r} (known: {', '.join(PEER_MODELS)})")
    if args.runs < 1:
        sys.exit("train_bench: --runs must be at least 1")
    root = args.data or os.path.join(ROOT, "bench-data")
    results = {}
    for shape in shapes:
        results[shape] = bench_shape(shape, root, args.runs, peers)
        report(shape, results[shape])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""W5 (training) benchmark: Strata's GBDT and logistic baseline side by side with LightGBM and
scikit-learn's HistGradientBoosting / LogisticRegression, same training set, same hyperparameters
(learning rate 0.05, 31 leaves, 200 rounds), same threads.

    python3 tools/bench/train_bench.py [--label-months 16] [--json results.json]

Scale M with 16 label months gives about 650,000 training rows. The training set is built once in a
Strata store and exported once to CSV for the peers (tools/bench/peers/w5_peers.py). Not part of CI.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import run_record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATA = os.path.join(ROOT, ".build", "release", "strata")
PEERS = os.path.join(ROOT, "tools", "bench", "peers")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label-months", type=int, default=16)
    parser.add_argument("--data", help="dataset root (default: bench-data/ in the repo)")
    parser.add_argument("--runs", type=int, default=3, help="runs per model; the fastest is reported")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if not os.access(STRATA, os.X_OK):
        sys.exit("build the release binary first: swift build -c release --product strata")
    root = os.path.join(args.data or os.path.join(ROOT, "bench-data"), f"M-labels{args.label_months}")
    csv_dir, db, export = os.path.join(root, "csv"), os.path.join(root, "train.db"), os.path.join(root, "w1.csv")
    if not os.path.exists(export):
        subprocess.run([STRATA, "generate", "--out", csv_dir, "--members", "100000", "--start", "20150101", "--months", "27",
                        "--label-months", str(args.label_months)], check=True)
        subprocess.run(["rm", "-rf", db], check=True)
        subprocess.run([STRATA, "ingest", "--db", db] + [os.path.join(csv_dir, t + ".csv") for t in
                       ("members", "transactions", "user_logs", "labels")], check=True, capture_output=True)
        subprocess.run([STRATA, "training-set", "--db", db, "--features", os.path.join(ROOT, "fixtures", "features", "w1.yaml"),
                        "--labels", "labels", "--out", "w1"], check=True)
        with open(export, "w") as handle:
            subprocess.run([STRATA, "scan", "--db", db, "w1", "--format", "csv"], check=True, stdout=handle)
    # Timings on this 2-core machine vary by about 10% from run to run: each figure is the best of `--runs`.
    results = {"peers": {"models": {}}}
    for model in ("lightgbm", "sklearn_hgb", "logistic"):
        runs = [json.loads(subprocess.run([sys.executable, os.path.join(PEERS, "w5_peers.py"), "--train-csv", export, "--model", model, "--json"],
                                          check=True, capture_output=True, text=True).stdout) for _ in range(args.runs)]
        results["peers"]["models"][model] = min(runs, key=lambda run: run["train_seconds"])
    for model in ("gbdt", "logistic"):
        runs = []
        for _ in range(args.runs):
            started = time.perf_counter()
            out = subprocess.run([STRATA, "train", "--db", db, "--training-set", "w1", "--model", model, "--format", "json"],
                                 check=True, capture_output=True, text=True).stdout
            record = run_record(out)
            record["wall_seconds"] = time.perf_counter() - started
            runs.append(record)
        results[f"strata_{model}"] = min(runs, key=lambda run: run["trainSeconds"])
    report(results)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


def report(results):
    rows = []
    for name in ("strata_gbdt", "strata_logistic"):
        record = results[name]
        metrics = record["validation"]
        rows.append((name.replace("_", " "), record["trainRows"], record["trainSeconds"], metrics["auc"], metrics["logLoss"],
                     metrics["precisionTopDecile"], metrics["recallTopDecile"]))
    for name, peer in results["peers"]["models"].items():
        rows.append((name, peer["train_rows"], peer["train_seconds"], peer["auc"], peer["logloss"], peer["precision_top_decile"],
                     peer["recall_top_decile"]))
    print("\nW5: train phase (Strata: binning + boosting, the run's trainSeconds; peers: Dataset/binning + fit)")
    print(f"{'model':<18}{'train rows':>12}{'seconds':>10}{'auc':>9}{'log loss':>10}{'prec@10%':>10}{'rec@10%':>9}")
    for row in rows:
        print(f"{row[0]:<18}{row[1]:>12}{row[2]:>10.2f}{row[3]:>9.4f}{row[4]:>10.4f}{row[5]:>10.4f}{row[6]:>9.4f}")
    lightgbm = results["peers"]["models"]["lightgbm"]
    gbdt = results["strata_gbdt"]
    print(f"\nstrata gbdt vs lightgbm: AUC {gbdt['validation']['auc'] - lightgbm['auc']:+.4f}, "
          f"train time ratio {gbdt['trainSeconds'] / lightgbm['train_seconds']:.2f} "
          f"(whole `strata train` run: {gbdt['durationSeconds']:.2f} s, ratio {gbdt['durationSeconds'] / lightgbm['train_seconds']:.2f})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The proof that the loop works: data with a behaviour change, replayed month by month through
`strata pipeline run`, and each month's production model held against a model never retrained.

For each seed: `strata generate` (start 2015-01-01, 30 months, labels at every month, a drift from
--drift-from), cut into monthly drops (tools/loop_months.py), then for each as-of day (the first of a
month) the drop goes into the inbox and `strata pipeline run` runs. Afterwards every label is ingested
into a copy of the store, and each model is scored on the
users whose expiry falls in each month — what it scored that month — to compare AUCs.

Prints, per month: the drift measure, the decision, the production model after the run, its AUC on
that month's labels, the AUC of the first model (never retrained), and the margin; checks the claims
(stable months decide none; the month after the drift starts retrains or re-experiments; from then on
the production model beats the never-retrained one) and draws DIR/loop-SEED.svg.
"""
import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(command, **kwargs):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(map(str, command))}\n{result.stderr[-3000:]}")
    return result.stdout


def auc(labels, scores):
    pairs = sorted(zip(scores, labels))
    ranks = [0.0] * len(pairs)
    i = 0
    while i < len(pairs):
        j = i
        while j + 1 < len(pairs) and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(label for _, label in pairs)
    negatives = len(pairs) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    rank_sum = sum(rank for rank, (_, label) in zip(ranks, pairs) if label == 1)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def query_csv(strata, store, sql):
    return list(csv.DictReader(io.StringIO(run([strata, "query", "--db", store, "--format", "csv", sql]))))


def svg_chart(rows, path, title):
    width, height, left, right, top, bottom = 760, 360, 60, 20, 40, 70
    values = [r[key] for r in rows for key in ("auc_production", "auc_never") if r[key] == r[key]]
    low, high = min(values) - 0.02, max(values) + 0.02
    def x(i):
        return left + (width - left - right) * (i / max(1, len(rows) - 1))
    def y(v):
        return top + (height - top - bottom) * (1 - (v - low) / (high - low))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
             f'<text x="{left}" y="20" font-size="14">{title}</text>']
    for step in range(5):
        v = low + (high - low) * step / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.3f}</text>')
    for key, colour, label in (("auc_never", "#999", "never retrained"), ("auc_production", "#1f77b4", "production")):
        points = " ".join(f"{x(i):.1f},{y(r[key]):.1f}" for i, r in enumerate(rows) if r[key] == r[key])
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
    for i, r in enumerate(rows):
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">{r["as_of"][:7]}</text>')
        if r["decision"] not in ("none", "watch"):
            label = {"re-experiment": "re-exp."}.get(r["decision"], r["decision"])
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(r["auc_production"]):.1f}" r="5" fill="#d62728"/>'
                         f'<text x="{x(i):.1f}" y="{height - bottom + 30 + 12 * (i % 2)}" text-anchor="middle" fill="#d62728">{label}</text>')
    parts.append(f'<text x="{left}" y="{height - 12}" fill="#1f77b4">— production model</text>'
                 f'<text x="{left + 150}" y="{height - 12}" fill="#999">— never retrained</text>'
                 f'<text x="{left + 290}" y="{height - 12}" fill="#d62728">● retrain / re-experiment</text></svg>')
    with open(path, "w") as handle:
        handle.write("\n".join(parts))


def simulate(args, seed):
    strata = args.strata
    work = os.path.join(args.out, f"seed-{seed}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    started = time.time()
    run([strata, "generate", "--out", f"{work}/data", "--members", args.members, "--start", "20150101", "--months", 30,
         "--label-months", 30, "--campaign-share", 0, "--seed", seed, "--drift-from", args.drift_from])
    days = run([sys.executable, f"{ROOT}/tools/loop_months.py", f"{work}/data", f"{work}/drops", args.first, args.last]).split()
    shutil.copy(f"{ROOT}/fixtures/features/w1.yaml", f"{work}/churn.yaml")
    with open(f"{work}/pipeline.yaml", "w") as handle:
        handle.write("inbox: inbox\nfeatures: churn.yaml\ntraining: {months: 6}\nsearch: {trials: 6, budget_seconds: 300}\n"
                     "monitor: {policy: policy.yaml}\nreport: {out: reports}\n")
    with open(f"{work}/policy.yaml", "w") as handle:
        handle.write(args.policy_text)
    os.makedirs(f"{work}/inbox")
    store = f"{work}/store"
    months = []
    for day in days:
        for name in os.listdir(f"{work}/drops/{day}"):
            shutil.copy(f"{work}/drops/{day}/{name}", f"{work}/inbox/{name}")
        began = time.time()
        run([strata, "pipeline", "run", "--db", store, "--config", f"{work}/pipeline.yaml", "--as-of", day])
        status = json.loads(run([strata, "pipeline", "status", "--db", store, "--as-of", day, "--format", "json"]))
        steps = {s["name"]: s for s in status["steps"]}
        production = steps["predict"]["outputs"].get("model", "")
        deviation = steps["monitor"]["outputs"].get("deviation", "")
        months.append({"as_of": day, "decision": status["decision"], "deviation": deviation, "production": production,
                       "gates": steps["evaluate"]["outputs"].get("gates", ""), "seconds": time.time() - began})
        print(f"  seed {seed} {day}: {status['decision']:<13} {deviation:<28} production {production} ({time.time() - began:.1f} s)", flush=True)
    # Score every model on every month's labelled users, from a table the pipeline never read.
    # In a copy of the store, so the pipeline's own store is left as the loop made it.
    shutil.copytree(store, f"{work}/eval-store", symlinks=True)
    store = f"{work}/eval-store"
    run([strata, "drop", "--db", store, "labels"])
    run([strata, "ingest", "--db", store, f"{work}/data/labels.csv"])
    run([strata, "training-set", "--db", store, "--features", f"{work}/churn.yaml", "--labels", "labels", "--out", "eval_set"])
    truth = {(r["msno"], r["cutoff_date"]): int(r["is_churn"]) for r in query_csv(strata, store, "SELECT msno, cutoff_date, is_churn FROM eval_set")}
    scores = {}
    for model in sorted({m["production"] for m in months if m["production"]} | {"churn@1"}):
        table = "eval_" + model.replace("@", "_")
        run([strata, "predict", "--db", store, "--model", model, "--training-set", "eval_set", "--out", table, "--explain", "none", "--replace"])
        by_month = {}
        for r in query_csv(strata, store, f"SELECT msno, cutoff_date, churn_probability FROM {table}"):
            by_month.setdefault(r["cutoff_date"][:7], []).append((truth[(r["msno"], r["cutoff_date"])], float(r["churn_probability"])))
        scores[model] = {month: auc([l for l, _ in pairs], [p for _, p in pairs]) for month, pairs in by_month.items()}
    for m in months:
        month = m["as_of"][:7]
        m["auc_production"] = scores.get(m["production"], {}).get(month, float("nan"))
        m["auc_never"] = scores["churn@1"].get(month, float("nan"))
        m["margin"] = m["auc_production"] - m["auc_never"]
    svg_chart(months, f"{args.out}/loop-{seed}.svg", f"Seed {seed}: AUC on each month's labels (drift from {args.drift_from})")
    return months, time.time() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--strata", default=f"{ROOT}/.build/release/strata")
    parser.add_argument("--out", default="/tmp/strata-loop")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--drift-from", default="2016-12-01")
    parser.add_argument("--first", default="2016-08-01")
    parser.add_argument("--last", default="2017-06-01")
    parser.add_argument("--policy", default=None, help="trigger policy YAML (default: the one written below)")
    args = parser.parse_args()
    # The seed's bands on the share of drifted features; the AUC drop on newly labelled months too, with
    # bands above the noise of one month of labels (a few points of AUC).
    args.policy_text = open(args.policy).read() if args.policy else (
        "deviation: [drifted_share, auc_drop]\npsi_threshold: 0.2\nbands: {watch: 0.02, retrain: 0.05, re_experiment: 0.10}\n"
        "bands_by_measure:\n  auc_drop: {watch: 0.08, retrain: 0.12, re_experiment: 0.20}\n")
    os.makedirs(args.out, exist_ok=True)
    drift_month = args.drift_from[:7]
    failures = []
    for seed in args.seeds:
        months, seconds = simulate(args, seed)
        print(f"\nseed {seed} ({seconds:.0f} s; chart {args.out}/loop-{seed}.svg)")
        print(f"{'as_of':<11} {'deviation':<28} {'decision':<13} {'gates':<7} {'production':<10} {'auc_prod':>8} {'auc_never':>9} {'margin':>8}")
        for m in months:
            print(f"{m['as_of']:<11} {m['deviation']:<28} {m['decision']:<13} {m['gates']:<7} {m['production']:<10} "
                  f"{m['auc_production']:8.4f} {m['auc_never']:9.4f} {m['margin']:+8.4f}")
        stable = [m for m in months[1:] if m["as_of"][:7] <= drift_month]
        after = [m for m in months if m["as_of"][:7] > drift_month]
        for m in stable:
            if m["decision"] != "none":
                failures.append(f"seed {seed}: stable month {m['as_of']} decided {m['decision']}")
        if after and after[0]["decision"] not in ("retrain", "re-experiment"):
            failures.append(f"seed {seed}: the month after the drift began ({after[0]['as_of']}) decided {after[0]['decision']}")
        for m in after:
            if not m["margin"] > 0:
                failures.append(f"seed {seed}: {m['as_of']}: production AUC {m['auc_production']:.4f} does not beat never-retrained {m['auc_never']:.4f}")
        if after:
            print(f"margins after the drift: min {min(m['margin'] for m in after):+.4f}, mean {sum(m['margin'] for m in after) / len(after):+.4f}")
    print()
    if failures:
        print("CLAIMS NOT MET:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("claims met: stable months decided none, the month after the drift retrained or re-experimented, "
          "and the production model beat the never-retrained one on every later month")


if __name__ == "__main__":
    main()

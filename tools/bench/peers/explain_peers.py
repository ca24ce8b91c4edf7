#!/usr/bin/env python3
"""LightGBM's own TreeSHAP (`predict(pred_contrib=True)`) on the rows Strata explains, for the TreeSHAP figures of
tools/bench/README.md.

    python3 explain_peers.py MODEL.txt FEATURES.csv ROWS THREADS

MODEL.txt is `strata models export ... --to lightgbm`; FEATURES.csv the training set as `strata scan --format csv`
writes it (header, NULL as an empty field). The model's input is built as tools/lightgbm_export_check.py builds it
(its `model_frame`). Prints one JSON line: rows, threads, seconds of the predict call (best of 3).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from lightgbm_export_check import lightgbm, model_frame, pd  # noqa: E402


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: explain_peers.py MODEL.txt FEATURES.csv ROWS THREADS")
    model, features, rows, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    booster = lightgbm.Booster(model_file=model)
    frame, _ = model_frame(booster, pd.read_csv(features, nrows=rows, dtype=str, keep_default_na=False, na_values=[]))
    best = None
    for _ in range(3):
        start = time.perf_counter()
        contributions = booster.predict(frame, pred_contrib=True, num_threads=threads)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(json.dumps({"rows": len(frame), "threads": threads, "seconds": round(best, 3),
                      "us_per_row": round(best / len(frame) * 1e6, 2), "columns": int(contributions.shape[1])}))


if __name__ == "__main__":
    main()

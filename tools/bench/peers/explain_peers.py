#!/usr/bin/env python3
"""LightGBM's own TreeSHAP (`predict(pred_contrib=True)`) on the rows Strata explains, for explain_bench.py.

    python3 explain_peers.py MODEL.txt FEATURES.csv ROWS THREADS

MODEL.txt is `strata models export ... --to lightgbm`; FEATURES.csv the training set as `strata scan --format csv`
writes it (header, NULL as an empty field). The frame is built as tools/lightgbm_export_check.py builds it: the
model's features in its order, string features as pandas Categoricals with the model's category lists, numbers as
float64 with NaN for NULL. Prints one JSON line: rows, threads, seconds of the predict call (best of 3).
"""
import json
import sys
import time

import lightgbm
import numpy as np
import pandas as pd


def main():
    model, features, rows, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    booster = lightgbm.Booster(model_file=model)
    names = booster.feature_name()
    table = pd.read_csv(features, nrows=rows, keep_default_na=False, na_values=[""], dtype=str)
    categories = booster.pandas_categorical or []

    def is_number(text):
        try:
            float(text)
            return True
        except ValueError:
            return False

    strings = [name for name in names if not table[name].dropna().map(is_number).all()]
    if len(strings) != len(categories):
        sys.exit(f"explain_peers: {len(strings)} string feature(s) {strings}, the model has {len(categories)} category list(s)")
    frame = pd.DataFrame({name: pd.Categorical(table[name], categories=categories[strings.index(name)]) if name in strings
                          else pd.to_numeric(table[name], errors="coerce").astype(np.float64) for name in names})
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

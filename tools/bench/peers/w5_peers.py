#!/usr/bin/env python3
"""W5 (training, tools/bench/README.md): train a churn model on the W1 training set with LightGBM, scikit-learn's
HistGradientBoosting or a logistic regression, and score it on the last cutoff month.

    python3 w5_peers.py --train-csv FILE.csv --model lightgbm|sklearn_hgb|logistic
                        [--threads N] [--predictions-out FILE] [--json]
    python3 w5_peers.py --train-csv FILE.csv --all [--threads N] [--json]

Input: the W1 training set as CSV (`strata scan --db DB w1_train --format csv`): msno, cutoff_date, is_churn
and 29 feature columns; an empty field is NULL. Features are the 29 columns as float64 (NULL = NaN, gender
male=1, female=2). Train = rows with cutoff_date < max(cutoff_date); validation = the rows at the max.
Phases (wall clock): load (CSV parse + feature matrix), train (fit, incl. binning), predict (validation).
Top-decile metrics use k = ceil(0.1 * n) highest scores; ties are broken by msno (byte-wise) so that the
result does not depend on row order. --all runs each model in a fresh process and compares them.
--predictions-out writes msno,cutoff_date,probability (repr) for the validation rows, in input order.
"""
import argparse, json, math, os, resource, subprocess, sys, time

import numpy as np

MODELS = ("lightgbm", "sklearn_hgb", "logistic")
KEYS = ("msno", "cutoff_date", "is_churn")
N_FEATURES = 29
SEED = 7


def load(path):
    """Returns (msno, cutoff_date, label, X, feature names); types are explicit, as in every workload."""
    import pandas as pd
    try:
        header = pd.read_csv(path, nrows=0).columns.tolist()
    except (OSError, ValueError) as e:
        sys.exit(f"w5_peers: {path}: {e}")
    if header[:3] != list(KEYS) or len(header) != 3 + N_FEATURES:
        sys.exit(f"w5_peers: {path}: expected columns {', '.join(KEYS)} + {N_FEATURES} features, got {header}")
    dtypes = {c: "float64" for c in header[3:]}
    # cutoff_date prints as YYYY-MM-DD (older builds: YYYYMMDD); compared as the integer YYYYMMDD.
    dtypes.update(msno=str, gender=str, cutoff_date=str, is_churn="int64")
    # Only an empty field is NULL: no "NA"/"null" guessing.
    try:
        df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    except ValueError as e:  # e.g. a NULL key or label
        sys.exit(f"w5_peers: {path}: {e}")
    unknown = set(df["gender"].dropna().unique()) - {"male", "female"}
    if unknown:
        sys.exit(f"w5_peers: unexpected gender values {sorted(unknown)}")
    df["cutoff_date"] = df["cutoff_date"].str.replace("-", "", regex=False).astype("int64")
    df["gender"] = df["gender"].map({"male": 1.0, "female": 2.0}).astype("float64")
    features = header[3:]
    X = df[features].to_numpy(dtype=np.float64)
    return (df["msno"].to_numpy(dtype=object), df["cutoff_date"].to_numpy(), df["is_churn"].to_numpy(), X,
            features)


def make_model(name, threads):
    """Returns (fit(X, y) -> predict(X) -> P(churn), library name, version)."""
    if name == "lightgbm":
        import lightgbm as lgb
        params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "num_threads": threads,
                  "seed": SEED, "verbosity": -1}

        def fit(X, y, names):
            booster = lgb.train(params, lgb.Dataset(X, label=y, feature_name=names), num_boost_round=200)
            return booster.predict
        return fit, "lightgbm", lgb.__version__

    import sklearn
    if name == "sklearn_hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        # random_state fixes the subsample used to find bin edges on > 200k rows.
        model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=31,
                                               early_stopping=False, random_state=SEED)
    else:
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        model = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=2000))

    def fit(X, y, names):
        model.fit(X, y)
        return lambda Xv: model.predict_proba(Xv)[:, 1]
    return fit, "scikit-learn", sklearn.__version__


def metrics(y, p, msno):
    from sklearn.metrics import log_loss, roc_auc_score
    n, pos = len(y), int(y.sum())
    k = math.ceil(0.1 * n)
    order = np.argsort(msno, kind="stable")
    top = order[np.argsort(-p[order], kind="stable")][:k]
    hits = int(y[top].sum())
    return {"auc": float(roc_auc_score(y, p)) if 0 < pos < n else None,  # undefined with one class
            "logloss": float(log_loss(y, p, labels=[0, 1])),
            "top_k": k, "valid_positives": pos,
            "precision_top_decile": hits / k if k else None,
            "recall_top_decile": hits / pos if pos else None}


def run(a):
    from threadpoolctl import threadpool_limits
    t0 = time.perf_counter()
    msno, cutoff, y, X, names = load(a.train_csv)
    if len(np.unique(cutoff)) < 2:
        sys.exit("w5_peers: need at least two cutoff months (train on the earlier, validate on the last)")
    last = cutoff.max()
    train, valid = cutoff < last, cutoff == last
    load_s = time.perf_counter() - t0
    fit, lib, version = make_model(a.model, a.threads)
    # sklearn's OpenMP (HGB) and BLAS (logistic) pools follow --threads too; LightGBM gets num_threads.
    with threadpool_limits(limits=a.threads):
        t0 = time.perf_counter()
        predict = fit(X[train], y[train], names)
        train_s = time.perf_counter() - t0
        Xv = X[valid]
        t0 = time.perf_counter()
        p = np.asarray(predict(Xv), dtype=np.float64)
        predict_s = time.perf_counter() - t0
    if a.predictions_out:
        with open(a.predictions_out, "w", encoding="utf-8", newline="") as f:
            f.write("msno,cutoff_date,probability\n")
            f.writelines(f"{m},{c},{float(v)!r}\n" for m, c, v in zip(msno[valid], cutoff[valid], p))
    return {"workload": "w5", "train_csv": os.path.abspath(a.train_csv), "model": a.model, "library": lib,
            "version": version, "threads": a.threads, "train_rows": int(train.sum()), "valid_rows": int(valid.sum()),
            "valid_cutoff_date": int(last), "features": len(names), "load_seconds": load_s,
            "train_seconds": train_s, "predict_seconds": predict_s, **metrics(y[valid], p, msno[valid]),
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}  # KiB on Linux


def run_all(a):
    """Each model in its own process, so that load time and peak RSS are not shared."""
    results = {}
    for m in MODELS:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--train-csv", a.train_csv, "--model", m,
                            "--threads", str(a.threads), "--json"], stdout=subprocess.PIPE)
        results[m] = json.loads(p.stdout) if p.returncode == 0 else {"error": f"exit status {p.returncode}"}
    return results


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def print_table(results):
    print(f"{'model':12} {'version':>8} {'thr':>3} {'train':>7} {'valid':>6} {'load_s':>7} {'train_s':>8} "
          f"{'pred_s':>7} {'auc':>7} {'logloss':>7} {'prec@10':>7} {'rec@10':>7} {'rss_MiB':>8}")
    for m, r in results.items():
        if "error" in r:
            print(f"{m:12} failed: {r['error']}")
            continue
        print(f"{m:12} {r['version']:>8} {r['threads']:>3} {r['train_rows']:>7} {r['valid_rows']:>6} "
              f"{r['load_seconds']:>7.3f} {r['train_seconds']:>8.3f} {r['predict_seconds']:>7.3f} "
              f"{fmt(r['auc'], '.4f'):>7} {r['logloss']:>7.4f} {fmt(r['precision_top_decile'], '.4f'):>7} "
              f"{fmt(r['recall_top_decile'], '.4f'):>7} {r['peak_rss_bytes'] / 2**20:>8.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-csv", required=True, help="the W1 training set as CSV")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=MODELS)
    which.add_argument("--all", action="store_true", help="run every model, each in a fresh process")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS") or os.cpu_count()),
                    help="default: $BENCH_THREADS, else os.cpu_count()")
    ap.add_argument("--predictions-out", help="write msno,cutoff_date,probability of the validation rows")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    a = ap.parse_args()
    if a.all and a.predictions_out:
        ap.error("--predictions-out needs --model")
    if a.threads < 1:
        ap.error("--threads must be >= 1")
    results = run_all(a) if a.all else {a.model: run(a)}
    if a.json:
        out = {"workload": "w5", "train_csv": os.path.abspath(a.train_csv), "threads": a.threads, "models": results}
        print(json.dumps(out if a.all else results[a.model], indent=2))
    else:
        print_table(results)
    if any("error" in r for r in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()

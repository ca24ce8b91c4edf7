#!/usr/bin/env python3
"""Round-trip check of `strata models export NAME@V --format lightgbm`: LightGBM must predict what Strata does.

    python3 tools/lightgbm_export_check.py --model churn.txt --features features.csv --expected predictions.csv

- --model: the exported LightGBM text model.
- --features: a CSV with a header naming (at least) the model's feature columns, one row per scored row, NULL as an
  empty field; string features hold their text. Other columns (msno, cutoff_date) are ignored, or compared with
  --expected's when both files have them.
- --expected: a CSV in the same row order with a churn_probability column at full precision (Strata's predictions).
  When it also has reason_K_feature and reason_K_contribution columns (K = 1, 2, 3: `strata predict --explain all`),
  the reasons are checked against LightGBM's own TreeSHAP (`predict(pred_contrib=True)`): each reason's contribution
  equals LightGBM's for that feature, and the reasons are the row's largest positive contributions, in order.

Loads the model with lightgbm.Booster(model_file=...), builds a pandas DataFrame in the model's feature order
(string features as pd.Categorical with the categories of the model's pandas_categorical line, so their codes are
Strata's; numeric features as float64 with NaN for NULL), predicts, and fails (exit 1) unless every probability is
within --tolerance (1e-9) of the expected one. Prints the largest difference and the row count.

Which features are strings: the model's pandas_categorical line lists one category list per string feature, in
feature order, but not which features they are. By default a feature is a string feature when its column holds a
value that is not a number; --string-features a,b names them when that guess cannot tell (a string feature whose
values all look like numbers).

Needs lightgbm and pandas (python3 -m pip install lightgbm pandas).
"""
import argparse
import math
import sys

try:
    import lightgbm
    import numpy as np
    import pandas as pd
except ImportError as error:  # pragma: no cover - the message is the point
    sys.exit(f"lightgbm_export_check: {error}; install with: python3 -m pip install lightgbm pandas")


def fail(message):
    print(f"lightgbm_export_check: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="LightGBM text model exported by strata")
    parser.add_argument("--features", required=True, help="CSV of the feature columns (NULL = empty field)")
    parser.add_argument("--expected", required=True, help="CSV with churn_probability in the same row order")
    parser.add_argument("--tolerance", type=float, default=1e-9, help="largest allowed |difference| (default 1e-9)")
    parser.add_argument("--string-features", default=None,
                        help="comma-separated string features (default: columns holding a non-number)")
    args = parser.parse_args()

    try:
        booster = lightgbm.Booster(model_file=args.model)
    except (lightgbm.basic.LightGBMError, OSError, ValueError) as error:
        fail(f"LightGBM cannot load {args.model}: {error}")
    names = booster.feature_name()

    # Everything as text first: empty means NULL, never "NA"/"null" guessed by pandas.
    raw = pd.read_csv(args.features, dtype=str, keep_default_na=False, na_values=[])
    expected = pd.read_csv(args.expected, dtype=str, keep_default_na=False, na_values=[])
    missing = [name for name in names if name not in raw.columns]
    if missing:
        fail(f"{args.features} lacks the model's features: {', '.join(missing)}")
    if "churn_probability" not in expected.columns:
        fail(f"{args.expected} has no churn_probability column")
    if len(raw) != len(expected):
        fail(f"{args.features} has {len(raw)} rows but {args.expected} has {len(expected)}")
    for key in ("msno", "cutoff_date"):
        if key in raw.columns and key in expected.columns and not raw[key].equals(expected[key]):
            row = int((raw[key] != expected[key]).to_numpy().argmax())
            fail(f"row {row + 1}: {key} is {raw[key][row]!r} in the features but {expected[key][row]!r} in the expected file")

    given = None
    if args.string_features is not None:
        given = [name.strip() for name in args.string_features.split(",") if name.strip()]
        unknown = [name for name in given if name not in names]
        if unknown:
            fail(f"--string-features names what the model does not have: {', '.join(unknown)}")
    frame, strings = model_frame(booster, raw, given)

    predicted = booster.predict(frame)
    wanted = expected["churn_probability"].astype(np.float64).to_numpy()
    if len(predicted) != len(wanted):
        fail(f"LightGBM returned {len(predicted)} predictions for {len(wanted)} rows")
    if np.isnan(predicted).any() or np.isnan(wanted).any():
        fail("a prediction or an expected probability is NaN")
    differences = np.abs(predicted - wanted)
    worst = int(differences.argmax()) if len(differences) else 0
    largest = float(differences.max()) if len(differences) else 0.0
    exact = int((differences == 0).sum())
    print(f"rows {len(wanted)}, max |difference| {largest:.3g} (row {worst + 1}), bit-identical {exact}, "
          f"string features {len(strings)}, trees {booster.num_trees()}")
    if not largest <= args.tolerance or math.isnan(largest):
        fail(f"row {worst + 1}: LightGBM predicts {float(predicted[worst])!r}, strata {float(wanted[worst])!r} "
             f"(|difference| {largest:.3g} > {args.tolerance:g})")
    if "reason_1_contribution" in expected.columns:
        check_reasons(booster.predict(frame, pred_contrib=True), expected, names, args.tolerance)
    print("ok")


def model_frame(booster, raw, strings=None):
    """The model's input from `raw` (a frame of text, "" for NULL): its features in its order, string features as
    pandas Categoricals with the model's category lists (so their codes are Strata's), numbers as float64 with NaN
    for NULL. `strings`: the string features; default: the columns holding a value that is not a number.
    Returns the frame and the string features."""
    names = booster.feature_name()
    categories = booster.pandas_categorical or []
    if strings is None:
        strings = [name for name in names if not all(is_number(text) for text in raw[name] if text != "")]
    strings = [name for name in names if name in strings]  # model order, as pandas_categorical
    if len(strings) != len(categories):
        fail(f"the model lists {len(categories)} string feature(s) in pandas_categorical but the columns give "
             f"{len(strings)} ({', '.join(strings) or 'none'}); name them with --string-features")
    columns = {}
    for name in names:
        text = raw[name]
        if name in strings:
            known = categories[strings.index(name)]
            # NULL and strings the model never saw are both missing to LightGBM, as to Strata (its "other" bin).
            values = text.where(text.isin(known) & (text != ""), None)
            columns[name] = pd.Categorical(values, categories=known)
        else:
            columns[name] = pd.to_numeric(text.replace("", np.nan), errors="raise").astype(np.float64)
    return pd.DataFrame(columns, columns=names), strings


def check_reasons(contributions, expected, names, tolerance):
    """Strata's top-three reasons against LightGBM's TreeSHAP values of the same rows."""
    position = {name: index for index, name in enumerate(names)}
    largest, reasons = 0.0, 0
    for row in range(len(expected)):
        phi = contributions[row][:len(names)]
        positive = sorted((value for value in phi if value > tolerance), reverse=True)
        given = []
        for k in (1, 2, 3):
            feature = expected[f"reason_{k}_feature"][row]
            if feature == "":
                continue
            if feature not in position:
                fail(f"row {row + 1}: reason {k} names {feature!r}, not a feature of the model")
            value = float(expected[f"reason_{k}_contribution"][row])
            difference = abs(value - float(phi[position[feature]]))
            largest = max(largest, difference)
            if difference > tolerance:
                fail(f"row {row + 1}: reason {k} {feature} contributes {value!r} for strata, {float(phi[position[feature]])!r} "
                     f"for LightGBM's pred_contrib")
            given.append(value)
        reasons += len(given)
        # The reasons are the largest positive contributions, in order (compared by value: ties may name either feature).
        top = positive[:3]
        if len(given) < len(top) and top[len(given)] > 1e-6:
            fail(f"row {row + 1}: strata gives {len(given)} reason(s), LightGBM has {len(positive)} positive contribution(s) {top}")
        for k, value in enumerate(given):
            if k >= len(top) or abs(value - top[k]) > tolerance:
                fail(f"row {row + 1}: reason {k + 1} contributes {value!r}; LightGBM's largest positive contributions are {top}")
    print(f"reasons {reasons} against LightGBM's pred_contrib: max |difference| {largest:.3g}")


if __name__ == "__main__":
    main()

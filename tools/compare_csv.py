#!/usr/bin/env python3
"""Compare two result CSVs (e.g. W1 outputs) cell by cell.

    python3 tools/compare_csv.py A.csv B.csv

Both files must have the same header, the same number of rows and the same row order. Each column is
classified per file: integer (every non-empty cell is an integer literal), float (every non-empty cell is
numeric and at least one has a decimal point, an exponent, inf or nan) or text. Integer and text cells
must be identical; float cells must both be empty or equal within 1e-9 relative (nan equals nan). A
column that is integer in one file and float in the other is a difference (an integer printed as 5.0).

Exit 0 and "identical: N rows x M columns (K float cells within tolerance)", where K counts the float
cells whose text differs but whose values agree; else the first 20 differences and exit 1; exit 2 on
unreadable input.
"""
import csv, math, re, sys

INT_RE = re.compile(r"[+-]?[0-9]+")
FLOAT_RE = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE)
REL_TOL = 1e-9
MAX_SHOWN = 20


def rows(path):
    # newline="" lets the csv module see quoted line breaks; utf-8-sig tolerates a BOM.
    with open(path, newline="", encoding="utf-8-sig") as f:
        yield from csv.reader(f)


def column_kinds(path, width):
    """One pass over a file: 'int', 'float', 'text' or 'empty' per column."""
    kinds = ["empty"] * width
    it = rows(path)
    next(it, None)
    for r in it:
        for i, v in enumerate(r[:width]):
            k = kinds[i]
            if v == "" or k == "text":
                continue
            if INT_RE.fullmatch(v):
                if k == "empty":
                    kinds[i] = "int"
            elif FLOAT_RE.fullmatch(v):
                kinds[i] = "float"
            else:
                kinds[i] = "text"
    return kinds


def floats_equal(a, b):
    if a == "" or b == "":
        return a == b
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or math.isclose(x, y, rel_tol=REL_TOL, abs_tol=0.0)


def compare(path_a, path_b):
    """Returns (differences as text lines, total number of differences, summary line)."""
    header_a = next(rows(path_a), None)
    header_b = next(rows(path_b), None)
    if header_a is None or header_b is None:
        empty = path_a if header_a is None else path_b
        return [f"{empty}: empty file (no header)"], 1, None
    if header_a != header_b:
        return [f"header differs:\n  A: {','.join(header_a)}\n  B: {','.join(header_b)}"], 1, None
    width = len(header_a)
    kinds_a, kinds_b = column_kinds(path_a, width), column_kinds(path_b, width)

    diffs, count = [], 0

    def report(text):
        nonlocal count
        count += 1
        if len(diffs) < MAX_SHOWN:
            diffs.append(text)

    is_float = []
    for name, ka, kb in zip(header_a, kinds_a, kinds_b):
        if {ka, kb} == {"int", "float"}:
            report(f"column {name}: integer in A, float in B" if ka == "int" else
                   f"column {name}: float in A, integer in B")
        is_float.append("float" in (ka, kb) and "text" not in (ka, kb))

    within, n = 0, 0
    it_a, it_b = rows(path_a), rows(path_b)
    next(it_a), next(it_b)
    sentinel = object()
    while True:
        ra, rb = next(it_a, sentinel), next(it_b, sentinel)
        if ra is sentinel or rb is sentinel:
            if ra is not rb:
                rest_a = sum(1 for _ in it_a) + (ra is not sentinel)
                rest_b = sum(1 for _ in it_b) + (rb is not sentinel)
                report(f"row count differs: A has {n + rest_a} rows, B has {n + rest_b}")
            break
        n += 1
        if len(ra) != width or len(rb) != width:
            report(f"row {n}: {len(ra)} fields in A, {len(rb)} in B (header has {width})")
            continue
        for i in range(width):
            a, b = ra[i], rb[i]
            if a == b:
                continue
            if is_float[i] and floats_equal(a, b):
                within += 1
                continue
            report(f"row {n}, column {header_a[i]}: A={a!r} B={b!r}")
    summary = f"identical: {n} rows x {width} columns ({within} float cells within tolerance)"
    return diffs, count, summary


def main():
    if len(sys.argv) != 3:
        print("usage: compare_csv.py A.csv B.csv", file=sys.stderr)
        sys.exit(2)
    try:
        diffs, count, summary = compare(sys.argv[1], sys.argv[2])
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        print(f"compare_csv: {e}", file=sys.stderr)
        sys.exit(2)
    if count == 0:
        print(summary)
        return
    for d in diffs:
        print(d)
    if count > len(diffs):
        print(f"... {count - len(diffs)} more differences")
    print(f"different: {count} differences")
    sys.exit(1)


if __name__ == "__main__":
    main()

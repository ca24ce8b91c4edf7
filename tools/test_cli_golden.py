"""Golden tests of the `strata` command-line contract of issue 11 (exit codes, dates, output formats,
colour, row caps, ingest protections, drop/gc/time travel, feature-view history, lineage, training splits,
prediction reasons).

Run:    python3 -m pytest -q -p no:cacheprovider tools/test_cli_golden.py
Binary: $STRATA_BIN, default <repo>/.build/debug/strata. Every test is skipped when it is missing.
Needs:  pytest and PyYAML. Runs in well under two minutes with the debug build.

One module-scoped fixture generates a small dataset (400 members, 6 months from 2016-01-01; label cutoffs
2016-02-01 … 2016-06-01), ingests it, builds the training set `w1` from fixtures/features/w1.yaml, trains
run-000001 (registered as churn v1, promoted to production) and run-000002 (unregistered, for
`runs compare`), materialises w1 as of 2016-06-01 and predicts as of 2016-07-01 into `risk`.
Tests that write use their own copy of that store (`scratch`), never the shared one.

Assumptions, where the contract leaves room (each is the reading a test relies on):
 * JSON: "compact" means no whitespace at all outside string values, except the newline the contract
   shows after the comma between two top-level array elements ("one object per line"); so a list of n
   objects is exactly max(n, 1) lines. A trailing newline after the document is allowed.
 * JSON shape: tables, scan, query, versions, runs list, models list, features list and features get
   are lists of objects; train, runs show, verify, describe and ingest are one object; the other
   commands (gc, drop, training-set, predict, runs compare, models promote, features apply|show|
   materialize|diff) may be either one object or a list of objects. `models export` (marked "?") is
   not tested.
 * CSV: a header whose fields are non-empty, and every record has as many fields as the header.
 * Errors (exit 1) print a line starting `strata: error: `; a test that checks what a message names
   looks in that line when the contract says "message" of one fact (the file of an all-rejected ingest),
   and anywhere on stderr otherwise (near-miss header, --max-rejects, duplicates, gc).
 * Usage errors (exit 2): the flag a bad date belongs to is named on the first line of stderr
   (ArgumentParser's "Error: … '--from <from>'"), not only in the usage line printed after it.
 * `--version`: one line matching `strata X.Y.Z (format N, …)`.
 * Date flags: `training-set` has no date flag, so it is not in the date tests. "Identical output" is
   compared on what is deterministic: stdout of read commands; for writes, the written table (scan
   --format csv) or vectors; for `train --format json`, the document minus keys naming times
   (created*, *seconds*, duration*, elapsed*, updated*). Trainings use --threads 1.
 * `generate --start/--drift-from` in both spellings write byte-identical files.
 * Colour: on a pty, "colour" means SGR sequences (ESC [ … m). With NO_COLOR=1 none may appear; without
   it only the error line may carry them; a successful `tables` on a pty is never coloured.
 * Row cap line: "first 50 of N rows" where N may have thousands separators (1,178); it is the last
   non-empty line of `scan` in table format, after exactly 50 data rows.
 * --max-rejects: a file of 200 data lines with 10 bad ones (5%) fails at the default 1%, and passes
   with `--max-rejects 10%` and with `--max-rejects 100` (100 lines); the failure message has a line
   naming both 10 and 200, and names --max-rejects.
 * Duplicate detection is by content: the same file again, and a byte-identical copy under another
   name, are both refused. Ingesting them with --allow-duplicate doubles the row count.
 * Custom tables: a column with empty fields is inferred `nullable: true`; a column named msno is
   inferred `entity`; YYYY-MM-DD values are inferred `date`. The --infer-schema test needs --table.
 * Single cutoff: a fresh store ingests the generated members/transactions/user_logs and a labels.csv
   filtered to cutoff 2016-05-01 (so it depends on no new ingest feature); `train` on its training set
   uses the random split and says so ("random" in its table output), also with --early-stopping.
 * `ingest --cutoff` is tested on Kaggle's shape (msno,is_churn) into an empty store (→ labels).
 * train JSON: `best_iteration` is a top-level integer in [1, rounds]; test metrics are `auc` and
   `log_loss` in an object under a key containing "test" (at any depth), or keys `test_auc` /
   `test_log_loss`.
 * `features diff` exits 0 when the versions differ (it is not diff(1)); changed lines start with
   '-' / '+' (headers '---' / '+++' are ignored); an unchanged line (tenure_days) is not marked.
 * `drop` of a table (the derived table `risk`, which nothing depends on), of churn@1 (the production
   version) and of the view w1 succeed; `drop --run` of the run churn@1 uses is refused with exit 1 and
   the message names the model (churn).
 * `versions` rows have `version`, `created`, `operation` and `command` (a string or an argv list);
   version 0 (an empty store), if listed, may have no command; every other version has a non-empty
   operation and a command, exactly one per committing command of the fixture (7), in order. The
   operation's wording is free (the drop test checks the command says drop).
 * describe of a derived table: the word "derived" appears, and the lineage names the view (w1) and
   the label table (labels) after the first line (the first line names the table itself, also w1).
 * Prediction reasons: for users in buckets A/B (--explain risky) reason_1_feature is a feature of the
   view, reason_1_contribution a number, reason_1_value a JSON string (NULL allowed when the feature
   value is NULL; at least one is a non-empty string).
 * A damaged store: one byte flipped in a labels segment makes `verify` exit 1.
"""

import csv
import glob
import io
import json
import os
import pty
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml  # PyYAML

REPO = Path(__file__).resolve().parent.parent
BIN = os.environ.get("STRATA_BIN") or str(REPO / ".build" / "debug" / "strata")
W1 = REPO / "fixtures" / "features" / "w1.yaml"

pytestmark = pytest.mark.skipif(
    not (os.path.isfile(BIN) and os.access(BIN, os.X_OK)),
    reason=f"strata binary not found at {BIN} (build it, or set STRATA_BIN)",
)

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
SGR = re.compile(rb"\x1b\[[0-9;]*m")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TX_HEADER = ("msno,payment_method_id,payment_plan_days,plan_list_price,actual_amount_paid,"
             "is_auto_renew,transaction_date,membership_expire_date,is_cancel")

_CWD = {"dir": None}


# ----------------------------------------------------------------------------------------------
# Running the binary


def base_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "STRATA_DB", "STRATA_PROGRESS", "FORCE_COLOR", "CLICOLOR_FORCE")}
    env["TERM"] = "xterm-256color"  # tempt colour: only a terminal may get it
    env.update(extra)
    return env


class Result(SimpleNamespace):
    def __str__(self):
        return (f"$ {' '.join(self.cmd)}\nexit {self.rc}\n--- stderr\n{self.err[-3000:]}"
                f"\n--- stdout\n{self.out[:3000]}")


def strata(*args, db=None, env=None, cwd=None, timeout=120):
    cmd = [BIN, *[str(a) for a in args]]
    if db is not None:
        cmd += ["--db", str(db)]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       env=env or base_env(), cwd=cwd or _CWD["dir"])
    return Result(cmd=cmd, rc=p.returncode, bout=p.stdout, berr=p.stderr,
                  out=p.stdout.decode("utf-8", "replace"), err=p.stderr.decode("utf-8", "replace"))


def ok(r):
    assert r.rc == 0, f"expected exit 0\n{r}"
    return r


def error_lines(r):
    return [ln for ln in r.err.splitlines() if ln.startswith("strata: error: ")]


def jrun(*args, db=None):
    r = ok(strata(*args, "--format", "json", db=db))
    try:
        return json.loads(r.out)
    except ValueError as e:
        pytest.fail(f"stdout is not JSON ({e})\n{r}")


def table_rows(db, version=None):
    extra = ["--version", version] if version is not None else []
    return {row["table"]: row["rows"] for row in jrun("tables", *extra, db=db)}


def versions(db):
    return jrun("versions", db=db)


def latest_version(db):
    return max(int(v["version"]) for v in versions(db))


def command_text(row):
    c = row.get("command")
    return " ".join(map(str, c)) if isinstance(c, list) else str(c or "")


def run_pty(args, db=None, env=None, timeout=60):
    """Run with stdin, stdout and stderr on a pseudo-terminal; returns (exit code, bytes seen)."""
    cmd = [BIN, *[str(a) for a in args]] + (["--db", str(db)] if db is not None else [])
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env or base_env(),
                             cwd=_CWD["dir"], close_fds=True)
    finally:
        os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every slave descriptor is closed
                    break
                if not data:
                    break
                out += data
            elif p.poll() is not None:
                # drain what is left, then stop
                while select.select([master], [], [], 0.05)[0]:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    out += data
                break
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return rc, out


# ----------------------------------------------------------------------------------------------
# Output checks


def assert_snake_keys(obj, path="$"):
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, str) and SNAKE.match(k), f"key {k!r} at {path} is not snake_case"
            assert_snake_keys(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            assert_snake_keys(v, f"{path}[{i}]")


def assert_compact_json(text):
    """No whitespace outside strings, but a newline after a comma between top-level array elements."""
    body = text[:-1] if text.endswith("\n") else text
    in_str = esc = False
    depth = 0
    prev = ""
    top_is_array = body.startswith("[")
    for i, ch in enumerate(body):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "\n":
            assert top_is_array and depth == 1 and prev == ",", (
                f"newline at offset {i} that does not separate two top-level elements: "
                f"{body[max(0, i - 40):i + 40]!r}")
            continue
        elif ch in " \t\r":
            raise AssertionError(f"whitespace outside a string at offset {i}: {body[max(0, i - 40):i + 40]!r}")
        prev = ch


def check_json_output(r, kind):
    ok(r)
    try:
        doc = json.loads(r.out)
    except ValueError as e:
        pytest.fail(f"stdout is not one JSON document ({e})\n{r}")
    assert_compact_json(r.out)
    assert_snake_keys(doc)
    if kind == "list":
        assert isinstance(doc, list), f"expected an array of objects, got {type(doc).__name__}\n{r}"
    elif kind == "object":
        assert isinstance(doc, dict), f"expected one object, got {type(doc).__name__}\n{r}"
    else:
        assert isinstance(doc, (dict, list)), f"expected an object or an array\n{r}"
    if isinstance(doc, list):
        assert all(isinstance(x, dict) for x in doc), f"array elements must be objects\n{r}"
        lines = r.out.rstrip("\n").split("\n")
        assert len(lines) == max(1, len(doc)), f"expected one object per line ({len(doc)} objects)\n{r}"
    return doc


def check_csv_output(r):
    ok(r)
    rows = list(csv.reader(io.StringIO(r.out, newline="")))
    assert rows, f"csv output is empty\n{r}"
    header = rows[0]
    assert header and all(h.strip() for h in header), f"csv header has empty fields: {header}\n{r}"
    for i, row in enumerate(rows[1:], 2):
        assert len(row) == len(header), f"csv record {i} has {len(row)} fields, header {len(header)}\n{r}"
    return rows


def string_values(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from string_values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from string_values(v)
    elif isinstance(obj, str):
        yield obj


VOLATILE_KEY = re.compile(r"created|second|duration|elapsed|updated|timestamp")


def without_volatile(obj):
    if isinstance(obj, dict):
        return {k: without_volatile(v) for k, v in obj.items() if not VOLATILE_KEY.search(k)}
    if isinstance(obj, list):
        return [without_volatile(v) for v in obj]
    return obj


def find_test_metric(doc, name):
    """auc / log_loss of the test rows, anywhere in the document: a key test_<name>, or <name> in an
    object under a key containing "test" (e.g. {"test": {"auc": …}} or {"metrics": {"test": {…}}})."""
    if isinstance(doc, dict):
        if f"test_{name}" in doc:
            return doc[f"test_{name}"]
        for k, v in doc.items():
            if "test" in k and isinstance(v, dict) and name in v:
                return v[name]
        for v in doc.values():
            found = find_test_metric(v, name)
            if found is not None:
                return found
    return None


# ----------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("strata_golden")
    _CWD["dir"] = str(root)
    csvdir = root / "D" / "csv"
    st = root / "store"
    ok(strata("generate", "--out", csvdir, "--members", 400, "--months", 6, "--start", 20160101))
    ok(strata("ingest", csvdir / "members.csv", csvdir / "transactions.csv", csvdir / "user_logs.csv",
              csvdir / "labels.csv", db=st))
    ok(strata("training-set", "--features", W1, "--labels", "labels", "--out", "w1", db=st))
    ok(strata("train", "--training-set", "w1", "--rounds", 20, "--register", "churn", db=st))
    ok(strata("train", "--training-set", "w1", "--rounds", 10, db=st))
    ok(strata("models", "promote", "churn", 1, "--stage", "production", db=st))
    ok(strata("features", "materialize", "--as-of", 20160601, db=st))
    ok(strata("predict", "--model", "churn@production", "--as-of", 20160701, "--out", "risk", db=st))

    with open(csvdir / "labels.csv") as f:
        labels = list(csv.DictReader(f))
    with open(csvdir / "members.csv") as f:
        members = [row["msno"] for row in csv.DictReader(f)]
    tx_lines = (csvdir / "transactions.csv").read_text().splitlines()
    assert tx_lines[0] == TX_HEADER

    # A small transactions file no store has seen (for `ingest --format`).
    fresh = root / "fresh_tx.csv"
    rows = []
    for line in tx_lines[1:4]:
        f = line.split(",")
        f[4] = "1"  # actual_amount_paid
        rows.append(",".join(f))
    fresh.write_text(TX_HEADER + "\n" + "\n".join(rows) + "\n")

    # Kaggle-shaped train.csv of the 2016-05-01 labels (msno,is_churn).
    kaggle = root / "kaggle_20160501.csv"
    kaggle.write_text("msno,is_churn\n" + "".join(
        f"{r['msno']},{r['is_churn']}\n" for r in labels if r["cutoff_date"] == "20160501"))

    return SimpleNamespace(root=root, csv=csvdir, store=st, labels=labels, members=members,
                           msno=members[0], tx_lines=tx_lines, fresh_tx=fresh, kaggle=kaggle)


@pytest.fixture
def scratch(base, tmp_path):
    """A private copy of the fixture store, for tests that write."""
    dst = tmp_path / "store"
    shutil.copytree(base.store, dst)
    return dst


def copy_store(base, tmp_path, name):
    dst = tmp_path / name
    shutil.copytree(base.store, dst)
    return dst


# ----------------------------------------------------------------------------------------------
# Output formats

def w1_v2_text():
    text = W1.read_text()
    assert "days: [7, 30, 90]" in text
    return text.replace("days: [7, 30, 90]", "days: [7, 30, 60]")


def apply_w1_v2(db, base):
    p = base.root / "w1_v2.yaml"
    if not p.exists():
        p.write_text(w1_v2_text())
    ok(strata("features", "apply", p, db=db))


# (id, json kind, writes?, setup(db, base) or None, argv(base))
FORMAT_CASES = [
    ("tables", "list", False, None, lambda b: ["tables"]),
    ("describe", "object", False, None, lambda b: ["describe", "labels"]),
    ("verify", "object", False, None, lambda b: ["verify"]),
    ("gc", "any", True, None, lambda b: ["gc"]),
    ("scan", "list", False, None, lambda b: ["scan", "labels", "--limit", "5"]),
    ("query", "list", False, None,
     lambda b: ["query", "SELECT msno, cutoff_date, is_churn FROM labels ORDER BY msno, cutoff_date LIMIT 5"]),
    ("versions", "list", False, None, lambda b: ["versions"]),
    ("drop", "any", True, None, lambda b: ["drop", "risk"]),
    ("ingest", "object", True, None, lambda b: ["ingest", b.fresh_tx]),
    ("training-set", "any", True, None,
     lambda b: ["training-set", "--features", W1, "--labels", "labels", "--out", "w1_fmt"]),
    ("train", "object", True, None, lambda b: ["train", "--training-set", "w1", "--rounds", "5"]),
    ("predict", "any", True, None,
     lambda b: ["predict", "--model", "churn@production", "--as-of", "20160701", "--out", "risk_fmt"]),
    ("runs-list", "list", False, None, lambda b: ["runs", "list"]),
    ("runs-show", "object", False, None, lambda b: ["runs", "show", "run-000001"]),
    ("runs-compare", "any", False, None, lambda b: ["runs", "compare", "run-000001", "run-000002"]),
    ("models-list", "list", False, None, lambda b: ["models", "list"]),
    ("models-promote", "any", True, None, lambda b: ["models", "promote", "churn", "1", "--stage", "staging"]),
    ("features-apply", "any", True, None, lambda b: ["features", "apply", W1]),
    ("features-list", "list", False, None, lambda b: ["features", "list"]),
    ("features-show", "any", False, None, lambda b: ["features", "show", "w1"]),
    ("features-materialize", "any", True, None, lambda b: ["features", "materialize", "--as-of", "20160501"]),
    ("features-get", "list", False, None, lambda b: ["features", "get", b.msno]),
    ("features-diff", "any", True, apply_w1_v2, lambda b: ["features", "diff", "w1@1", "w1@2"]),
]


@pytest.mark.parametrize("case", FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_json_format(base, tmp_path, case):
    name, kind, writes, setup, argv = case
    db = copy_store(base, tmp_path, "st") if (writes or setup) else base.store
    if setup:
        setup(db, base)
    r = strata(*argv(base), "--format", "json", db=db)
    doc = check_json_output(r, kind)
    if name in ("tables", "scan", "query", "versions", "runs-list", "models-list", "features-list",
                "features-get"):
        assert doc, f"{name}: expected rows\n{r}"


@pytest.mark.parametrize("case", FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_csv_format(base, tmp_path, case):
    name, kind, writes, setup, argv = case
    db = copy_store(base, tmp_path, "st") if (writes or setup) else base.store
    if setup:
        setup(db, base)
    rows = check_csv_output(strata(*argv(base), "--format", "csv", db=db))
    if name in ("scan", "query"):
        assert len(rows) == 6 and rows[0] == ["msno", "cutoff_date", "is_churn"]


def test_json_list_matches_table_rows(base):
    """tables --format json: one object per table, with the row counts the CSVs had."""
    rows = table_rows(base.store)
    assert rows["labels"] == len(base.labels)
    assert rows["members"] == len(base.members)
    assert rows["transactions"] == len(base.tx_lines) - 1


# ----------------------------------------------------------------------------------------------
# Exit codes

ERROR_CASES = [
    ("missing-table-scan", False, ["scan", "nosuch"]),
    ("missing-table-describe", False, ["describe", "nosuch"]),
    ("missing-table-query", False, ["query", "SELECT * FROM nosuch"]),
    ("unknown-msno", False, ["features", "get", "nosuchmsnoXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX="]),
    ("unknown-run", False, ["runs", "show", "run-999999"]),
    ("unknown-model-predict", True, ["predict", "--model", "nosuch@production", "--as-of", "20160701",
                                     "--out", "p"]),
    ("unknown-model-promote", True, ["models", "promote", "nosuch", "1", "--stage", "production"]),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_exit_1_on_errors(base, tmp_path, case):
    _, writes, argv = case
    db = copy_store(base, tmp_path, "st") if writes else base.store
    r = strata(*argv, db=db)
    assert r.rc == 1, f"expected exit 1\n{r}"
    assert r.err.splitlines() and r.err.splitlines()[0].startswith("strata: error: "), \
        f"expected one line starting 'strata: error: '\n{r}"


def test_exit_1_on_damaged_store(scratch):
    seg = sorted(glob.glob(str(scratch / "tables" / "labels" / "*" / "*.seg")))
    if not seg:
        pytest.skip("no labels segment file found to damage (store layout changed)")
    b = bytearray(Path(seg[0]).read_bytes())
    b[len(b) // 2] ^= 0xFF
    Path(seg[0]).write_bytes(bytes(b))
    r = strata("verify", db=scratch)
    assert r.rc == 1, f"verify of a damaged store: expected exit 1\n{r}"


USAGE_CASES = [
    ("unknown-subcommand", ["bogus-subcommand"]),
    ("unknown-flag", ["tables", "--bogus-flag"]),
    ("malformed-limit", ["scan", "labels", "--limit", "abc"]),
    ("malformed-format", ["tables", "--format", "xml"]),
    ("missing-argument", ["scan"]),
    ("missing-required-option", ["training-set", "--labels", "labels", "--out", "x"]),
    ("rounds-out-of-range", ["train", "--training-set", "w1", "--rounds", "0"]),
]


@pytest.mark.parametrize("case", USAGE_CASES, ids=[c[0] for c in USAGE_CASES])
def test_exit_2_on_usage_errors(base, scratch, case):
    _, argv = case
    before = sorted(os.listdir(scratch / "manifest")) if (scratch / "manifest").is_dir() else None
    r = strata(*argv, db=scratch)
    assert r.rc == 2, f"expected exit 2 (usage)\n{r}"
    assert r.err.strip(), f"a usage error says what is wrong on stderr\n{r}"
    assert r.out == "", f"nothing on stdout for a usage error\n{r}"
    if before is not None:
        assert sorted(os.listdir(scratch / "manifest")) == before, "a usage error committed something"


@pytest.mark.parametrize("argv", [["--help"], ["help"], ["scan", "--help"], ["runs", "list", "--help"],
                                  ["help", "train"], ["--version"]],
                         ids=["--help", "help", "scan--help", "runs-list--help", "help-train", "--version"])
def test_help_and_version_exit_0(argv):
    r = strata(*argv)
    assert r.rc == 0, f"expected exit 0\n{r}"
    assert r.out.strip(), f"expected text on stdout\n{r}"


def test_version_line():
    r = ok(strata("--version"))
    lines = r.out.strip("\n").split("\n")
    assert len(lines) == 1, f"--version prints one line\n{r}"
    assert lines[0].startswith("strata "), r
    assert re.match(r"^strata \d+\.\d+\.\d+ \(format \d+, [^)]+\)$", lines[0]), \
        f"expected 'strata X.Y.Z (format N, <build>)'\n{r}"


# ----------------------------------------------------------------------------------------------
# Dates


def test_scan_from_to_both_spellings(base):
    for fmt in ("csv", "table", "json"):
        a = ok(strata("scan", "user_logs", "--from", "20160401", "--to", "20160402", "--limit", "100000",
                      "--format", fmt, db=base.store))
        b = ok(strata("scan", "user_logs", "--from", "2016-04-01", "--to", "2016-04-02", "--limit", "100000",
                      "--format", fmt, db=base.store))
        assert a.out == b.out, f"{fmt}: YYYYMMDD and YYYY-MM-DD give different output\n{a}\n{b}"
        assert len(a.out.splitlines()) > 3, f"expected rows of two days\n{a}"


def test_features_get_as_of_both_spellings(base):
    a = ok(strata("features", "get", base.msno, "--as-of", "20160401", "--format", "csv", db=base.store))
    b = ok(strata("features", "get", base.msno, "--as-of", "2016-04-01", "--format", "csv", db=base.store))
    assert a.out == b.out and len(a.out.splitlines()) == 2, f"{a}\n{b}"


def test_predict_as_of_both_spellings(base, tmp_path):
    outs = []
    for day in ("20160701", "2016-07-01"):
        db = copy_store(base, tmp_path, f"st{day}")
        ok(strata("predict", "--model", "churn@production", "--as-of", day, "--out", "p", db=db))
        outs.append(ok(strata("scan", "p", "--format", "csv", db=db)).out)
    assert outs[0] == outs[1] and len(outs[0].splitlines()) == len(base.members) + 1


def test_materialize_as_of_both_spellings(base, tmp_path):
    outs = []
    for day in ("20160501", "2016-05-01"):
        db = copy_store(base, tmp_path, f"st{day}")
        ok(strata("features", "materialize", "--as-of", day, db=db))
        outs.append(ok(strata("features", "get", *base.members[:5], "--format", "csv", db=db)).out)
    assert outs[0] == outs[1] and len(outs[0].splitlines()) == 6


@pytest.mark.parametrize("flags", [
    ("--test-from", "20160501", "2016-05-01"),
    ("--valid-from", "20160401", "2016-04-01"),
], ids=["test-from", "valid-from"])
def test_train_date_flags_both_spellings(base, tmp_path, flags):
    flag, compact, dashed = flags
    docs = []
    for i, day in enumerate((compact, dashed)):
        db = copy_store(base, tmp_path, f"st{i}")
        extra = [flag, day]
        if flag == "--valid-from":
            extra += ["--test-from", "20160501", "--early-stopping", "3"]
        r = ok(strata("train", "--training-set", "w1", "--rounds", "10", "--threads", "1", *extra,
                      "--format", "json", db=db))
        docs.append(without_volatile(json.loads(r.out)))
    assert docs[0] == docs[1], "train output differs between YYYYMMDD and YYYY-MM-DD"


def test_ingest_cutoff_both_spellings(base, tmp_path):
    """Kaggle's train.csv (msno,is_churn) into an empty store: the labels table with that cutoff."""
    outs = []
    for day in ("20160701", "2016-07-01"):
        db = tmp_path / f"st{day}"
        ok(strata("ingest", "--cutoff", day, base.kaggle, db=db))
        outs.append(ok(strata("scan", "labels", "--format", "csv", db=db)).out)
    assert outs[0] == outs[1]
    rows = list(csv.DictReader(io.StringIO(outs[0])))
    assert rows and {r["cutoff_date"] for r in rows} == {"2016-07-01"}


def test_generate_start_and_drift_from_both_spellings(base, tmp_path):
    dirs = []
    for start, drift in (("20160101", "20160115"), ("2016-01-01", "2016-01-15")):
        d = tmp_path / f"gen{start}"
        ok(strata("generate", "--out", d, "--members", 30, "--months", 2, "--start", start,
                  "--drift-from", drift))
        dirs.append(d)
    names = sorted(os.listdir(dirs[0]))
    assert names == sorted(os.listdir(dirs[1])) and names
    for n in names + ["truth/campaign_response.csv"]:
        if (dirs[0] / n).is_dir():
            continue
        assert (dirs[0] / n).read_bytes() == (dirs[1] / n).read_bytes(), f"{n} differs"


BAD_DATE_CASES = [
    ("scan", "--from", False, lambda b, d: ["scan", "labels", "--from", d]),
    ("scan", "--to", False, lambda b, d: ["scan", "labels", "--to", d]),
    ("features-get", "--as-of", False, lambda b, d: ["features", "get", b.msno, "--as-of", d]),
    ("predict", "--as-of", True, lambda b, d: ["predict", "--model", "churn@production", "--as-of", d,
                                               "--out", "p"]),
    ("train", "--test-from", True, lambda b, d: ["train", "--training-set", "w1", "--test-from", d]),
    ("train", "--valid-from", True, lambda b, d: ["train", "--training-set", "w1", "--valid-from", d]),
    ("materialize", "--as-of", True, lambda b, d: ["features", "materialize", "--as-of", d]),
    ("ingest", "--cutoff", True, lambda b, d: ["ingest", "--cutoff", d, b.kaggle]),
    ("generate", "--start", None, lambda b, d: ["generate", "--out", b.root / "never", "--start", d]),
    ("generate", "--drift-from", None, lambda b, d: ["generate", "--out", b.root / "never", "--drift-from", d]),
]


@pytest.mark.parametrize("bad", ["2016-13-01", "20160230"])
@pytest.mark.parametrize("case", BAD_DATE_CASES, ids=[f"{c[0]}{c[1]}" for c in BAD_DATE_CASES])
def test_garbage_date_is_a_usage_error_naming_the_flag(base, tmp_path, case, bad):
    _, flag, writes, argv = case
    db = None if writes is None else (copy_store(base, tmp_path, "st") if writes else base.store)
    r = strata(*argv(base, bad), db=db)
    assert r.rc == 2, f"expected exit 2 for {flag} {bad}\n{r}"
    first = next((ln for ln in r.err.splitlines() if ln.strip()), "")
    assert re.search(re.escape(flag) + r"\b", first), f"the first stderr line should name {flag}\n{r}"


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_scan_and_query_print_dates_alike(base, fmt):
    scan = ok(strata("scan", "labels", "--from", "20160301", "--to", "20160301", "--limit", "100000",
                     "--format", fmt, db=base.store))
    query = ok(strata("query", "SELECT msno, cutoff_date, is_churn FROM labels WHERE cutoff_date = DATE '2016-03-01'",
                      "--format", fmt, db=base.store))
    assert not re.search(r"\b20160301\b", scan.out + query.out), "a DATE printed as YYYYMMDD"
    if fmt == "json":
        a, b = json.loads(scan.out), json.loads(query.out)
        assert a and all(r["cutoff_date"] == "2016-03-01" for r in a + b), "JSON dates are strings YYYY-MM-DD"
        key = lambda r: (r["msno"], r["cutoff_date"], r["is_churn"])  # noqa: E731
        assert sorted(map(key, a)) == sorted(map(key, b))
    elif fmt == "csv":
        a = scan.out.splitlines()
        b = query.out.splitlines()
        assert a[0] == b[0] == "msno,cutoff_date,is_churn"
        assert sorted(a[1:]) == sorted(b[1:]) and len(a) > 1
        assert all(ln.split(",")[1] == "2016-03-01" for ln in a[1:])
    else:
        for r in (scan, query):
            lines = [ln for ln in r.out.splitlines() if ln.strip()]
            assert lines[0].split()[:3] == ["msno", "cutoff_date", "is_churn"], r
            data = [ln.split() for ln in lines[2:] if not ln.startswith("(")]
            assert data and all(len(c) == 3 and c[1] == "2016-03-01" for c in data), r


# ----------------------------------------------------------------------------------------------
# Colour

NO_TTY_CASES = [
    ("tables", False, ["tables"]),
    ("scan", False, ["scan", "labels"]),
    ("query", False, ["query", "SELECT city, count(*) AS n FROM members GROUP BY city"]),
    ("error", False, ["scan", "nosuch"]),
    ("sql-error", False, ["query", "SELECT dat FROM user_logs"]),
    ("usage-error", False, ["tables", "--bogus-flag"]),
    ("ingest", True, None),
    ("ingest-rejects", True, None),
    ("train", True, ["train", "--training-set", "w1", "--rounds", "5"]),
    ("predict", True, ["predict", "--model", "churn@production", "--as-of", "20160701", "--out", "p"]),
]


@pytest.mark.parametrize("case", NO_TTY_CASES, ids=[c[0] for c in NO_TTY_CASES])
def test_no_escape_bytes_without_a_terminal(base, tmp_path, case):
    name, writes, argv = case
    db = copy_store(base, tmp_path, "st") if writes else base.store
    if name == "ingest":
        argv = ["ingest", base.fresh_tx]
    elif name == "ingest-rejects":
        bad = tmp_path / "tx_some_bad.csv"
        lines = base.tx_lines[:101]
        f = lines[1].split(",")
        f[1] = "abc"
        bad.write_text("\n".join([lines[0], ",".join(f)] + lines[2:]) + "\n")
        argv = ["ingest", bad]
    r = strata(*argv, db=db)
    assert b"\x1b" not in r.bout and b"\x1b" not in r.berr, f"ESC byte with stdout/stderr not a terminal\n{r}"


def test_no_colour_on_a_terminal_with_NO_COLOR(base):
    env = base_env(NO_COLOR="1")
    for argv in (["scan", "nosuch"], ["tables"], ["tables", "--bogus-flag"]):
        rc, out = run_pty(argv, db=base.store, env=env)
        assert not SGR.search(out), f"colour with NO_COLOR=1 on a pty: {argv}: {out[:500]!r}"
    rc, out = run_pty(["scan", "nosuch"], db=base.store, env=env)
    assert rc == 1 and b"strata: error: " in out, out


def test_colour_on_a_terminal_only_on_the_error_line(base):
    rc, out = run_pty(["scan", "nosuch"], db=base.store)
    assert rc == 1, out
    plain = SGR.sub(b"", out).decode("utf-8", "replace")
    assert "strata: error: " in plain, out
    for line in out.split(b"\n"):
        if SGR.search(line):
            assert b"error" in SGR.sub(b"", line), f"colour outside the error line: {line!r}"
    rc, out = run_pty(["tables"], db=base.store)
    assert rc == 0 and not SGR.search(out), f"a successful command is not coloured: {out[:300]!r}"


# ----------------------------------------------------------------------------------------------
# Row caps


@pytest.mark.parametrize("table", ["user_logs", "labels"])
def test_scan_table_format_states_the_cap(base, table):
    n = table_rows(base.store)[table]
    assert n > 50
    r = ok(strata("scan", table, db=base.store))
    lines = [ln for ln in r.out.splitlines() if ln.strip()]
    m = re.search(r"first 50 of ([\d,]+) rows", lines[-1])
    assert m, f"the last line should state 'first 50 of N rows'\n{r}"
    assert int(m.group(1).replace(",", "")) == n, f"N should be the table's row count {n}\n{r}"
    # header, dashes, 50 rows, the cap line
    assert len(lines) == 53, f"expected 50 data rows\n{r}"


# ----------------------------------------------------------------------------------------------
# Ingest protections


def test_all_rejected_file_commits_nothing(base, scratch, tmp_path):
    bad = tmp_path / "tx_all_garbage.csv"
    bad.write_text(TX_HEADER + "\n" + "".join(f"garbage,line,{i}\n" for i in range(20)))
    v = latest_version(scratch)
    rows = table_rows(scratch)
    r = strata("ingest", bad, db=scratch)
    assert r.rc == 1, f"an all-rejected file fails\n{r}"
    assert any("tx_all_garbage.csv" in ln for ln in error_lines(r)), f"the error names the file\n{r}"
    assert latest_version(scratch) == v, "nothing committed"
    assert table_rows(scratch) == rows


def five_percent_bad(base, path):
    lines = base.tx_lines[1:201]
    out = [TX_HEADER]
    for i, line in enumerate(lines):
        if i % 20 == 0:
            f = line.split(",")
            f[1] = "abc"  # payment_method_id is an integer
            line = ",".join(f)
        out.append(line)
    path.write_text("\n".join(out) + "\n")
    return path


def test_max_rejects_default_refuses_5_percent(base, scratch, tmp_path):
    f = five_percent_bad(base, tmp_path / "tx5.csv")
    v = latest_version(scratch)
    r = strata("ingest", f, db=scratch)
    assert r.rc == 1, f"10 bad lines of 200 exceed the default 1%\n{r}"
    assert "--max-rejects" in r.err, f"the message names --max-rejects\n{r}"
    assert any(re.search(r"\b10\b", ln) and re.search(r"\b200\b", ln) for ln in r.err.splitlines()), \
        f"the message says how many of how many (10 of 200)\n{r}"
    assert latest_version(scratch) == v, "nothing committed"


@pytest.mark.parametrize("limit", ["10%", "100"])
def test_max_rejects_raised_accepts_5_percent(base, scratch, tmp_path, limit):
    f = five_percent_bad(base, tmp_path / "tx5.csv")
    before = table_rows(scratch)["transactions"]
    v = latest_version(scratch)
    ok(strata("ingest", "--max-rejects", limit, f, db=scratch))
    assert latest_version(scratch) == v + 1
    assert table_rows(scratch)["transactions"] == before + 190


def test_duplicate_ingest_refused_then_allowed(base, scratch):
    f = base.csv / "transactions.csv"
    before = table_rows(scratch)["transactions"]
    v = latest_version(scratch)
    r = strata("ingest", f, db=scratch)
    assert r.rc == 1, f"re-ingesting the same file is refused\n{r}"
    assert "--allow-duplicate" in r.err, f"the message names --allow-duplicate\n{r}"
    assert latest_version(scratch) == v and table_rows(scratch)["transactions"] == before
    ok(strata("ingest", "--allow-duplicate", f, db=scratch))
    assert table_rows(scratch)["transactions"] == 2 * before


def test_duplicate_content_under_another_name_refused(base, scratch, tmp_path):
    copy = tmp_path / "tx_copy.csv"
    shutil.copyfile(base.csv / "transactions.csv", copy)
    v = latest_version(scratch)
    r = strata("ingest", copy, db=scratch)
    assert r.rc == 1 and "--allow-duplicate" in r.err, f"same content, other name: refused\n{r}"
    assert latest_version(scratch) == v


def test_near_miss_header_names_column_and_table(base, scratch, tmp_path):
    f = tmp_path / "tx_near.csv"
    f.write_text(TX_HEADER.replace("transaction_date", "transaction_dat") + "\n"
                 + "\n".join(base.tx_lines[1:6]) + "\n")
    v = latest_version(scratch)
    r = strata("ingest", f, db=scratch)
    assert r.rc == 1, f"a near-miss header fails\n{r}"
    assert re.search(r"transaction_dat\b", r.err), f"the message names the misspelt column\n{r}"
    assert re.search(r"\btransactions\b", r.err), f"the message names the table\n{r}"
    assert latest_version(scratch) == v


OFFERS_SCHEMA = """\
columns:
  - {name: msno, type: entity}
  - {name: offer_date, type: date}
  - {name: discount_pct, type: int64}
  - {name: price, type: float64}
  - {name: channel, type: string}
  - {name: renewed, type: int64, nullable: true}
partition_by: offer_date
"""


def offers_rows(base, n=20, day="20160420", start=0):
    rows = []
    for i in range(start, start + n):
        rows.append({"msno": base.members[i], "offer_date": day, "discount_pct": 10 + i,
                     "price": f"{1.5 * i:.1f}", "channel": "web" if i % 2 else "app",
                     "renewed": "" if i % 3 == 0 else str(i % 2)})
    return rows


def write_offers(path, rows, order=("channel", "discount_pct", "msno", "renewed", "offer_date", "price")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(order)
        for r in rows:
            w.writerow([r[c] for c in order])
    return path


def ingest_offers(base, db, tmp_path):
    schema = tmp_path / "offers_schema.yaml"
    schema.write_text(OFFERS_SCHEMA)
    rows = offers_rows(base)
    data = write_offers(tmp_path / "offers.csv", rows)  # column order differs from the schema's
    ok(strata("ingest", "--table", "offers", "--schema", schema, data, db=db))
    return rows


def test_custom_table_schema_query_and_feature_view(base, scratch, tmp_path):
    rows = ingest_offers(base, scratch, tmp_path)
    r = ok(strata("query", "SELECT count(*) AS n, sum(discount_pct) AS s, count(renewed) AS r, "
                  "min(offer_date) AS d, sum(price) AS p, count(DISTINCT channel) AS c FROM offers",
                  "--format", "csv", db=scratch))
    got = list(csv.DictReader(io.StringIO(r.out)))
    assert len(got) == 1, r
    g = got[0]
    assert int(g["n"]) == len(rows)
    assert int(g["s"]) == sum(x["discount_pct"] for x in rows)
    assert int(g["r"]) == sum(1 for x in rows if x["renewed"] != "")
    assert g["d"] == "2016-04-20"
    assert abs(float(g["p"]) - sum(float(x["price"]) for x in rows)) < 1e-9
    assert int(g["c"]) == 2
    r = ok(strata("query", "SELECT o.discount_pct FROM offers o JOIN members m USING (msno) "
                  f"WHERE m.msno = '{rows[5]['msno']}'", "--format", "csv", db=scratch))
    assert r.out.splitlines()[1:] == [str(rows[5]["discount_pct"])], r

    view = tmp_path / "offers_view.yaml"
    view.write_text(
        "name: offers_view\n"
        "entity: msno\n"
        "features:\n"
        "  - window:\n"
        "      source: offers\n"
        "      time: offer_date\n"
        "      days: [30]\n"
        "    aggregates:\n"
        "      - {name: offer_count_30, function: count}\n"
        "      - {name: offer_discount_30, function: sum, column: discount_pct}\n")
    ok(strata("training-set", "--features", view, "--labels", "labels", "--out", "offers_ts", db=scratch))
    # Cutoff 2016-05-01 sees [2016-04-01, 2016-05-01): the offers of 2016-04-20; no other cutoff does.
    disc = {x["msno"]: x["discount_pct"] for x in rows}
    hit = [lab for lab in base.labels if lab["cutoff_date"] == "20160501" and lab["msno"] in disc]
    assert hit, "fixture: some offered members have a 2016-05-01 label"
    r = ok(strata("query", "SELECT count(*) AS rows, sum(offer_count_30) AS n, sum(offer_discount_30) AS s "
                  "FROM offers_ts", "--format", "csv", db=scratch))
    g = next(csv.DictReader(io.StringIO(r.out)))
    assert int(g["rows"]) == len(base.labels)
    assert int(g["n"]) == len(hit)
    assert int(g["s"]) == sum(disc[lab["msno"]] for lab in hit)


def test_custom_table_later_ingest_needs_no_schema(base, scratch, tmp_path):
    rows = ingest_offers(base, scratch, tmp_path)
    more = offers_rows(base, n=5, day="20160510", start=30)
    data = write_offers(tmp_path / "offers_more.csv", more, order=("msno", "offer_date", "discount_pct",
                                                                   "price", "channel", "renewed"))
    ok(strata("ingest", "--table", "offers", data, db=scratch))
    assert table_rows(scratch)["offers"] == len(rows) + len(more)


def test_infer_schema_dry_run(base, scratch, tmp_path):
    rows = offers_rows(base)
    for r in rows:
        r["offer_date"] = "2016-04-20"
    data = write_offers(tmp_path / "offers_infer.csv", rows,
                        order=("msno", "offer_date", "discount_pct", "price", "channel", "renewed"))
    v = latest_version(scratch)
    r = ok(strata("ingest", "--table", "offers_inf", "--infer-schema", "--dry-run", data, db=scratch))
    try:
        doc = yaml.safe_load(r.out)
    except yaml.YAMLError as e:
        pytest.fail(f"stdout is not YAML ({e})\n{r}")
    assert isinstance(doc, dict) and isinstance(doc.get("columns"), list), r
    cols = {c["name"]: c for c in doc["columns"]}
    assert {k: cols[k]["type"] for k in cols} == {
        "msno": "entity", "offer_date": "date", "discount_pct": "int64", "price": "float64",
        "channel": "string", "renewed": "int64"}, r
    assert cols["renewed"].get("nullable") is True, f"a column with empty fields is nullable\n{r}"
    assert latest_version(scratch) == v, "--dry-run commits nothing"
    assert "offers_inf" not in table_rows(scratch)


# ----------------------------------------------------------------------------------------------
# Store history: drop, versions, time travel, gc


def test_drop_table_time_travel(base, scratch):
    v = latest_version(scratch)
    before = ok(strata("scan", "risk", "--format", "csv", db=scratch)).out
    ok(strata("drop", "risk", db=scratch))
    assert "risk" not in table_rows(scratch), "tables no longer lists a dropped table"
    assert latest_version(scratch) == v + 1
    assert strata("scan", "risk", db=scratch).rc == 1
    old = ok(strata("scan", "risk", "--version", v, "--format", "csv", db=scratch)).out
    assert old == before, "--version <before> reads the dropped table as it was"
    last = max(versions(scratch), key=lambda x: int(x["version"]))
    assert "drop" in command_text(last) and str(last.get("operation", "")).strip(), last


def test_drop_run_refused_while_a_model_uses_it(base, scratch):
    r = strata("drop", "--run", "run-000001", db=scratch)
    assert r.rc == 1, f"dropping a run a model version uses is refused\n{r}"
    assert "churn" in r.err, f"the message names the model version\n{r}"
    runs = jrun("runs", "list", db=scratch)
    assert any("run-000001" in r.values() for r in runs)
    ok(strata("drop", "--model", "churn@1", db=scratch))
    models = jrun("models", "list", db=scratch)
    assert not any(v == "churn" for m in models for v in m.values()), models
    ok(strata("drop", "--run", "run-000001", db=scratch))
    runs = jrun("runs", "list", db=scratch)
    values = [v for r in runs for v in r.values()]
    assert "run-000001" not in values and "run-000002" in values, runs


def test_drop_view(base, scratch):
    assert any("w1" in r.values() for r in jrun("features", "list", db=scratch))
    # A view a registered model was trained on stays until that model version is dropped.
    r = strata("drop", "--view", "w1", db=scratch)
    assert r.rc == 1 and "churn@1" in r.err and "drop --model" in r.err, r
    ok(strata("drop", "--model", "churn@1", db=scratch))
    ok(strata("drop", "--view", "w1", db=scratch))
    assert not any("w1" in r.values() for r in jrun("features", "list", db=scratch))
    # Registered again, it gets a new version number: w1 v1 still names the old definition in earlier
    # store versions and in the runs trained on it.
    applied = jrun("features", "apply", str(W1), db=scratch)
    assert applied[0]["version"] == 2 and applied[0]["registered"] is True, applied


def test_versions_list_each_commit(base):
    rows = versions(base.store)
    assert rows and all({"version", "created", "operation", "command"} <= set(r) for r in rows), rows
    nums = [int(r["version"]) for r in rows]
    assert len(set(nums)) == len(nums)
    rows = sorted((r for r in rows if int(r["version"]) > 0), key=lambda r: int(r["version"]))
    assert all(str(r["operation"]).strip() and command_text(r).strip() for r in rows), rows
    # The fixture's committing commands, in order.
    expected = [("ingest",), ("training-set",), ("train", "--register"), ("train", "--rounds 10"),
                ("promote",), ("materialize",), ("predict",)]
    i = 0
    for r in rows:
        if i < len(expected) and all(t in command_text(r) for t in expected[i]):
            i += 1
    assert i == len(expected), f"commits of the fixture not listed in order (matched {i}): {rows}"
    assert len(rows) == len(expected), f"one version per committing command: {rows}"


def test_gc_keep_versions_ends_time_travel(base, scratch):
    old = ok(strata("scan", "labels", "--version", 1, "--format", "csv", db=scratch)).out
    latest = ok(strata("scan", "labels", "--format", "csv", db=scratch)).out
    ok(strata("gc", "--keep-versions", 1, db=scratch))
    r = strata("scan", "labels", "--version", 1, "--format", "csv", db=scratch)
    assert r.rc == 1, f"--version of a removed version fails\n{r}"
    assert re.search(r"\bgc\b", r.err), f"the message names gc\n{r}"
    assert ok(strata("scan", "labels", "--format", "csv", db=scratch)).out == latest == old
    ok(strata("verify", db=scratch))


def test_gc_dry_run_deletes_nothing(base, scratch):
    ok(strata("gc", "--keep-versions", 1, "--dry-run", db=scratch))
    ok(strata("scan", "labels", "--version", 1, db=scratch))


# ----------------------------------------------------------------------------------------------
# Feature-view history


@pytest.mark.parametrize("ref", ["w1", "w1@1"])
def test_features_show_prints_registered_yaml(base, ref):
    r = ok(strata("features", "show", ref, db=base.store))
    assert yaml.safe_load(r.out) == yaml.safe_load(W1.read_text()), r


def test_features_diff_shows_the_changed_line(base, scratch):
    apply_w1_v2(scratch, base)
    r = ok(strata("features", "show", "w1@2", db=scratch))
    assert yaml.safe_load(r.out) == yaml.safe_load(w1_v2_text())
    r = ok(strata("features", "diff", "w1@1", "w1@2", db=scratch))
    changed = [ln for ln in r.out.splitlines()
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert any(ln.startswith("-") and "90" in ln and "days" in ln for ln in changed), r
    assert any(ln.startswith("+") and "60" in ln and "days" in ln for ln in changed), r
    assert not any("tenure_days" in ln for ln in changed), f"unchanged lines are not marked\n{r}"


# ----------------------------------------------------------------------------------------------
# Lineage


def test_describe_training_set_lineage(base):
    r = ok(strata("describe", "w1", db=base.store))
    assert "derived" in r.out.lower(), r
    rest = "\n".join(r.out.splitlines()[1:])
    assert re.search(r"\bw1\b", rest), f"lineage names the feature view\n{r}"
    assert re.search(r"\blabels\b", rest), f"lineage names the label table\n{r}"
    doc = jrun("describe", "w1", db=base.store)
    values = set(string_values(doc))
    assert "labels" in values and "w1" in values, doc


def test_describe_predictions_lineage(base):
    r = ok(strata("describe", "risk", db=base.store))
    assert "derived" in r.out.lower() and "churn" in r.out, r


# ----------------------------------------------------------------------------------------------
# Training and prediction


def test_train_json_best_iteration_and_test_metrics(base, scratch):
    r = ok(strata("train", "--training-set", "w1", "--rounds", 50, "--early-stopping", 5,
                  "--format", "json", db=scratch))
    doc = json.loads(r.out)
    assert isinstance(doc, dict)
    bi = doc.get("best_iteration")
    assert isinstance(bi, int) and 1 <= bi <= 50, f"best_iteration {bi!r}\n{r}"
    auc, ll = find_test_metric(doc, "auc"), find_test_metric(doc, "log_loss")
    assert isinstance(auc, (int, float)) and 0 <= auc <= 1, f"test auc {auc!r}\n{r}"
    assert isinstance(ll, (int, float)) and ll > 0, f"test log_loss {ll!r}\n{r}"


def test_train_single_cutoff_uses_random_split(base, tmp_path):
    """A fresh store whose labels.csv holds the 2016-05-01 cutoff only: one cutoff, the random split."""
    one = tmp_path / "labels_one" / "labels.csv"
    one.parent.mkdir()
    with open(base.csv / "labels.csv") as f:
        lines = f.read().splitlines()
    one.write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if ln.split(",")[1] == "20160501"]) + "\n")
    db = tmp_path / "store"
    ok(strata("ingest", base.csv / "members.csv", base.csv / "transactions.csv", base.csv / "user_logs.csv",
              one, db=db))
    ok(strata("training-set", "--features", W1, "--labels", "labels", "--out", "one", db=db))
    r = strata("train", "--training-set", "one", "--rounds", 20, db=db)
    assert r.rc == 0, f"one cutoff: the random split, not a failure\n{r}"
    assert "random" in r.out.lower(), f"the output says the split is random\n{r}"
    r = strata("train", "--training-set", "one", "--rounds", 20, "--early-stopping", 5, "--format", "json",
               db=db)
    assert r.rc == 0, f"one cutoff with early stopping\n{r}"
    doc = json.loads(r.out)
    assert find_test_metric(doc, "auc") is not None, f"test metrics\n{r}"


def test_predictions_have_reason_columns(base):
    cols = ", ".join(f"reason_{i}_{p}" for i in (1, 2, 3) for p in ("feature", "value", "contribution"))
    rows = jrun("query", f"SELECT msno, churn_probability, bucket, {cols} FROM risk", db=base.store)
    assert len(rows) == len(base.members)
    ts_cols = set(jrun("query", "SELECT * FROM w1 LIMIT 1", db=base.store)[0]) - {"msno", "cutoff_date", "is_churn"}
    risky = [r for r in rows if r["bucket"] in ("A", "B")]
    assert risky, "fixture: some users in buckets A/B"
    for r in risky:
        assert r["reason_1_feature"] in ts_cols, r
        # text of the feature's value; NULL when the feature value is NULL
        assert r["reason_1_value"] is None or isinstance(r["reason_1_value"], str), f"reason values are text: {r}"
        assert isinstance(r["reason_1_contribution"], (int, float)) and not isinstance(
            r["reason_1_contribution"], bool), r
    assert any(isinstance(r["reason_1_value"], str) and r["reason_1_value"] for r in risky), \
        "reason_1_value holds the value's text (e.g. '0', '1783.092')"


# ---------------------------------------------------------------------------------------------------------
# Found by an adversarial review of the conventions (each was a bug once).

def test_subcommand_version_flag_is_not_the_program_version(base):
    # `--version` means a store version where a command has it, and is unknown elsewhere: never a
    # silent no-op printing the program's version.
    for args in (("ingest", base.fresh_tx, "--version", 3), ("gc", "--version", 3), ("drop", "risk", "--version", 3)):
        r = strata(*args, db=base.store)
        assert r.rc == 2 and "Unknown option '--version'" in r.err, r
    # Version 0 (the empty store before the first commit) is not a version to ask for: a usage error.
    r = strata("scan", "labels", "--version", 0, db=base.store)
    assert r.rc == 2 and "1 or more" in r.err, r
    r = strata("scan", "labels", "--version", 999, db=base.store)
    assert r.rc == 1 and "version 999 does not exist" in r.err, r


def test_json_quotes_every_string_value(scratch, tmp_path):
    data = tmp_path / "codes.csv"
    msno = jrun("scan", "members", "--limit", 1, db=scratch)[0]["msno"]
    data.write_text(f"msno,code\n{msno},007\n{msno},Infinity\n{msno},1e5\n{msno},\x1b[2Jx\n")
    ok(strata("ingest", "--table", "codes", "--infer-schema", data, db=scratch))
    rows = jrun("scan", "codes", db=scratch)
    assert [r["code"] for r in rows] == ["007", "Infinity", "1e5", "\x1b[2Jx"], rows
    # In the text table a control character is shown, not sent to the terminal.
    table = ok(strata("scan", "codes", db=scratch)).out
    assert "\x1b" not in table and "\\u{1B}[2Jx" in table, table


def test_names_differing_only_in_case_and_entity_columns_other_than_msno(scratch, tmp_path):
    data = tmp_path / "t.csv"
    data.write_text("msno,offer_date\nx,20160105\n")
    r = strata("ingest", "--table", "Members", "--infer-schema", data, db=scratch)
    assert r.rc == 1 and "only in case" in r.err, r
    schema = tmp_path / "s.yaml"
    schema.write_text("columns:\n  - {name: msno, type: entity}\n  - {name: offer_date, type: entity}\n")
    before = jrun("tables", db=scratch)
    r = strata("ingest", "--table", "offers", "--schema", schema, data, db=scratch)
    assert r.rc == 1 and "only a column named msno can be of type entity" in r.err, r
    assert jrun("tables", db=scratch) == before


def test_schema_alias_bomb_is_cheap(scratch, tmp_path):
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        prev = chr(ord("a") + level - 1)
        cur = chr(ord("a") + level)
        bomb.append(f"{cur}: &{cur} [" + ", ".join(f"*{prev}" for _ in range(9)) + "]")
    schema = tmp_path / "bomb.yaml"
    schema.write_text("\n".join(bomb) + "\n")
    data = tmp_path / "t.csv"
    data.write_text("msno\nx\n")
    started = time.perf_counter()
    r = strata("ingest", "--table", "bomb", "--schema", schema, data, db=scratch)
    assert r.rc == 1 and "unknown key" in r.err, r
    assert time.perf_counter() - started < 10, "the aliases were expanded"


def test_export_refuses_links_and_writes_stdout(base, tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    r = strata("models", "export", "churn@1", "--to", "lightgbm", "--out", link, db=base.store)
    assert r.rc == 1 and "symbolic link" in r.err, r
    assert link.is_symlink() and target.read_text() == "keep"
    r = ok(strata("models", "export", "churn@1", "--to", "lightgbm", "--out", "-", db=base.store))
    assert r.out.startswith("tree\nversion=v4"), r.out[:200]
    r = strata("models", "export", "churn@1", "--to", "lightgbm", "--out", tmp_path / "missing" / "m.txt", db=base.store)
    assert r.rc == 1 and "does not exist" in r.err, r


def test_training_on_one_class_is_refused(base, scratch, tmp_path):
    zeros = tmp_path / "zeros.csv"
    zeros.write_text("msno,is_churn\n" + "".join(f"{m},0\n" for m in base.members[:200]))
    ok(strata("ingest", "--table", "zeros", "--cutoff", "2016-05-01", zeros, db=scratch))
    ok(strata("training-set", "--features", W1, "--labels", "zeros", "--out", "zset", db=scratch))
    r = strata("train", "--training-set", "zset", db=scratch)
    assert r.rc == 1 and "one class" in r.err, r


def test_column_names_with_control_characters_are_refused(scratch, tmp_path):
    data = tmp_path / "c.csv"
    data.write_bytes(b'"a\nb",msno\n1,A\n')
    r = strata("ingest", "--table", "c16", "--infer-schema", data, db=scratch)
    assert r.rc == 1 and "control character" in r.err, r
    data.write_bytes(b'"x\x1b[31mred",msno\n1,A\n')
    r = strata("ingest", "--table", "c17", "--infer-schema", data, db=scratch)
    assert r.rc == 1 and "\x1b" not in r.err, r


def test_cutoff_on_a_file_with_its_own_columns_is_refused(base, scratch):
    r = strata("ingest", "--cutoff", "2016-05-01", base.csv / "members.csv", "--allow-duplicate", db=scratch)
    assert r.rc == 1 and "--cutoff is for Kaggle's train.csv layout" in r.err, r


def test_scan_column_lists_and_ranges_are_checked(base):
    for args, text in ((("--columns", "msno,msno"), "twice"), (("--columns", ""), "empty column name"),
                       (("--from", "2016-03-02", "--to", "2016-03-01"), "is after --to"), (("--version", "-1"),  "1 or more")):
        r = strata("scan", "labels", *args, db=base.store)
        assert r.rc == 2 and text in r.err, r


def test_features_get_says_which_version_answered(base, scratch):
    apply_w1_v2(scratch, base)
    msno = base.msno
    # The online table is of v1: without a day, and with any day, v1 answers unless v2 is asked for.
    for args in ((), ("--as-of", "2016-06-01"), ("--as-of", "2016-05-01")):
        r = ok(strata("features", "get", msno, "--view", "w1", *args, db=scratch))
        assert r.out.startswith("w1 v1, "), r
    r = ok(strata("features", "get", msno, "--view", "w1@2", "--as-of", "2016-06-01", db=scratch))
    assert r.out.startswith("w1 v2, computed as of 2016-06-01"), r
    r = strata("features", "get", msno, "--view", "w1@2", db=scratch)
    assert r.rc == 1 and "pass --as-of" in r.err, r


@pytest.mark.parametrize("argv", [["tables"], ["ingest", "members.csv"], ["pipeline", "status"]])
def test_an_empty_store_path_is_refused_not_taken_for_the_root(tmp_path, argv):
    # "" + "/manifest" would be the file system's root: nothing may be written there.
    r = strata(*argv, db="", cwd=tmp_path)
    assert r.rc == 2 and "--db must name a directory" in r.err, r.err
    env = base_env()
    env["STRATA_DB"] = ""
    r = strata(*argv, env=env, cwd=tmp_path)
    assert r.rc == 2 and "STRATA_DB is set but empty" in r.err, r.err
    assert not os.path.exists("/manifest") and not os.path.exists("/PIPELINE.lock")

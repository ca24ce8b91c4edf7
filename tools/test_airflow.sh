#!/usr/bin/env bash
# Tests the Airflow DAG in tools/airflow/strata_dag.py (`strata_weekly`) in five phases:
#   1. a virtual environment with Apache Airflow, made once at ~/.cache/strata/airflow-venv
#      (STRATA_AIRFLOW_VENV overrides) and reused after;
#   2. a fresh Airflow home in a temporary folder and its metadata database (`airflow db migrate`);
#   3. the DAG's shape: it loads without import errors, has exactly the expected tasks and edges, the
#      branch task follows the right branch for every decision, `evaluate` runs after whichever branch
#      ran, every task retries, and the retry settings follow the environment;
#   4. `airflow dags test` with a stub `strata` written here, which records its arguments and reports the
#      decision it is told: decision "none" runs `no_training` and skips both training branches, decision
#      "retrain" runs `retrain` (whose stub step fails once, so a retry is proven too); evaluate..alert run
#      both times. This needs no Strata binary;
#   5. when tools/loop_fixture.sh exists: a real week with the strata binary (STRATA_BIN, by default
#      .build/release/strata) on the store the fixture builds, checked through `strata pipeline status`.
#      Without the fixture this phase is skipped with a message.
# Prints the time of each phase at the end. Exits non-zero when any check fails; the temporary folder is
# kept then, and its path printed, for the logs of each `airflow` command.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

AIRFLOW_PIN='apache-airflow==3.1.*'
VENV=${STRATA_AIRFLOW_VENV:-$HOME/.cache/strata/airflow-venv}
PY=$VENV/bin/python
AIRFLOW=$VENV/bin/airflow

TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-airflow.XXXXXX")
# Set before anything imports airflow, which otherwise makes ~/airflow.
export AIRFLOW_HOME=$TMP/airflow-home
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER=$REPO/tools/airflow
mkdir -p "$AIRFLOW_HOME"
phases=()
ok=0
finish() {
  echo
  echo "== phase times"
  local p
  for p in "${phases[@]}"; do echo "  $p"; done
  if [ "$ok" = 1 ]; then
    rm -rf "$TMP"
  else
    echo "test_airflow.sh: FAILED; logs kept in $TMP" >&2
  fi
}
trap finish EXIT

phase_start() { echo; echo "== $1"; phase_name=$1; phase_t0=$(date +%s%N); }
# Records the phase's time (in $phase_seconds too), with an optional note: phase_end [NOTE]
phase_end() {
  phase_seconds=$(seconds_since "$phase_t0")
  phases+=("$(printf '%-60s %7s s' "$phase_name${1:+ ($1)}" "$phase_seconds")")
}
fail() { echo "test_airflow.sh: $*" >&2; exit 1; }
seconds_since() { awk -v ns=$(( $(date +%s%N) - $1 )) 'BEGIN { printf "%.1f", ns / 1e9 }'; }

# Runs an airflow command with its (long) log in $TMP/NAME.log. When it fails, shows what the bash tasks
# ran and printed (Airflow logs that through its SubprocessHook), then the log's last lines.
airflow_logged() {
  local name=$1
  shift
  if ! "$AIRFLOW" "$@" >"$TMP/$name.log" 2>&1; then
    {
      echo "--- the tasks' commands and output (last 30 lines):"
      grep 'SubprocessHook' "$TMP/$name.log" | sed -E 's/ +\[airflow\.task\.hooks\..*//' | tail -n 30 || true
      echo "--- the end of the log:"
      tail -n 15 "$TMP/$name.log"
    } >&2
    fail "airflow $* failed (log: $TMP/$name.log)"
  fi
}

# ---------------------------------------------------------------------------------------------------
phase_start "1. Airflow virtual environment"
echo "at $VENV"
venv_ready() {
  [ -x "$PY" ] && [ -x "$AIRFLOW" ] && "$PY" - "$AIRFLOW_PIN" <<'EOF' 2>/dev/null
import fnmatch, sys
from importlib.metadata import version
import airflow.providers.standard  # noqa: F401  (BashOperator lives here in Airflow 3)
sys.exit(0 if fnmatch.fnmatch(version("apache-airflow"), sys.argv[1].split("==")[1]) else 1)
EOF
}
if venv_ready; then
  phase_end "cached"
else
  echo "installing $AIRFLOW_PIN into $VENV (a few minutes, once)"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
  "$PY" -m pip install -q "$AIRFLOW_PIN"
  venv_ready || fail "$VENV has no working $AIRFLOW_PIN after the install"
  phase_end "installed"
  echo "the install took $phase_seconds s"
fi
echo "Airflow $("$PY" -c 'from importlib.metadata import version; print(version("apache-airflow"))'), $("$PY" --version)"

# ---------------------------------------------------------------------------------------------------
phase_start "2. Airflow home and metadata database"
airflow_logged db-migrate db migrate
echo "metadata database at $AIRFLOW_HOME/airflow.db"
phase_end

# ---------------------------------------------------------------------------------------------------
phase_start "3. DAG structure"
cat >"$TMP/check_structure.py" <<'EOF'
"""Loads tools/airflow/ the way the scheduler does and checks strata_weekly's shape and branch logic."""
import os
import sys
import tempfile
from datetime import timedelta

dags_folder = sys.argv[1]
# Parsing must work without any of the Strata variables set.
for name in ("STRATA_BIN", "STRATA_DB", "STRATA_CONFIG", "STRATA_AIRFLOW_RETRIES", "STRATA_AIRFLOW_RETRY_DELAY_SECONDS"):
    os.environ.pop(name, None)

try:
    from airflow.dag_processing.dagbag import DagBag  # where newer Airflow 3 releases keep it
except ImportError:
    from airflow.models.dagbag import DagBag
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.branch import BranchMixIn

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def load():
    bag = DagBag(dag_folder=dags_folder, include_examples=False)
    if bag.import_errors:
        sys.exit(f"import errors: {bag.import_errors}")
    if set(bag.dags) != {"strata_weekly"}:
        sys.exit(f"expected exactly the DAG strata_weekly, found {sorted(bag.dags)}")
    return bag.dags["strata_weekly"]


dag = load()
UPSTREAM = {
    "ingest": set(),
    "verify": {"ingest"},
    "materialize": {"verify"},
    "monitor": {"materialize"},
    "decide": {"monitor"},
    "retrain": {"decide"},
    "re_experiment": {"decide"},
    "no_training": {"decide"},
    "evaluate": {"retrain", "re_experiment", "no_training"},
    "stage": {"evaluate"},
    "uat": {"stage"},
    "promote": {"uat"},
    "predict": {"promote"},
    "report": {"predict"},
    "alert": {"report"},
}
DOWNSTREAM = {task: {t for t, ups in UPSTREAM.items() if task in ups} for task in UPSTREAM}
STEP_OF = {t: t for t in UPSTREAM if t not in ("decide", "no_training", "retrain", "re_experiment")}
STEP_OF.update(retrain="train", re_experiment="train", no_training="train")

check(set(dag.task_dict) == set(UPSTREAM),
      f"task ids: missing {sorted(set(UPSTREAM) - set(dag.task_dict))}, unexpected {sorted(set(dag.task_dict) - set(UPSTREAM))}")
for task_id, task in dag.task_dict.items():
    if task_id not in UPSTREAM:
        continue
    check(set(task.upstream_task_ids) == UPSTREAM[task_id],
          f"{task_id}: upstream {sorted(task.upstream_task_ids)}, expected {sorted(UPSTREAM[task_id])}")
    check(set(task.downstream_task_ids) == DOWNSTREAM[task_id],
          f"{task_id}: downstream {sorted(task.downstream_task_ids)}, expected {sorted(DOWNSTREAM[task_id])}")
    check(task.retries > 0, f"{task_id}: retries {task.retries}, expected more than 0")
    expected_rule = "none_failed_min_one_success" if task_id == "evaluate" else "all_success"
    check(task.trigger_rule == expected_rule, f"{task_id}: trigger rule {task.trigger_rule}, expected {expected_rule}")
    if task_id in STEP_OF:
        command = task.bash_command if isinstance(task, BashOperator) else ""
        check(isinstance(task, BashOperator), f"{task_id}: a {type(task).__name__}, expected a BashOperator")
        for part in (f"pipeline step {STEP_OF[task_id]} ", '--db "${STRATA_DB', '--config "${STRATA_CONFIG',
                     "--as-of {{ ds }}", '"${STRATA_BIN:-strata}"'):
            check(part in command, f"{task_id}: command {command!r} lacks {part!r}")

decide = dag.task_dict.get("decide")
check(isinstance(decide, BranchMixIn), f"decide is a {type(decide).__name__}, not a branch operator")
check(dag.schedule == "@weekly" and dag.timetable.summary in ("@weekly", "0 0 * * 0"),
      f"schedule {dag.schedule!r} ({dag.timetable.summary!r}), expected @weekly")
check(dag.catchup is False, "catchup is on")
check("strata" in dag.tags, f"tags {dag.tags} lack 'strata'")
check(dag.start_date is not None, "no start_date")

# Retry defaults, and the environment overriding them (read when the file is parsed).
check(all(t.retries == 2 and t.retry_delay == timedelta(minutes=1) for t in dag.tasks),
      "default retries are not 2 with a 1-minute delay")
os.environ.update(STRATA_AIRFLOW_RETRIES="5", STRATA_AIRFLOW_RETRY_DELAY_SECONDS="0")
overridden = load()
check(all(t.retries == 5 and t.retry_delay == timedelta(0) for t in overridden.tasks),
      "STRATA_AIRFLOW_RETRIES / STRATA_AIRFLOW_RETRY_DELAY_SECONDS do not set retries and retry_delay")
for name in ("STRATA_AIRFLOW_RETRIES", "STRATA_AIRFLOW_RETRY_DELAY_SECONDS"):
    del os.environ[name]

# The branch function itself, on a stub `strata pipeline status` that prints what it is told.
stub_dir = tempfile.mkdtemp()
stub = os.path.join(stub_dir, "strata")
with open(stub, "w") as f:
    f.write('#!/bin/sh\n[ "$1 $2 $3 $4 $5 $6 $7 $8" = "pipeline status --db /the/store --as-of 2016-03-06 --format json" ]'
            ' || { echo "unexpected arguments: $*" >&2; exit 2; }\n'
            '[ -n "$STUB_EXIT" ] && { echo "no such run" >&2; exit "$STUB_EXIT"; }\n'
            'echo "$STUB_JSON"\n')
os.chmod(stub, 0o755)
os.environ.update(STRATA_BIN=stub, STRATA_DB="/the/store")
function = decide.python_callable
for decision, branch in {"none": "no_training", "watch": "no_training", "retrain": "retrain",
                         "re-experiment": "re_experiment"}.items():
    os.environ["STUB_JSON"] = f'{{"id": "pipe-000001", "as_of": "2016-03-06", "status": "running", "decision": "{decision}", "steps": []}}'
    try:
        got = function(ds="2016-03-06")
    except Exception as error:  # noqa: BLE001
        got = f"raised {error!r}"
    check(got == branch, f"decide on decision {decision!r}: {got!r}, expected {branch!r}")
    check(got in decide.downstream_task_ids, f"decide's branch {got!r} is not one of its downstream tasks")
for case, json_text, exit_code in (("decision null", '{"status": "running", "decision": null}', ""),
                                   ("unknown decision", '{"status": "running", "decision": "maybe"}', ""),
                                   ("not JSON", "pipe-000001 running", ""),
                                   ("status failing", "", "1")):
    os.environ.update(STUB_JSON=json_text, STUB_EXIT=exit_code)
    try:
        got = function(ds="2016-03-06")
        failures.append(f"decide on {case}: returned {got!r} instead of failing")
    except Exception as error:  # noqa: BLE001
        print(f"  decide on {case} fails as it should: {error}")

if failures:
    print("\n".join("FAIL: " + f for f in failures), file=sys.stderr)
    sys.exit(1)
print(f"  {len(dag.task_dict)} tasks, {sum(len(t.downstream_task_ids) for t in dag.tasks)} edges, branches and retries as expected")
EOF
# Airflow's own log lines (timestamped) and warnings are left in the .out/.err files.
quiet() { grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T|Warning' "$1" || true; }
if "$PY" "$TMP/check_structure.py" "$REPO/tools/airflow" >"$TMP/check_structure.out" 2>"$TMP/check_structure.err"; then
  quiet "$TMP/check_structure.out"
else
  quiet "$TMP/check_structure.out"
  quiet "$TMP/check_structure.err" >&2
  fail "the DAG's structure is not as expected"
fi
phase_end

# ---------------------------------------------------------------------------------------------------
# Prints {"state": ..., "tasks": {task_id: [state, try_number]}} for the newest strata_weekly run of a day.
cat >"$TMP/run_states.py" <<'EOF'
import json
import sys
from datetime import datetime, timezone

from sqlalchemy import select

from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session

day = datetime.strptime(sys.argv[1], "%Y-%m-%d").replace(tzinfo=timezone.utc)
with create_session() as session:
    runs = session.scalars(select(DagRun).where(DagRun.dag_id == "strata_weekly", DagRun.logical_date == day)
                           .order_by(DagRun.id)).all()
    if not runs:
        sys.exit(f"no strata_weekly run for {sys.argv[1]}")
    tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == "strata_weekly",
                                                     TaskInstance.run_id == runs[-1].run_id)).all()
    print(json.dumps({"state": str(runs[-1].state), "tasks": {t.task_id: [str(t.state), t.try_number] for t in tis}}))
EOF

# check_run DAY DECISION: the Airflow run of DAY succeeded, the branch for DECISION ran, the other two
# were skipped and every other task succeeded.
check_run() {
  "$PY" "$TMP/run_states.py" "$1" >"$TMP/states-$1.json" 2>"$TMP/states-$1.err" || { cat "$TMP/states-$1.err" >&2; fail "no run states for $1"; }
  "$PY" - "$TMP/states-$1.json" "$2" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
branch = {"none": "no_training", "watch": "no_training", "retrain": "retrain", "re-experiment": "re_experiment"}[sys.argv[2]]
tasks = {task: state for task, (state, _) in run["tasks"].items()}
expected = {task: "success" for task in ["ingest", "verify", "materialize", "monitor", "decide", "evaluate", "stage",
                                         "uat", "promote", "predict", "report", "alert"]}
expected.update({b: ("success" if b == branch else "skipped") for b in ["retrain", "re_experiment", "no_training"]})
problems = [f"{t}: {tasks.get(t)}, expected {s}" for t, s in expected.items() if tasks.get(t) != s]
if run["state"] != "success":
    problems.append(f"the DAG run is {run['state']}, expected success")
if problems:
    sys.exit("Airflow run states wrong: " + "; ".join(problems))
print(f"  Airflow: run success, {branch} ran, the other branches skipped, every other task succeeded")
EOF
}

phase_start "4. airflow dags test, stub strata (branches, retries)"
STUB_DIR=$TMP/stub
mkdir -p "$STUB_DIR"
cat >"$STUB_DIR/strata" <<'EOF'
#!/usr/bin/env bash
# Stub strata for test_airflow.sh: records its arguments; `pipeline status` reports $STUB_DECISION;
# `pipeline step $STUB_FAIL_ONCE` fails on its first call only.
echo "$*" >>"$STUB_LOG"
echo "stub strata: $*" >&2
if [ "$1 $2" = "pipeline status" ]; then
  printf '{"id": "pipe-000001", "as_of": "%s", "status": "running", "decision": "%s", "steps": []}\n' "$6" "$STUB_DECISION"
elif [ "$1 $2" = "pipeline step" ] && [ "$3" = "${STUB_FAIL_ONCE:-}" ] && [ ! -e "$STUB_LOG.failed" ]; then
  touch "$STUB_LOG.failed"
  echo "stub strata: $3 fails this once" >&2
  exit 1
fi
EOF
chmod +x "$STUB_DIR/strata"

stub_week() {  # DAY DECISION FAIL_ONCE EXPECTED_STEPS...
  local day=$1 decision=$2 fail_once=$3
  shift 3
  echo "-- $day: decision $decision${fail_once:+, step $fail_once failing once}"
  local t0
  t0=$(date +%s%N)
  STRATA_BIN=$STUB_DIR/strata STRATA_DB=$TMP/stub-store STRATA_CONFIG=$TMP/stub-pipeline.yaml \
    STRATA_AIRFLOW_RETRIES=1 STRATA_AIRFLOW_RETRY_DELAY_SECONDS=0 \
    STUB_LOG=$TMP/stub-$day.log STUB_DECISION=$decision STUB_FAIL_ONCE=$fail_once \
    airflow_logged "dags-test-$day" dags test strata_weekly "$day"
  echo "  airflow dags test: exit 0 in $(seconds_since "$t0") s"
  local expected="" s
  for s in "$@"; do
    if [ "$s" = status ]; then
      expected+="pipeline status --db $TMP/stub-store --as-of $day --format json"$'\n'
    else
      expected+="pipeline step $s --db $TMP/stub-store --config $TMP/stub-pipeline.yaml --as-of $day"$'\n'
    fi
  done
  if [ "$(cat "$TMP/stub-$day.log" 2>/dev/null)"$'\n' != "$expected" ]; then
    diff <(printf '%s' "$expected") "$TMP/stub-$day.log" >&2 || true
    fail "dags test $day: the stub was not called as expected (diff: expected < > got)"
  fi
  echo "  strata calls in order: $(awk '{printf "%s ", ($1 == "pipeline" && $2 == "step") ? $3 : $2}' "$TMP/stub-$day.log")"
  check_run "$day" "$decision"
}
# A week without training still calls `train`, which records itself skipped (evaluate requires it).
TRAINLESS=(ingest verify materialize monitor status train evaluate stage uat promote predict report alert)
stub_week 2016-03-06 none "" "${TRAINLESS[@]}"
# The retrain week: `train` runs, and `uat` fails once and passes on its retry.
stub_week 2016-03-13 retrain uat ingest verify materialize monitor status train evaluate stage uat uat promote predict report alert
phase_end

# ---------------------------------------------------------------------------------------------------
phase_start "5. airflow dags test, real strata (tools/loop_fixture.sh)"
if [ ! -e tools/loop_fixture.sh ]; then
  echo "SKIP: tools/loop_fixture.sh does not exist yet, so no real week is run (phases 1-4 passed)"
  phase_end "skipped"
else
  STRATA_BIN=${STRATA_BIN:-$REPO/.build/release/strata}
  case $STRATA_BIN in /*) ;; */*) STRATA_BIN=$REPO/$STRATA_BIN ;; esac
  [ -x "$STRATA_BIN" ] || command -v "$STRATA_BIN" >/dev/null || fail "no strata binary at $STRATA_BIN (build it with swift build -c release, or set STRATA_BIN)"
  export STRATA_BIN
  FIXTURE=$TMP/fixture
  mkdir -p "$FIXTURE"
  t0=$(date +%s%N)
  bash tools/loop_fixture.sh "$FIXTURE" >"$TMP/loop_fixture.out" 2>"$TMP/loop_fixture.err" \
    || { tail -n 30 "$TMP/loop_fixture.err" >&2; fail "tools/loop_fixture.sh failed"; }
  DAY=$(tail -n 1 "$TMP/loop_fixture.out")
  [[ $DAY =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || fail "tools/loop_fixture.sh's last line is '$DAY', not a day YYYY-MM-DD"
  # The store itself is made by the run's ingest step.
  [ -e "$FIXTURE/pipeline.yaml" ] || fail "tools/loop_fixture.sh made no $FIXTURE/pipeline.yaml"
  echo "-- tools/loop_fixture.sh took $(seconds_since "$t0") s"
  # real_week DAY: `airflow dags test` of DAY on the fixture's store; sets DECISION.
  real_week() {
  local DAY=$1
  echo "-- $DAY on $FIXTURE/store with $STRATA_BIN"
  t0=$(date +%s%N)
  STRATA_DB=$FIXTURE/store STRATA_CONFIG=$FIXTURE/pipeline.yaml STRATA_AIRFLOW_RETRIES=1 STRATA_AIRFLOW_RETRY_DELAY_SECONDS=0 \
    airflow_logged "dags-test-real-$DAY" dags test strata_weekly "$DAY"
  echo "  airflow dags test: exit 0 in $(seconds_since "$t0") s"
  "$STRATA_BIN" pipeline status --db "$FIXTURE/store" --as-of "$DAY" --format json >"$TMP/real-status-$DAY.json" \
    || fail "strata pipeline status failed after the Airflow run"
  DECISION=$("$PY" - "$TMP/real-status-$DAY.json" <<'EOF'
import json, sys
STEPS = ["ingest", "verify", "materialize", "monitor", "train", "evaluate", "stage", "uat", "promote", "predict",
         "report", "alert"]
run = json.load(open(sys.argv[1]))
problems = []
if run.get("status") != "succeeded":
    problems.append(f"status {run.get('status')!r}, expected 'succeeded'")
steps = {s["name"]: s for s in run.get("steps", [])}
if sorted(steps) != sorted(STEPS):
    problems.append(f"steps {sorted(steps)}, expected {sorted(STEPS)}")
problems += [f"step {n}: {s['status']} ({s.get('error')})" for n, s in steps.items() if s.get("status") not in ("done", "skipped")]
if run.get("decision") not in ("none", "watch", "retrain", "re-experiment"):
    problems.append(f"decision {run.get('decision')!r}")
if problems:
    sys.exit("strata pipeline status after the Airflow run: " + "; ".join(problems))
print(run["decision"])
EOF
  ) || fail "the real week is not recorded as succeeded (status: $TMP/real-status.json)"
  echo "  strata: $("$PY" -c 'import json,sys; r=json.load(sys.stdin); print(r["id"], r["status"], "decision", r["decision"], "|", " ".join(s["name"]+"="+s["status"] for s in r["steps"]))' <"$TMP/real-status-$DAY.json")"
  check_run "$DAY" "$DECISION"
  }
  real_week "$DAY"
  # The month after, with its files in the inbox: the first model is in production, nothing has drifted,
  # so the week goes through no_training (whose train step records itself skipped).
  cp "$FIXTURE/drops/2016-10-01"/*.csv "$FIXTURE/inbox/"
  real_week 2016-10-01
  [[ $DECISION == none || $DECISION == watch ]] || fail "the second week decided $DECISION: a week without drift should not train"
  phase_end
fi

ok=1
echo
echo "test_airflow.sh: all checks passed"

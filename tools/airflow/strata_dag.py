"""Strata's weekly continuous-training run as an Airflow 3 DAG (`strata_weekly`).

Each task runs one step of `strata pipeline` for the run's day ({{ ds }}); Strata itself records what
each step did, so a task that is retried, or a DAG run that is cleared and started again, picks up
where the recorded run stopped. The only decision taken in Python is which training branch to show:
`decide` reads the monitor's recorded decision from `strata pipeline status` and follows
`retrain`, `re_experiment` or `no_training`. All three branches run the same `train` step, which acts
on the recorded decision itself (with none or watch it records itself skipped, which the steps after it
require); the branch only makes the choice visible in the Airflow UI.

Environment (read when a task runs, so parsing the file never needs them):
  STRATA_BIN     the strata binary (default: `strata` on PATH)
  STRATA_DB      the feature store directory (required)
  STRATA_CONFIG  the pipeline.yaml (required)
Read when the file is parsed (defaults for production; tests lower them):
  STRATA_AIRFLOW_RETRIES              retries of each step task (default 2)
  STRATA_AIRFLOW_RETRY_DELAY_SECONDS  wait before a retry (default 60)
"""

import json
import os
import subprocess
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

# The shell line every step task runs. `${VAR:?...}` stops the task with a plain message when the
# store or the config is not set, instead of letting strata complain about an empty path.
STEP_COMMAND = (
    '"${STRATA_BIN:-strata}" pipeline step %s'
    ' --db "${STRATA_DB:?STRATA_DB is not set}"'
    ' --config "${STRATA_CONFIG:?STRATA_CONFIG is not set}"'
    " --as-of {{ ds }}"
)

# What each decision of the monitor step leads to.
BRANCHES = {
    "retrain": "retrain",
    "re-experiment": "re_experiment",
    "none": "no_training",
    "watch": "no_training",
}


def step(task_id, name=None, **kwargs):
    """A task that runs `strata pipeline step NAME` (NAME defaults to the task id)."""
    return BashOperator(task_id=task_id, bash_command=STEP_COMMAND % (name or task_id), **kwargs)


with DAG(
    dag_id="strata_weekly",
    description="Strata: ingest, monitor drift, retrain when needed, predict and report, weekly",
    schedule="@weekly",
    # Far back, so that `airflow dags test` and backfills of past days (Strata's data is historical) get
    # tasks: Airflow creates no task instance for a day before start_date and calls such a run a success
    # without running anything. With catchup off, the scheduler still starts only the latest week.
    start_date=datetime(2000, 1, 1),
    catchup=False,
    # Two runs at once would race on the same store.
    max_active_runs=1,
    tags=["strata", "churn", "continuous-training"],
    default_args={
        "retries": int(os.environ.get("STRATA_AIRFLOW_RETRIES", "2")),
        "retry_delay": timedelta(seconds=float(os.environ.get("STRATA_AIRFLOW_RETRY_DELAY_SECONDS", "60"))),
    },
) as dag:
    ingest = step("ingest")
    verify = step("verify")
    materialize = step("materialize")
    monitor = step("monitor")

    @task.branch(task_id="decide")
    def decide(ds=None):
        """Follow the decision the monitor step recorded for this day."""
        if not os.environ.get("STRATA_DB"):
            raise RuntimeError("STRATA_DB is not set")
        command = [
            os.environ.get("STRATA_BIN") or "strata",
            "pipeline", "status",
            "--db", os.environ["STRATA_DB"],
            "--as-of", ds,
            "--format", "json",
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"strata pipeline status exited {done.returncode}: {done.stderr.strip()}")
        try:
            decision = json.loads(done.stdout).get("decision")
        except (ValueError, AttributeError):
            raise RuntimeError(f"strata pipeline status did not print a JSON object: {done.stdout[:500]!r}")
        if decision not in BRANCHES:
            # null means the monitor step has not been recorded as done; anything else is a decision
            # this DAG does not know, and guessing a branch would be worse than stopping.
            raise ValueError(f"no branch for the monitor's decision {decision!r} on {ds}")
        print(f"monitor decided {decision!r}: following {BRANCHES[decision]}")
        return BRANCHES[decision]

    retrain = step("retrain", "train")
    re_experiment = step("re_experiment", "train")
    no_training = step("no_training", "train")

    # Exactly one of the three branches runs and the other two are skipped: evaluate must run when
    # any one of them succeeded, and must not when one failed.
    evaluate = step("evaluate", trigger_rule="none_failed_min_one_success")

    ingest >> verify >> materialize >> monitor >> decide() >> [retrain, re_experiment, no_training] >> evaluate
    evaluate >> step("stage") >> step("uat") >> step("promote") >> step("predict") >> step("report") >> step("alert")

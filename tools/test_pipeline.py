"""The continuous-training pipeline (issue 14), end to end with the strata binary on generated data:

* a run on the loop fixture (tools/loop_fixture.sh) trains the first model, gates it, stages it, checks it,
  promotes it, predicts, reports; a second `pipeline run` for the same day changes nothing;
* SIGKILL at random moments, ten times (five runs killed twice each): each rerun finishes with the outcome of an uninterrupted run
  (decision, production model, its trees, the predictions) and `strata verify` passes every time;
* a deliberately bad challenger fails the gates: the champion stays in production and the alert reaches a
  webhook;
* `pipeline step` runs steps in order only; bad input (a malformed config, an empty inbox, a file that fails
  ingest) is a clear error or a recorded failed step, never a half-promoted model.

Run:    python3 -m pytest -q -p no:cacheprovider tools/test_pipeline.py
Binary: $STRATA_BIN, default <repo>/.build/debug/strata.
"""
import hashlib
import http.server
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = os.environ.get("STRATA_BIN", os.path.join(REPO, ".build", "debug", "strata"))


def strata(*args, check=True):
    result = subprocess.run([STRATA, *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"strata {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
    return result


def status(store, day):
    return json.loads(strata("pipeline", "status", "--db", store, "--as-of", day, "--format", "json").stdout)


def outcome(store, day):
    """What a run decided and left behind: the decision, the production model and its trees, the predictions."""
    run = status(store, day)
    models = strata("models", "list", "--db", store, "--format", "csv").stdout
    production = [line for line in models.splitlines() if ",production," in line]
    predictions = strata("query", "--db", store, "--format", "csv",
                         "SELECT msno, churn_probability, bucket FROM predictions ORDER BY msno").stdout
    trees = strata("models", "export", "--db", store, "churn@production", "--format", "lightgbm", check=False).stdout
    return {
        "status": run["status"], "decision": run["decision"],
        "steps": {s["name"]: s["status"] for s in run["steps"]},
        "production": [line.split(",")[0:2] for line in production],
        "predictions": hashlib.sha256(predictions.encode()).hexdigest(),
        "trees": hashlib.sha256(trees.encode()).hexdigest(),
    }


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    if not os.path.exists(STRATA):
        pytest.skip(f"{STRATA} is missing: build it first (swift build)")
    base = tmp_path_factory.mktemp("loop")
    # Smaller and faster than the fixture's defaults: this test runs the pipeline many times, with a debug build.
    result = subprocess.run([os.path.join(REPO, "tools", "loop_fixture.sh"), base], capture_output=True, text=True,
                            env={**os.environ, "STRATA_BIN": STRATA, "LOOP_MEMBERS": "900"})
    assert result.returncode == 0, result.stderr
    day = result.stdout.split()[-1]
    (base / "pipeline.yaml").write_text("inbox: inbox\nfeatures: churn.yaml\ntraining: {months: 6, rounds: 40}\nuat: {rows: 100}\n")
    (base / "with-report.yaml").write_text("inbox: inbox\nfeatures: churn.yaml\ntraining: {months: 6, rounds: 40}\nuat: {rows: 100}\nreport: {out: reports}\n")
    return base, day


def fresh_copy(base, name):
    """A copy of the fixture's inputs with no store yet."""
    target = base.parent / f"{base.name}-{name}"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("store", "reports", "data"))
    return target


def test_a_run_trains_gates_promotes_predicts_and_reports_and_a_second_run_changes_nothing(fixture):
    base, day = fixture
    work = fresh_copy(base, "clean")
    store = work / "store"
    result = strata("pipeline", "run", "--db", store, "--config", work / "with-report.yaml", "--as-of", day)
    run = status(store, day)
    assert run["status"] == "succeeded", result.stdout
    assert run["decision"] == "retrain" and "no churn model is in production" in run["reason"]
    steps = {s["name"]: s for s in run["steps"]}
    assert [s["name"] for s in run["steps"]] == ["ingest", "verify", "materialize", "monitor", "train", "evaluate", "stage", "uat",
                                                 "promote", "predict", "report", "alert"]
    assert all(s["status"] == "done" for s in run["steps"]), steps
    assert steps["train"]["outputs"]["challenger"] == "churn@1"
    assert steps["evaluate"]["outputs"]["gates"] == "passed"
    assert steps["uat"]["outputs"]["uat"] == "passed" and steps["uat"]["outputs"]["max_score_gap"] == "0.0"
    assert steps["promote"]["outputs"]["production"] == "churn@1"
    assert int(steps["predict"]["outputs"]["rows"]) > 0
    assert os.path.exists(steps["report"]["outputs"]["html"])
    assert steps["ingest"]["store_version"] is not None and all(s["seconds"] is not None for s in run["steps"])
    assert len(run["alerts"]) == 1 and "decision retrain" in run["alerts"][0]
    versions = strata("versions", "--db", store, "--format", "csv").stdout
    again = strata("pipeline", "run", "--db", store, "--config", work / "with-report.yaml", "--as-of", day)
    assert "succeeded already" in again.stderr
    assert strata("versions", "--db", store, "--format", "csv").stdout == versions, "an idempotent rerun committed something"
    history = strata("pipeline", "history", "--db", store, "--format", "csv").stdout.splitlines()
    assert len(history) == 2 and history[1].startswith("pipe-000001,2016-09-01,succeeded,retrain,churn@1,passed,churn@1")
    assert strata("verify", "--db", store).returncode == 0


def test_sigkill_at_random_moments_then_rerun_gives_the_uninterrupted_outcome(fixture):
    """Ten kills: five fresh stores, each killed twice (the second time while it resumes), then resumed to the end."""
    base, day = fixture
    reference = fresh_copy(base, "reference")
    began = time.time()
    strata("pipeline", "run", "--db", reference / "store", "--config", reference / "pipeline.yaml", "--as-of", day)
    full = time.time() - began
    expected = outcome(reference / "store", day)
    rng = random.Random(14)
    kills = []
    for attempt in range(5):
        work = fresh_copy(base, f"kill-{attempt}")
        store = work / "store"
        for _ in range(2):
            delay = rng.uniform(0.05, full * 0.9)
            process = subprocess.Popen([STRATA, "pipeline", "run", "--db", store, "--config", work / "pipeline.yaml", "--as-of", day],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            killed = process.poll() is None
            if killed:
                process.send_signal(signal.SIGKILL)
            process.wait()
            if not os.path.isdir(store / "manifest"):
                kills.append((round(delay, 2), killed, "before the store existed"))
                continue
            assert strata("verify", "--db", store, check=False).returncode == 0, f"verify failed after a kill at {delay:.2f} s"
            interrupted = json.loads(strata("pipeline", "status", "--db", store, "--as-of", day, "--format", "json", check=False).stdout or "{}")
            # The step it was in: the first one not yet recorded as done or skipped.
            kills.append((round(delay, 2), killed, next((s["name"] for s in interrupted.get("steps", []) if s["status"] not in ("done", "skipped")), "finished")))
        strata("pipeline", "run", "--db", store, "--config", work / "pipeline.yaml", "--as-of", day)
        assert strata("verify", "--db", store).returncode == 0
        assert outcome(store, day) == expected, f"attempt {attempt}: kills {kills[-2:]} of a {full:.2f} s run"
    print("kills (seconds, killed, step it was in):", kills)
    assert sum(1 for _, killed, _ in kills if killed) >= 7, f"most kills must land while the pipeline runs: {kills}"


class Hook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_bad_challenger_fails_the_gates_keeps_the_champion_and_raises_the_alert(fixture):
    base, day = fixture
    work = fresh_copy(base, "gate")
    store = work / "store"
    strata("pipeline", "run", "--db", store, "--config", work / "pipeline.yaml", "--as-of", day)
    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # The next month: a challenger that cannot learn (every leaf needs more rows than exist) and a
        # policy that always retrains.
        (work / "always.yaml").write_text("deviation: max_psi\nbands: {watch: 0, retrain: 0, re_experiment: 1000}\n")
        for name in os.listdir(work / "drops" / "2016-10-01"):
            shutil.copy(work / "drops" / "2016-10-01" / name, work / "inbox" / name)
        (work / "bad.yaml").write_text(
            "inbox: inbox\nfeatures: churn.yaml\ntraining: {months: 6, rounds: 20, min_data_in_leaf: 10000000}\n"
            f"monitor: {{policy: always.yaml}}\nalert: {{webhook: 'http://127.0.0.1:{server.server_port}/hook'}}\n")
        strata("pipeline", "run", "--db", store, "--config", work / "bad.yaml", "--as-of", "2016-10-01")
    finally:
        server.shutdown()
    run = status(store, "2016-10-01")
    steps = {s["name"]: s for s in run["steps"]}
    assert run["status"] == "succeeded" and run["decision"] == "retrain"
    assert steps["train"]["outputs"]["challenger"] == "churn@2"
    assert steps["evaluate"]["outputs"]["gates"] == "failed" and "AUC" in steps["evaluate"]["outputs"]["failed_gates"]
    assert steps["stage"]["status"] == "skipped" and steps["uat"]["status"] == "skipped" and steps["promote"]["status"] == "skipped"
    assert steps["predict"]["outputs"]["model"] == "churn@1"
    models = strata("models", "list", "--db", store, "--format", "csv").stdout
    assert "churn,1,production" in models.replace(", ", ",") or ",production," in [l for l in models.splitlines() if l.startswith("churn,1")][0]
    assert not any(l.startswith("churn,2") and ("production" in l or "staging" in l) for l in models.splitlines())
    assert len(Hook.received) == 1 and "failed the gates" in Hook.received[0]["message"] and Hook.received[0]["gates"] == "failed"
    assert steps["alert"]["outputs"]["sent"] == "webhook"
    dashboard_drift_page(store, work)


def dashboard_drift_page(store, work):
    """The dashboard's drift page in headless Chromium: the histograms of the latest drift report (reference
    vs current, as SVG of non-zero size), the decisions, the pipeline runs; no console error."""
    import sys
    sys.path.insert(0, os.path.join(REPO, "tools"))
    from test_serve import browser
    driver = browser()
    if driver is None:
        if os.environ.get("STRATA_REQUIRE_BROWSER"):
            pytest.fail("chromium, chromedriver or selenium is missing (tools/setup.sh installs them)")
        return
    server = subprocess.Popen([STRATA, "serve", "--db", store, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from selenium.webdriver.common.by import By
        line = server.stdout.readline()
        assert "listening on http://" in line, line
        driver.get(line.split("listening on ")[1].split()[0] + "/drift")
        charts = driver.find_elements(By.CSS_SELECTOR, "#drift svg.chart")
        assert len(charts) == 7, f"{len(charts)} charts: the decisions and six histograms expected"
        assert all(c.size["width"] > 0 and c.size["height"] > 0 for c in charts)
        assert "reference" in charts[1].text and "current" in charts[1].text
        runs = driver.find_elements(By.CSS_SELECTOR, "#pipeline tr")
        assert len(runs) == 3 and "pipe-000002" in runs[1].text and "failed" in runs[1].text
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        shots = os.path.join(os.environ.get("STRATA_TEST_OUTPUT", os.path.join(REPO, "test-output")), "screenshots")
        os.makedirs(shots, exist_ok=True)
        assert driver.save_screenshot(os.path.join(shots, "drift.png"))
    finally:
        driver.quit()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def test_steps_run_in_order_and_bad_input_is_a_clear_error_or_a_recorded_failed_step(fixture):
    base, day = fixture
    work = fresh_copy(base, "bad")
    store = work / "store"
    config = work / "pipeline.yaml"
    # A step before its predecessors.
    result = strata("pipeline", "step", "train", "--db", store, "--config", config, "--as-of", day, check=False)
    assert result.returncode == 1 and "step ingest of pipe-000001" in result.stderr and "must be done before train" in result.stderr
    # A malformed config: refused before anything runs.
    (work / "broken.yaml").write_text("inbox: inbox\nfeatures: churn.yaml\ngates: {auc_epsilon: high}\n")
    result = strata("pipeline", "run", "--db", store, "--config", work / "broken.yaml", "--as-of", day, check=False)
    assert result.returncode == 1 and "gates.auc_epsilon must be a number" in result.stderr
    result = strata("pipeline", "step", "nonsense", "--db", store, "--config", config, "--as-of", day, check=False)
    assert result.returncode == 2 and "no pipeline step 'nonsense'" in result.stderr
    # A file that fails ingest: the step fails, is recorded, and the store keeps none of the inbox.
    with open(work / "inbox" / "transactions-2016-09-01.csv", "a") as handle:
        handle.write("not,a,valid,row\n" * 500)
    result = strata("pipeline", "run", "--db", store, "--config", config, "--as-of", day, check=False)
    assert result.returncode == 1 and "step ingest failed" in result.stderr
    run = status(store, day)
    assert run["status"] == "failed" and run["steps"][0]["status"] == "failed" and run["steps"][0]["error"]
    assert "transactions" not in strata("tables", "--db", store).stdout
    assert "production" not in strata("models", "list", "--db", store, "--format", "csv", check=False).stdout
    # Fixed: the same run resumes and succeeds.
    shutil.copy(base / "inbox" / "transactions-2016-09-01.csv", work / "inbox" / "transactions-2016-09-01.csv")
    strata("pipeline", "run", "--db", store, "--config", config, "--as-of", day)
    assert status(store, day)["status"] == "succeeded" and status(store, day)["steps"][0]["attempts"] == 2
    # The next week with nothing new in the inbox: a clear, recorded failure.
    result = strata("pipeline", "run", "--db", store, "--config", config, "--as-of", "2016-09-08", check=False)
    assert result.returncode == 1 and "holds no new CSV file" in result.stderr and "inbox_may_be_empty" in result.stderr
    assert status(store, "2016-09-08")["steps"][0]["status"] == "failed"
    # No new file allowed, but the data is a month old by the as-of day: the monitor refuses to read stale data as drift.
    (work / "stale.yaml").write_text(config.read_text() + "inbox_may_be_empty: true\n")
    result = strata("pipeline", "run", "--db", store, "--config", work / "stale.yaml", "--as-of", "2016-10-05", check=False)
    assert result.returncode == 1 and "step monitor failed" in result.stderr and "days earlier" in result.stderr and "max_data_age_days" in result.stderr, result.stderr
    stale = status(store, "2016-10-05")
    assert [s["status"] for s in stale["steps"][:4]] == ["skipped", "done", "done", "failed"]
    # Another config for a run already started is refused.
    (work / "other.yaml").write_text(config.read_text() + "search: {trials: 2}\n")
    result = strata("pipeline", "run", "--db", store, "--config", work / "other.yaml", "--as-of", "2016-09-08", check=False)
    assert result.returncode == 1 and "was started with another config" in result.stderr
    assert strata("verify", "--db", store).returncode == 0


def auc(labels, scores):
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    positives = sum(labels)
    negatives = len(labels) - positives
    return (sum(r for r, l in zip(ranks, labels) if l) - positives * (positives + 1) / 2) / (positives * negatives)


def test_concept_drift_and_the_serving_log_in_strata_monitor(fixture):
    """The production model's AUC on a month labelled after its training set equals an independent
    computation (predict on a training set, AUC in Python); the serving log is a current sample."""
    base, day = fixture
    work = fresh_copy(base, "concept")
    store = work / "store"
    strata("pipeline", "run", "--db", store, "--config", work / "pipeline.yaml", "--as-of", day)
    strata("ingest", "--db", store, *sorted((work / "drops" / "2016-10-01").glob("*.csv")))
    report = json.loads(strata("monitor", "--db", store, "--as-of", "2016-10-01", "--format", "json", "--no-record").stdout)
    assert [m["cutoff"] for m in report["performance"]] == ["2016-08-01"], report["performance"]
    month = report["performance"][0]
    strata("training-set", "--db", store, "--features", work / "churn.yaml", "--labels", "labels", "--out", "check_set")
    strata("predict", "--db", store, "--model", "churn@production", "--training-set", "check_set", "--out", "check_p", "--explain", "none")
    def month_rows(sql):
        return [line.split(",") for line in strata("query", "--db", store, "--format", "csv", sql).stdout.splitlines()[1:]]
    truth = {(m, c): int(l) for m, c, l in month_rows("SELECT msno, cutoff_date, is_churn FROM check_set WHERE cutoff_date = DATE '2016-08-01'")}
    scored = month_rows("SELECT msno, cutoff_date, churn_probability FROM check_p WHERE cutoff_date = DATE '2016-08-01'")
    rows = [(float(p), truth[(m, c)]) for m, c, p in scored]
    scores = [p for p, _ in rows]
    labels = [l for _, l in rows]
    assert month["rows"] == len(rows) and month["positives"] == sum(labels)
    assert abs(month["auc"] - auc(labels, scores)) < 1e-9
    assert report["deviations"] == {"drifted_share": report["driftedShare"]}, "the default policy measures the drifted share only"
    assert report["testAUC"] is not None and abs(month["aucDrop"] - max(0, (report["testAUC"] - month["auc"]) / report["testAUC"])) < 1e-12
    # The serving log: strata serve scores users and logs every request; the log is the current sample.
    users = strata("query", "--db", store, "--format", "csv", "SELECT msno FROM predictions LIMIT 40").stdout.split()[1:]
    server = subprocess.Popen([STRATA, "serve", "--db", store, "--listen", "127.0.0.1:0", "--log-sample", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "listening on http://" in line, line
        url = line.split("listening on ")[1].split()[0]
        import urllib.request
        request = urllib.request.Request(f"{url}/v1/score", data=json.dumps({"msno": users}).encode(),
                                         headers={"Content-Type": "application/json"})
        assert json.loads(urllib.request.urlopen(request, timeout=30).read())["model"] == "churn@1"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    report = json.loads(strata("monitor", "--db", store, "--current", "serving_log", "--since", today, "--as-of", today,
                               "--format", "json", "--no-record").stdout)
    assert report["currentRows"] == len(users) and report["current"].startswith("serving_log from")
    result = strata("monitor", "--db", store, "--current", "serving_log", "--since", "2001-01-01", "--as-of", "2001-01-31", check=False)
    assert result.returncode == 1 and "serving_log holds no vector" in result.stderr
    result = strata("monitor", "--db", store, "--current", "serving_log", "--as-of", today, check=False)
    assert result.returncode == 2 and "--since" in result.stderr
    # A drift report file that lies (a byte changed) is found by strata verify and refused when read.
    strata("monitor", "--db", store, "--as-of", "2016-10-01")
    assert strata("verify", "--db", store).returncode == 0
    drift = sorted((store / "drift").iterdir())[-1]
    data = bytearray(drift.read_bytes())
    data[len(data) // 2] ^= 0x01
    drift.write_bytes(bytes(data))
    result = strata("verify", "--db", store, check=False)
    assert result.returncode == 1 and drift.name in result.stdout + result.stderr
    assert "checksum" in (result.stdout + result.stderr)


def test_the_alert_goes_by_email_too(fixture):
    """The alert's email channel: an SMTP sink (aiosmtpd) receives the alert of a run whose decision is not none."""
    from aiosmtpd.controller import Controller

    class Sink:
        messages = []

        async def handle_DATA(self, server, session, envelope):
            Sink.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
            return "250 OK"

    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    base, day = fixture
    work = fresh_copy(base, "email")
    try:
        (work / "alert-email.yaml").write_text(f"smtp:\n  url: smtp://127.0.0.1:{port}\n  starttls: none\nfrom: strata@example.com\nto: [oncall@example.com]\n")
        (work / "mail.yaml").write_text((work / "pipeline.yaml").read_text() + "alert: {email: alert-email.yaml}\n")
        strata("pipeline", "run", "--db", work / "store", "--config", work / "mail.yaml", "--as-of", day)
    finally:
        controller.stop()
    assert status(work / "store", day)["steps"][-1]["outputs"]["sent"] == "email"
    assert len(Sink.messages) == 1
    sender, recipients, content = Sink.messages[0]
    assert sender == "strata@example.com" and recipients == ["oncall@example.com"]
    import email
    message = email.message_from_string(content)
    assert message["Subject"] == "Strata pipeline pipe-000001 as of 2016-09-01: action taken" and message["Date"]
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "decision retrain" in text and "churn@1 is now in production" in text


def test_a_challenger_left_in_staging_makes_way_for_the_next(fixture):
    """Staging holds one version: one left there (by hand, or by a failed acceptance check) is archived when the
    next challenger is staged, and the new one is checked and promoted."""
    base, day = fixture
    work = fresh_copy(base, "staging")
    store = work / "store"
    strata("pipeline", "run", "--db", store, "--config", work / "pipeline.yaml", "--as-of", day)
    strata("train", "--db", store, "--training-set", "pipeline_000001_training", "--rounds", "10", "--register", "churn")
    strata("models", "promote", "--db", store, "churn", "2", "--stage", "staging")
    for name in os.listdir(work / "drops" / "2016-10-01"):
        shutil.copy(work / "drops" / "2016-10-01" / name, work / "inbox" / name)
    (work / "always.yaml").write_text("deviation: max_psi\nbands: {watch: 0, retrain: 0, re_experiment: 1000}\n")
    (work / "next.yaml").write_text((work / "pipeline.yaml").read_text() + "monitor: {policy: always.yaml}\ngates: {auc_epsilon: 1, max_calibration_error: 1}\n")
    strata("pipeline", "run", "--db", store, "--config", work / "next.yaml", "--as-of", "2016-10-01")
    steps = {s["name"]: s for s in status(store, "2016-10-01")["steps"]}
    assert steps["stage"]["outputs"] == {"staging": "churn@3", "archived": "churn@2"}
    assert steps["uat"]["outputs"]["uat"] == "passed" and steps["promote"]["outputs"]["production"] == "churn@3"
    stages = {line.split(",")[1]: line.split(",")[2] for line in strata("models", "list", "--db", store, "--format", "csv").stdout.splitlines()[1:]}
    assert stages == {"1": "archived", "2": "archived", "3": "production"}, stages

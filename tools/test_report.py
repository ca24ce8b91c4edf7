"""Integration tests of `strata report` (issue 13): the email through a real SMTP server with STARTTLS and
login (aiosmtpd, started here, with a certificate made here by openssl), every part of what it received
checked with Python's email package; a malformed email config sends and commits nothing; the HTML report
in headless Chromium (no console error, every chart of non-zero size, a screenshot under
test-output/screenshots/); the Qini and uplift AUC of `strata train --model uplift` against scikit-uplift.

Run:    python3 -m pytest -q -p no:cacheprovider tools/test_report.py
Binary: $STRATA_BIN, default <repo>/.build/debug/strata.
"""
import email
import email.policy
import os
import shutil
import ssl
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATA = os.environ.get("STRATA_BIN", os.path.join(REPO, ".build", "debug", "strata"))
sys.path.insert(0, os.path.join(REPO, "tools"))
from test_serve import browser  # noqa: E402  (one way to start Chromium)

AS_OF = "20160701"


def strata(*args, check=True, env=None):
    done = subprocess.run([STRATA, *map(str, args)], capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        raise AssertionError(f"strata {' '.join(map(str, args))} exited {done.returncode}: {done.stderr}")
    return done


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    if not os.path.exists(STRATA):
        pytest.skip(f"{STRATA} is not built")
    root = tmp_path_factory.mktemp("strata_report")
    csv = root / "csv"
    store = str(root / "store")
    strata("generate", "--out", csv, "--members", 1500, "--months", 8, "--start", 20160101, "--label-months", 6)
    strata("ingest", "--db", store, *[csv / f"{t}.csv" for t in ("members", "transactions", "user_logs", "labels", "campaigns")])
    strata("training-set", "--db", store, "--features", os.path.join(REPO, "fixtures/features/w1.yaml"), "--labels", "labels", "--out", "w1")
    strata("train", "--db", store, "--training-set", "w1", "--register", "churn", "--rounds", 40, "--threads", 1)
    strata("models", "promote", "--db", store, "churn", 1, "--stage", "production")
    # Before any uplift model: the bucket policy of a file chooses the offers.
    (root / "policy.yaml").write_text("discounts: {A: 10, B: 30, C: 0}\n")
    policy = strata("report", "--db", store, "--as-of", "20160801", "--out", root / "policy-out", "--policy", root / "policy.yaml")
    bad_budget = strata("report", "--db", store, "--as-of", "20160801", "--out", root / "policy-out", "--budget", 100, check=False)
    strata("train", "--db", store, "--model", "uplift", "--rounds", 40, "--threads", 1)
    return {"root": root, "store": store, "csv": csv, "policy": policy, "bad_budget": bad_budget}


def test_without_campaign_data_the_bucket_policy_applies_and_says_so(base):
    assert "no uplift model in the store" in base["policy"].stdout and "A 10%, B 30%, C 0%" in base["policy"].stdout
    import csv as csvmodule
    with open(base["root"] / "policy-out" / "report-20160801.csv") as f:
        rows = list(csvmodule.DictReader(f))
    assert rows and all(int(r["discount_pct"]) == {"A": 10, "B": 30, "C": 0}[r["bucket"]] for r in rows)
    assert all(r["expected_value"] == "" for r in rows)
    assert base["bad_budget"].returncode == 1 and "need an uplift model" in base["bad_budget"].stderr


def versions(store):
    return strata("versions", "--db", store, "--format", "csv").stdout.count("\n")


@pytest.fixture(scope="module")
def smtp_server(base):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    if not shutil.which("openssl"):
        pytest.fail("openssl is missing (tools/setup.sh installs it)")
    cert, key = base["root"] / "cert.pem", base["root"] / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.authenticated))
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"reports" and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=authenticator, auth_require_tls=True)
    controller.start()
    yield {"port": port,
           "handler": handler, "cert": str(cert)}
    controller.stop()


def config(base, server, name="email.yaml", extra=""):
    path = base["root"] / name
    path.write_text(f"""smtp:
  url: smtp://localhost:{server['port']}
  starttls: required
  username: reports
  password_env: TEST_SMTP_PASSWORD
  ca_file: {server['cert']}
from: churn@example.com
to: [marketing@example.com, crm@example.com]
subject: "Weekly churn report {{as_of}}"
{extra}""")
    return str(path)


def test_the_report_arrives_with_every_part(base, smtp_server):
    out = base["root"] / "mail-out"
    env = dict(os.environ, TEST_SMTP_PASSWORD="s3cret")
    done = strata("report", "--db", base["store"], "--as-of", AS_OF, "--out", out, "--email", config(base, smtp_server), env=env)
    assert "sent to marketing@example.com, crm@example.com" in done.stdout
    assert len(smtp_server["handler"].messages) == 1
    sender, recipients, content, authenticated = smtp_server["handler"].messages[0]
    assert sender == "churn@example.com" and recipients == ["marketing@example.com", "crm@example.com"] and authenticated
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert message["Subject"] == "Weekly churn report 2016-07-01"
    assert message.get_content_type() == "multipart/mixed"
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Weekly churn report as of 2016-07-01" in plain and "Expected churners" in plain
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) >= 7
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        data = image.get_content()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 500
    assert "<svg" not in html  # mail clients get PNGs
    attachments = [part for part in message.iter_attachments() if part.get_filename() == "report-20160701.csv"]
    assert len(attachments) == 1
    assert attachments[0].get_content() == (out / "report-20160701.csv").read_text()


def test_a_wrong_password_or_config_sends_and_commits_nothing(base, smtp_server):
    before_messages, before_versions = len(smtp_server["handler"].messages), versions(base["store"])
    env = dict(os.environ, TEST_SMTP_PASSWORD="wrong")
    done = strata("report", "--db", base["store"], "--as-of", "20160801", "--out", base["root"] / "o2", "--email", config(base, smtp_server), env=env, check=False)
    assert done.returncode == 1 and "sending the report" in done.stderr, done.stderr
    for extra, expected in [("cc: [x@y.z]\n", "unknown key"), ("", "TEST_SMTP_PASSWORD")]:
        env = dict(os.environ)
        env.pop("TEST_SMTP_PASSWORD", None)
        if extra:
            env["TEST_SMTP_PASSWORD"] = "s3cret"
        done = strata("report", "--db", base["store"], "--as-of", "20160801", "--out", base["root"] / "o3",
                      "--email", config(base, smtp_server, "bad.yaml", extra), env=env, check=False)
        assert done.returncode == 1 and expected in done.stderr, done.stderr
        assert not (base["root"] / "o3").exists()
    assert len(smtp_server["handler"].messages) == before_messages
    assert versions(base["store"]) == before_versions
    truth = str(base["csv"] / "truth" / "campaign_response.csv")
    lines = open(truth).read().splitlines()
    half_truth = base["root"] / "half_truth.csv"
    half_truth.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    for args, expected in [(["--model", "nosuch@production"], "no model named nosuch"), (["--as-of", "19990101"], "no transaction before"),
                           (["--as-of", "20160501", "--truth", truth], "campaigns table has"), (["--uplift", "churn@1"], "not an uplift model"),
                           (["--truth", half_truth], "--truth covers"), (["--policy", base["root"] / "policy.yaml"], "--policy sets discounts by bucket")]:
        done = strata("report", "--db", base["store"], "--as-of", AS_OF, "--out", base["root"] / "o4", *args, check=False)
        assert done.returncode == 1 and expected in done.stderr, done.stderr
    assert versions(base["store"]) == before_versions


def test_twice_the_same_week_is_one_record_and_the_same_files(base):
    out1, out2 = base["root"] / "w1", base["root"] / "w2"
    strata("report", "--db", base["store"], "--as-of", "20160601", "--out", out1, "--dry-run")
    again = strata("report", "--db", base["store"], "--as-of", "20160601", "--out", out2, "--dry-run")
    assert "nothing committed" in again.stdout
    for suffix in ("csv", "html"):
        assert (out1 / f"report-20160601.{suffix}").read_bytes() == (out2 / f"report-20160601.{suffix}").read_bytes()
    listed = strata("report", "list", "--db", base["store"], "--format", "csv").stdout.splitlines()
    assert sum(1 for line in listed if line.startswith("2016-06-01")) == 1
    eml = email.message_from_bytes((out1 / "report-20160601.eml").read_bytes(), policy=email.policy.default)
    assert eml.get_body(preferencelist=("html",)) is not None


def test_the_html_report_in_a_browser(base):
    out = base["root"] / "browser"
    strata("report", "--db", base["store"], "--as-of", AS_OF, "--out", out, "--truth", base["csv"] / "truth" / "campaign_response.csv")
    shots = os.path.join(os.environ.get("STRATA_TEST_OUTPUT", os.path.join(REPO, "test-output")), "screenshots")
    os.makedirs(shots, exist_ok=True)
    driver = browser()
    if driver is None:
        if os.environ.get("STRATA_REQUIRE_BROWSER"):
            pytest.fail("chromium, chromedriver or selenium is missing (tools/setup.sh installs them)")
        pytest.skip("chromium, chromedriver or selenium is missing")
    try:
        from selenium.webdriver.common.by import By
        driver.get("file://" + str(out / "report-20160701.html"))
        assert driver.title.startswith("Weekly churn report")
        charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
        assert len(charts) >= 7
        for chart in charts:
            assert chart.size["width"] > 0 and chart.size["height"] > 0
        assert "What the offers would do" in driver.page_source
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        assert driver.save_screenshot(os.path.join(shots, "report.png"))
    finally:
        driver.quit()


def test_qini_and_uplift_auc_agree_with_scikit_uplift():
    """UpliftCurves against sklift on random rankings with ties, through strata-bench."""
    import numpy as np
    from sklift.metrics import qini_auc_score, uplift_auc_score
    bench = os.path.join(os.path.dirname(STRATA), "strata-bench")
    if not os.path.exists(bench):
        pytest.skip(f"{bench} is not built")
    rng = np.random.default_rng(5)
    for trial in range(20):
        n = int(rng.integers(20, 400))
        y = rng.integers(0, 2, n)
        t = rng.integers(0, 2, n)
        t[0], t[1] = 0, 1
        score = np.round(rng.normal(size=n), 1) + 0.3 * y * t
        lines = "\n".join(f"{a},{b},{c!r}" for a, b, c in zip(y, t, score.tolist()))
        done = subprocess.run([bench, "uplift-curves"], input=lines, capture_output=True, text=True, check=True)
        qini, auc = map(float, done.stdout.split())
        assert abs(qini - qini_auc_score(y, score, t)) < 1e-9, trial
        assert abs(auc - uplift_auc_score(y, score, t)) < 1e-9, trial

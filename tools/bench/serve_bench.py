#!/usr/bin/env python3
"""Serving benchmark (issue 12): `strata serve` side by side with Redis and with the seed's stack (FastAPI +
uvicorn, features from Redis, the same trees in LightGBM), all on this machine, loaded by wrk.

    tools/bench/serve_bench.sh [--shape M|B|S] [--data DIR] [--store DIR] [--json FILE] [...]
    python3 tools/bench/serve_bench.py --help

Workloads, each with a random msno per request (uniform over the store's users):
  features  GET /v1/features/{msno} (percent-encoded) of Strata and of the FastAPI app; Redis: HGETALL of
            the same vector
  score     POST /v1/score {"msno": [one]} with reasons (top 3 TreeSHAP contributions) of Strata and of the
            FastAPI app (HGETALL from Redis, LightGBM predict + pred_contrib)
Every system is loaded by one client, peers/paced_client.c (one thread, poll(2)): the same connections, pacing,
key draws, clock and exact percentiles, only the protocol's bytes differ (HTTP/1.1 or RESP), so Redis and the
HTTP servers are measured the same way. The targets are judged on those rows. Beside them, for reference,
the tools the issue names: wrk -t2 (Lua script peers/serve_wrk.lua) for the HTTP servers and
redis-benchmark for Redis at saturation.
Modes: saturation (32 connections back to back) and paced at about 1,000 req/s offered (10 connections, each
waiting a random 5..15 ms after each answer: pacing, not wrk2's constant-rate schedule, so no
coordinated-omission correction); score also paced at about 100 req/s (2 connections x 20 ms), a rate both
scoring stacks sustain on two cores. Every run lasts --duration seconds (20) after a 5 s warm-up per system
and workload; --repeats (2) passes over every run, alternating the order of the systems. Beside the features
runs, GET /healthz of the same strata server gives the floor of a route through the router (features are
answered before it, in the channel pipeline); beside the score runs, a second
strata server with --log-sample 0.1 (the default) shows what the serving log costs.
Each row also gives the server's CPU per request and the cores other processes kept busy during the run.

The data: `strata generate` (scale M: 100,000 members, 27 months from 2015-01-01), ingested, the W1
training set, `strata train --register churn`, promoted to production, the online table materialised as of
the first day of the month after the last label cutoff, and the model exported for LightGBM. The vectors
Redis holds are read from the running server (POST /v1/features, 1,000 users per request), so the three
systems serve the same numbers. Before timing, the FastAPI app's probabilities are checked against
Strata's (|difference| <= 1e-9) and its features against Strata's (equal).
"""
import argparse
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "tools", "bench")
PEERS = os.path.join(BENCH, "peers")
FEATURES_YAML = os.path.join(ROOT, "fixtures", "features", "w1.yaml")
WRK_SCRIPT = os.path.join(PEERS, "serve_wrk.lua")
SHAPES = {
    "S": ["--members", "10000", "--start", "20160101", "--months", "15"],
    "M": ["--members", "100000", "--start", "20150101", "--months", "27"],
    "B": ["--members", "40000", "--start", "20150101", "--months", "24", "--seed", "9", "--label-months", "12"],
}
HOST = "127.0.0.1"
CSV_FILES = ("members", "transactions", "user_logs", "labels")


def log(message):
    print(f"[serve_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def run(command, **kwargs):
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"serve_bench: {' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started, result.stdout


# ----------------------------------------------------------------------------------------------- data
def generate_args(args):
    flags = list(SHAPES[args.shape])
    for name in ("members", "start", "months", "seed", "label_months"):
        value = getattr(args, name)
        if value is not None:
            flag = "--" + name.replace("_", "-")
            if flag in flags:
                flags[flags.index(flag) + 1] = str(value)
            else:
                flags += [flag, str(value)]
    return flags


def next_month_first(day):
    year, month = day // 10000, day // 100 % 100
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return year * 10000 + month * 100 + 1


def prepare(args, strata):
    """Returns (store, model file, as-of day, seconds per step); reuses a store that finished preparing."""
    data = args.data
    csv_dir = os.path.join(data, "csv")
    store = args.store or os.path.join(data, "serve.db")
    model = os.path.join(os.path.dirname(os.path.abspath(store)), os.path.basename(store.rstrip("/")) + ".model.txt")
    marker = store.rstrip("/") + ".ready.json"
    if os.path.exists(marker) and os.path.exists(model):
        info = json.load(open(marker))
        log(f"reusing {store} (as of {info['as_of']}; delete {marker} to rebuild)")
        return store, model, info["as_of"], info.get("steps", {})
    if args.store and os.path.isdir(args.store) and not args.rebuild:
        # A store prepared elsewhere: it must have a production model and its online table (checked at /readyz).
        log(f"using {store} as it is (no {marker}); exporting its production model …")
        run([strata, "models", "export", "--db", store, "churn@production", "--to", "lightgbm", "--out", model])
        return store, model, None, {}
    steps = {}
    if not os.path.exists(os.path.join(csv_dir, "labels.csv")):
        log(f"generating {csv_dir}: strata generate {' '.join(generate_args(args))} …")
        steps["generate"], _ = run([strata, "generate", "--out", csv_dir] + generate_args(args))
    shutil.rmtree(store, ignore_errors=True)
    log(f"ingesting into {store} …")
    steps["ingest"], _ = run([strata, "ingest", "--db", store] + [os.path.join(csv_dir, t + ".csv") for t in CSV_FILES])
    log("training set w1 …")
    steps["training_set"], _ = run([strata, "training-set", "--db", store, "--features", FEATURES_YAML, "--labels", "labels", "--out", "w1"])
    log("training churn …")
    steps["train"], _ = run([strata, "train", "--db", store, "--training-set", "w1", "--register", "churn"])
    steps["promote"], _ = run([strata, "models", "promote", "--db", store, "churn", "1", "--stage", "production"])
    last_cutoff = max(int(line.split(",")[1]) for line in open(os.path.join(csv_dir, "labels.csv")).read().split("\n")[1:] if line)
    as_of = next_month_first(last_cutoff)
    log(f"materialising as of {as_of} …")
    steps["materialize"], _ = run([strata, "features", "materialize", "--db", store, "--as-of", str(as_of)])
    steps["export"], _ = run([strata, "models", "export", "--db", store, "churn@production", "--to", "lightgbm", "--out", model])
    json.dump({"as_of": as_of, "steps": steps, "generate": generate_args(args)}, open(marker, "w"), indent=1)
    return store, model, as_of, steps


# ---------------------------------------------------------------------------------------------- servers
class Server:
    def __init__(self, name, command, env=None, out=None):
        self.name = name
        self.out_path = out
        self.out = open(out, "w") if out else subprocess.DEVNULL
        self.process = subprocess.Popen(command, stdout=self.out, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def check_alive(self):
        if self.process.poll() is not None:
            tail = open(self.out_path).read()[-3000:] if self.out_path else ""
            sys.exit(f"serve_bench: {self.name} exited ({self.process.returncode}):\n{tail}")


def wait_for(what, probe, server, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        server.check_alive()
        try:
            if probe():
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    sys.exit(f"serve_bench: {what} did not come up within {seconds} s")


class Client:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port):
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)

    def request(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        for attempt in (0, 1):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                return response.status, json.loads(response.read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                if attempt:
                    raise
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)


def status_of(port, path):
    try:
        return Client(port).request("GET", path)[0]
    except (OSError, http.client.HTTPException):
        return None


def cpu_seconds(pid):
    """User + system CPU seconds of a process and all its descendants (uvicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents = {}
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
            stats[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += stats.get(p, 0.0)
        todo += parents.get(p, [])
    return total


def machine_busy_seconds():
    """CPU seconds the whole machine spent busy so far (all cores, from /proc/stat)."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    """Resident MiB of a process and its descendants."""
    parents, rss = {}, {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                rss[int(entry)] = int(open(f"/proc/{entry}/statm").read().split()[1]) * page
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += parents.get(p, [])
    return total / 2**20


def start_strata(strata, store, work, log_sample, tag, threads=None):
    out = os.path.join(work, f"strata-serve-{tag}.log")
    command = [strata, "serve", "--db", store, "--listen", f"{HOST}:0", "--log-sample", str(log_sample)]
    if threads:
        command += ["--threads", str(threads)]
    server = Server(f"strata serve ({tag})", command, out=out)
    deadline = time.time() + 60
    port = None
    while port is None and time.time() < deadline:
        server.check_alive()
        match = re.search(r"listening on http://[^:]+:(\d+)", open(out).read())
        port = int(match.group(1)) if match else None
        time.sleep(0.05)
    if port is None:
        sys.exit("serve_bench: strata serve printed no port")
    server.port = port
    wait_for("strata serve /readyz", lambda: status_of(port, "/readyz") == 200, server)
    return server


def member_msno(csv_dir):
    with open(os.path.join(csv_dir, "members.csv")) as handle:
        next(handle)
        return [line.split(",", 1)[0] for line in handle if line.strip()]


def value_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def read_vectors(port, msno):
    """The online vectors of every msno the server knows, in the order given: (names, [(msno, {name: value})])."""
    client = Client(port)
    names, rows = None, []
    for start in range(0, len(msno), 1000):
        status, body = client.request("POST", "/v1/features", {"msno": msno[start:start + 1000]})
        if status != 200:
            sys.exit(f"serve_bench: POST /v1/features answered {status}: {body}")
        for vector in body["vectors"]:
            if names is None:
                names = list(vector["features"])
            rows.append((vector["msno"], vector["features"]))
    return names, rows


def load_redis(port, names, rows):
    import redis
    r = redis.Redis(host=HOST, port=port)
    r.flushall()
    pipe = r.pipeline(transaction=False)
    for index, (msno, features) in enumerate(rows):
        fields = {name: value_text(features[name]) for name in names if features[name] is not None}
        pipe.hset(f"v:{index:012d}", mapping=fields)
        pipe.hset(f"m:{msno}", mapping=fields)
        if index % 1000 == 999:
            pipe.execute()
    pipe.execute()
    info = r.info("memory")
    return r.dbsize(), info["used_memory"] / 2**20


# ---------------------------------------------------------------------------------------------- checks
def check_agreement(strata_port, fastapi_port, rows, count, rng):
    sample = rng.sample(rows, min(count, len(rows)))
    strata, fastapi = Client(strata_port), Client(fastapi_port)
    feature_mismatch, worst, bucket_mismatch, reason_sets_equal, reason_features_first = [], 0.0, 0, 0, 0
    for msno, features in sample:
        path = "/v1/features/" + urllib.parse.quote(msno, safe="")
        s_status, s_body = strata.request("GET", path)
        f_status, f_body = fastapi.request("GET", path)
        if s_status != 200 or f_status != 200 or s_body["features"] != f_body["features"] or s_body["features"] != features:
            feature_mismatch.append(msno)
        s_status, s_score = strata.request("POST", "/v1/score", {"msno": [msno]})
        f_status, f_score = fastapi.request("POST", "/v1/score", {"msno": [msno]})
        if s_status != 200 or f_status != 200:
            sys.exit(f"serve_bench: POST /v1/score of {msno}: strata {s_status}, fastapi {f_status}: {s_score} {f_score}")
        a, b = s_score["results"][0], f_score["results"][0]
        worst = max(worst, abs(a["churn_probability"] - b["churn_probability"]))
        bucket_mismatch += a["bucket"] != b["bucket"]
        sa = [r["feature"] for r in a["reasons"]]
        sb = [r["feature"] for r in b["reasons"]]
        reason_sets_equal += sa == sb
        reason_features_first += sa[:1] == sb[:1]
    return {"users": len(sample), "features_equal": len(sample) - len(feature_mismatch), "feature_mismatches": feature_mismatch[:5],
            "max_probability_difference": worst, "bucket_mismatches": bucket_mismatch,
            "reasons_same_features_in_order": reason_sets_equal, "reasons_same_first": reason_features_first}


# ---------------------------------------------------------------------------------------------- load
def wrk(port, mode, msno_file, seconds, threads, connections, pace_ms, timeout):
    env = dict(os.environ)
    env["SERVE_BENCH_PACE_MS"] = str(pace_ms)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "--latency",
               "-s", WRK_SCRIPT, f"http://{HOST}:{port}", "--", mode, msno_file]
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    line = next((l for l in out.stdout.splitlines() if l.startswith("SERVE_BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        sys.exit(f"serve_bench: {' '.join(command)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    result = json.loads(line.split(" ", 1)[1])
    errors = sum(result["errors"].values())
    return {"rps": result["requests"] / (result["duration_us"] / 1e6), "requests": result["requests"], "errors": errors,
            "error_detail": result["errors"], "latency_us": result["latency_us"], "tool": "wrk " + " ".join(command[1:6])}


def redis_benchmark(port, keys, seconds, connections):
    """HGETALL v:__rand_int__ at saturation; -n chosen from a short pilot so that the run lasts about `seconds`."""
    def once(n):
        command = ["redis-benchmark", "-h", HOST, "-p", str(port), "-c", str(connections), "-n", str(n), "-r", str(keys),
                   "--precision", "3", "HGETALL", "v:__rand_int__"]
        out = subprocess.run(command, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"serve_bench: redis-benchmark failed:\n{out.stdout}\n{out.stderr}")
        text = out.stdout.replace("\r", "\n")
        rps = float(re.search(r"throughput summary: ([\d.]+) requests per second", text).group(1))
        summary = re.search(r"avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", text)
        avg, low, p50, p95, p99, high = (float(x) * 1000 for x in summary.groups())
        section = text.split("Latency by percentile distribution:", 1)[-1].split("Cumulative distribution", 1)[0]
        distribution = [(float(p), float(ms) * 1000) for p, ms in re.findall(r"^\s*([\d.]+)% <= ([\d.]+) milliseconds", section, re.M)]
        # The first step of the percentile distribution at or above 99.9% (an upper bound, HdrHistogram steps).
        p999 = next((us for p, us in distribution if p >= 99.9), high)
        p90 = next((us for p, us in distribution if p >= 90.0), None)
        seconds_taken = float(re.search(r"requests completed in ([\d.]+) seconds", text).group(1))
        return {"rps": rps, "requests": n, "errors": 0, "seconds": seconds_taken,
                "latency_us": {"min": low, "mean": avg, "p50": p50, "p90": p90, "p95": p95, "p99": p99, "p99_9": p999, "max": high},
                "tool": " ".join(command[:-2]) + " HGETALL v:__rand_int__"}
    pilot = once(max(20000, connections * 1000))
    return once(int(pilot["rps"] * seconds))


def paced_client(binary, mode, port, msno_file, seconds, connections, pace_ms, seed):
    command = [binary, mode, str(port), str(connections), str(seconds), str(pace_ms), msno_file, str(seed)]
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"serve_bench: {' '.join(command)} failed:\n{out.stdout}\n{out.stderr}")
    result = json.loads(out.stdout)
    return {"rps": result["requests"] / (result["duration_us"] / 1e6), "requests": result["requests"], "errors": result["errors"],
            "latency_us": result["latency_us"], "tool": f"paced_client {mode} -c {connections} pace {pace_ms} ms"}


# ---------------------------------------------------------------------------------------------- report
def fmt(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def ratio(a, b):
    return a / b if a and b else None


def report(results):
    lines = []
    say = lines.append
    shape = results["shape"]
    say(f"# strata serve vs Redis vs FastAPI + LightGBM + Redis — shape {shape['name']} ({' '.join(shape['generate'])})")
    say("")
    say(f"{results['when']}, {results['machine']}; users in the online table: {results['users']:,}; store as of {results['as_of']}; "
        f"{results['settings']['duration']} s per run after a {results['settings']['warmup']} s warm-up, {results['settings']['repeats']} passes.")
    say(f"Every row without a tool in its name is peers/paced_client.c (one client for HTTP and RESP, one thread). "
        f"Saturation: {results['settings']['connections']} connections back to back (the reference rows: wrk -t{results['settings']['threads']}, "
        f"redis-benchmark, each with as many connections); "
        f"paced: {results['settings']['rate_connections']} connections each waiting a random "
        f"{results['settings']['pace_ms'] / 2:g}..{results['settings']['pace_ms'] * 1.5:g} ms (whole ms) after each answer "
        f"(about {results['settings']['rate_connections'] * 1000 / results['settings']['pace_ms']:,.0f} req/s): pacing, not wrk2's "
        "constant-rate schedule — latency runs from each request's write, with no coordinated-omission correction. "
        f"Score also runs paced at {results['settings']['low_rate_connections']} connections x {results['settings']['low_pace_ms']} ms "
        "(paced-low), a rate both scoring stacks can sustain on two cores.")
    say(f"Strata serves with --log-sample {results['settings']['log_sample']} unless the row says otherwise; uvicorn runs "
        f"{results['settings']['workers']} workers; load generator and servers share the same {os.cpu_count()} cores.")
    say("Server CPU µs/req: the server's user + system CPU (with its child processes: uvicorn's workers) over the run, per "
        "request. Other load: cores kept busy during the run by everything but the server and the load generator "
        "(/proc/stat), i.e. other work on the machine. At saturation every connection always has a request in flight, so "
        "latency there follows connections / throughput (Little's law); the paced runs show latency below saturation.")
    check = results["agreement"]
    say("")
    say(f"Agreement on {check['users']} random users: FastAPI's features equal Strata's for {check['features_equal']}; "
        f"largest |probability difference| {check['max_probability_difference']:.3g} "
        f"({'within' if check['max_probability_difference'] <= 1e-9 else 'NOT within'} 1e-9); buckets differ for "
        f"{check['bucket_mismatches']}; the same three reasons in the same order for {check['reasons_same_features_in_order']}.")
    for workload in ("features", "score"):
        for mode in ("saturation", "paced", "paced-low"):
            runs = results["runs"].get(f"{workload}/{mode}")
            if not runs:
                continue
            say("")
            title = "GET /v1/features/{msno}" if workload == "features" else "POST /v1/score (one user, with reasons)"
            settings = results["settings"]
            heading = {"saturation": "saturation",
                       "paced": f"paced, about {settings['rate_connections'] * 1000 / settings['pace_ms']:,.0f} req/s offered",
                       "paced-low": f"paced, about {settings['low_rate_connections'] * 1000 / settings['low_pace_ms']:,.0f} req/s offered"}[mode]
            say(f"## {title} — {heading}")
            say("")
            say("| system | pass | req/s | p50 µs | p99 µs | p99.9 µs | max µs | errors | server CPU µs/req | other load, cores |")
            say("|---|---|---|---|---|---|---|---|---|---|")
            for system, passes in runs.items():
                for index, r in enumerate(passes):
                    l = r["latency_us"]
                    say(f"| {system} | {index + 1} | {fmt(r['rps'])} | {fmt(l['p50'])} | {fmt(l['p99'])} | {fmt(l.get('p99_9'))} | "
                        f"{fmt(l['max'])} | {r['errors']} | {fmt(r.get('cpu_us_per_request'), 1)} | {fmt(r.get('other_cores'), 2)} |")
            base = runs.get("strata")
            if base:
                say("")
                say("| ratio Strata / peer (pass by pass) | req/s | p50 | p99 | p99.9 |")
                say("|---|---|---|---|---|")
                for system, passes in runs.items():
                    if system.startswith("strata") or "(" in system:
                        continue  # the ratios compare the main Strata row with the peers measured by the same client
                    for index, (s, p) in enumerate(zip(base, passes)):
                        say(f"| {system}, pass {index + 1} | {fmt(ratio(s['rps'], p['rps']), 2)} | {fmt(ratio(s['latency_us']['p50'], p['latency_us']['p50']), 2)} | "
                            f"{fmt(ratio(s['latency_us']['p99'], p['latency_us']['p99']), 2)} | "
                            f"{fmt(ratio(s['latency_us'].get('p99_9'), p['latency_us'].get('p99_9')), 2)} |")
    say("")
    say("## Targets")
    say("")
    for target in results["targets"]:
        say(f"- {target}")
    say("")
    say("Memory after loading: " + ", ".join(f"{k} {v:,.0f} MiB" for k, v in results["memory_mib"].items()) + ".")
    return "\n".join(lines)


def targets(results):
    out = []
    runs = results["runs"]
    for mode, strata_name, redis_name in (("saturation", "strata", "redis"), ("paced", "strata", "redis"),
                                          ("saturation", "strata (wrk)", "redis (redis-benchmark)")):
        s = runs.get(f"features/{mode}", {}).get(strata_name)
        r = runs.get(f"features/{mode}", {}).get(redis_name)
        if s and r:
            verdicts = [a["latency_us"]["p99"] < b["latency_us"]["p99"] for a, b in zip(s, r)]
            figures = "; ".join(f"{a['latency_us']['p99']:,.0f} vs {b['latency_us']['p99']:,.0f} µs" for a, b in zip(s, r))
            how = "the same client" if strata_name == "strata" else "each with its own tool, for reference"
            out.append(f"features p99 lower than Redis's ({mode}, {strata_name} vs {redis_name}, {how}): {'MET' if all(verdicts) else 'MISSED'} "
                       f"in {sum(verdicts)} of {len(verdicts)} passes (Strata vs Redis p99: {figures})")
    for mode in ("saturation", "paced", "paced-low"):
        s = runs.get(f"score/{mode}", {}).get("strata")
        f = runs.get(f"score/{mode}", {}).get("fastapi+lightgbm+redis")
        if s and f:
            factors = [b["latency_us"]["p99"] / a["latency_us"]["p99"] for a, b in zip(s, f)]
            verdicts = [x >= 5 for x in factors]
            out.append(f"score p99 at least 5x lower than FastAPI + LightGBM + Redis ({mode}): {'MET' if all(verdicts) else 'MISSED'} "
                       f"in {sum(verdicts)} of {len(verdicts)} passes (FastAPI p99 / Strata p99: {', '.join(f'{x:.1f}x' for x in factors)})")
    return out


# ---------------------------------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=SHAPES, default="M", help="M: 100,000 members x 27 months; B: 40,000 x 24, seed 9, 12 label months; S: small")
    parser.add_argument("--members", type=int, help="override the shape's member count")
    parser.add_argument("--start", help="override the shape's first day")
    parser.add_argument("--months", type=int, help="override the shape's month count")
    parser.add_argument("--seed", type=int, help="override the shape's seed")
    parser.add_argument("--label-months", type=int, help="override the shape's label months")
    parser.add_argument("--data", help="dataset directory: csv/ and the store serve.db (default: bench-data/serve-SHAPE in the repo)")
    parser.add_argument("--store", help="a store to use as it is (production model churn and its online table; default: DATA/serve.db, "
                        "prepared here unless STORE.ready.json says it was)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the store even when it was prepared before")
    parser.add_argument("--strata", default=os.environ.get("STRATA_BIN", os.path.join(ROOT, ".build", "release", "strata")),
                        help="the strata binary (default: $STRATA_BIN, else .build/release/strata)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run (default 20)")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per system and workload (default 5)")
    parser.add_argument("--repeats", type=int, default=2, help="passes over every run (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="connections at saturation (default 32)")
    parser.add_argument("--rate-connections", type=int, default=10, help="connections of the paced runs (default 10)")
    parser.add_argument("--pace-ms", type=int, default=10, help="mean wait of each paced connection after an answer (default 10 ms)")
    parser.add_argument("--low-rate-connections", type=int, default=2,
                        help="score only: connections of a second, slower paced run (default 2; 0: skip)")
    parser.add_argument("--low-pace-ms", type=int, default=20,
                        help="score only: mean wait of each connection of that run (default 20 ms: about 100 req/s with 2 connections)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="uvicorn workers (default: one per core)")
    parser.add_argument("--log-sample", type=float, default=0.0, help="strata serve --log-sample of the main rows (default 0: the peers log nothing)")
    parser.add_argument("--extra-log-sample", type=float, default=0.1,
                        help="also time score with a second strata server at this --log-sample (the server's default, 0.1); negative: skip")
    parser.add_argument("--workloads", default="features,score")
    parser.add_argument("--no-floor", dest="floor", action="store_false",
                        help="skip GET /healthz of strata serve (the HTTP stack's floor, measured beside the features runs)")
    parser.add_argument("--check-users", type=int, default=200, help="users whose answers are compared before timing (default 200)")
    parser.add_argument("--redis-port", type=int, default=6392)
    parser.add_argument("--strata-threads", type=int, help="strata serve --threads (event loops; default: one per core)")
    parser.add_argument("--json", help="also write every figure to this file (default: /tmp/serve_bench-SHAPE.json)")
    parser.add_argument("--markdown", help="also write the report to this file (default: the --json path with .md)")
    args = parser.parse_args()

    strata = os.path.abspath(args.strata)
    if not os.access(strata, os.X_OK):
        sys.exit(f"serve_bench: no strata binary at {strata}: swift build -c release --product strata, or pass --strata")
    for tool in ("wrk", "redis-server", "redis-benchmark", "cc"):
        if not shutil.which(tool):
            sys.exit(f"serve_bench: {tool} is missing (tools/bench/serve_bench.sh installs it)")
    args.data = os.path.abspath(args.data or os.path.join(ROOT, "bench-data", f"serve-{args.shape}"))
    os.makedirs(args.data, exist_ok=True)
    work = os.path.join(args.data, "serve-work")
    os.makedirs(work, exist_ok=True)
    args.json = args.json or f"/tmp/serve_bench-{args.shape}.json"
    args.markdown = args.markdown or os.path.splitext(args.json)[0] + ".md"
    workloads = [w for w in args.workloads.split(",") if w]

    store, model, as_of, steps = prepare(args, strata)
    client_binary = os.path.join(work, "paced_client")
    run(["cc", "-O2", "-o", client_binary, os.path.join(PEERS, "paced_client.c")])

    servers = []
    try:
        log("starting strata serve …")
        main_server = start_strata(strata, store, work, args.log_sample, "main", args.strata_threads)
        servers.append(main_server)
        ready = Client(main_server.port).request("GET", "/readyz")[1]
        as_of = as_of or int(ready["as_of"].replace("-", ""))
        log(f"serving {ready['model']}, view {ready['view']} v{ready['view_version']} as of {ready['as_of']}")
        msno_all = member_msno(os.path.join(args.data, "csv"))
        log(f"reading {len(msno_all):,} vectors from strata serve (POST /v1/features) …")
        started = time.perf_counter()
        try:
            names, rows = read_vectors(main_server.port, msno_all)
        except (OSError, http.client.HTTPException) as error:
            main_server.check_alive()
            sys.exit(f"serve_bench: reading vectors from strata serve failed: {error!r}\n{open(main_server.out_path).read()[-3000:]}")
        read_seconds = time.perf_counter() - started
        msno_file = os.path.join(work, "msno.txt")
        with open(msno_file, "w") as handle:
            handle.write("".join(m + "\n" for m, _ in rows))
        strings = [n for n in names if any(isinstance(f[n], str) for _, f in rows)]

        log(f"starting redis-server on {args.redis_port} and loading {len(rows):,} vectors twice (v:INDEX, m:MSNO) …")
        redis_server = Server("redis-server", ["redis-server", "--port", str(args.redis_port), "--bind", HOST, "--save", "", "--appendonly", "no"],
                              out=os.path.join(work, "redis.log"))
        servers.append(redis_server)
        wait_for("redis-server", lambda: subprocess.run(["redis-cli", "-h", HOST, "-p", str(args.redis_port), "ping"],
                                                        capture_output=True, text=True).stdout.strip() == "PONG", redis_server)
        started = time.perf_counter()
        keys, redis_mib = load_redis(args.redis_port, names, rows)
        redis_load_seconds = time.perf_counter() - started

        log(f"starting FastAPI + uvicorn ({args.workers} workers) …")
        fastapi_port = free_port()
        env = dict(os.environ, SERVE_BENCH_MODEL=model, SERVE_BENCH_REDIS_PORT=str(args.redis_port),
                   SERVE_BENCH_STRING_FEATURES=",".join(strings), SERVE_BENCH_VIEW_FEATURES=",".join(names),
                   OMP_NUM_THREADS="1")
        fastapi = Server("uvicorn", [sys.executable, "-m", "uvicorn", "serve_fastapi:app", "--app-dir", PEERS, "--workers", str(args.workers),
                                     "--host", HOST, "--port", str(fastapi_port), "--no-access-log", "--log-level", "warning"],
                         env=env, out=os.path.join(work, "uvicorn.log"))
        servers.append(fastapi)
        probe = "/v1/features/" + urllib.parse.quote(rows[0][0], safe="")
        wait_for("uvicorn", lambda: status_of(fastapi_port, probe) == 200, fastapi, seconds=120)

        extra = None
        if args.extra_log_sample >= 0 and "score" in workloads:
            log(f"starting a second strata serve with --log-sample {args.extra_log_sample} …")
            extra = start_strata(strata, store, work, args.extra_log_sample, "logging")
            servers.append(extra)

        log(f"checking answers of {args.check_users} users …")
        agreement = check_agreement(main_server.port, fastapi_port, rows, args.check_users, random.Random(7))
        log(f"agreement: {agreement}")

        memory = {"strata serve RSS": rss_mib(main_server.pid), "redis used_memory (both key families)": redis_mib,
                  "redis-server RSS": rss_mib(redis_server.pid), f"uvicorn ({args.workers} workers) RSS": rss_mib(fastapi.pid)}

        # (row, tool, server, client mode): "client" is paced_client with that mode; "wrk" the wrk script.
        systems = {
            "features": [("strata", "client", main_server, "features"), ("redis", "client", redis_server, "resp"),
                         ("fastapi+redis", "client", fastapi, "features"), ("strata (wrk)", "wrk", main_server, "get"),
                         ("redis (redis-benchmark)", "redis-benchmark", redis_server, None)]
                        + ([("strata GET /healthz (router floor)", "client", main_server, "healthz")] if args.floor else []),
            "score": [("strata", "client", main_server, "score"), ("fastapi+lightgbm+redis", "client", fastapi, "score"),
                      ("strata (wrk)", "wrk", main_server, "score"), ("fastapi+lightgbm+redis (wrk)", "wrk", fastapi, "score")]
                     + ([(f"strata --log-sample {args.extra_log_sample:g}", "client", extra, "score")] if extra else []),
        }
        ports = {main_server.pid: main_server.port, fastapi.pid: fastapi_port}
        if extra:
            ports[extra.pid] = extra.port
        results_runs = {}
        warmed = set()
        for repeat in range(args.repeats):
            for workload in workloads:
                modes = ("saturation", "paced") + (("paced-low",) if workload == "score" and args.low_rate_connections > 0 else ())
                for mode in modes:
                    entries = systems[workload] if repeat % 2 == 0 else list(reversed(systems[workload]))
                    connections, pace = {"saturation": (args.connections, 0), "paced": (args.rate_connections, args.pace_ms),
                                         "paced-low": (args.low_rate_connections, args.low_pace_ms)}[mode]
                    for name, tool, server, client_mode in entries:
                        if tool == "redis-benchmark" and mode != "saturation":
                            continue  # redis-benchmark has no rate limit: paced_client paces Redis
                        for s in servers:
                            s.check_alive()
                        port = args.redis_port if server is redis_server else ports[server.pid]
                        if (server.pid, workload) not in warmed and tool != "redis-benchmark":
                            log(f"warm-up {name} {workload} …")
                            paced_client(client_binary, client_mode if tool == "client" else ("features" if workload == "features" else "score"),
                                         port, msno_file, args.warmup, args.connections, 0, 99)
                            warmed.add((server.pid, workload))
                        log(f"pass {repeat + 1}: {workload} {mode} {name} …")
                        cpu_before = cpu_seconds(server.pid)
                        busy_before, children_before, wall_before = machine_busy_seconds(), os.times(), time.perf_counter()
                        if tool == "wrk":
                            r = wrk(port, client_mode, msno_file, args.duration, min(args.threads, connections), connections, pace, 10)
                        elif tool == "redis-benchmark":
                            r = redis_benchmark(args.redis_port, len(rows), args.duration, args.connections)
                        else:
                            r = paced_client(client_binary, client_mode, port, msno_file, args.duration, connections, pace, repeat + 1)
                        cpu = cpu_seconds(server.pid) - cpu_before
                        children_after, wall = os.times(), time.perf_counter() - wall_before
                        loadgen = (children_after.children_user + children_after.children_system
                                   - children_before.children_user - children_before.children_system)
                        busy = machine_busy_seconds() - busy_before
                        r["server_cpu_seconds"] = cpu
                        r["loadgen_cpu_seconds"] = loadgen
                        # Cores kept busy by everything else on the machine during the run (a build, other tests).
                        r["other_cores"] = max(0.0, busy - cpu - loadgen) / wall
                        r["cpu_us_per_request"] = cpu * 1e6 / r["requests"] if r["requests"] else None
                        l = r["latency_us"]
                        log(f"  {r['rps']:,.0f} req/s, p50 {l['p50']:,.0f} µs, p99 {l['p99']:,.0f} µs, p99.9 {fmt(l.get('p99_9'))} µs, "
                            f"max {l['max']:,.0f} µs, errors {r['errors']}, server CPU {fmt(r['cpu_us_per_request'], 1)} µs/req, "
                            f"load generator {loadgen / wall:.2f} cores, others {r['other_cores']:.2f} cores")
                        results_runs.setdefault(f"{workload}/{mode}", {}).setdefault(name, []).append(r)
        # Passes alternate the order of systems; put every workload's systems back in their listed order.
        for key, by_system in results_runs.items():
            order = [entry[0] for entry in systems[key.split("/")[0]]]
            results_runs[key] = {name: by_system[name] for name in order if name in by_system}
        memory["strata serve RSS after the runs"] = rss_mib(main_server.pid)
    finally:
        for server in reversed(servers):
            server.stop()

    versions = {}
    for command in (["wrk", "--version"], ["redis-server", "--version"]):
        out = subprocess.run(command, capture_output=True, text=True)
        versions[command[0]] = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"
    versions["strata"] = subprocess.run([strata, "--version"], capture_output=True, text=True).stdout.strip()
    import fastapi as fastapi_module, uvicorn, lightgbm, redis as redis_module
    versions.update({"fastapi": fastapi_module.__version__, "uvicorn": uvicorn.__version__, "lightgbm": lightgbm.__version__, "redis-py": redis_module.__version__})
    results = {
        "shape": {"name": args.shape, "generate": generate_args(args)},
        "when": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores",
        "versions": versions,
        "store": store, "as_of": as_of, "prepare_seconds": steps, "users": len(rows),
        "read_vectors_seconds": read_seconds, "redis_keys": keys, "redis_load_seconds": redis_load_seconds,
        "settings": {"duration": args.duration, "warmup": args.warmup, "repeats": args.repeats, "threads": args.threads, "strata_threads": args.strata_threads,
                     "connections": args.connections, "rate_connections": args.rate_connections, "pace_ms": args.pace_ms,
                     "low_rate_connections": args.low_rate_connections, "low_pace_ms": args.low_pace_ms,
                     "workers": args.workers, "log_sample": args.log_sample, "extra_log_sample": args.extra_log_sample},
        "agreement": agreement, "memory_mib": memory, "runs": results_runs,
    }
    results["targets"] = targets(results)
    text = report(results)
    print(text)
    with open(args.json, "w") as handle:
        json.dump(results, handle, indent=1)
    with open(args.markdown, "w") as handle:
        handle.write(text + "\n")
    log(f"wrote {args.json} and {args.markdown}")


if __name__ == "__main__":
    main()

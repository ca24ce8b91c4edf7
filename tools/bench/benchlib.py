"""Helpers shared by the benchmark drivers of tools/bench/."""
import os
import sys
import time


def run_with_rss(command):
    """Runs a command in its own process; returns (wall seconds, its peak RSS in bytes, its stdout).

    os.wait4 gives that one child's resource usage, where RUSAGE_CHILDREN would mix all children."""
    read_end, write_end = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.dup2(write_end, 1)
        os.execv(command[0], command)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        out = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"command failed ({status}): {' '.join(command)}")
    return seconds, usage.ru_maxrss * 1024, out


def run_record(text):
    """The JSON of `strata train --format json`, in one shape whatever the build: camelCase keys (builds before
    0.11 printed them so; 0.11 prints snake_case), and `validation` holding the held-out metrics (0.11 calls
    them `test`, and its `validation` is the early-stopping rows)."""
    import json
    import re

    def camel(value):
        if isinstance(value, dict):
            return {re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()}
        if isinstance(value, list):
            return [camel(v) for v in value]
        return value

    record = camel(json.loads(text))
    if "test" in record:
        record["validation"] = record["test"]
    return record

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

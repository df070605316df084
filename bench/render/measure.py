#!/usr/bin/python3
"""Runs a command RUNS times; prints its median wall time and its peak resident memory.

usage: /usr/bin/python3 bench/render/measure.py [--stdout FILE] RUNS COMMAND [ARGS...]
prints: "median_s=<seconds> min_s=<seconds> max_s=<seconds> peak_rss_kib=<KiB>"
The command's stdout goes to FILE (every run overwrites it), else nowhere; a failing run stops
with its stderr and status.
Peak RSS is the largest ru_maxrss of the runs (getrusage of the finished child, via wait4).
"""

import os
import statistics
import subprocess
import sys
import time


def run_once(command: list[str], stdout_path: str | None) -> tuple[float, int]:
    sink = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if stdout_path:
        sink.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace"))
        sys.exit(f"measure: {' '.join(command)} exited {process.returncode}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    args = sys.argv[1:]
    stdout_path = None
    if args[:1] == ["--stdout"]:
        stdout_path, args = args[1], args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    runs = int(args[0])
    command = args[1:]
    results = [run_once(command, stdout_path) for _ in range(runs)]
    times = [elapsed for elapsed, _ in results]
    print(f"median_s={statistics.median(times):.4f} min_s={min(times):.4f} "
          f"max_s={max(times):.4f} peak_rss_kib={max(rss for _, rss in results)}")


if __name__ == "__main__":
    main()

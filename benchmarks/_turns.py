"""Benchmark processes that take turns: each child times one run a request.

`recurrent_throughput.py`, `backward_crossover.py` and `compare_commits.py`
time each contender in a Python process of its own, as a user's model
trains, and `training_step_profile.py` times `fit` and PyTorch's layer passes
so; the parent asks the processes in turn, one timed run each, so that a
shared machine's load falls on all of them alike.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable


def seconds(function: Callable[[], object]) -> float:
    """Wall-clock seconds one call of `function` takes."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def serve(runs: dict[str, Callable[[], object]]) -> None:
    """In a child: says it is ready, then times the run each stdin line names."""
    print("ready", flush=True)
    for line in sys.stdin:
        print(seconds(runs[line.strip()]), flush=True)


def start(
    script: str, argv: list[str], name: str, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Starts `script` with `argv` (and `env`, when given) as the child called
    `name`, once it serves."""
    child = subprocess.Popen(
        [sys.executable, script, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    if child.stdout.readline().strip() != "ready":
        raise SystemExit(f"the process of {name} failed (its stderr is above)")
    return child


def timed(child: subprocess.Popen, run: str) -> float:
    """Seconds the child took for one `run`."""
    child.stdin.write(f"{run}\n")
    child.stdin.flush()
    return float(child.stdout.readline())


def stop(children) -> None:
    """Closes each child's stdin, which ends its `serve`, waits for it, and
    closes its stdout."""
    for child in children:
        child.stdin.close()
        child.wait()
        child.stdout.close()

"""Child processes for the multi-process benchmarks: a free port, a run."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys

# Seconds a child may run before the benchmark gives up on it.
TIMEOUT = 600


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_together(script: str, children: list[list[str]], env: dict) -> dict:
    """Runs `script --child ARGV` for each ARGV at once; returns process 0's
    measurements, the JSON object on the last line it printed."""
    processes = [
        subprocess.Popen(
            [sys.executable, script, "--child", *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for argv in children
    ]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=TIMEOUT)[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)
    for process in processes:
        if process.returncode != 0:
            raise RuntimeError(f"a run failed with status {process.returncode}")
    return json.loads(outputs[0].strip().splitlines()[-1])


def add_child_options(parser: argparse.ArgumentParser) -> None:
    """The hidden options with which a benchmark runs itself as a child."""
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--cpus",
        type=lambda text: {int(cpu) for cpu in text.split(",")},
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--coordinator", help=argparse.SUPPRESS)
    parser.add_argument("--num-processes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--process-id", type=int, help=argparse.SUPPRESS)

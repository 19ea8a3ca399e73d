"""Child processes for the multi-process benchmarks: a free port, a run."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile

# Seconds a child may run before the benchmark gives up on it.
TIMEOUT = 600


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_together(script: str, children: list[list[str]], env: dict) -> dict:
    """Runs `script --child ARGV` for each ARGV at once; returns process 0's
    measurements, the JSON object on the last line it printed.

    Raises:
        RuntimeError: If a child fails, with the end of its stderr.
    """
    with contextlib.ExitStack() as stack:
        # Files, not pipes: a child blocked on a full stderr pipe, while its
        # peer is being waited for, would stall both.
        logs = [
            stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in children
        ]
        processes = [
            subprocess.Popen(
                [sys.executable, script, "--child", *argv],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            for argv, log in zip(children, logs, strict=True)
        ]
        try:
            outputs = [process.communicate(timeout=TIMEOUT)[0] for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=TIMEOUT)
        for index, (process, log) in enumerate(zip(processes, logs, strict=True)):
            if process.returncode != 0:
                log.seek(0)
                tail = "".join(log.readlines()[-5:]).rstrip()
                raise RuntimeError(
                    f"process {index} of a run failed with status "
                    f"{process.returncode}:\n{tail}"
                )
    return json.loads(outputs[0].strip().splitlines()[-1])


def join_torch_processes(coordinator: str, num_processes: int, process_id: int) -> None:
    """Joins this child to its run's PyTorch process group, over gloo."""
    import torch

    torch.distributed.init_process_group(
        "gloo",
        init_method=f"tcp://{coordinator}",
        rank=process_id,
        world_size=num_processes,
    )


def report_and_leave_torch_processes(result: dict) -> None:
    """Prints a child's measurements once every process of its PyTorch group
    is past its last collective, then exits without tearing the group down.

    That teardown, by `destroy_process_group` or at interpreter exit, now and
    then aborts the process ("terminate called without an active exception",
    as in pytorch/pytorch#190489), after the measurements are made.
    """
    import torch

    torch.distributed.barrier()
    print(json.dumps(result), flush=True)
    sys.stderr.flush()
    os._exit(0)


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

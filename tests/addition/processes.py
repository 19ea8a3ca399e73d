"""Child processes of the multi-process tests: their port, environment and
bounded lifetime.

Every wait has a timeout, after which the child is killed: a stuck run
fails its test instead of hanging the suite.
"""

import os
import socket
import subprocess
from pathlib import Path

TIMEOUT = 300


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(backend: str, **variables: str) -> dict[str, str]:
    """A child's environment: `backend` on one CPU device, no inherited run
    settings, and `variables`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KERAS_DISTRIBUTION_")
        and k not in ("XLA_FLAGS", "JAX_COORDINATOR_BIND_ADDRESS")
    }
    return {**env, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", **variables}


def start(command: list, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """Starts `command`, its stderr to the file `log`."""
    with open(log, "w") as stderr:
        return subprocess.Popen(
            [*map(str, command)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def finish(process: subprocess.Popen, log: Path) -> tuple[int, str]:
    """`process`'s exit status, killed after `TIMEOUT` s, and its stderr."""
    try:
        process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
    return process.returncode, Path(log).read_text()

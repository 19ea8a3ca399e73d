"""What a benchmark ran on: the CPU, the core count, its load and the versions.

Shared by the scripts in this folder, which run as `python benchmarks/<name>.py`
(their folder is then on `sys.path`); the tests put it there too (`pythonpath`
in `pyproject.toml`).
"""

from __future__ import annotations

import importlib
import os
import platform


def cpu_name() -> str:
    """The CPU's model name, as `/proc/cpuinfo` gives it, where there is one."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line for line in cpuinfo if line.startswith("model name")]
        return names[0].split(":", 1)[1].strip()
    except (OSError, IndexError):
        return platform.processor() or platform.machine() or "CPU"


def library_version(name: str) -> str | None:
    """`name.__version__`, or `None` when the library is not installed."""
    try:
        return importlib.import_module(name).__version__
    except ImportError:
        return None


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages, where the system keeps them.

    Taken as a run ends, they say how busy the machine was while it ran:
    near 0 is quiet, near the core count is full.
    """
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def environment(*libraries: str) -> dict:
    """The machine, and the versions of Python, Keras, its backend and `libraries`."""
    import keras

    backend = keras.backend.backend()
    return {
        "machine": {
            "cpu": cpu_name(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": load_average(),
            # Below 0, the run took the cores before other work on a shared
            # machine (`nice -n -20 python benchmarks/...`).
            "niceness": os.nice(0) if hasattr(os, "nice") else None,
        },
        "versions": {
            "python": platform.python_version(),
            "keras": keras.__version__,
            "backend": backend,
            backend: library_version(backend),
            **{name: library_version(name) for name in libraries},
        },
    }

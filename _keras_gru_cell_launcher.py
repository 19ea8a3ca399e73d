"""The `keras-gru-cell` command's entry point, outside the package on purpose.

Importing anything in `keras_gru_cell` imports Keras and a backend, seconds
of work during which the command must already answer signals and keep
TensorFlow's start-up noise off the terminal; only code that runs before
that import can do either, so the command starts here.

- **Signals.** SIGINT (Ctrl-C) and SIGTERM (what `kill`, schedulers and
  container runtimes send) end the command at once, from the first line of
  `main` on, with one line on stderr and status 130 or 143: no traceback, and
  no exception that could be lost on its way up (Python drops one raised in
  a garbage-collection callback, such as JAX's). Nothing is left
  half-written: every file the command writes appears by an atomic rename,
  and folders registered with `removed_if_interrupted` are removed first.
  `train` replaces these handlers with `StopOnSignal`'s while it fits, so
  that a first signal lets the run back up before it ends. A SIGINT that was
  ignored when the command started (a background job's) stays ignored.
- **TensorFlow's C++ log.** TensorFlow's runtime and absl write their
  start-up lines (oneDNN, missing CUDA drivers, CPU features, "before
  absl::InitializeLog") straight to file descriptor 2 while it loads,
  whatever `TF_CPP_MIN_LOG_LEVEL` says, so the package is imported with fd 2
  silenced; `--debug` hides nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

PROG = "keras-gru-cell"

# What the interruption line adds after "interrupted", and the folders to
# remove before exiting; set by the command that is running.
_hint = ""
_removed_if_interrupted: list[Path] = []
# Where the interruption line goes: fd 2 as it was when the command started,
# since `quiet_stderr` may point fd 2 at /dev/null when a signal lands.
_stderr_fd: int | None = None


def interruption_line() -> str:
    """The line that tells the user the command was interrupted."""
    return f"{PROG}: interrupted{_hint}\n"


def _exit_at_once(signum: int, frame) -> None:
    for path in _removed_if_interrupted:
        shutil.rmtree(path, ignore_errors=True)
    # A print that the signal cut short can leave the buffer mid-write.
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        os.write(2 if _stderr_fd is None else _stderr_fd, interruption_line().encode())
    os._exit(128 + signum)


def exit_at_once_on_signals() -> None:
    """Makes SIGINT and SIGTERM end the process at once, as the module says."""
    global _stderr_fd
    if _stderr_fd is None:
        _stderr_fd = os.dup(2)
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _exit_at_once)


def set_interrupt_hint(hint: str) -> None:
    """Sets what the interruption line says after "interrupted", e.g. how to
    resume."""
    global _hint
    _hint = f"; {hint}" if hint else ""


@contextlib.contextmanager
def removed_if_interrupted(path: Path) -> Iterator[None]:
    """Removes the folder `path` if a signal ends the command meanwhile."""
    _removed_if_interrupted.append(path)
    try:
        yield
    finally:
        _removed_if_interrupted.remove(path)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silences file descriptor 2, where TensorFlow's C++ logs go.

    Exceptions pass through untouched and fd 2 is back before they reach a
    handler, so whatever reports them is seen.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        # Python's own buffered text from the quiet span stays quiet.
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def main() -> int:
    """Runs `keras_gru_cell.addition.cli.main` on the command line's arguments."""
    exit_at_once_on_signals()
    debug = "--debug" in sys.argv[1:]
    if not debug:
        # Read once, when TensorFlow loads: keeps its later C++ notices quiet.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with contextlib.nullcontext() if debug else quiet_stderr():
        from keras_gru_cell.addition import cli
    return cli.main()

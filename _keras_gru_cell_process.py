"""The `keras-gru-cell` command's signals and stderr, shared by its two halves.

The command starts in `_keras_gru_cell_launcher`, which must answer signals
and silence file descriptor 2 before anything imports Keras, and goes on in
`keras_gru_cell.addition.cli`, which sets the interruption hint, registers
folders to remove, and prints the same interruption line when it is called
as a function. Both import this module and it imports neither, so the
dependency runs one way: launcher -> cli -> this module, and launcher ->
this module. It lives beside the launcher, outside the package, because
importing anything under `keras_gru_cell` imports Keras first.

Why the command answers signals as it does is in the launcher's docstring.
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
    """Makes SIGINT and SIGTERM end the process at once, as the launcher says."""
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

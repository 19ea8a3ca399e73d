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

The handlers, the interruption line and the silencing live in
`_keras_gru_cell_process`, which `keras_gru_cell.addition.cli` uses too:
this module imports that one and, once fd 2 is quiet, the CLI; neither
imports this one.
"""

from __future__ import annotations

import contextlib
import os
import sys

# Only the standard library and this: nothing that imports Keras.
from _keras_gru_cell_process import exit_at_once_on_signals
from _keras_gru_cell_process import quiet_stderr


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

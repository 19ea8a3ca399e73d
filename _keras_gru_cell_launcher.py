"""The `keras-gru-cell` command's entry point, outside the package on purpose.

Importing anything in `keras_gru_cell` imports Keras, and on the TensorFlow
backend Keras imports TensorFlow, whose C++ runtime and absl write their
start-up lines (oneDNN, missing CUDA drivers, CPU features, "before
absl::InitializeLog") straight to file descriptor 2 while it loads, whatever
`TF_CPP_MIN_LOG_LEVEL` says. Only code that runs before that import can keep
them off the terminal, so the command starts here and imports
`keras_gru_cell.addition.cli` with fd 2 silenced; `--debug` hides nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


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
    debug = "--debug" in sys.argv[1:]
    if not debug:
        # Read once, when TensorFlow loads: keeps its later C++ notices quiet.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with contextlib.nullcontext() if debug else quiet_stderr():
        from keras_gru_cell.addition import cli
    return cli.main()

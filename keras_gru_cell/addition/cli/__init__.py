"""The `keras-gru-cell` command: train, add, evaluate and export addition models.

A thin front end: it parses and checks the arguments, then calls
`keras_gru_cell.addition.training` and `keras_gru_cell.addition.evaluation`.
Every error a user can cause ends the command with one line on stderr and
status 2; any other error is a defect, reported in one line with status 1
(or with its traceback under `--debug`).

`parser` builds the command line from the commands' modules (`train`,
`add`, `evaluate`, `export`), each of which declares its options and runs
itself; `options` and `files` hold what they share. Nothing here imports
TensorFlow before `main` has silenced its start-up log on fd 2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback

from _keras_gru_cell_process import PROG
from _keras_gru_cell_process import interruption_line
from _keras_gru_cell_process import quiet_stderr
from _keras_gru_cell_process import set_interrupt_hint
from keras_gru_cell.addition.cli.options import UsageError
from keras_gru_cell.addition.cli.parser import COMMANDS
from keras_gru_cell.addition.cli.parser import build_parser

__all__ = ["main"]


def _start_tensorflow(*, verbose: bool) -> None:
    """Imports TensorFlow and finds its devices, with its C++ log hidden.

    TensorFlow's C++ runtime and absl write their start-up lines (oneDNN,
    missing CUDA drivers, CPU features, "before absl::InitializeLog") to fd
    2 while TensorFlow loads and looks for GPUs, whatever
    TF_CPP_MIN_LOG_LEVEL says; only fd 2 being elsewhere meanwhile hides
    them. Only then: afterwards fd 2 carries this command's errors again.
    TF_CPP_MIN_LOG_LEVEL, read once when TensorFlow loads, keeps its later
    C++ notices quiet (oneDNN's fallbacks among them, logged as errors);
    TensorFlow's real failures still reach the user as Python exceptions.
    A user's own TF_CPP_MIN_LOG_LEVEL wins; `verbose` (`--debug`) hides
    nothing.
    """
    if verbose:
        quiet = contextlib.nullcontext()
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        quiet = quiet_stderr()
    with quiet:
        import tensorflow as tf

        # Registers the addition model's Keras objects, so that its files load.
        import keras_gru_cell.addition  # noqa: F401

        tf.config.list_physical_devices()


def _one_line(error: BaseException) -> str:
    # TensorFlow's and Keras's messages can run to many lines; the first
    # says what happened, and --debug shows the rest.
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Runs the `keras-gru-cell` command.

    Args:
        argv: The arguments after the program name; `None` reads
            `sys.argv`.

    Returns:
        The exit status: 0 on success (and after `--help` or `--version`),
        2 for an error the user can fix (bad arguments, a missing or
        damaged file, a folder that cannot be written), 1 for any other
        error (a defect: rerun with `--debug` for its traceback), 130 when
        interrupted by Ctrl-C. (The installed command ends at SIGINT or
        SIGTERM itself, with 130 or 143: see `_keras_gru_cell_launcher`.)
        An interrupted `train` keeps its last backup, and the same command
        resumes it.
    """
    args = None
    set_interrupt_hint("")
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help and --version
            return done.code if isinstance(done.code, int) else 0
        _start_tensorflow(verbose=args.debug)
        COMMANDS[args.command].run(args)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Run as a function rather than as the installed command, which
        # ends at the signal itself (see `_keras_gru_cell_launcher`).
        print(interruption_line(), file=sys.stderr, end="")
        return 128 + signal.SIGINT
    except Exception as error:
        if args is not None and args.debug:
            traceback.print_exc()
        else:
            print(
                f"{PROG}: internal error: {_one_line(error)} (rerun with --debug "
                f"for the traceback)",
                file=sys.stderr,
            )
        return 1
    return 0

"""The `keras-gru-cell` command: train, add, evaluate and export addition models.

A thin front end: it parses and checks the arguments, then calls
`keras_gru_cell.addition.training` and `keras_gru_cell.addition.evaluation`.
Every error a user can cause ends the command with one line on stderr and
status 2; any other error is a defect, reported in one line with status 1
(or with its traceback under `--debug`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _keras_gru_cell_launcher import PROG
from _keras_gru_cell_launcher import exit_at_once_on_signals
from _keras_gru_cell_launcher import interruption_line
from _keras_gru_cell_launcher import quiet_stderr
from _keras_gru_cell_launcher import set_interrupt_hint
from keras_gru_cell import _validation
from keras_gru_cell.version import __version__

_DEFAULT_BITS = "8,16,64,256,1024"
# Copies of `distribution.DISTRIBUTIONS`, `data.MAX_NUM_BITS` and
# `TrainingSettings`'s seed bound: importing those modules imports
# TensorFlow, which must wait until stderr is silenced (see
# `_start_tensorflow`). The tests check that the copies agree.
_DISTRIBUTIONS = ("none", "mirrored", "multi-process")
# A copy of `export_formats.FORMATS`, for the same reason.
_EXPORT_FORMATS = ("saved_model", "onnx", "litert")
_MAX_BITS = 2**31 - 1
_MAX_TRAINING_SEED = 2**31 - 1


class UsageError(Exception):
    """A mistake in the command line or its inputs, shown as one line."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage before its error: one line is clearer.
    def error(self, message):
        raise UsageError(message)


def _checked(parse: Callable[[str], Any], check: Callable[[Any], Any]):
    """An argparse `type`: `parse` the text, then `check` the value.

    Text that `parse` refuses goes to `check` as it is, so that its error
    shows what was typed. `check` is one of `_validation`'s, whose message
    names the option: it is raised as a `UsageError` as it stands, since
    argparse would prefix the option's name a second time.
    """

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check(value)
        except ValueError as error:
            raise UsageError(str(error)) from None

    return convert


def _integer(
    option: str,
    *,
    minimum: int,
    maximum: int | None = None,
    expected: str | None = None,
):
    return _checked(
        int,
        lambda value: _validation.integer(
            option, value, minimum=minimum, maximum=maximum, expected=expected
        ),
    )


def _bit_count(option: str):
    return _integer(
        option,
        minimum=2,
        maximum=_MAX_BITS,
        expected=f"a length of at least 2 bits and at most {_MAX_BITS}",
    )


def _positive_float(option: str):
    return _checked(float, lambda value: _validation.positive_number(option, value))


def _bits_range(option: str):
    bit_count = _bit_count(option)

    def convert(text: str) -> int | tuple[int, int]:
        low, colon, high = text.partition(":")
        if not colon:
            return bit_count(low)
        low, high = bit_count(low), bit_count(high)
        if low > high:
            raise UsageError(
                f"Received an invalid value for argument `{option}`, expected "
                f"N or LOW:HIGH with LOW <= HIGH, got {text!r}."
            )
        return (low, high)

    return convert


def _bit_counts(option: str):
    bit_count = _bit_count(option)
    return lambda text: [bit_count(part) for part in text.split(",")]


def _preset_default(default: str, tutorial: str) -> str:
    # The options that --preset fills in have no default of their own (None:
    # keep the preset's), so their help spells out each preset's value.
    if default == tutorial:
        return f"(default: {default})"
    return f"(default: {default}, or {tutorial} with --preset tutorial)"


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Train and use a GRU that adds binary numbers of any length.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__}",
        help="print the version and exit",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an unexpected error, print its full traceback; also show "
        "TensorFlow's start-up log (default: off)",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    train = commands.add_parser(
        "train",
        help="train the addition model",
        description="Train the addition model with one model.fit; with no "
        "options, the package's best settings. Writes DIR/model.keras, "
        "DIR/history.csv and DIR/loss.png; rerunning an interrupted run "
        "resumes it.",
    )
    train.add_argument(
        "--preset",
        choices=["default", "tutorial"],
        default="default",
        help="starting settings; the options below override them "
        "(default: %(default)s)",
    )
    train.add_argument(
        "--bits",
        type=_bits_range("--bits"),
        help="training length N, or a range LOW:HIGH to draw each batch's "
        "length from " + _preset_default("8:16", "5"),
    )
    train.add_argument(
        "--hidden",
        type=_integer("--hidden", minimum=1),
        help="number of GRU units " + _preset_default("16", "16"),
    )
    train.add_argument(
        "--steps",
        type=_integer("--steps", minimum=1),
        help="most training steps; the default preset stops sooner, once "
        "every held-out sum, 1024-bit sums and carry chains included, has "
        "been right at 2 validations in a row " + _preset_default("1000", "5000"),
    )
    train.add_argument(
        "--batch-size",
        type=_integer("--batch-size", minimum=1),
        help="sums per training step " + _preset_default("256", "100"),
    )
    train.add_argument(
        "--lr",
        type=_positive_float("--lr"),
        help="Adam's learning rate; the default preset's falls along a cosine "
        "to 0.0001 at the last step " + _preset_default("0.02", "0.001"),
    )
    train.add_argument(
        "--loss",
        choices=["bce", "mse", "quadratic"],
        help="binary cross-entropy, mean squared error or the tutorial's "
        "quadratic loss " + _preset_default("bce", "quadratic"),
    )
    train.add_argument(
        "--seed",
        type=_integer("--seed", minimum=0, maximum=_MAX_TRAINING_SEED),
        help="seed of the weights and the data (default: a random one, "
        "printed at the end)",
    )
    train.add_argument(
        "--out",
        type=Path,
        default=Path("runs/addition"),
        metavar="DIR",
        help="folder for model.keras, history.csv and loss.png, created if "
        "missing (default: %(default)s)",
    )
    train.add_argument(
        "--tensorboard",
        type=Path,
        metavar="DIR",
        help="also write TensorBoard logs to this folder (default: none)",
    )
    train.add_argument(
        "--distribute",
        choices=_DISTRIBUTIONS,
        default="none",
        help="'mirrored': data-parallel over every local device (TensorFlow "
        "or JAX); 'multi-process': over the devices of every process of a run "
        "(JAX), each process running this command; --batch-size is then the "
        "global batch (default: %(default)s)",
    )
    train.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        help="with --distribute multi-process: the address of process 0, "
        "reachable from every process (default: the first address in "
        "KERAS_DISTRIBUTION_JOB_ADDRESSES)",
    )
    train.add_argument(
        "--num-processes",
        type=_integer("--num-processes", minimum=1),
        metavar="N",
        help="with --distribute multi-process: the number of processes "
        "(default: KERAS_DISTRIBUTION_NUM_PROCESSES)",
    )
    train.add_argument(
        "--process-id",
        type=_integer("--process-id", minimum=0),
        metavar="I",
        help="with --distribute multi-process: this process's number, 0 to "
        "N-1; process 0 writes the files (default: "
        "KERAS_DISTRIBUTION_PROCESS_ID)",
    )
    train.add_argument(
        "--connect-timeout",
        type=_positive_float("--connect-timeout"),
        metavar="SECONDS",
        help="with --distribute multi-process: how long a process other than "
        "0 waits for process 0 to answer (default: 60)",
    )
    train.add_argument(
        "--compare-builtin",
        action="store_true",
        help="instead train side by side with a keras.layers.GRU twin and "
        "report how far they drift apart (default: off)",
    )

    add = commands.add_parser(
        "add",
        help="add two numbers with a model",
        description="Add two non-negative integers of any size with a model.",
    )
    add.add_argument(
        "a", type=_integer("A", minimum=0), metavar="A", help="a non-negative integer"
    )
    add.add_argument(
        "b", type=_integer("B", minimum=0), metavar="B", help="a non-negative integer"
    )
    add.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help="a .keras addition model (default: the one shipped with the package)",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="score a model on random held-out sums and long carries",
        description="Score a model on random held-out sums of each length, "
        "then on the sums whose carries run longest, up to the longest "
        "length: 2^n-1 + 1 and 2^n-1 + 2^n-1 for every n below it. Each row "
        "gives the share of sums entirely right and the share of bits right.",
    )
    evaluate.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="FILE",
        help="the .keras addition model to score (required)",
    )
    evaluate.add_argument(
        "--bits",
        type=_bit_counts("--bits"),
        # A string, which argparse converts with `type`, so that the help
        # shows it as it would be typed.
        default=_DEFAULT_BITS,
        help="comma-separated sum lengths (default: %(default)s)",
    )
    evaluate.add_argument(
        "-n",
        type=_integer("-n", minimum=1),
        default=10_000,
        help="random sums per length (default: %(default)s)",
    )
    evaluate.add_argument(
        "--seed",
        type=_integer("--seed", minimum=0),
        default=0,
        help="seed of the random sums (default: %(default)s)",
    )

    export = commands.add_parser(
        "export",
        help="export a SavedModel, ONNX or LiteRT model for serving",
        description="Export a model as a TensorFlow SavedModel, an ONNX model "
        "or a LiteRT model that takes any batch size and length.",
    )
    export.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="FILE",
        help="the .keras addition model to export (required)",
    )
    export.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help="the SavedModel folder (which may exist empty) or the .onnx or "
        ".tflite file to create; must not exist (required)",
    )
    export.add_argument(
        "--format",
        choices=_EXPORT_FORMATS,
        default=_EXPORT_FORMATS[0],
        help="saved_model (TensorFlow Serving), onnx (ONNX Runtime) or litert "
        "(LiteRT); onnx and litert need the TensorFlow backend "
        "(default: %(default)s)",
    )
    return parser


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


@contextlib.contextmanager
def _user_path(
    option: str, path: Path, failed: str = "cannot be created or written"
) -> Iterator[None]:
    """Reports an `OSError` on a path the user gave as a usage error naming it."""
    try:
        yield
    except OSError as error:
        raise UsageError(
            f"{option} {str(path)!r} {failed}: {error.strerror or error}"
        ) from None


def _writable_folder(option: str, path: Path) -> None:
    """Creates `path` if missing and checks that a file can be written there."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {str(path)!r} exists and is not a folder")
    with _user_path(option, path):
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass


def _load_model(path: Path | None):
    if path is None:
        # The shipped model: a failure to load it is a defect, not the user's.
        from keras_gru_cell.addition.pretrained import load_pretrained_model

        return load_pretrained_model()
    from keras_gru_cell.addition.evaluation import load_addition_model

    # Its one ValueError names the file: missing, damaged, unsafe, not an adder.
    try:
        with _user_path("--model", path, "cannot be read"):
            return load_addition_model(path)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _connect_processes(args, backend: str) -> int:
    """Joins a multi-process run, before --out is created; checks its options.

    Returns the number of processes: 1 without `--distribute multi-process`.
    """
    options = {
        "--coordinator": args.coordinator,
        "--num-processes": args.num_processes,
        "--process-id": args.process_id,
        "--connect-timeout": args.connect_timeout,
    }
    if args.distribute != "multi-process":
        given = [option for option, value in options.items() if value is not None]
        if given:
            raise UsageError(f"{given[0]} needs --distribute multi-process")
        return 1
    if backend != "jax":
        raise UsageError(
            f"--distribute 'multi-process' needs the JAX backend: run it with "
            f"KERAS_BACKEND=jax (the {backend} backend is in use)"
        )
    from keras_gru_cell.addition.distribution import connect_processes

    try:
        return connect_processes(
            args.coordinator,
            args.num_processes,
            args.process_id,
            timeout=args.connect_timeout or 60.0,
        )
    except (ValueError, ConnectionError) as error:
        raise UsageError(str(error)) from None


def _train(args) -> None:
    import keras

    from keras_gru_cell.addition import training

    overrides = {
        "bits": args.bits,
        "hidden_size": args.hidden,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "loss": args.loss,
        "seed": args.seed,
    }
    # The options' own checks catch every value TrainingSettings refuses
    # today; this keeps its future checks of what the user typed usage errors.
    try:
        settings = dataclasses.replace(
            training.PRESETS[args.preset],
            **{key: value for key, value in overrides.items() if value is not None},
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.compare_builtin:
        result = training.compare_with_builtin_gru(settings)
        print(
            f"Trained {len(result.losses)} steps side by side with "
            f"keras.layers.GRU(reset_after=False).\n"
            f"Largest |loss difference| over a step: "
            f"{max(result.loss_differences):.3g}\n"
            f"Largest |final weight difference|: {result.max_weight_difference:.3g}"
        )
        return
    # Checked here rather than caught from train_addition_model, whose other
    # ValueErrors may be defects; all before --out is created.
    backend = keras.backend.backend()
    if args.distribute == "mirrored" and backend not in ("tensorflow", "jax"):
        raise UsageError(
            f"--distribute {args.distribute!r} needs the TensorFlow or JAX "
            f"backend; the {backend} backend of Keras has no data-parallel engine"
        )
    processes = _connect_processes(args, backend)
    # Keras gives each process an equal share of every batch.
    if settings.batch_size % processes:
        raise UsageError(
            f"--batch-size {settings.batch_size} does not divide between the "
            f"{processes} processes of the run"
        )
    if args.tensorboard is not None:
        if importlib.util.find_spec("tensorboard") is None:
            raise UsageError(
                "--tensorboard needs the tensorboard package: pip install tensorboard"
            )
        _writable_folder("--tensorboard", args.tensorboard)
    _writable_folder("--out", args.out)
    set_interrupt_hint("run the same command again to resume training")
    try:
        result = training.train_addition_model(
            settings,
            args.out,
            tensorboard_dir=args.tensorboard,
            distribute=args.distribute,
        )
    except training.IncompatibleBackupError as error:
        raise UsageError(str(error)) from None
    # Done: a signal from now on has nothing to resume.
    set_interrupt_hint("")
    last = result.history[-1] if result.history else {}
    trained = last.get("step", result.steps)
    print(f"Seed {result.seed}: trained {trained} steps in {result.seconds:.1f} s.")
    if result.steps < trained:
        print(
            f"Two validations in a row were never all right: the model is that "
            f"of step {result.steps}, the last at which every held-out sum was."
        )
    if result.first_perfect_step is None:
        print(
            f"The held-out sums were never all right (last: "
            f"{last.get('val_exact_match', 0):.2%} exact)."
        )
    else:
        print(
            f"Every held-out sum was right after iteration {result.first_perfect_step}."
        )
    from keras_gru_cell.addition.distribution import is_process_zero

    writer = "Wrote" if is_process_zero() else "Process 0 wrote"
    print(f"{writer} {args.out / 'model.keras'}, history.csv and loss.png.")


def _add(args) -> None:
    from keras_gru_cell.addition.evaluation import predict_sums

    model = _load_model(args.model)
    (total,) = predict_sums(model, [(args.a, args.b)])
    verdict = "right" if total == args.a + args.b else f"wrong: {args.a + args.b}"
    print(f"{args.a} + {args.b} = {total} ({verdict})")


def _evaluate(args) -> None:
    from keras_gru_cell.addition.evaluation import evaluate_addition
    from keras_gru_cell.addition.evaluation import evaluate_carry_chains

    model = _load_model(args.model)

    def row(num_bits: int, sums: str, scores: dict[str, float]) -> None:
        print(
            f"{num_bits:>6}  {sums:<14} {scores['exact_match']:>12.2%} "
            f"{scores['bit_accuracy']:>13.4%}",
            flush=True,
        )

    print(f"{'bits':>6}  {'sums':<14} {'exact match':>12} {'bit accuracy':>13}")
    for num_bits in args.bits:
        row(
            num_bits,
            "random",
            evaluate_addition(model, num_bits, args.n, seed=args.seed),
        )
    longest = max(args.bits)
    for name, scores in evaluate_carry_chains(model, longest).items():
        row(longest, name, scores)


def _export(args) -> None:
    from keras_gru_cell.addition import export_formats

    try:
        with _user_path("--out", args.out):
            export_formats.check_export(args.out, args.format)
    except ValueError as error:
        raise UsageError(str(error)) from None
    model = _load_model(args.model)
    with _user_path("--out", args.out):
        print(export_formats.export_addition_model(model, args.out, args.format))


_COMMANDS = {"train": _train, "add": _add, "evaluate": _evaluate, "export": _export}


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
            args = _parser().parse_args(argv)
        except SystemExit as done:  # --help and --version
            return done.code if isinstance(done.code, int) else 0
        _start_tensorflow(verbose=args.debug)
        _COMMANDS[args.command](args)
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


if __name__ == "__main__":
    exit_at_once_on_signals()
    sys.exit(main())

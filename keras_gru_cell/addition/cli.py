"""The `keras-gru-cell` command: train, add, evaluate and export addition models.

A thin front end: it parses and checks the arguments, then calls
`keras_gru_cell.addition.training` and `keras_gru_cell.addition.evaluation`.
Every error a user can cause ends the command with one line on stderr and a
non-zero status.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from keras_gru_cell.addition.distribution import DISTRIBUTIONS

PROG = "keras-gru-cell"
_DEFAULT_BITS = "5,8,16,32,64,128,1024"


class UsageError(Exception):
    """A mistake in the command line or its inputs, shown as one line."""


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread as SIGINT raises KeyboardInterrupt.

    A `BaseException`, like `KeyboardInterrupt`, so that no `except Exception`
    on the way up swallows it.
    """


def _terminate(signum, frame):
    raise _Terminated


@contextlib.contextmanager
def _sigterm_raises():
    """Turns SIGTERM into `_Terminated` while the command runs.

    SIGTERM (what `kill`, batch schedulers and container runtimes send) would
    otherwise end the process without a word. Python lets only the main
    thread set handlers; elsewhere SIGTERM keeps its default.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage before its error: one line is clearer.
    def error(self, message):
        raise UsageError(message)


def _positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _natural(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}"
        )
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _bit_count(text: str) -> int:
    value = _integer(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected at least 2 bits, got {text!r}")
    return value


def _bits_range(text: str) -> int | tuple[int, int]:
    low, _, high = text.partition(":")
    if not high:
        return _bit_count(low)
    low, high = _bit_count(low), _bit_count(high)
    if low > high:
        raise argparse.ArgumentTypeError(f"expected LOW <= HIGH, got {text!r}")
    return (low, high)


def _bit_counts(text: str) -> list[int]:
    return [_bit_count(part) for part in text.split(",")]


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Train and use a GRU that adds binary numbers of any length.",
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
        help="starting settings; the options below override them",
    )
    train.add_argument(
        "--bits", type=_bits_range, help="training length N, or a range LOW:HIGH"
    )
    train.add_argument("--hidden", type=_positive_int, help="GRU units")
    train.add_argument("--steps", type=_positive_int, help="most training steps")
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--lr", type=_positive_float, help="Adam's learning rate")
    train.add_argument("--loss", choices=["bce", "mse", "quadratic"])
    train.add_argument("--seed", type=_natural)
    train.add_argument("--out", type=Path, default=Path("runs/addition"), metavar="DIR")
    train.add_argument("--tensorboard", type=Path, metavar="DIR", help="log here")
    train.add_argument(
        "--distribute",
        choices=DISTRIBUTIONS,
        default="none",
        help="'mirrored': data-parallel over every local device (TensorFlow "
        "or JAX); --batch-size is then the global batch",
    )
    train.add_argument(
        "--compare-builtin",
        action="store_true",
        help="instead train side by side with a keras.layers.GRU twin and "
        "report how far they drift apart",
    )

    add = commands.add_parser("add", help="add two numbers with a model")
    add.add_argument("a", type=_natural, metavar="A")
    add.add_argument("b", type=_natural, metavar="B")
    add.add_argument(
        "--model", type=Path, help="a .keras model (default: the shipped one)"
    )

    evaluate = commands.add_parser(
        "evaluate", help="score a model on random held-out sums"
    )
    evaluate.add_argument("--model", type=Path, required=True)
    evaluate.add_argument(
        "--bits", type=_bit_counts, default=_bit_counts(_DEFAULT_BITS)
    )
    evaluate.add_argument("-n", type=_positive_int, default=10_000)
    evaluate.add_argument("--seed", type=_natural, default=0)

    export = commands.add_parser("export", help="export a TensorFlow SavedModel")
    export.add_argument("--model", type=Path, required=True)
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    return parser


@contextlib.contextmanager
def _quiet_stderr():
    """Silences file descriptor 2, where TensorFlow's C++ logs go."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _find_devices_quietly():
    # TensorFlow logs its search for GPUs (and its failure on a CPU-only
    # machine) to stderr the first time it looks; look while stderr is quiet.
    import tensorflow as tf

    with _quiet_stderr():
        tf.config.list_physical_devices()


def _load_model(path: Path | None):
    if path is None:
        from keras_gru_cell.addition.pretrained import load_pretrained_model

        return load_pretrained_model()
    from keras_gru_cell.addition.evaluation import load_addition_model

    return load_addition_model(path)


def _train(args) -> None:
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
    settings = dataclasses.replace(
        training.PRESETS[args.preset],
        **{key: value for key, value in overrides.items() if value is not None},
    )
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
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {str(args.out)!r} exists and is not a folder")
    result = training.train_addition_model(
        settings,
        args.out,
        tensorboard_dir=args.tensorboard,
        distribute=args.distribute,
    )
    last = result.history[-1] if result.history else {}
    print(
        f"Seed {result.seed}: trained {result.steps} steps in {result.seconds:.1f} s."
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
    print(f"Wrote {args.out / 'model.keras'}, history.csv and loss.png.")


def _add(args) -> None:
    from keras_gru_cell.addition.evaluation import predict_sums

    model = _load_model(args.model)
    (total,) = predict_sums(model, [(args.a, args.b)])
    verdict = "right" if total == args.a + args.b else f"wrong: {args.a + args.b}"
    print(f"{args.a} + {args.b} = {total} ({verdict})")


def _evaluate(args) -> None:
    from keras_gru_cell.addition.evaluation import evaluate_addition

    model = _load_model(args.model)
    print(f"{'bits':>6} {'exact match':>12} {'bit accuracy':>13}")
    for num_bits in args.bits:
        scores = evaluate_addition(model, num_bits, args.n, seed=args.seed)
        print(
            f"{num_bits:>6} {scores['exact_match']:>12.2%} "
            f"{scores['bit_accuracy']:>13.4%}",
            flush=True,
        )


def _export(args) -> None:
    out = args.out
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise UsageError(f"--out {str(out)!r} already exists; choose a new folder")
    model = _load_model(args.model)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Export beside the target and rename, so no half-written SavedModel shows.
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.export(str(staging / "saved_model"), format="tf_saved_model", verbose=0)
        os.replace(staging / "saved_model", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(
        f"Wrote a SavedModel to {out}; its `serve` endpoint takes any batch and length."
    )


_COMMANDS = {"train": _train, "add": _add, "evaluate": _evaluate, "export": _export}


def main(argv: list[str] | None = None) -> int:
    """Runs the `keras-gru-cell` command.

    Args:
        argv: The arguments after the program name; `None` reads
            `sys.argv`.

    Returns:
        The exit status: 0 on success, 2 for a usage error, 130 when
        interrupted by SIGINT (Ctrl-C) and 143 by SIGTERM. An interrupted
        `train` keeps its last backup, and the same command resumes it.
    """
    try:
        args = _parser().parse_args(argv)
        _find_devices_quietly()
        with _sigterm_raises():
            _COMMANDS[args.command](args)
    except (UsageError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, _Terminated) as interruption:
        print(
            f"{PROG}: interrupted; run the same command again to resume training",
            file=sys.stderr,
        )
        if isinstance(interruption, KeyboardInterrupt):
            return 128 + signal.SIGINT
        return 128 + signal.SIGTERM
    return 0


if __name__ == "__main__":
    sys.exit(main())

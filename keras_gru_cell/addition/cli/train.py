"""`keras-gru-cell train`: trains the addition model with one `model.fit`."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
from pathlib import Path

from _keras_gru_cell_process import set_interrupt_hint
from keras_gru_cell.addition.cli.files import writable_folder
from keras_gru_cell.addition.cli.options import UsageError
from keras_gru_cell.addition.cli.options import bit_count
from keras_gru_cell.addition.cli.options import integer
from keras_gru_cell.addition.cli.options import positive_float

# Copies of `distribution.DISTRIBUTIONS`, `distribution.MULTI_PROCESS_BACKENDS`
# and `TrainingSettings`'s seed bound: importing those modules imports
# TensorFlow, which must wait until stderr is silenced (see
# `keras_gru_cell.addition.cli`). The tests check that the copies agree.
DISTRIBUTIONS = ("none", "mirrored", "multi-process")
MULTI_PROCESS_BACKENDS = ("jax", "torch")
MAX_TRAINING_SEED = 2**31 - 1


def _bits_range(option: str):
    single = bit_count(option)

    def convert(text: str) -> int | tuple[int, int]:
        low, colon, high = text.partition(":")
        if not colon:
            return single(low)
        low, high = single(low), single(high)
        if low > high:
            raise UsageError(
                f"Received an invalid value for argument `{option}`, expected "
                f"N or LOW:HIGH with LOW <= HIGH, got {text!r}."
            )
        return (low, high)

    return convert


def _preset_default(default: str, tutorial: str) -> str:
    # The options that --preset fills in have no default of their own (None:
    # keep the preset's), so their help spells out each preset's value.
    if default == tutorial:
        return f"(default: {default})"
    return f"(default: {default}, or {tutorial} with --preset tutorial)"


def add_parser(commands) -> None:
    """Adds the `train` command and its options to `commands`."""
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
        "length from " + _preset_default("8:32", "5"),
    )
    train.add_argument(
        "--hidden",
        type=integer("--hidden", minimum=1),
        help="number of GRU units " + _preset_default("16", "16"),
    )
    train.add_argument(
        "--steps",
        type=integer("--steps", minimum=1),
        help="most training steps; the default preset stops sooner, once "
        "every held-out sum, 1024-bit sums and carry chains included, has "
        "been right at 2 validations in a row " + _preset_default("1000", "5000"),
    )
    train.add_argument(
        "--batch-size",
        type=integer("--batch-size", minimum=1),
        help="sums per training step " + _preset_default("256", "100"),
    )
    train.add_argument(
        "--lr",
        type=positive_float("--lr"),
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
        type=integer("--seed", minimum=0, maximum=MAX_TRAINING_SEED),
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
        choices=DISTRIBUTIONS,
        default="none",
        help="'mirrored': data-parallel over every local device (TensorFlow "
        "or JAX); 'multi-process': over every process of a run (JAX or "
        "PyTorch), each process running this command; --batch-size is then "
        "the global batch (default: %(default)s)",
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
        type=integer("--num-processes", minimum=1),
        metavar="N",
        help="with --distribute multi-process: the number of processes "
        "(default: KERAS_DISTRIBUTION_NUM_PROCESSES)",
    )
    train.add_argument(
        "--process-id",
        type=integer("--process-id", minimum=0),
        metavar="I",
        help="with --distribute multi-process: this process's number, 0 to "
        "N-1; process 0 writes the files (default: "
        "KERAS_DISTRIBUTION_PROCESS_ID)",
    )
    train.add_argument(
        "--connect-timeout",
        type=positive_float("--connect-timeout"),
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
    if backend not in MULTI_PROCESS_BACKENDS:
        raise UsageError(
            f"--distribute 'multi-process' needs the JAX or PyTorch backend: run "
            f"it with KERAS_BACKEND=jax or torch (the {backend} backend is in use)"
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


def run(args: argparse.Namespace) -> None:
    """Runs `train` with the parsed `args`."""
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
        writable_folder("--tensorboard", args.tensorboard)
    writable_folder("--out", args.out)
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
    except ConnectionError as error:
        if processes == 1:
            raise
        raise UsageError(
            f"{error} Run every process's command again to resume from the last backup."
        ) from None
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

"""The addition model's training run: one `model.fit` with its artifacts.

`train_addition_model` trains, validates on held-out sums, stops once they
are all right, resumes an interrupted run, and writes `model.keras`,
`history.csv` and `loss.png` atomically. `compare_with_builtin_gru` trains
the same model and its twin on `keras.layers.GRU` side by side.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from keras_gru_cell.addition import _check_num_bits
from keras_gru_cell.addition import addition_dataset
from keras_gru_cell.addition import tutorial_data
from keras_gru_cell.distribution import distribution_scope
from keras_gru_cell.losses import QuadraticLoss
from keras_gru_cell.metrics import ExactMatch
from keras_gru_cell.model import build_addition_model
from keras_gru_cell.time_distributed import TimeDistributed
from keras_gru_cell.weights import chung_to_keras_gru_weights
from keras_gru_cell.weights import keras_gru_to_chung_weights

LOSSES = ("bce", "mse", "quadratic")

# Where an unfinished run keeps what it needs to resume; removed on success.
_RESUME_DIR = ".resume"
_EPOCH_STEPS = 50


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Everything that decides a training run of the addition model.

    The defaults are the package's best settings; `TUTORIAL` holds the 2017
    tutorial's.

    Args:
        bits: The training sequence length, or an inclusive `(low, high)`
            range to draw each batch's length from.
        hidden_size: The number of GRU units.
        steps: The most training steps (batches) to run.
        batch_size: The number of sums per training batch.
        learning_rate: Adam's learning rate.
        epsilon: Adam's epsilon.
        loss: `"bce"` (binary cross-entropy on a sigmoid output), `"mse"`
            (mean squared error on a linear output) or `"quadratic"` (the
            tutorial's Σ 0.5 (ŷ − y)² / batch on a linear output).
        seed: The seed of the weights and the data; `None` draws one.
        validation_bits: The length of the held-out validation sums.
        validation_size: The number of held-out validation sums.
        validation_every: Training steps between validations (one Keras
            epoch).
        dtype: The model's and the data's floating dtype.
        weight_stddev: If set, the standard deviation of every initial
            weight (see `build_addition_model`); `None` uses Keras's
            initializers.
        tutorial_data: Whether to train on the tutorial's 100 fixed sums and
            validate on its 100 fixed test sums instead of fresh batches.
        stop_after_perfect: Stop once every held-out sum has been right at
            this many validations in a row (a model that is just right is
            often still fragile at lengths far beyond its training);
            `None` never stops early.

    Raises:
        ValueError: If a setting is out of range, naming it.
    """

    bits: int | tuple[int, int] = (8, 16)
    hidden_size: int = 16
    steps: int = 1000
    batch_size: int = 256
    learning_rate: float = 0.01
    epsilon: float = 1e-7
    loss: str = "bce"
    seed: int | None = None
    validation_bits: int = 128
    validation_size: int = 1000
    validation_every: int = 50
    dtype: str = "float32"
    weight_stddev: float | None = None
    tutorial_data: bool = False
    stop_after_perfect: int | None = 2

    def __post_init__(self):
        if isinstance(self.bits, tuple):
            for length in self.bits:
                _check_num_bits(length, "bits")
            if len(self.bits) != 2 or self.bits[0] > self.bits[1]:
                raise ValueError(
                    f"Received an invalid value for argument `bits`, expected "
                    f"an integer or a (low, high) pair with low <= high, got "
                    f"{self.bits!r}."
                )
        else:
            _check_num_bits(self.bits, "bits")
        _check_num_bits(self.validation_bits, "validation_bits")
        for name in (
            "hidden_size",
            "steps",
            "batch_size",
            "validation_size",
            "validation_every",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`, expected "
                    f"a positive integer, got {value!r}."
                )
        for name in ("learning_rate", "epsilon"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < math.inf):
                raise ValueError(
                    f"Received an invalid value for argument `{name}`, expected "
                    f"a positive number, got {value!r}."
                )
        if self.loss not in LOSSES:
            raise ValueError(
                f"Received an invalid value for argument `loss`, expected one of "
                f"{LOSSES}, got {self.loss!r}."
            )
        if self.stop_after_perfect is not None and not (
            isinstance(self.stop_after_perfect, int) and self.stop_after_perfect >= 1
        ):
            raise ValueError(
                f"Received an invalid value for argument `stop_after_perfect`, "
                f"expected None or a positive integer, got "
                f"{self.stop_after_perfect!r}."
            )
        if self.seed is not None and not (
            isinstance(self.seed, int) and 0 <= self.seed < 2**31
        ):
            raise ValueError(
                f"Received an invalid value for argument `seed`, expected None "
                f"or an integer in [0, 2**31), got {self.seed!r}."
            )


TUTORIAL = TrainingSettings(
    bits=5,
    hidden_size=16,
    steps=5000,
    batch_size=100,
    # tf.compat.v1.train.AdamOptimizer's defaults; Keras's epsilon is 1e-7.
    learning_rate=0.001,
    epsilon=1e-8,
    loss="quadratic",
    validation_bits=5,
    validation_size=100,
    validation_every=1,
    dtype="float64",
    weight_stddev=0.01,
    tutorial_data=True,
    stop_after_perfect=None,
)
"""The 2017 tutorial's settings: its 100 fixed sums at 5 bits, 16 units,
float64, weights drawn with standard deviation 0.01, Adam's defaults, the
quadratic loss and 5000 full-batch iterations, validated after each one."""

PRESETS = {"default": TrainingSettings(), "tutorial": TUTORIAL}


@dataclasses.dataclass
class TrainingResult:
    """What a training run produced.

    Attributes:
        model: The trained model.
        history: One dict per validation: `step` (training steps so far) and
            the Keras logs (`loss`, `exact_match`, `bit_accuracy` and their
            `val_` counterparts).
        first_perfect_step: The first step after which every held-out sum was
            right, or `None`.
        seed: The seed the run used.
        seconds: Wall time spent in `model.fit`.
    """

    model: keras.Model
    history: list[dict[str, float]]
    first_perfect_step: int | None
    seed: int
    seconds: float

    @property
    def steps(self) -> int:
        """The number of training steps the model has taken."""
        return _optimizer_step(self.model)


def _output_activation(loss: str) -> str | None:
    return "sigmoid" if loss == "bce" else None


def _loss(name: str, dtype: str) -> keras.losses.Loss:
    # Keras losses compute in float32 unless told; the tutorial's is float64.
    if name == "bce":
        return keras.losses.BinaryCrossentropy(dtype=dtype)
    if name == "mse":
        return keras.losses.MeanSquaredError(dtype=dtype)
    return QuadraticLoss(dtype=dtype)


def _compiled_model(settings: TrainingSettings, *, metrics: bool) -> keras.Model:
    model = build_addition_model(
        settings.hidden_size,
        output_activation=_output_activation(settings.loss),
        weight_stddev=settings.weight_stddev,
        dtype=settings.dtype,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            settings.learning_rate, epsilon=settings.epsilon
        ),
        loss=_loss(settings.loss, settings.dtype),
        metrics=(
            [ExactMatch(), keras.metrics.BinaryAccuracy(name="bit_accuracy")]
            if metrics
            else None
        ),
    )
    return model


def _data(
    settings: TrainingSettings, seed: int, first_batch: int | tf.Variable = 0
) -> tuple[tf.data.Dataset, tuple[tf.Tensor, tf.Tensor], tuple | None]:
    """The training stream, the held-out sums and the fixed training sums."""
    if settings.tutorial_data:
        train, test = tutorial_data(seed, dtype=settings.dtype)
        return tf.data.Dataset.from_tensors(train).repeat(), test, train
    stream = addition_dataset(
        settings.bits,
        settings.batch_size,
        seed=seed,
        first_batch=first_batch,
        dtype=settings.dtype,
    )
    # A seed stream of its own keeps the held-out sums apart from the batches.
    validation = addition_dataset(
        settings.validation_bits,
        settings.validation_size,
        seed=(seed + 2**31) % 2**63,
        num_batches=1,
        dtype=settings.dtype,
    )
    return stream, next(iter(validation)), None


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Calls `write` on a temporary file beside `path`, then renames it to `path`.

    A reader, or a run killed halfway, never sees a half-written `path`.

    Args:
        path: The file to write.
        write: Writes the file at the path it is given, whose name ends with
            the name of `path` (Keras and Matplotlib read the format from
            it).
    """
    temporary = path.with_name(f".{os.getpid()}.tmp.{path.name}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_history(rows: list[dict[str, float]], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["step"])
        writer.writeheader()
        writer.writerows(rows)


def _read_history(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [
            {key: (int(v) if key == "step" else float(v)) for key, v in row.items()}
            for row in csv.DictReader(f)
        ]


def plot_losses(history: list[dict[str, float]], path: Path) -> None:
    """Plots training and validation loss against training steps, as a PNG.

    Args:
        history: Rows as in `TrainingResult.history`.
        path: The image file to write.
    """
    figure = Figure(figsize=(7, 4.5))
    axes = figure.subplots()
    steps = [row["step"] for row in history]
    for key, label, style in (
        ("loss", "Training loss", "-b"),
        ("val_loss", "Validation loss", "-r"),
    ):
        if history and key in history[0]:
            axes.plot(steps, [row[key] for row in history], style, label=label)
    axes.set_yscale("log")
    axes.set_title("Loss")
    axes.set_xlabel("Iteration")
    axes.set_ylabel("Loss")
    axes.legend(loc="upper right")
    figure.savefig(path, format="png", dpi=100)


class _HeldOutLog(keras.callbacks.Callback):
    """Scores the held-out sums every `every` steps and keeps the history.

    Keras validates only at the end of an epoch, and one-step epochs (the
    tutorial checks its test set after every iteration) would spend most of
    the run backing up and setting up iterators; this scores the held-out
    sums with one compiled forward pass instead, and puts the latest scores
    in each epoch's logs for the progress bar, `History` and TensorBoard.

    It also resumes: when training begins, with the weights and the
    optimizer's step count already restored from a backup, it points the
    batch stream at that step and keeps the logged rows up to it. Rows are
    logged at batch ends, before `_Backup` backs up at the epoch end, so the
    log never lags the backup.
    """

    def __init__(
        self,
        validation: tuple[tf.Tensor, tf.Tensor],
        *,
        every: int,
        last_step: int,
        log_path: Path,
        stream_offset: tf.Variable,
        stop_after_perfect: int | None,
        fixed_training: tuple[tf.Tensor, tf.Tensor] | None,
    ):
        super().__init__()
        self.validation = validation
        self.every = every
        self.last_step = last_step
        self.log_path = log_path
        self.stream_offset = stream_offset
        self.stop_after_perfect = stop_after_perfect
        self.fixed_training = fixed_training
        self.rows: list[dict[str, float]] = []

    def on_train_begin(self, logs=None):
        step = self._step()
        self.stream_offset.assign(step)
        self.rows = [r for r in _read_history(self.log_path) if r["step"] <= step]
        if self.rows:
            _write_history(self.rows, self.log_path)
        else:
            self.log_path.unlink(missing_ok=True)

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        if step % self.every and step < self.last_step:
            return
        row = {"step": step}
        if self.fixed_training is None:
            row.update({key: float(value) for key, value in (logs or {}).items()})
        else:
            row.update(self._score(*self.fixed_training))
        row.update({f"val_{k}": v for k, v in self._score(*self.validation).items()})
        self._append(row)
        perfect = [r["val_exact_match"] == 1.0 for r in self.rows]
        needed = self.stop_after_perfect
        if needed is not None and len(perfect) >= needed and all(perfect[-needed:]):
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.rows:
            logs.update({k: v for k, v in self.rows[-1].items() if k != "step"})

    def _step(self) -> int:
        return _optimizer_step(self.model)

    def _score(self, x: tf.Tensor, y: tf.Tensor) -> dict[str, float]:
        # predict_on_batch runs the model's compiled predict function, on
        # any backend, without the overhead of a predict loop.
        predictions = self.model.predict_on_batch(np.asarray(x))
        y = np.asarray(y)
        right = (predictions > 0.5) == (y > 0.5)
        loss = self.model.loss(y, predictions)
        return {
            "loss": float(keras.ops.convert_to_numpy(loss)),
            "exact_match": float(np.mean(np.all(right, axis=(1, 2)))),
            "bit_accuracy": float(np.mean(right)),
        }

    def _append(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        new_file = not self.log_path.exists()
        with open(self.log_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)


class _Backup(keras.callbacks.Callback):
    """Backs up the weights and the optimizer's state at each epoch end.

    In place of `keras.callbacks.BackupAndRestore`, which overwrites its
    weights file in place and then writes the epoch to a second file: Ctrl-C
    during the write unwinds cleanly through h5py and leaves a well-formed
    file with weights missing, which the next run cannot load, and a kill
    between the two files would resume at the wrong epoch. Here one file,
    replaced atomically, is the whole state; the optimizer's step count in it
    says where the run was.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        write_atomically(self.path, self.model.save_weights)


def _restore(model: keras.Model, path: Path) -> int:
    """Loads the backup at `path`, if any, into `model`; returns its step.

    Raises:
        ValueError: If the backup is of a model built with other settings.
    """
    if path.exists():
        # The optimizer's variables must exist to receive the saved ones.
        model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(path)
        except ValueError:
            raise ValueError(
                f"{str(path.parent)!r} holds an interrupted run of a model with "
                "other settings: rerun it with its own settings to resume it, or "
                "delete that folder to start afresh."
            ) from None
    return _optimizer_step(model)


class _StopAtStep(keras.callbacks.Callback):
    """Stops after exactly `steps` training steps, mid-epoch if need be."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if _optimizer_step(self.model) >= self.steps:
            self.model.stop_training = True


def _optimizer_step(model: keras.Model) -> int:
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _tensorboard_installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def train_addition_model(
    settings: TrainingSettings,
    out_dir: str | os.PathLike,
    *,
    tensorboard_dir: str | os.PathLike | None = None,
    distribute: str = "none",
    verbose: int = 1,
) -> TrainingResult:
    """Trains the addition model with one `model.fit` and writes its artifacts.

    Trains on `addition_dataset` batches (or the tutorial's fixed sums),
    validating every `settings.validation_every` steps on held-out sums, and
    stops after `settings.steps` steps or once every held-out sum has been
    right at `settings.stop_after_perfect` validations in a row. Writes
    `out_dir/model.keras`,
    `out_dir/history.csv` and `out_dir/loss.png`, each atomically. A run
    stopped midway (Ctrl-C, SIGTERM, SIGKILL, a crash) leaves its state in
    `out_dir/.resume/`, backed up atomically at the end of each epoch (a few
    dozen steps); the same call resumes from the last backup, with the batch
    stream and the history continuing where they stopped.

    Args:
        settings: The run's settings.
        out_dir: The folder to write to; created if missing.
        tensorboard_dir: If set, TensorBoard logs go there.
        distribute: `"none"`, or `"mirrored"` to train data-parallel on
            every local device (see `distribution_scope`); the batch size is
            then the global batch.
        verbose: Keras's `verbose`: 1 shows a progress bar, 2 a line per
            epoch, 0 nothing.

    Returns:
        A `TrainingResult`.

    Raises:
        ValueError: If `out_dir` exists and is not a folder, holds an
            interrupted run of a model with other settings, or
            `tensorboard_dir` is set but TensorBoard is not installed; or
            for a `distribute` that `distribution_scope` refuses.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"`out_dir` {str(out_dir)!r} exists and is not a folder.")
    if tensorboard_dir is not None and not _tensorboard_installed():
        raise ValueError(
            "`tensorboard_dir` needs the tensorboard package: pip install tensorboard"
        )
    resume_dir = out_dir / _RESUME_DIR

    seed = settings.seed if settings.seed is not None else random.randrange(2**31)
    keras.utils.set_random_seed(seed)
    stream_offset = tf.Variable(0, dtype=tf.int64, trainable=False)
    train, validation, fixed_training = _data(settings, seed, stream_offset)
    # JAX reads its data-parallel layout while fitting, not only when building.
    with distribution_scope(distribute):
        # Only now: a refused `distribute` leaves no trace in `out_dir`.
        resume_dir.mkdir(parents=True, exist_ok=True)
        model = _compiled_model(settings, metrics=True)

        every = min(settings.validation_every, settings.steps)
        # An epoch is the unit of backups and of the progress bar: a few dozen
        # steps, and a whole number of validations.
        epoch_steps = min(every * math.ceil(_EPOCH_STEPS / every), settings.steps)
        backup = resume_dir / "backup.weights.h5"
        start_step = _restore(model, backup)
        log = _HeldOutLog(
            validation,
            every=every,
            last_step=settings.steps,
            log_path=resume_dir / "history.csv",
            stream_offset=stream_offset,
            stop_after_perfect=settings.stop_after_perfect,
            fixed_training=fixed_training,
        )
        callbacks = [
            log,
            _Backup(backup),
            _StopAtStep(settings.steps),
        ]
        if tensorboard_dir is not None:
            callbacks.append(keras.callbacks.TensorBoard(str(tensorboard_dir)))

        start = time.perf_counter()
        model.fit(
            train,
            epochs=math.ceil(settings.steps / epoch_steps),
            # Backups are made at epoch ends, except the one a run stopped
            # mid-epoch makes; such a run has finished its steps.
            initial_epoch=math.ceil(start_step / epoch_steps),
            steps_per_epoch=epoch_steps,
            callbacks=callbacks,
            shuffle=False,
            verbose=verbose,
        )
    seconds = time.perf_counter() - start

    history = log.rows
    write_atomically(out_dir / "model.keras", model.save)
    write_atomically(out_dir / "history.csv", lambda p: _write_history(history, p))
    write_atomically(out_dir / "loss.png", lambda p: plot_losses(history, p))
    shutil.rmtree(resume_dir)
    first_perfect = next(
        (row["step"] for row in history if row.get("val_exact_match") == 1.0), None
    )
    return TrainingResult(model, history, first_perfect, seed, seconds)


@dataclasses.dataclass
class ComparisonResult:
    """How far the addition model and its `keras.layers.GRU` twin drifted apart.

    Attributes:
        losses: The addition model's training loss at each step.
        loss_differences: |loss − twin loss| at each step.
        max_weight_difference: The largest absolute difference between the
            final weights, the twin's converted back to `ChungGRUCell` form.
    """

    losses: list[float]
    loss_differences: list[float]
    max_weight_difference: float


def builtin_twin(model: keras.Model) -> keras.Model:
    """The addition model rebuilt on `keras.layers.GRU`, computing the same function.

    Args:
        model: A model from `build_addition_model`.

    Returns:
        A model whose `keras.layers.GRU(reset_after=False)` holds the
        converted weights of `model`'s `ChungGRUCell`, with the same output
        layer and weights.
    """
    cell = model.get_layer("gru").cell
    dense = model.get_layer("sum_bits").layer
    dtype = model.get_layer("gru").dtype_policy.name
    inputs = keras.Input((None, 2), dtype=dtype)
    gru = keras.layers.GRU(
        cell.units, reset_after=False, return_sequences=True, dtype=dtype, name="gru"
    )
    twin_dense = keras.layers.Dense(1, activation=dense.activation, dtype=dtype)
    outputs = TimeDistributed(twin_dense, dtype=dtype, name="sum_bits")(gru(inputs))
    twin = keras.Model(inputs, outputs)
    gru.set_weights(chung_to_keras_gru_weights(model.get_layer("gru").get_weights()))
    twin_dense.set_weights(dense.get_weights())
    return twin


def compare_with_builtin_gru(
    settings: TrainingSettings, steps: int | None = None
) -> ComparisonResult:
    """Trains the addition model and its `keras.layers.GRU` twin side by side.

    Both start from the same weights (converted with
    `chung_to_keras_gru_weights`), see the same batches in the same order
    and take one `train_on_batch` step each per batch.

    Args:
        settings: The run's settings; the seed decides weights and batches.
        steps: The number of steps; defaults to `settings.steps`.

    Returns:
        A `ComparisonResult`.
    """
    steps = settings.steps if steps is None else steps
    seed = settings.seed if settings.seed is not None else random.randrange(2**31)
    keras.utils.set_random_seed(seed)
    model = _compiled_model(settings, metrics=False)
    twin = builtin_twin(model)
    twin.compile(
        optimizer=keras.optimizers.Adam(
            settings.learning_rate, epsilon=settings.epsilon
        ),
        loss=_loss(settings.loss, settings.dtype),
    )
    train, _, _ = _data(settings, seed)
    losses, differences = [], []
    # train_on_batch reports the loss through a float32 mean; score each
    # batch in the models' own dtype instead, with the weights it is fit from.
    loss_fn = _loss(settings.loss, settings.dtype)
    # NumPy batches: every backend's compiled functions take them.
    for x, y in train.take(steps).as_numpy_iterator():
        loss = float(keras.ops.convert_to_numpy(loss_fn(y, model.predict_on_batch(x))))
        twin_loss = float(
            keras.ops.convert_to_numpy(loss_fn(y, twin.predict_on_batch(x)))
        )
        model.train_on_batch(x, y)
        twin.train_on_batch(x, y)
        losses.append(loss)
        differences.append(abs(loss - twin_loss))
    twin_weights = keras_gru_to_chung_weights(twin.get_layer("gru").get_weights())
    twin_weights += twin.get_layer("sum_bits").get_weights()
    max_difference = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(model.get_weights(), twin_weights, strict=True)
    )
    return ComparisonResult(losses, differences, max_difference)

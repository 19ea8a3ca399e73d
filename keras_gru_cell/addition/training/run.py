"""`train_addition_model`: the addition model's training run, one `model.fit`.

It trains, validates on held-out sums, stops once they are all right,
resumes an interrupted run, and writes `model.keras`, `history.csv` and
`loss.png` atomically.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import os
import shutil
import signal
import time
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from keras_gru_cell.addition.data import addition_dataset
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.data import tutorial_data
from keras_gru_cell.addition.distribution import connect_processes
from keras_gru_cell.addition.distribution import distribution_scope
from keras_gru_cell.addition.distribution import is_process_zero
from keras_gru_cell.addition.distribution import shared_seed
from keras_gru_cell.addition.evaluation import carry_chain_pairs
from keras_gru_cell.addition.evaluation import random_pairs
from keras_gru_cell.addition.exact_match import ExactMatch
from keras_gru_cell.addition.fused_twin import fused_twin
from keras_gru_cell.addition.model import build_addition_model
from keras_gru_cell.addition.quadratic_loss import QuadraticLoss
from keras_gru_cell.addition.torch_data_parallel import TorchDataParallel
from keras_gru_cell.addition.training.artifacts import plot_losses
from keras_gru_cell.addition.training.artifacts import write_atomically
from keras_gru_cell.addition.training.artifacts import write_history
from keras_gru_cell.addition.training.callbacks import Backup
from keras_gru_cell.addition.training.callbacks import HeldOutLog
from keras_gru_cell.addition.training.callbacks import LongValidation
from keras_gru_cell.addition.training.callbacks import StopAtStep
from keras_gru_cell.addition.training.callbacks import all_held_out_right
from keras_gru_cell.addition.training.callbacks import optimizer_step
from keras_gru_cell.addition.training.callbacks import restore
from keras_gru_cell.addition.training.settings import TrainingSettings
from keras_gru_cell.addition.training.stop_on_signal import StopOnSignal

# Where an unfinished run keeps what it needs to resume; removed on success.
_RESUME_DIR = ".resume"
_EPOCH_STEPS = 50


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
        return optimizer_step(self.model)


def _output_activation(loss: str) -> str | None:
    return "sigmoid" if loss == "bce" else None


def loss_function(name: str, dtype: str) -> keras.losses.Loss:
    # Keras losses compute in float32 unless told; the tutorial's is float64.
    if name == "bce":
        return keras.losses.BinaryCrossentropy(dtype=dtype)
    if name == "mse":
        return keras.losses.MeanSquaredError(dtype=dtype)
    return QuadraticLoss(dtype=dtype)


def optimizer(settings: TrainingSettings) -> keras.optimizers.Adam:
    """Adam, with the learning rate `settings` set, or its cosine schedule."""
    learning_rate = settings.learning_rate
    final = settings.final_learning_rate
    if final is not None and final < learning_rate:
        learning_rate = keras.optimizers.schedules.CosineDecay(
            settings.learning_rate,
            decay_steps=settings.steps,
            alpha=settings.final_learning_rate / settings.learning_rate,
        )
    return keras.optimizers.Adam(learning_rate, epsilon=settings.epsilon)


def compiled_model(
    settings: TrainingSettings,
    *,
    metrics: bool,
    cell_options: Mapping[str, Any] | None = None,
) -> keras.Model:
    model = build_addition_model(
        settings.hidden_size,
        output_activation=_output_activation(settings.loss),
        weight_stddev=settings.weight_stddev,
        symmetric_summands=settings.symmetric_summands,
        dtype=settings.dtype,
        cell_options=cell_options,
    )
    model.compile(
        optimizer=optimizer(settings),
        loss=loss_function(settings.loss, settings.dtype),
        weighted_metrics=_weighted_metrics() if metrics else None,
    )
    return model


def _weighted_metrics() -> list[keras.metrics.Metric]:
    # Weighted: padded batches (see `training_data`) weigh their padding 0,
    # and the metrics must not score it.
    return [ExactMatch(), keras.metrics.BinaryAccuracy(name="bit_accuracy")]


def training_twin(model: keras.Model) -> keras.Model:
    """What a multi-process run trains: `model`'s `fused_twin`, compiled.

    Under JAX's data parallelism, Keras's `RNN` all-reduces its weight
    gradients at every time step of its backward loop, and `ChungGRU` once
    after it (#24). On PyTorch, whose `fit` has no data-parallel engine, the
    twin trains through `TorchDataParallel`, which all-reduces once a step;
    the fused layer is the faster one there too. The twin is compiled with
    `model`'s loss and `model`'s own optimizer instance, so that `model`
    saves the twin's optimizer state once it holds the twin's weights (see
    `callbacks.save_weights`).
    """
    twin = fused_twin(model, f"{model.name}_fused")
    if keras.backend.backend() == "torch":
        twin = TorchDataParallel(twin, name=f"{model.name}_data_parallel")
    twin.compile(
        optimizer=model.optimizer,
        loss=model.loss,
        weighted_metrics=_weighted_metrics(),
    )
    return twin


def training_data(
    settings: TrainingSettings, seed: int, first_batch: int | tf.Variable = 0
) -> tuple[tf.data.Dataset, tuple[tf.Tensor, tf.Tensor], tuple | None]:
    """The training stream, the held-out sums and the fixed training sums.

    On JAX, batches of a range of lengths come padded to the longest, with
    sample weights (see `addition_dataset`), unless the loss sums each
    sequence.
    """
    if settings.tutorial_data:
        train, test = tutorial_data(seed, dtype=settings.dtype)
        return tf.data.Dataset.from_tensors(train).repeat(), test, train
    stream = addition_dataset(
        settings.bits,
        settings.batch_size,
        seed=seed,
        first_batch=first_batch,
        dtype=settings.dtype,
        # One shape: JAX compiles the train step once, not once per length
        # (#18). The weights keep the loss and its gradients those of the
        # unpadded batch for a loss averaged over bits; the quadratic loss
        # sums each sequence before any weight applies, so it stays ragged.
        # TensorFlow relaxes its traces to any length and PyTorch runs
        # eagerly: there padding only adds steps to compute, and measured
        # slower (#18).
        pad_to_longest=keras.backend.backend() == "jax"
        and isinstance(settings.bits, tuple)
        and settings.loss != "quadratic",
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


def long_validation(settings: TrainingSettings, seed: int) -> LongValidation | None:
    """The long held-out sums: random ones, then every carry chain, one length.

    `None` if `settings.long_validation_bits` is `None`.
    """
    num_bits = settings.long_validation_bits
    if num_bits is None:
        return None
    # A string seed: Python's `random` hashes it, so these sums cannot be
    # those that `evaluate_addition` draws from an integer seed.
    random_sums = random_pairs(
        num_bits, settings.long_validation_size, seed=f"long validation {seed}"
    )
    chains = [pair for pairs in carry_chain_pairs(num_bits).values() for pair in pairs]
    pairs = random_sums + chains
    x = encode_pairs(pairs, num_bits, settings.dtype)
    y = encode_pairs([(a + b, 0) for a, b in pairs], num_bits, settings.dtype)
    return LongValidation(
        x,
        y[..., :1],
        {"long": slice(0, len(random_sums)), "carry": slice(len(random_sums), None)},
    )


def _tensorboard_installed() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


def train_addition_model(
    settings: TrainingSettings,
    out_dir: str | os.PathLike,
    *,
    tensorboard_dir: str | os.PathLike | None = None,
    distribute: str = "none",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 1,
    cell_options: Mapping[str, Any] | None = None,
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

    A SIGINT (Ctrl-C) or SIGTERM during training stops it at the end of the
    epoch, after its backup (see `StopOnSignal`); a second one ends the
    process at once. The signal then reaches the handler that was in place
    before the call, as if it had just arrived: by Python's defaults, SIGINT
    raises `KeyboardInterrupt` and SIGTERM ends the process.

    Args:
        settings: The run's settings.
        out_dir: The folder to write to; created if missing.
        tensorboard_dir: If set, TensorBoard logs go there.
        distribute: `"none"`, or `"mirrored"` to train data-parallel on
            every local device, or `"multi-process"` over the processes of a
            run, on JAX or PyTorch (see `distribution_scope`); the batch size is
            then the global batch. In a multi-process run every process makes
            the same call, with the same `out_dir`, which must be a folder
            they share: process 0 alone writes to it, and every process
            resumes from it. Such a run trains the model's twin with
            `ChungGRU` in place of `RNN(ChungGRUCell)`, the same recurrence
            in one fused layer, which exchanges gradients once a step rather
            than once a time step (on PyTorch, through `TorchDataParallel`),
            and which `callbacks` see as their model; its files and the
            returned model keep the addition model's form.
        callbacks: More Keras callbacks for `model.fit`, after the run's own.
        verbose: Keras's `verbose`: 1 shows a progress bar, 2 a line per
            epoch, 0 nothing.
        cell_options: More `ChungGRUCell` arguments for the model's cell,
            such as the variants' (see `build_addition_model`); `None`
            (default) adds none.

    Returns:
        A `TrainingResult`.

    Raises:
        KeyboardInterrupt: If a signal stopped training and its handler
            returned.
        IncompatibleBackupError: If `out_dir` holds an interrupted run of a
            model with other settings.
        ValueError: If `out_dir` exists and is not a folder, or
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

    if distribute == "multi-process":
        # Before the seed is drawn: every process must use process 0's.
        connect_processes()
    seed = shared_seed(settings.seed)
    keras.utils.set_random_seed(seed)
    stream_offset = tf.Variable(0, dtype=tf.int64, trainable=False)
    train, validation, fixed_training = training_data(settings, seed, stream_offset)
    # JAX reads its data-parallel layout while fitting, not only when building.
    with distribution_scope(distribute):
        # Only now: a refused `distribute` leaves no trace in `out_dir`.
        resume_dir.mkdir(parents=True, exist_ok=True)
        model = compiled_model(settings, metrics=True, cell_options=cell_options)
        # `trained` trains; `saved_form`, if not `None`, is what is saved.
        trained, saved_form = model, None
        if distribute == "multi-process":
            trained, saved_form = training_twin(model), model

        every = min(settings.validation_every, settings.steps)
        # An epoch is the unit of backups and of the progress bar: a few dozen
        # steps, and a whole number of validations.
        epoch_steps = min(every * math.ceil(_EPOCH_STEPS / every), settings.steps)
        backup = resume_dir / "backup.weights.h5"
        start_step = restore(trained, backup, saved_form)
        log = HeldOutLog(
            validation,
            every=every,
            last_step=settings.steps,
            log_path=resume_dir / "history.csv",
            stream_offset=stream_offset,
            stop_after_perfect=settings.stop_after_perfect,
            fixed_training=fixed_training,
            long_validation=long_validation(settings, seed),
            saved_form=saved_form,
        )
        callbacks = [
            log,
            Backup(backup, saved_form),
            StopAtStep(settings.steps),
            *callbacks,
        ]

        stop = StopOnSignal(announce=verbose > 0)
        callbacks.append(stop)
        if tensorboard_dir is not None:
            callbacks.append(keras.callbacks.TensorBoard(str(tensorboard_dir)))
        # Backups are made at epoch ends, except the one a run stopped
        # mid-epoch makes; such a run has finished.
        initial_epoch = math.ceil(start_step / epoch_steps)
        if log.finished(start_step):
            initial_epoch = epochs = 0
        else:
            epochs = math.ceil(settings.steps / epoch_steps)
        start = time.perf_counter()
        with stop.handling():
            trained.fit(
                train,
                epochs=epochs,
                initial_epoch=initial_epoch,
                steps_per_epoch=epoch_steps,
                callbacks=callbacks,
                shuffle=False,
                verbose=verbose,
            )
        if saved_form is not None:
            model.set_weights(trained.get_weights())
    seconds = time.perf_counter() - start
    if stop.signum is not None:
        # The run is backed up; it ends as the signal would have ended it
        # without the clean stop, by the handler in place before training:
        # the command's, Python's KeyboardInterrupt or SIGTERM's default.
        signal.raise_signal(stop.signum)
        raise KeyboardInterrupt(
            f"Training stopped by signal {stop.signum} at step "
            f"{optimizer_step(model)}; the same call resumes it."
        )

    history = log.rows
    if is_process_zero():
        write_atomically(out_dir / "model.keras", model.save)
        write_atomically(out_dir / "history.csv", lambda p: write_history(history, p))
        write_atomically(out_dir / "loss.png", lambda p: plot_losses(history, p))
        shutil.rmtree(resume_dir)
    first_perfect = next(
        (row["step"] for row in history if all_held_out_right(row)), None
    )
    return TrainingResult(model, history, first_perfect, seed, seconds)

"""The callbacks of a training run: held-out scores, backups, the step limit."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from keras_gru_cell.addition.distribution import is_process_zero
from keras_gru_cell.addition.distribution import saving_alone
from keras_gru_cell.addition.scoring import score_sums
from keras_gru_cell.addition.training.artifacts import read_history
from keras_gru_cell.addition.training.artifacts import write_atomically
from keras_gru_cell.addition.training.artifacts import write_history


class LongValidation(NamedTuple):
    """Long held-out sums, scored in one batch, and the rows of each group.

    Attributes:
        x: The summands' bits, `(batch, num_bits, 2)`.
        y: The sums' bits, `(batch, num_bits, 1)`.
        groups: Each group's name (`"long"`, `"carry"`) and its rows.
    """

    x: np.ndarray
    y: np.ndarray
    groups: dict[str, slice]


class HeldOutLog(keras.callbacks.Callback):
    """Scores the held-out sums every `every` steps and keeps the history.

    Keras validates only at the end of an epoch, and one-step epochs (the
    tutorial checks its test set after every iteration) would spend most of
    the run backing up and setting up iterators; this scores the held-out
    sums with one compiled forward pass instead, and puts the latest scores
    in each epoch's logs for the progress bar, `History` and TensorBoard.

    Once every held-out sum is right, it also scores the long held-out sums,
    if any: random sums far longer than the training sums, and the carry
    chains of `carry_chain_pairs`, which random sums rarely hold. A model can
    be right on the first and still drift over a thousand steps, or lose a
    carry that runs further than any it was trained on; their exact matches
    are logged as `val_long_exact_match` and `val_carry_exact_match` (NaN
    where they were not scored), and training stops only once all are right.
    Each time all are right it keeps the weights (in `right.weights.h5`
    beside the log): a run that reaches its last step without meeting the
    stopping rule, and is not all right at its end, goes back to them.
    Training on can turn a model that was right into one that loses carries
    longer than any it was trained on.

    It also resumes: when training begins, with the weights and the
    optimizer's step count already restored from a backup, it points the
    batch stream at that step and keeps the logged rows up to it. Rows are
    logged at batch ends, before `Backup` backs up at the epoch end, so the
    log never lags the backup.

    `saved_form`, if set, is the model whose form its weights file takes, in
    place of the model that trains (see `save_weights`).
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
        long_validation: LongValidation | None = None,
        saved_form: keras.Model | None = None,
    ):
        super().__init__()
        self.validation = validation
        self.every = every
        self.last_step = last_step
        self.log_path = log_path
        self.stream_offset = stream_offset
        self.stop_after_perfect = stop_after_perfect
        self.fixed_training = fixed_training
        self.long_validation = long_validation
        self.saved_form = saved_form
        self.right_path = log_path.with_name("right.weights.h5")
        self.rows: list[dict[str, float]] = []

    def finished(self, step: int) -> bool:
        """Whether a run backed up at `step` has already met a stopping rule.

        A run that stopped early and was then killed while writing its
        results resumes into no more training.
        """
        return step >= self.last_step or self._stop_rule_met(self._logged(step))

    def on_train_begin(self, logs=None):
        step = self._step()
        self.stream_offset.assign(step)
        self.rows = self._logged(step)
        # In a multi-process run, process 0 alone writes, and atomically: the
        # others read the log while it starts.
        if not is_process_zero():
            return
        if self.rows:
            write_atomically(self.log_path, lambda p: write_history(self.rows, p))
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
        if self.long_validation is not None:
            row.update(self._score_long(row["val_exact_match"] == 1.0))
        self._append(row)
        if all_held_out_right(row):
            save_weights(self.model, self.right_path, self.saved_form)
        if self._stop_rule_met(self.rows):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        # Only at the last step: a run stopped by a signal resumes instead.
        if (
            self.stop_after_perfect is None
            or self._step() < self.last_step
            or not self.rows
            or all_held_out_right(self.rows[-1])
            or not self.right_path.exists()
        ):
            return
        # The optimizer's state comes back too: its step count says which
        # weights these are.
        load_weights(self.model, self.right_path, self.saved_form)

    def _logged(self, step: int) -> list[dict[str, float]]:
        return [r for r in read_history(self.log_path) if r["step"] <= step]

    def _stop_rule_met(self, rows: list[dict[str, float]]) -> bool:
        needed = self.stop_after_perfect
        perfect = [all_held_out_right(r) for r in rows]
        return needed is not None and len(perfect) >= needed and all(perfect[-needed:])

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.rows:
            logs.update(
                {
                    k: v
                    for k, v in self.rows[-1].items()
                    if k != "step" and not math.isnan(v)
                }
            )

    def _step(self) -> int:
        return optimizer_step(self.model)

    def _score(self, x: tf.Tensor, y: tf.Tensor) -> dict[str, float]:
        # predict_on_batch runs the model's compiled predict function, on
        # any backend, without the overhead of a predict loop.
        predictions = self.model.predict_on_batch(np.asarray(x))
        y = np.asarray(y)
        loss = self.model.loss(y, predictions)
        return {
            "loss": float(keras.ops.convert_to_numpy(loss)),
            **score_sums(y, predictions),
        }

    def _score_long(self, scored: bool) -> dict[str, float]:
        x, y, groups = self.long_validation
        if not scored:
            return {f"val_{name}_exact_match": math.nan for name in groups}
        # One forward pass over every group: the length, not the batch,
        # sets its cost.
        predictions = self.model.predict_on_batch(x)
        return {
            f"val_{name}_exact_match": score_sums(y[rows], predictions[rows])[
                "exact_match"
            ]
            for name, rows in groups.items()
        }

    def _append(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        if not is_process_zero():
            return
        new_file = not self.log_path.exists()
        with open(self.log_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)


def all_held_out_right(row: dict[str, float]) -> bool:
    """Whether a history row has every held-out sum it scored right."""
    return all(
        value == 1.0
        for key, value in row.items()
        if key.startswith("val_") and key.endswith("exact_match")
    )


class Backup(keras.callbacks.Callback):
    """Backs up the weights and the optimizer's state at each epoch end.

    In place of `keras.callbacks.BackupAndRestore`, which overwrites its
    weights file in place and then writes the epoch to a second file: Ctrl-C
    during the write unwinds cleanly through h5py and leaves a well-formed
    file with weights missing, which the next run cannot load, and a kill
    between the two files would resume at the wrong epoch. Here one file,
    replaced atomically, is the whole state; the optimizer's step count in it
    says where the run was. `saved_form`, if set, is the model whose form
    the file takes, in place of the model that trains (see `save_weights`).
    """

    def __init__(self, path: Path, saved_form: keras.Model | None = None):
        super().__init__()
        self.path = path
        self.saved_form = saved_form

    def on_epoch_end(self, epoch, logs=None):
        save_weights(self.model, self.path, self.saved_form)


def save_weights(
    model: keras.Model, path: Path, saved_form: keras.Model | None = None
) -> None:
    """Writes `model`'s weights and optimizer state to `path`, atomically.

    In the form of `saved_form`, if set: a model with `model`'s weights in
    the same order, compiled with `model`'s optimizer, such as the addition
    model whose `fused_twin` trains; `model`'s weights are first copied into
    it, in every process. In a multi-process run, process 0 alone writes.
    """
    if saved_form is not None:
        saved_form.set_weights(model.get_weights())
        model = saved_form
    if is_process_zero():
        with saving_alone():
            write_atomically(path, model.save_weights)


def load_weights(
    model: keras.Model, path: Path, saved_form: keras.Model | None = None
) -> None:
    """Loads what `save_weights` wrote to `path` into `model`."""
    if saved_form is None:
        model.load_weights(path)
        return
    saved_form.load_weights(path)
    model.set_weights(saved_form.get_weights())


class IncompatibleBackupError(ValueError):
    """An interrupted run's backup holds a model built with other settings.

    The user's doing, not a defect: the command line reports it as a usage
    error.
    """


def restore(
    model: keras.Model, path: Path, saved_form: keras.Model | None = None
) -> int:
    """Loads the backup at `path`, if any, into `model`; returns its step.

    `saved_form` is the form the backup takes, as for `save_weights`.

    Raises:
        IncompatibleBackupError: If the backup is of a model built with other
            settings.
    """
    if path.exists():
        # The optimizer's variables must exist to receive the saved ones.
        model.optimizer.build(model.trainable_variables)
        try:
            load_weights(model, path, saved_form)
        except ValueError:
            raise IncompatibleBackupError(
                f"{str(path.parent)!r} holds an interrupted run of a model with "
                "other settings: rerun it with its own settings to resume it, or "
                "delete that folder to start afresh."
            ) from None
    return optimizer_step(model)


class StopAtStep(keras.callbacks.Callback):
    """Stops after exactly `steps` training steps, mid-epoch if need be."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if optimizer_step(self.model) >= self.steps:
            self.model.stop_training = True


def optimizer_step(model: keras.Model) -> int:
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))

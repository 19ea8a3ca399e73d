"""The callbacks of a training run: held-out scores, backups, the step limit."""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_gru_cell.addition.scoring import score_sums
from keras_gru_cell.addition.training.artifacts import read_history
from keras_gru_cell.addition.training.artifacts import write_atomically
from keras_gru_cell.addition.training.artifacts import write_history


class HeldOutLog(keras.callbacks.Callback):
    """Scores the held-out sums every `every` steps and keeps the history.

    Keras validates only at the end of an epoch, and one-step epochs (the
    tutorial checks its test set after every iteration) would spend most of
    the run backing up and setting up iterators; this scores the held-out
    sums with one compiled forward pass instead, and puts the latest scores
    in each epoch's logs for the progress bar, `History` and TensorBoard.

    It also resumes: when training begins, with the weights and the
    optimizer's step count already restored from a backup, it points the
    batch stream at that step and keeps the logged rows up to it. Rows are
    logged at batch ends, before `Backup` backs up at the epoch end, so the
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
        if self.rows:
            write_history(self.rows, self.log_path)
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
        if self._stop_rule_met(self.rows):
            self.model.stop_training = True

    def _logged(self, step: int) -> list[dict[str, float]]:
        return [r for r in read_history(self.log_path) if r["step"] <= step]

    def _stop_rule_met(self, rows: list[dict[str, float]]) -> bool:
        needed = self.stop_after_perfect
        perfect = [r["val_exact_match"] == 1.0 for r in rows]
        return needed is not None and len(perfect) >= needed and all(perfect[-needed:])

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.rows:
            logs.update({k: v for k, v in self.rows[-1].items() if k != "step"})

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

    def _append(self, row: dict[str, float]) -> None:
        self.rows.append(row)
        new_file = not self.log_path.exists()
        with open(self.log_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new_file:
                writer.writeheader()
            writer.writerow(row)


class Backup(keras.callbacks.Callback):
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


class IncompatibleBackupError(ValueError):
    """An interrupted run's backup holds a model built with other settings.

    The user's doing, not a defect: the command line reports it as a usage
    error.
    """


def restore(model: keras.Model, path: Path) -> int:
    """Loads the backup at `path`, if any, into `model`; returns its step.

    Raises:
        IncompatibleBackupError: If the backup is of a model built with other
            settings.
    """
    if path.exists():
        # The optimizer's variables must exist to receive the saved ones.
        model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(path)
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

"""Tests of the training run: artifacts, presets, resumption and the GRU twin."""

import csv
import dataclasses
import os
import signal

import keras
import numpy as np
import pytest

from keras_gru_cell.addition.data import tutorial_data
from keras_gru_cell.addition.evaluation import evaluate_addition
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import TUTORIAL
from keras_gru_cell.addition.training import TrainingSettings
from keras_gru_cell.addition.training import compare_with_builtin_gru
from keras_gru_cell.addition.training import run as training_run
from keras_gru_cell.addition.training import train_addition_model
from keras_gru_cell.addition.training import write_atomically
from keras_gru_cell.addition.training.callbacks import all_held_out_right
from tests.asserts import builtin_dtype
from tests.asserts import tolerance

# Runs on every Keras backend in CI, not only TensorFlow (see .ci/run).
pytestmark = pytest.mark.every_backend

# Small enough to take seconds: short sums, small batches, few steps.
TINY = TrainingSettings(
    bits=(3, 6),
    batch_size=8,
    steps=6,
    validation_every=3,
    validation_bits=8,
    validation_size=20,
    long_validation_bits=12,
    long_validation_size=20,
    seed=0,
)


def _history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_the_model_the_history_and_the_loss_plot(tmp_path):
    result = train_addition_model(TINY, tmp_path, verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.csv",
        "loss.png",
        "model.keras",
    ]
    rows = _history(tmp_path / "history.csv")
    assert [int(row["step"]) for row in rows] == [3, 6]
    assert {"loss", "val_loss", "val_exact_match", "val_bit_accuracy"} <= set(rows[0])
    assert (tmp_path / "loss.png").read_bytes().startswith(b"\x89PNG")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    x = np.ones((2, 11, 2), "float32")
    np.testing.assert_allclose(
        reloaded.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-6
    )


def test_train_stops_after_exactly_the_number_of_steps(tmp_path):
    settings = dataclasses.replace(TINY, steps=7)
    result = train_addition_model(settings, tmp_path, verbose=0)
    assert result.steps == 7
    assert [row["step"] for row in result.history] == [3, 6, 7]


def test_tutorial_preset_scores_the_test_set_after_every_iteration(tmp_path):
    settings = dataclasses.replace(TUTORIAL, steps=12, seed=3)
    result = train_addition_model(settings, tmp_path, verbose=0)
    assert [row["step"] for row in result.history] == list(range(1, 13))
    assert result.model.get_layer("gru").cell.kernel.dtype == "float64"
    optimizer = result.model.optimizer
    assert float(optimizer.learning_rate) == pytest.approx(0.001)
    assert optimizer.epsilon == 1e-8
    # The logged losses are the tutorial's Σ 0.5 (ŷ − y)² / 100, by NumPy.
    (x_train, y_train), (x_test, y_test) = tutorial_data(seed=3)
    last = result.history[-1]
    for x, y, key in ((x_train, y_train, "loss"), (x_test, y_test, "val_loss")):
        predictions = result.model.predict(x, verbose=0)
        expected = np.sum(0.5 * (predictions - y.numpy()) ** 2) / 100
        # Keras's Dense head and loss compute in `builtin_dtype`; the loss
        # sums 100 sums of 5 bits.
        rel = tolerance(builtin_dtype("float64"), 100 * 5)["rtol"]
        assert last[key] == pytest.approx(expected, rel=rel)


def test_write_atomically_leaves_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "history.csv"
    target.write_text("old")

    def fail_halfway(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, fail_halfway)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["history.csv"]


def test_ctrl_c_while_backing_up_keeps_the_previous_backup(tmp_path, monkeypatch):
    # Ctrl-C unwinds through h5py and would leave a well-formed backup with
    # weights missing, had the backup been written in place.
    monkeypatch.setattr(training_run, "_EPOCH_STEPS", 3)  # two epochs, two backups
    real_save = keras.Model.save_weights
    saves = []

    def save_interrupted_the_second_time(model, filepath, **kwargs):
        saves.append(filepath)
        if len(saves) == 1:
            return real_save(model, filepath, **kwargs)
        with open(filepath, "wb") as f:
            f.write(b"\x89HDF\r\n")
        raise KeyboardInterrupt

    run = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(keras.Model, "save_weights", save_interrupted_the_second_time)
        with pytest.raises(KeyboardInterrupt):
            train_addition_model(TINY, run, verbose=0)

    assert len(saves) == 2
    assert sorted(p.name for p in (run / ".resume").iterdir()) == [
        "backup.weights.h5",
        "history.csv",
    ]
    resumed = train_addition_model(TINY, run, verbose=0)
    uninterrupted = train_addition_model(TINY, tmp_path / "uninterrupted", verbose=0)
    assert [row["step"] for row in resumed.history] == [3, 6]
    # NaN marks the long sums not scored; assert_equal counts NaN equal.
    np.testing.assert_equal(resumed.history, uninterrupted.history)
    for a, b in zip(
        resumed.model.get_weights(), uninterrupted.model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)


class _SignalAtStep(keras.callbacks.Callback):
    """Sends this process a real signal after the given training step."""

    def __init__(self, step, signum):
        super().__init__()
        self.step = step
        self.signum = signum

    def on_train_batch_end(self, batch, logs=None):
        if training_run.optimizer_step(self.model) == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.fixture
def default_handlers():
    """Python's own SIGINT handler and SIGTERM's default, however pytest began."""
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    }
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def test_ctrl_c_stops_training_after_the_epochs_backup_then_interrupts(
    tmp_path, monkeypatch, default_handlers
):
    monkeypatch.setattr(training_run, "_EPOCH_STEPS", 3)  # two epochs, two backups
    run = tmp_path / "run"

    with pytest.raises(KeyboardInterrupt):
        train_addition_model(
            TINY, run, callbacks=[_SignalAtStep(1, signal.SIGINT)], verbose=0
        )

    assert [int(row["step"]) for row in _history(run / ".resume/history.csv")] == [3]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.set_wakeup_fd(-1) == -1
    resumed = train_addition_model(TINY, run, verbose=0)
    uninterrupted = train_addition_model(TINY, tmp_path / "uninterrupted", verbose=0)
    # NaN marks the long sums not scored; assert_equal counts NaN equal.
    np.testing.assert_equal(resumed.history, uninterrupted.history)
    for a, b in zip(
        resumed.model.get_weights(), uninterrupted.model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=str)
def test_a_callers_own_handler_gets_the_signal_after_the_backup_and_stays(
    tmp_path, monkeypatch, signum
):
    monkeypatch.setattr(training_run, "_EPOCH_STEPS", 3)
    received = []

    def own_handler(signum, frame):
        received.append(signum)

    previous = signal.signal(signum, own_handler)
    try:
        with pytest.raises(KeyboardInterrupt, match=r"stopped by signal.*at step 3"):
            train_addition_model(
                TINY, tmp_path, callbacks=[_SignalAtStep(1, signum)], verbose=0
            )
        assert signal.getsignal(signum) is own_handler
    finally:
        signal.signal(signum, previous)

    assert received == [signum]
    assert (tmp_path / ".resume" / "backup.weights.h5").exists()


def _crash_after_the_last_step(settings, out_dir, monkeypatch):
    """Trains, then fails writing the loss plot: `.resume/` holds the end."""

    def crash(history, path):
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(training_run, "plot_losses", crash)
        with pytest.raises(OSError, match="disk full"):
            train_addition_model(settings, out_dir, verbose=0)


def test_a_run_stopped_after_its_last_step_finishes_without_training_more(
    tmp_path, monkeypatch
):
    _crash_after_the_last_step(TINY, tmp_path / "run", monkeypatch)

    finished = train_addition_model(TINY, tmp_path / "run", verbose=0)
    reference = train_addition_model(TINY, tmp_path / "reference", verbose=0)
    assert finished.steps == TINY.steps
    # NaN marks the long sums not scored; assert_equal counts NaN equal.
    np.testing.assert_equal(finished.history, reference.history)
    assert (tmp_path / "run" / "loss.png").exists()
    assert not (tmp_path / "run" / ".resume").exists()


def test_a_run_that_stopped_early_finishes_without_training_more(tmp_path, monkeypatch):
    # Every held-out sum counts as right: the run stops at its second
    # validation, step 6 of 12, at the end of its second epoch of four.
    monkeypatch.setattr(training_run, "_EPOCH_STEPS", 3)
    monkeypatch.setattr(
        training_run.HeldOutLog,
        "_score",
        lambda log, x, y: {"loss": 0.0, "exact_match": 1.0, "bit_accuracy": 1.0},
    )
    monkeypatch.setattr(
        training_run.HeldOutLog,
        "_score_long",
        lambda log, scored: {"val_long_exact_match": 1.0, "val_carry_exact_match": 1.0},
    )
    settings = dataclasses.replace(TINY, steps=12, stop_after_perfect=2)
    _crash_after_the_last_step(settings, tmp_path, monkeypatch)

    finished = train_addition_model(settings, tmp_path, verbose=0)
    assert finished.steps == 6
    assert [row["step"] for row in finished.history] == [3, 6]
    assert not (tmp_path / ".resume").exists()


def test_resuming_with_another_model_size_says_how_to_go_on(tmp_path, monkeypatch):
    _crash_after_the_last_step(TINY, tmp_path, monkeypatch)
    wider = dataclasses.replace(TINY, hidden_size=TINY.hidden_size + 1)

    with pytest.raises(ValueError, match=r"\.resume' holds an interrupted run.*delete"):
        train_addition_model(wider, tmp_path, verbose=0)


def test_train_writes_tensorboard_logs_when_asked(tmp_path):
    settings = dataclasses.replace(TINY, steps=3)
    train_addition_model(
        settings, tmp_path / "run", tensorboard_dir=tmp_path / "tb", verbose=0
    )
    events = [name for _, _, files in os.walk(tmp_path / "tb") for name in files]
    assert any(name.startswith("events.out.tfevents") for name in events)


def test_train_without_tensorboard_installed_says_so_before_training(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(training_run, "_tensorboard_installed", lambda: False)
    with pytest.raises(ValueError, match="pip install tensorboard"):
        train_addition_model(TINY, tmp_path / "run", tensorboard_dir=tmp_path / "tb")
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_default_settings_learn_5_bit_addition_and_stop_early(tmp_path):
    settings = dataclasses.replace(PRESETS["default"], seed=0)
    result = train_addition_model(settings, tmp_path, verbose=0)
    assert evaluate_addition(result.model, 5, 2000, seed=1)["exact_match"] == 1.0
    assert result.steps < settings.steps
    needed = settings.stop_after_perfect
    perfect = [all_held_out_right(row) for row in result.history]
    assert perfect[-needed - 1 :] == [False] + [True] * needed
    assert result.first_perfect_step == result.history[-needed]["step"]


@pytest.mark.slow
def test_the_builtin_gru_twin_trains_in_lockstep():
    # The learning rate's cosine spans the 300 steps, in both models.
    settings = dataclasses.replace(
        TINY, bits=6, batch_size=16, steps=300, dtype="float64"
    )
    result = compare_with_builtin_gru(settings)
    assert len(result.loss_differences) == 300
    assert result.losses[-1] < result.losses[0] / 2  # it did learn something
    # 300 optimizer steps through 6 steps of 16 units; Keras's GRU computes
    # float64 in float32 off TensorFlow.
    bound = tolerance(builtin_dtype("float64"), 300 * 6 * 16)["atol"]
    assert max(result.loss_differences) < bound
    assert result.max_weight_difference < bound


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bits": 1}, "`bits`.*at least 2"),
        ({"bits": (8, 4)}, "low <= high"),
        ({"hidden_size": 0}, "`hidden_size`.*positive integer.*got 0"),
        ({"steps": -3}, "`steps`.*got -3"),
        ({"batch_size": 0}, "`batch_size`"),
        ({"learning_rate": 0.0}, "`learning_rate`.*positive"),
        ({"loss": "hinge"}, "`loss`.*'hinge'"),
        ({"seed": -1}, "`seed`.*-1"),
        ({"validation_bits": 1}, "`validation_bits`"),
    ],
)
def test_training_settings_reject_invalid_values(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TINY, **change)


def test_train_refuses_an_out_dir_that_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("keep me")
    with pytest.raises(ValueError, match="not a folder"):
        train_addition_model(TINY, path, verbose=0)
    assert path.read_text() == "keep me"


def test_a_run_wrong_at_its_end_goes_back_to_its_last_all_right_weights(
    tmp_path, monkeypatch
):
    # Every held-out sum is right at the validation of step 3, not at step 6.
    exact = iter([1.0, 0.5])
    monkeypatch.setattr(
        training_run.HeldOutLog,
        "_score",
        lambda log, x, y: {
            "loss": 0.0,
            "exact_match": next(exact),
            "bit_accuracy": 1.0,
        },
    )
    monkeypatch.setattr(
        training_run.HeldOutLog,
        "_score_long",
        lambda log, scored: {"val_long_exact_match": 1.0, "val_carry_exact_match": 1.0},
    )
    at_step_3 = {}

    class Keep(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) == 3:
                at_step_3["weights"] = self.model.get_weights()

    result = train_addition_model(TINY, tmp_path, callbacks=[Keep()], verbose=0)

    assert [row["step"] for row in result.history] == [3, 6]
    assert result.steps == 3
    for kept, final in zip(
        at_step_3["weights"], result.model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(kept, final)
    saved = keras.models.load_model(tmp_path / "model.keras")
    for kept, final in zip(at_step_3["weights"], saved.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, final)


@pytest.mark.parametrize(("start", "last"), [(0.02, 1e-4), (5e-5, 5e-5)])
def test_the_learning_rate_falls_to_the_final_one_only_from_above(start, last):
    settings = dataclasses.replace(TINY, learning_rate=start, final_learning_rate=1e-4)
    adam = training_run.optimizer(settings)
    adam.build([])
    learning_rates = []
    for step in (0, settings.steps):
        adam.iterations.assign(step)
        learning_rates.append(float(keras.ops.convert_to_numpy(adam.learning_rate)))
    assert learning_rates == pytest.approx([start, last], rel=1e-6)

"""`TorchDataParallel`: two PyTorch processes train as one process does.

The two-process runs are real processes on 127.0.0.1 (see
`torch_data_parallel_child.py`), started with `KERAS_BACKEND=torch` whatever
this suite's backend; the refusals run in this process.
"""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gru_cell.addition.torch_data_parallel import TorchDataParallel
from tests.addition.processes import child_env
from tests.addition.processes import finish
from tests.addition.processes import free_port
from tests.addition.processes import start
from tests.asserts import to_numpy
from tests.asserts import tolerance

CHILD = Path(__file__).with_name("torch_data_parallel_child.py")
# Splitting a batch of 12 rows between processes reorders the float32 sums
# of each step's gradients over its rows and the 4 hidden units; the
# differences add up over the 8 steps.
TOLERANCE = tolerance("float32", 8 * (12 + 4))


def _train(out, processes):
    """Trains the child's model in `processes` processes; returns its results."""
    coordinator = f"127.0.0.1:{free_port()}"
    started = [
        start(
            [sys.executable, CHILD, coordinator, processes, rank, out],
            f"{out}-{rank}.log",
            child_env("torch"),
        )
        for rank in range(processes)
    ]
    for rank, process in enumerate(started):
        status, stderr = finish(process, f"{out}-{rank}.log")
        assert status == 0, stderr[-3000:]
    return np.load(out)


def test_two_processes_train_and_log_as_one_process_does(tmp_path):
    one = _train(tmp_path / "one.npz", 1)
    two = _train(tmp_path / "two.npz", 2)

    assert sorted(two.files) == sorted(one.files)
    for name in one.files:
        np.testing.assert_allclose(two[name], one[name], **TOLERANCE, err_msg=name)
    # Each process saw half of every batch: the weighted metric and loss
    # logged are the whole batch's only if both halves were added up.
    assert len(one["loss"]) == 2


@pytest.mark.every_backend
@pytest.mark.skipif(keras.backend.backend() == "torch", reason="PyTorch trains")
def test_it_is_refused_off_pytorch_naming_the_backend():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])

    with pytest.raises(ValueError, match="KERAS_BACKEND=torch"):
        TorchDataParallel(model)


@pytest.mark.every_backend
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch only")
def test_training_without_a_process_group_is_refused_naming_the_call():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    trainer = TorchDataParallel(model)
    trainer.compile(optimizer="sgd", loss="mse")

    with pytest.raises(ValueError, match="init_process_group"):
        trainer.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)


class _LastBatchMean(keras.metrics.Metric):
    """A metric whose variable the processes would average, not add up."""

    def __init__(self):
        super().__init__(name="last_batch_mean")
        self.value = self.add_variable((), "zeros", aggregation="mean")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.value.assign(keras.ops.mean(y_pred))

    def result(self):
        return self.value


@pytest.mark.every_backend
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch only")
def test_a_metric_that_does_not_add_up_is_refused_naming_its_variable():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    trainer = TorchDataParallel(model)
    trainer.compile(optimizer="sgd", loss="mse", metrics=[_LastBatchMean()])

    with pytest.raises(ValueError, match=r"last_batch_mean/.*aggregation='mean'"):
        trainer.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)


@pytest.mark.every_backend
@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch only")
def test_it_saves_and_loads_with_the_model_it_trains(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    trainer = TorchDataParallel(model, name="trainer")
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")

    trainer.save(tmp_path / "trainer.keras")
    loaded = keras.models.load_model(tmp_path / "trainer.keras")

    assert type(loaded) is TorchDataParallel
    assert loaded.name == "trainer"
    np.testing.assert_array_equal(to_numpy(loaded(x)), to_numpy(model(x)))

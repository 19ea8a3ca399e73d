"""The same seed gives the same training run, weight for weight."""

import dataclasses

import numpy as np
import pytest

from keras_gru_cell.addition.training import TrainingSettings
from keras_gru_cell.addition.training import train_addition_model

# Runs on every Keras backend in CI, not only TensorFlow (see .ci/run).
pytestmark = pytest.mark.every_backend

SETTINGS = TrainingSettings(
    bits=(3, 8),
    batch_size=16,
    steps=30,
    validation_every=10,
    validation_bits=12,
    validation_size=50,
    hidden_size=6,
    seed=7,
)


def run(tmp_path, name, settings=SETTINGS):
    return train_addition_model(settings, tmp_path / name, verbose=0)


def test_same_seed_gives_identical_weights_and_history(tmp_path):
    first, second = run(tmp_path, "first"), run(tmp_path, "second")

    # NaN marks the long sums not scored; assert_equal counts NaN equal.
    np.testing.assert_equal(first.history, second.history)
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_other_weights(tmp_path):
    first = run(tmp_path, "first")
    other = run(tmp_path, "other", dataclasses.replace(SETTINGS, seed=8))

    assert not np.array_equal(
        first.model.get_weights()[0], other.model.get_weights()[0]
    )

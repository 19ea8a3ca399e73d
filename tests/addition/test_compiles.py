"""One shape for every training batch: JAX compiles the train step once.

JAX compiles a jitted function anew for each input shape it meets, so a run
whose batches came in every length from 8 to 16 bits spent most of its time
compiling (#18). On JAX, training pads each batch to the longest length and
weighs the padding 0 (TensorFlow and PyTorch would only compute more); these
tests check that padded batches train the model exactly as the unpadded ones
do, on every backend, and count JAX's compilations. The counts come from
JAX's own record, `jax.monitoring`, for a fresh model in each test: JAX's
caches hold compiled functions per model, so the order of the tests cannot
change the counts.
"""

import collections
import dataclasses

import keras
import numpy as np
import pytest

from keras_gru_cell.addition.data import addition_dataset
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import compare_with_builtin_gru
from keras_gru_cell.addition.training import train_addition_model
from keras_gru_cell.addition.training.run import compiled_model
from keras_gru_cell.addition.training.run import training_data
from tests.asserts import assert_allclose
from tests.asserts import builtin_dtype
from tests.asserts import tolerance

# Runs on every Keras backend in CI, not only TensorFlow (see .ci/run).
pytestmark = pytest.mark.every_backend

only_on_jax = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="only JAX compiles a train step for each shape it meets",
)

# The event JAX records, with the function's name, each time it compiles one.
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@pytest.fixture
def compilations():
    """Counts, by function name, what JAX compiles while the test runs."""
    import jax

    counts = collections.Counter()

    def count(event, duration_secs, **kwargs):
        if event == _COMPILE_EVENT:
            counts[kwargs.get("fun_name")] += 1

    jax.monitoring.register_event_duration_secs_listener(count)
    yield counts
    jax.monitoring.unregister_event_duration_listener(count)


@only_on_jax
def test_a_default_run_compiles_one_train_step_for_all_its_lengths(
    tmp_path, compilations
):
    settings = dataclasses.replace(
        PRESETS["default"], seed=0, steps=30, validation_every=10
    )
    # The run's batches come in many lengths: one compilation per length
    # would show.
    lengths = {
        x.shape[1]
        for x, _ in addition_dataset(
            settings.bits, settings.batch_size, seed=0, num_batches=settings.steps
        )
    }
    assert len(lengths) >= 5

    train_addition_model(settings, tmp_path, verbose=0)

    # At least one: the count is JAX's, not a listener that heard nothing.
    assert 1 <= compilations["jit(train_step)"] <= 2, compilations
    # One validation length, 128 bits.
    assert compilations["jit(predict_step)"] == 1, compilations


def test_padded_batches_train_the_model_as_the_unpadded_ones_do():
    settings = dataclasses.replace(PRESETS["default"], seed=0, dtype="float64")
    padded = compiled_model(settings, metrics=False)
    unpadded = compiled_model(settings, metrics=False)
    unpadded.set_weights(padded.get_weights())
    batches = addition_dataset(
        (5, 12), 32, seed=1, num_batches=4, dtype="float64", pad_to_longest=True
    )
    lengths = set()
    for x, y, weights in batches.as_numpy_iterator():
        length = int(np.count_nonzero(weights[0]))
        lengths.add(length)
        padded_loss = padded.train_on_batch(x, y, sample_weight=weights)
        unpadded_loss = unpadded.train_on_batch(x[:, :length], y[:, :length])
        # A mean over the batch's 32 × 12 bits, after the model's 12 steps
        # of 16 units; Keras's Dense and loss compute in `builtin_dtype`.
        rtol = tolerance(builtin_dtype("float64"), 32 * 12 + 12 * 16)["rtol"]
        np.testing.assert_allclose(padded_loss, unpadded_loss, rtol=rtol)
    assert len(lengths) > 1
    # Four Adam steps through 12 steps of 16 units; Keras's Dense computes
    # float64 in float32 off TensorFlow.
    bound = tolerance(builtin_dtype("float64"), 4 * 12 * 16)["atol"]
    for a, b in zip(padded.get_weights(), unpadded.get_weights(), strict=True):
        assert_allclose(a, b, atol=bound)


@only_on_jax
def test_training_on_jax_pads_a_range_of_lengths_to_the_longest():
    default = PRESETS["default"]
    train, _, _ = training_data(default, seed=0)
    x_spec, _, weight_spec = train.element_spec
    assert x_spec.shape == (default.batch_size, default.bits[1], 2)
    assert weight_spec.shape == (default.batch_size, default.bits[1])


@pytest.mark.skipif(
    keras.backend.backend() == "jax", reason="JAX trains on padded batches"
)
def test_training_off_jax_keeps_each_batch_at_its_own_length():
    default = PRESETS["default"]
    train, _, _ = training_data(default, seed=0)
    assert train.element_spec[0].shape == (default.batch_size, None, 2)
    assert len(train.element_spec) == 2


@pytest.mark.parametrize(
    "change",
    [
        # Σ over a sequence comes before any weight: padding would count.
        {"loss": "quadratic"},
        {"bits": 8},
    ],
    ids=["a loss summed over each sequence", "one length"],
)
def test_training_never_pads_one_length_or_a_loss_summed_over_sequences(change):
    settings = dataclasses.replace(PRESETS["default"], **change)
    train, _, _ = training_data(settings, seed=0)
    assert len(train.element_spec) == 2


def test_the_builtin_gru_twin_trains_in_lockstep_on_a_range_of_lengths():
    settings = dataclasses.replace(
        PRESETS["default"], bits=(3, 6), batch_size=8, seed=0, dtype="float64"
    )
    result = compare_with_builtin_gru(settings, steps=5)
    assert len(result.loss_differences) == 5
    bound = tolerance(builtin_dtype("float64"), 5 * 6 * 16)["atol"]
    assert max(result.loss_differences) < bound
    assert result.max_weight_difference < bound

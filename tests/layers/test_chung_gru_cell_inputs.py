"""How `ChungGRUCell` treats unusual inputs: dtypes, NaN, empty and long data."""

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_allclose
from tests.asserts import to_numpy


def seeded_rnn(**rnn_kwargs):
    cell = ChungGRUCell(4, kernel_initializer=keras.initializers.GlorotUniform(0))
    rnn = keras.layers.RNN(cell, **rnn_kwargs)
    rnn.build((None, None, 2))
    return rnn


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_and_boolean_inputs_are_cast_to_the_compute_dtype(dtype):
    bits = np.random.default_rng(0).integers(0, 2, size=(3, 5, 2))
    rnn = seeded_rnn(return_sequences=True)

    outputs = rnn(bits.astype(dtype))

    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"
    assert_allclose(outputs, rnn(bits.astype("float32")), atol=0.0)


def test_nan_in_one_sequence_propagates_only_through_that_sequence():
    x = np.zeros((2, 4, 2), "float32")
    x[0, 1, 0] = np.nan
    outputs = to_numpy(seeded_rnn(return_sequences=True)(x))

    assert np.isfinite(outputs[0, 0]).all()
    assert np.isnan(outputs[0, 1:]).all()
    assert np.isfinite(outputs[1]).all()


def test_one_infinite_feature_saturates_the_gates_to_finite_states():
    x = np.zeros((1, 3, 2), "float32")
    x[0, 0, 0] = np.inf
    outputs = to_numpy(seeded_rnn(return_sequences=True)(x))

    # Each pre-activation is ±inf (Glorot weights are non-zero), and σ(±inf)
    # and tanh(±inf) are finite. Two infinite features could meet as
    # inf − inf = NaN instead: the cell does not check its inputs.
    assert np.isfinite(outputs).all()


def test_empty_batch_gives_an_empty_result():
    outputs = seeded_rnn(return_sequences=True)(np.zeros((0, 5, 2), "float32"))

    assert tuple(outputs.shape) == (0, 5, 4)


@pytest.mark.slow
def test_ten_thousand_steps_stay_finite():
    model = keras.Sequential([keras.Input((None, 2)), seeded_rnn()])
    x = np.random.default_rng(0).integers(0, 2, size=(2, 10_000, 2)).astype("float32")

    final_state = model.predict(x, verbose=0)

    assert final_state.shape == (2, 4)
    assert np.isfinite(final_state).all()
    # A GRU state is a convex mix of tanh values: it stays inside (-1, 1).
    assert np.abs(final_state).max() < 1.0

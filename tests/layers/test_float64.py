"""float64 end to end: both layers agree with NumPy to float64 precision.

Keras computes some float64 ops in float32 off TensorFlow (see
`keras_gru_cell/_ops.py`); the layers avoid them, so a float32 product anywhere
in the forward or backward pass fails these tolerances by orders of magnitude.
"""

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_allclose
from tests.asserts import tolerance
from tests.gradients import input_and_weight_gradients
from tests.numpy_reference import chung_gru_gradients
from tests.numpy_reference import random_gru_weights
from tests.numpy_reference import run_sequence

BATCH, TIME, INPUT_DIM, UNITS = 3, 9, 4, 5
# Forward and backward through TIME steps of UNITS-wide sums.
FLOAT64 = tolerance("float64", 2 * TIME * UNITS)

LAYERS = {
    "cell": lambda: keras.layers.RNN(
        ChungGRUCell(UNITS, dtype="float64"), return_sequences=True, dtype="float64"
    ),
    "fused": lambda: ChungGRU(UNITS, return_sequences=True, dtype="float64"),
}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_float64_outputs_and_gradients_match_numpy_to_float64_precision(layer):
    rng = np.random.default_rng(0)
    weights = random_gru_weights(rng, INPUT_DIM, UNITS)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    probe = rng.normal(size=(BATCH, TIME, UNITS))
    recurrent = LAYERS[layer]()
    recurrent.build((None, TIME, INPUT_DIM))
    recurrent.set_weights(weights)

    outputs = recurrent(x)
    d_x, d_weights = input_and_weight_gradients(recurrent, x, probe)

    assert keras.backend.standardize_dtype(outputs.dtype) == "float64"
    assert_allclose(outputs, run_sequence(x, *weights)[0], **FLOAT64)
    expected_d_x, *expected_d_weights = chung_gru_gradients(x, probe, *weights)
    assert_allclose(d_x, expected_d_x, **FLOAT64)
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **FLOAT64)

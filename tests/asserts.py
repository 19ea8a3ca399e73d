"""NumPy assertions that accept tensors of any Keras backend.

PyTorch tensors that require grad refuse a direct NumPy conversion, so every
comparison goes through `keras.ops.convert_to_numpy` first.
"""

import keras
import numpy as np


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def assert_allclose(actual, desired, atol, rtol=0.0):
    np.testing.assert_allclose(to_numpy(actual), to_numpy(desired), rtol, atol)


def assert_array_equal(actual, desired):
    np.testing.assert_array_equal(to_numpy(actual), to_numpy(desired))


# Keras 3 computes some float64 ops (tanh, and matmul on PyTorch) in float32 on
# the JAX and PyTorch backends: `keras.backend.result_type` maps 64-bit types
# to 32-bit there. Only TensorFlow keeps float64 precision end to end.
FLOAT64_ATOL = 1e-12 if keras.backend.backend() == "tensorflow" else 1e-6
FLOAT64_RTOL = 1e-9 if keras.backend.backend() == "tensorflow" else 1e-6

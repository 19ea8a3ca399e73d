"""NumPy assertions that accept tensors of any Keras backend, and their tolerances.

PyTorch tensors that require grad refuse a direct NumPy conversion, so every
comparison goes through `keras.ops.convert_to_numpy` first.

Set `TOLERANCE_MARGINS=path` to append, for every comparison, how many times
smaller the largest difference was than the tolerance allowed: the check that
no comparison passes by luck.
"""

import os

import keras
import numpy as np


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def tolerance(dtype: str, terms: int) -> dict[str, float]:
    """`atol` and `rtol` for two computations of one result in `dtype`.

    Two implementations of the same formula differ only by rounding. Each
    output element ends a chain of about `terms` rounded operations (time
    steps × units for a recurrence: every step sums `units` products and
    feeds the next), each off by at most one unit in the last place, so each
    result is within about `terms` × eps of the exact one, relative to the
    size of the values (gradients summed over many steps grow well past 1,
    hence `rtol`), and the two within twice that of each other. Rounding
    errors add up far below this worst case in practice; the bound keeps the
    comparison independent of the machine's summation order.

    `dtype` is the dtype the backend computes in: see `builtin_dtype` for
    Keras's own layers.
    """
    bound = 2 * terms * float(np.finfo(dtype).eps)
    return {"atol": bound, "rtol": bound}


def builtin_dtype(dtype: str) -> str:
    """The dtype Keras's own layers compute a `dtype` layer in.

    Off TensorFlow, `keras.backend.result_type` maps float64 to float32, and
    `keras.ops.matmul` (PyTorch) and `keras.ops.tanh` (JAX) compute in that
    result type; `keras_gru_cell` keeps float64 (`keras_gru_cell/_ops.py`).
    """
    if dtype == "float64" and keras.backend.backend() != "tensorflow":
        return "float32"
    return dtype


def assert_allclose(actual, desired, atol, rtol=0.0):
    actual, desired = to_numpy(actual), to_numpy(desired)
    np.testing.assert_allclose(actual, desired, rtol, atol)
    log = os.environ.get("TOLERANCE_MARGINS")
    if log and actual.size:
        error = np.abs(actual.astype("float64") - desired.astype("float64"))
        allowed = atol + rtol * np.abs(desired.astype("float64"))
        ratio = np.divide(
            allowed, error, out=np.full_like(error, np.inf), where=error > 0
        )
        margin = float(np.min(ratio))
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
        with open(log, "a") as file:
            file.write(f"{margin:.3g}\t{keras.backend.backend()}\t{test}\n")


def assert_array_equal(actual, desired):
    np.testing.assert_array_equal(to_numpy(actual), to_numpy(desired))

"""`keras.ops` that keep float64 on every backend.

Off TensorFlow, Keras's type promotion maps 64-bit types to 32-bit ones
(`keras.backend.result_type("float64", "float64")` is `"float32"` there, to
match JAX without x64), and two ops the layers use cast their operands to
that result:

- `keras.ops.matmul` on PyTorch (`keras/src/backend/torch/numpy.py`,
  `matmul`: `cast(x1, compute_dtype)` with `compute_dtype` from
  `dtypes.result_type`), where `keras.ops.einsum` keeps the operands' dtype;
- `keras.ops.tanh` on JAX (`keras/src/backend/jax/numpy.py`, `tanh`:
  `cast(x, dtypes.result_type(x.dtype, float))`), where `keras.ops.sigmoid`
  keeps it, and tanh(a) = 2σ(2a) − 1.

The replacements below apply only where Keras would lose precision, so every
other dtype and backend runs Keras's own op.
"""

import keras
from keras import ops


def _is_float64(x) -> bool:
    return keras.backend.standardize_dtype(x.dtype) == "float64"


def matmul(x, y):
    """`keras.ops.matmul(x, y)` for a 2D `y`, in float64 when both are."""
    if keras.backend.backend() == "torch" and _is_float64(x) and _is_float64(y):
        return ops.einsum("...j,jk->...k", x, y)
    return ops.matmul(x, y)


def tanh(x):
    """`keras.ops.tanh(x)`, in float64 when `x` is."""
    if keras.backend.backend() == "jax" and _is_float64(x):
        return 2.0 * ops.sigmoid(2.0 * x) - 1.0
    return ops.tanh(x)


def activation(function):
    """`function`, or the float64-keeping `tanh` when it is Keras's `tanh`."""
    return tanh if function is keras.activations.tanh else function

"""`SymmetricSummands`: a kernel constraint that ties both summands' weights."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class SymmetricSummands(keras.constraints.Constraint):
    """Gives every input feature the same weights, so a layer cannot tell them apart.

    Each column of a kernel of shape `(input_dim, ...)` becomes its mean over
    the `input_dim` rows. The addition model's cell takes it as its
    `kernel_constraint`: Keras applies it after every optimizer step, so
    the cell reads each column's bits only through their count, a + b.
    That is all that a column's sum bit and carry depend on, and it matters
    far beyond the training lengths: a model that weighs `a`'s bit a little
    differently from `b`'s is pushed the same way at every column where one
    operand has a 1 and the other a 0, and a carry that runs through a
    thousand such columns (as in `2**1000 - 1 + 1`) drifts away, while a run
    of `b`'s ones keeps it. With the summands' weights tied, a run of either
    is one and the same input, at every length.

    Examples:
        >>> kernel = np.array([[1.0, 4.0], [3.0, 0.0]])
        >>> keras.ops.convert_to_numpy(SymmetricSummands()(kernel)).tolist()
        [[2.0, 2.0], [2.0, 2.0]]
    """

    def __call__(self, w):
        w = ops.convert_to_tensor(w)
        return ops.broadcast_to(ops.mean(w, axis=0, keepdims=True), ops.shape(w))

    def get_config(self) -> dict:
        return {}

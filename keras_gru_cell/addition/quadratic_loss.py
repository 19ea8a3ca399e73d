"""`QuadraticLoss`: the tutorial's loss, half the summed squared error."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class QuadraticLoss(keras.losses.Loss):
    """Half the squared error summed over a sequence, averaged over the batch.

    For predictions ŷ and targets y of shape `(batch, time, 1)` the loss of a
    batch is Σ 0.5 (ŷ − y)² / batch, the quadratic loss of the 2017
    TensorFlow tutorial this package's addition task comes from. Unlike
    `keras.losses.MeanSquaredError` it sums over time steps, so longer
    sequences weigh more.

    Args:
        name: The loss's name. Defaults to `"quadratic_loss"`.
        reduction: How per-sequence losses combine; the default,
            `"sum_over_batch_size"`, averages them over the batch.
        dtype: The dtype of the loss's computations.

    Examples:
        >>> loss = QuadraticLoss()
        >>> y_true = np.array([[[1.0], [0.0]], [[0.0], [0.0]]])
        >>> y_pred = np.array([[[0.0], [1.0]], [[0.0], [2.0]]])
        >>> float(loss(y_true, y_pred))  # (0.5 * 2 + 0.5 * 4) / 2
        1.5
    """

    def __init__(
        self,
        name: str = "quadratic_loss",
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        axes = tuple(range(1, len(y_pred.shape)))
        return 0.5 * ops.sum(ops.square(y_pred - y_true), axis=axes)

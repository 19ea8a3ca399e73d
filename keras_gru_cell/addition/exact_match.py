"""`ExactMatch`: the share of sums the addition model gets entirely right."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


def _exact_match(y_true, y_pred, threshold):
    bits = ops.cast(ops.greater(y_pred, threshold), y_true.dtype)
    wrong = ops.not_equal(bits, y_true)
    axes = tuple(range(1, len(y_pred.shape)))
    return ops.cast(ops.logical_not(ops.any(wrong, axis=axes)), "float32")


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class ExactMatch(keras.metrics.MeanMetricWrapper):
    """The fraction of sequences whose every predicted bit is right.

    A prediction reads as a 1 bit when it exceeds `threshold`. For the
    addition task a sequence is one sum, so this is the share of sums the
    model computes exactly; `keras.metrics.BinaryAccuracy` gives the share of
    bits. It computes in `keras.ops` what `score_sums` computes in NumPy, so
    that it can run inside compiled training steps.

    Args:
        threshold: A prediction above it reads as 1. Defaults to 0.5.
        name: The metric's name. Defaults to `"exact_match"`.
        dtype: The dtype of the metric's result.

    Examples:
        >>> metric = ExactMatch()
        >>> y_true = np.array([[[1.0], [0.0]], [[1.0], [1.0]]])
        >>> y_pred = np.array([[[0.9], [0.2]], [[0.9], [0.4]]])
        >>> metric.update_state(y_true, y_pred)
        >>> float(metric.result())
        0.5
    """

    def __init__(
        self, threshold: float = 0.5, name: str = "exact_match", dtype: Any = None
    ) -> None:
        super().__init__(fn=_exact_match, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Scores a batch; with per-step `sample_weight`, its zeros are padding.

        A sequence's steps weighted 0 (`(batch, time)` weights, as padded
        batches carry) are not scored, and each sequence counts once
        whatever its other weights.
        """
        if sample_weight is not None and len(ops.shape(sample_weight)) == 2:
            real = ops.expand_dims(ops.greater(sample_weight, 0), -1)
            # A padded step predicted as its own truth is never wrong.
            y_pred = ops.where(real, y_pred, ops.cast(y_true, y_pred.dtype))
            sample_weight = None
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # The class fixes `fn`; it is no argument of the constructor.
        del config["fn"]
        return {**config, "threshold": self.threshold}

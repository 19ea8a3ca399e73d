"""`score_sums`: how many predicted sums, and how many of their bits, are right."""

from __future__ import annotations

import numpy as np


def score_sums(y_true, y_pred, threshold: float = 0.5) -> dict[str, float]:
    """Exact match and bit accuracy of predicted sum bits, in NumPy.

    A prediction reads as a 1 bit when it exceeds `threshold`. The training
    log and `evaluate_addition` score with this function; `ExactMatch`
    computes the same exact match inside compiled training steps, where NumPy
    cannot run.

    Args:
        y_true: The true bits, `(batch, time, 1)`, 0 or 1.
        y_pred: The predictions, of the same shape.
        threshold: A prediction above it reads as 1. Defaults to 0.5.

    Returns:
        A dict with `exact_match`, the share of sums whose every bit is right,
        and `bit_accuracy`, the share of bits that are right.

    Examples:
        >>> y_true = np.array([[[1.0], [0.0]], [[1.0], [1.0]]])
        >>> y_pred = np.array([[[0.9], [0.2]], [[0.9], [0.4]]])
        >>> score_sums(y_true, y_pred)
        {'exact_match': 0.5, 'bit_accuracy': 0.75}
    """
    right = (np.asarray(y_pred) > threshold) == (np.asarray(y_true) > threshold)
    return {
        "exact_match": float(np.mean(np.all(right, axis=tuple(range(1, right.ndim))))),
        "bit_accuracy": float(np.mean(right)),
    }

"""`PerGateOrthogonal`: an orthogonal recurrent kernel for each gate."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_gru_cell import _validation


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class PerGateOrthogonal(keras.initializers.Initializer):
    """Initializes each gate's `(units, units)` block to an orthogonal matrix.

    `keras.initializers.Orthogonal` on a `(units, 3 * units)` recurrent
    kernel makes the whole matrix's rows orthonormal, so no single gate's
    block `U_z`, `U_r` or `U_h` is orthogonal (keras-team/keras#9149). This
    initializer draws each block on its own, so each gate's recurrent map
    starts norm-preserving, as Saxe et al. (2014) recommend for a recurrent
    weight matrix.

    Args:
        gain: Float, the factor every block is multiplied by. Defaults to
            `1.0`.
        gates: Positive integer, the number of blocks the columns split into.
            Defaults to `3`, the `[U_z | U_r | U_h]` of a GRU.
        seed: Integer or `None`. With an integer, block `k` is
            `keras.initializers.Orthogonal(gain, seed=seed + k)`, the same at
            every call; with `None`, a new draw each call. Defaults to `None`.

    Raises:
        ValueError: for a `gates` that is not a positive integer, or a shape
            that is not 2D with columns divisible by `gates`.

    Examples:
        >>> kernel = PerGateOrthogonal(seed=1)((4, 12))
        >>> blocks = np.split(keras.ops.convert_to_numpy(kernel), 3, axis=1)
        >>> all(np.allclose(b.T @ b, np.eye(4), atol=1e-5) for b in blocks)
        True
        >>> from keras_gru_cell import ChungGRUCell
        >>> cell = ChungGRUCell(4, recurrent_initializer=PerGateOrthogonal())

    References:
        - [Saxe, McClelland & Ganguli, 2014. Exact solutions to the nonlinear
          dynamics of learning in deep linear neural networks](
          https://arxiv.org/abs/1312.6120)
    """

    def __init__(self, gain: float = 1.0, gates: int = 3, seed: int | None = None):
        self.gain = float(gain)
        self.gates = _validation.positive_integer("gates", gates)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        if len(shape) != 2 or shape[1] % self.gates:
            raise ValueError(
                f"PerGateOrthogonal splits the columns of a 2D kernel into "
                f"{self.gates} blocks; received shape {tuple(shape)}."
            )
        width = shape[1] // self.gates
        blocks = [
            keras.initializers.Orthogonal(
                self.gain, seed=None if self.seed is None else self.seed + gate
            )((shape[0], width), dtype=dtype)
            for gate in range(self.gates)
        ]
        return ops.concatenate(blocks, axis=1)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "gates": self.gates, "seed": self.seed}

"""`UpdateGateBias`: a GRU bias whose update-gate block sets the memory."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_gru_cell import _validation


@keras.saving.register_keras_serializable(package="keras_gru_cell")
class UpdateGateBias(keras.initializers.Initializer):
    """Initializes a `[b_z | b_r | b_h]` bias with a chosen update-gate block.

    In the paper's GRU the update gate `z_t` selects the new candidate,
    `h_t = (1 − z_t) ∘ h_{t-1} + z_t ∘ h̃_t`, so a unit with `z_t ≈ σ(b_z)`
    behaves at first like a leaky integrator with time constant
    `1 / σ(b_z)` steps: a NEGATIVE `b_z` keeps the state longer. (Keras's
    `GRU`, PyTorch and Flax let `z` keep the old state, where the same
    memory needs a positive bias.) `b_r` and `b_h` are zeros.

    With `value`, every `b_z` is that constant. With `chrono=T_max`, the
    chrono initialization of Tallec & Ollivier (2018) in this convention:
    `b_z = −log(u)` with `u ~ U([1, T_max − 1])` per unit, so the time
    constants `1 / σ(b_z) = 1 + u` spread uniformly over `[2, T_max]` steps.
    (Their LSTM forget-gate bias is `log(u)`, `σ(log u) = 1 − 1/(1 + u)`;
    here `z` plays `1 − f`, hence the minus sign.)

    Args:
        value: Float, the constant `b_z` when `chrono` is `None`. Defaults to
            `0.0`, which gives Keras's `"zeros"`.
        chrono: `None` or an integer `T_max` of at least 2, the longest
            dependency, in steps, the initial time constants should reach.
            Defaults to `None`.
        seed: Integer or `None`, the seed of the chrono draw; with an integer
            every call draws the same values. Defaults to `None`.

    Raises:
        ValueError: for a `chrono` that is not an integer of at least 2, a
            `chrono` given together with a nonzero `value`, or a shape that
            is not `(3 * units,)`.

    Examples:
        >>> bias = UpdateGateBias(chrono=64, seed=1)((12,))
        >>> b_z = keras.ops.convert_to_numpy(bias)[:4]
        >>> bool(np.all((b_z <= 0) & (b_z >= -np.log(63))))
        True
        >>> from keras_gru_cell import ChungGRUCell
        >>> cell = ChungGRUCell(4, bias_initializer=UpdateGateBias(-1.0))

    References:
        - [Tallec & Ollivier, 2018. Can recurrent neural networks warp
          time?](https://arxiv.org/abs/1804.11188)
    """

    def __init__(
        self, value: float = 0.0, chrono: int | None = None, seed: int | None = None
    ):
        if chrono is not None:
            chrono = _validation.integer("chrono", chrono, minimum=2)
            if value != 0.0:
                raise ValueError(
                    "Received both `chrono` and a nonzero `value` "
                    f"({value!r}); chrono draws the update-gate bias itself, "
                    "give one or the other."
                )
        self.value = float(value)
        self.chrono = chrono
        self.seed = seed

    def __call__(self, shape, dtype=None):
        if len(shape) != 1 or shape[0] % 3:
            raise ValueError(
                "UpdateGateBias initializes a GRU bias of shape (3 * units,); "
                f"received shape {tuple(shape)}."
            )
        units = shape[0] // 3
        dtype = dtype or keras.backend.floatx()
        if self.chrono is None:
            b_z = ops.full((units,), self.value, dtype=dtype)
        else:
            u = keras.random.uniform(
                (units,), 1.0, self.chrono - 1.0, dtype=dtype, seed=self.seed
            )
            b_z = -ops.log(u)
        return ops.concatenate([b_z, ops.zeros((2 * units,), dtype=dtype)])

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value, "chrono": self.chrono, "seed": self.seed}

"""`build_addition_model`: the tutorial's GRU adder as a Keras model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from keras_gru_cell import _validation
from keras_gru_cell.addition.symmetric_summands import SymmetricSummands
from keras_gru_cell.addition.time_distributed import TimeDistributed
from keras_gru_cell.chung_gru_cell import ChungGRUCell


def build_addition_model(
    hidden_size: int = 16,
    *,
    output_activation: str | None = None,
    weight_stddev: float | None = None,
    symmetric_summands: bool = False,
    dtype: str | None = None,
    cell_options: Mapping[str, Any] | None = None,
    name: str = "addition_model",
) -> keras.Model:
    """Builds a model that adds binary numbers read least significant bit first.

    `keras.Input((None, 2))` → `keras.layers.RNN(ChungGRUCell(hidden_size),
    return_sequences=True)` → `TimeDistributed(keras.layers.Dense(1))`: at
    each step the model reads one bit of each summand and writes one bit of
    the sum, so it takes any batch size and any sequence length. The
    wrapper is this package's `TimeDistributed`, because Keras's own gives
    wrong outputs when the time axis has no fixed length.

    Args:
        hidden_size: Positive integer, the number of GRU units. Defaults to
            16, the tutorial's size.
        output_activation: Activation of the output unit: `None` (linear, the
            tutorial's, for a squared-error loss) or `"sigmoid"` (for binary
            cross-entropy). Either way an output above 0.5 reads as a 1 bit.
        weight_stddev: If set, every weight is drawn from a normal
            distribution with this standard deviation, truncated at two
            standard deviations, as the tutorial does with 0.01. If `None`
            (default), Keras's defaults: Glorot uniform kernels, an
            orthogonal recurrent kernel and zero biases.
        symmetric_summands: Whether the cell weighs both summands' bits
            alike, from its first weights to its last (see
            `SymmetricSummands`, its `kernel_constraint`): what keeps a
            carry that runs through a thousand columns.
        dtype: The dtype of the model's inputs, weights and outputs, such as
            `"float64"`, the tutorial's. `None` uses `keras.config.floatx()`.
        cell_options: More `ChungGRUCell` arguments, such as the variants'
            `layer_normalization=True` or `zoneout=0.1`; an initializer or
            constraint given here replaces the one the arguments above
            choose. `None` (default) adds none.
        name: The model's name.

    Returns:
        An uncompiled `keras.Model` mapping `(batch, time, 2)` summand bits
        to `(batch, time, 1)` predicted sum bits.

    Raises:
        ValueError: If `hidden_size` is not a positive integer,
            `output_activation` is neither `None` nor `"sigmoid"`, or
            `weight_stddev` is not positive.

    Examples:
        >>> model = build_addition_model(hidden_size=8)
        >>> model.input_shape, model.output_shape
        ((None, None, 2), (None, None, 1))
        >>> tuple(model(np.zeros((3, 7, 2))).shape)
        (3, 7, 1)
        >>> model = build_addition_model(8, cell_options={"zoneout": 0.1})
        >>> model.get_layer("gru").cell.zoneout
        0.1

    References:
        - [Chung et al., 2014](https://arxiv.org/abs/1412.3555)
    """
    hidden_size = _validation.positive_integer("hidden_size", hidden_size)
    _validation.one_of("output_activation", output_activation, (None, "sigmoid"))
    if weight_stddev is not None:
        _validation.positive_number("weight_stddev", weight_stddev)

    def initializer(default: str) -> str | keras.initializers.Initializer:
        if weight_stddev is None:
            return default
        # One unseeded instance per weight: each draws its own values from
        # Keras's global seed, so `keras.utils.set_random_seed` fixes them all.
        return keras.initializers.TruncatedNormal(stddev=weight_stddev)

    cell = ChungGRUCell(
        hidden_size,
        **{
            "kernel_initializer": initializer("glorot_uniform"),
            "recurrent_initializer": initializer("orthogonal"),
            "bias_initializer": initializer("zeros"),
            "kernel_constraint": SymmetricSummands() if symmetric_summands else None,
            "dtype": dtype,
            **(cell_options or {}),
        },
    )
    dense = keras.layers.Dense(
        1,
        activation=output_activation,
        kernel_initializer=initializer("glorot_uniform"),
        bias_initializer=initializer("zeros"),
        dtype=dtype,
    )
    inputs = keras.Input((None, 2), dtype=dtype, name="summand_bits")
    states = keras.layers.RNN(cell, return_sequences=True, dtype=dtype, name="gru")(
        inputs
    )
    outputs = TimeDistributed(dense, dtype=dtype, name="sum_bits")(states)
    if isinstance(cell.kernel_constraint, SymmetricSummands):
        # Keras applies a constraint after each update, not to initial weights.
        cell.kernel.assign(cell.kernel_constraint(cell.kernel))
    return keras.Model(inputs, outputs, name=name)

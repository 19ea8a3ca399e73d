"""Exact weight conversion between `ChungGRUCell` and `keras.layers.GRU`.

`keras.layers.GRU(reset_after=False)` updates `h = z ∘ h_prev + (1 − z) ∘ h̃`
where the paper updates `h = (1 − z) ∘ h_prev + z ∘ h̃`. With a gate
activation `f` such that `f(−a) = 1 − f(a)` (the sigmoid is one), negating the
`z` columns of the kernel, the recurrent kernel and the bias turns one gate
into the other, so both layers compute the same function. Negation is its own
inverse: the same operation maps either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

__all__ = ["chung_to_keras_gru_weights", "keras_gru_to_chung_weights"]

# The ChungGRUCell options that change what the layer computes in a way
# keras.layers.GRU cannot.
_VARIANTS = ("layer_normalization", "zoneout", "recurrent_dropconnect")

# Points at which a gate activation is checked for f(−a) = 1 − f(a); they
# cover the saturated tails and the linear part of sigmoid-like functions.
_PROBE = np.linspace(-12.0, 12.0, 97)


def chung_to_keras_gru_weights(
    weights: Sequence[Any], recurrent_activation: Any = "sigmoid"
) -> list[np.ndarray]:
    """Maps `ChungGRUCell` weights to `keras.layers.GRU(reset_after=False)`.

    Args:
        weights: `[kernel, recurrent_kernel, bias]` of a `ChungGRUCell`, or
            `[kernel, recurrent_kernel]` when it has no bias, as NumPy arrays,
            tensors or variables (for example `cell.get_weights()`); or a
            built `ChungGRUCell`, `ChungGRU` or `keras.layers.RNN` holding a
            cell, whose weights and gate activation are then used and whose
            options are checked.
        recurrent_activation: The gate activation both layers use. Defaults to
            `"sigmoid"`. The mapping is exact only when `f(−a) = 1 − f(a)`.
            Ignored when `weights` is a layer.

    Returns:
        A new list of NumPy arrays in the same order, for
        `keras.layers.GRU(..., reset_after=False).set_weights`.

    Raises:
        ValueError: if the list does not hold 2 or 3 arrays of consistent GRU
            shapes (a layer-normalized cell's weights hold 7 or 6), if the
            bias has the `reset_after=True` shape `(2, 3 * units)`, if
            `recurrent_activation` has no exact mapping, or if `weights` is a
            layer with `layer_normalization`, `zoneout` or
            `recurrent_dropconnect`, which `keras.layers.GRU` has not.

    Examples:
        >>> from keras_gru_cell import ChungGRUCell
        >>> inputs = np.random.random((2, 5, 3)).astype("float32")
        >>> chung = keras.layers.RNN(ChungGRUCell(4))
        >>> builtin = keras.layers.GRU(4, reset_after=False)
        >>> _ = chung(inputs), builtin(inputs)
        >>> builtin.set_weights(chung_to_keras_gru_weights(chung.get_weights()))
        >>> chung_out = keras.ops.convert_to_numpy(chung(inputs))
        >>> builtin_out = keras.ops.convert_to_numpy(builtin(inputs))
        >>> bool(np.allclose(chung_out, builtin_out, atol=1e-6))
        True
    """
    layer = getattr(weights, "cell", weights)
    if isinstance(layer, keras.layers.Layer):
        # Imported here: the cell module imports this one.
        from keras_gru_cell.chung_gru_cell import ChungGRUCell

        if not isinstance(layer, ChungGRUCell):
            raise ValueError(
                "Expected `weights` to be a list of arrays or a ChungGRUCell, "
                "ChungGRU or RNN holding one; received a "
                f"{type(weights).__name__}."
            )
        _refuse_variants(layer)
        weights, recurrent_activation = layer.get_weights(), layer.recurrent_activation
    return _negate_update_gate(weights, recurrent_activation)


def keras_gru_to_chung_weights(
    weights: Sequence[Any], recurrent_activation: Any = "sigmoid"
) -> list[np.ndarray]:
    """Maps `keras.layers.GRU(reset_after=False)` weights to `ChungGRUCell`.

    Args:
        weights: `[kernel, recurrent_kernel, bias]` of a
            `keras.layers.GRU` or `keras.layers.GRUCell` built with
            `reset_after=False`, or the first two when `use_bias=False`.
        recurrent_activation: The gate activation both layers use. Defaults to
            `"sigmoid"`. The mapping is exact only when `f(−a) = 1 − f(a)`.

    Returns:
        A new list of NumPy arrays in the same order, for
        `ChungGRUCell.set_weights` (or `RNN(ChungGRUCell(...)).set_weights`).

    Raises:
        ValueError: if the weights come from a `reset_after=True` GRU (bias of
            shape `(2, 3 * units)`), which applies the reset gate after the
            recurrent product and has no exact `ChungGRUCell` equivalent; if
            the list does not hold 2 or 3 arrays of consistent GRU shapes; or
            if `recurrent_activation` has no exact mapping.

    Examples:
        >>> builtin = keras.layers.GRU(4, reset_after=False)
        >>> _ = builtin(np.zeros((1, 2, 3), "float32"))
        >>> [w.shape for w in keras_gru_to_chung_weights(builtin.get_weights())]
        [(3, 12), (4, 12), (12,)]
    """
    return _negate_update_gate(weights, recurrent_activation)


def _refuse_variants(cell: keras.layers.Layer) -> None:
    options = [
        f"{name}={getattr(cell, name)!r}"
        for name in _VARIANTS
        if getattr(cell, name, False)
    ]
    if options:
        raise ValueError(
            f"keras.layers.GRU cannot express a ChungGRUCell with "
            f"{', '.join(options)}: it has no layer normalization, zoneout or "
            "DropConnect, so no weights make it compute the same function. "
            "(Recurrent DropConnect does nothing at inference: to serve a "
            "model trained with it alone, convert `layer.get_weights()`.)"
        )


def _negate_update_gate(
    weights: Sequence[Any], recurrent_activation: Any
) -> list[np.ndarray]:
    _check_gate_symmetry(recurrent_activation)
    arrays = _check_shapes(weights)
    units = arrays[1].shape[0]
    converted = []
    for array in arrays:
        array = array.copy()
        array[..., :units] = -array[..., :units]
        converted.append(array)
    return converted


def _check_shapes(weights: Sequence[Any]) -> list[np.ndarray]:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence):
        raise ValueError(
            "Expected `weights` to be a list [kernel, recurrent_kernel, bias] "
            f"or [kernel, recurrent_kernel]; received {type(weights).__name__}."
        )
    if len(weights) in (6, 7):
        raise ValueError(
            f"Received {len(weights)} arrays, the weights of a ChungGRUCell "
            "with layer_normalization=True (kernel, recurrent_kernel, bias and "
            "the normalization's gains and biases). keras.layers.GRU has no "
            "layer normalization: no weights make it compute the same function."
        )
    if len(weights) not in (2, 3):
        raise ValueError(
            "Expected `weights` to hold 2 arrays [kernel, recurrent_kernel] or "
            f"3 [kernel, recurrent_kernel, bias]; received {len(weights)}."
        )
    arrays = [np.asarray(keras.ops.convert_to_numpy(w)) for w in weights]
    kernel, recurrent_kernel = arrays[:2]
    if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[1] != (
        3 * recurrent_kernel.shape[0]
    ):
        raise ValueError(
            "Expected `recurrent_kernel` of shape (units, 3 * units); received "
            f"shape {recurrent_kernel.shape}."
        )
    units = recurrent_kernel.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != 3 * units:
        raise ValueError(
            f"Expected `kernel` of shape (input_dim, {3 * units}) to match "
            f"recurrent_kernel {recurrent_kernel.shape}; received shape "
            f"{kernel.shape}."
        )
    if len(arrays) == 3:
        bias = arrays[2]
        if bias.shape == (2, 3 * units):
            raise ValueError(
                f"Received a bias of shape {bias.shape}, the layout of a GRU "
                "with `reset_after=True`. That GRU applies the reset gate after "
                "the recurrent product, r ∘ (h U_h + b), where ChungGRUCell "
                "applies it before, (r ∘ h) U_h: no weights make the two "
                "equal. Convert a GRU built with `reset_after=False`."
            )
        if bias.shape != (3 * units,):
            raise ValueError(
                f"Expected `bias` of shape ({3 * units},) to match "
                f"recurrent_kernel {recurrent_kernel.shape}; received shape "
                f"{bias.shape}."
            )
    return arrays


def _check_gate_symmetry(recurrent_activation: Any) -> None:
    try:
        gate = keras.activations.get(recurrent_activation)
    except (ValueError, TypeError) as error:
        raise ValueError(
            "Received an invalid value for argument `recurrent_activation`: "
            f"{recurrent_activation!r}. {error}"
        ) from None
    values = keras.ops.convert_to_numpy(gate(keras.ops.convert_to_tensor(_PROBE)))
    mirrored = keras.ops.convert_to_numpy(gate(keras.ops.convert_to_tensor(-_PROBE)))
    if not np.allclose(mirrored, 1.0 - values, atol=1e-6):
        name = keras.activations.serialize(gate)
        raise ValueError(
            f"The gate activation {name!r} has no exact weight mapping: "
            "negating the z weights turns f(a) into f(−a), which equals the "
            "needed 1 − f(a) only for functions such as 'sigmoid' and "
            "'hard_sigmoid'."
        )

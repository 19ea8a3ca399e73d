"""Layer normalization of the gate pre-activations (Ba, Kiros & Hinton, 2016).

Applied, as the paper applies it to recurrent networks, to the input part
`x_t W` and the recurrent part `h_{t-1} U` of the pre-activations separately,
each with its own gains and biases, before they are summed with the bias `b`.
Each gate's block of `units` pre-activations is normalized on its own: the
candidate's recurrent part `(r_t ∘ h_{t-1}) U_h` exists only after the reset
gate, so the three gates are treated alike. The cell and the fused loop both
call `normalize`.
"""

from keras import ops

# Added to the variance, as keras.layers.LayerNormalization's default.
EPSILON = 1e-3


def normalize(x, gamma, beta, units: int):
    """`gamma ∘ (x − μ) / sqrt(σ² + ε) + beta`, per block of `units` columns.

    `x` is `(..., k * units)` and `gamma`, `beta` are `(k * units,)`; the mean
    and variance are taken over each block of `units` columns on its own.
    """
    # `int`: PyTorch's ONNX export traces shapes as tensors, which `split`
    # does not take; the feature axis is always known.
    count = int(x.shape[-1]) // int(units)
    blocks = [_standardize(block) for block in ops.split(x, count, axis=-1)]
    normalized = blocks[0] if len(blocks) == 1 else ops.concatenate(blocks, axis=-1)
    return normalized * gamma + beta


def _standardize(x):
    mean = _mean(x)
    centered = x - mean
    return centered / ops.sqrt(_mean(centered * centered) + EPSILON)


def _mean(x):
    # `keras.ops.mean` computes float64 in float32 on JAX and PyTorch (see
    # `_ops`); a sum keeps the dtype.
    return ops.sum(x, axis=-1, keepdims=True) / x.shape[-1]

"""An independent NumPy implementation of the GRU equations, for the tests.

Written from the paper (Chung et al., 2014, eqs. 5-8), not from the layer: the
tests trust the layer only where it agrees with this file.
"""

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def chung_gru_step(x_t, h_prev, kernel, recurrent_kernel, bias=None):
    """One step of the paper's GRU.

    `x_t` is (batch, input_dim) and `h_prev` (batch, units).
    """
    units = h_prev.shape[-1]
    w_z, w_r, w_h = np.split(kernel, 3, axis=1)
    u_z, u_r, u_h = np.split(recurrent_kernel, 3, axis=1)
    if bias is None:
        bias = np.zeros(3 * units, dtype=kernel.dtype)
    b_z, b_r, b_h = np.split(bias, 3)
    z = sigmoid(x_t @ w_z + h_prev @ u_z + b_z)
    r = sigmoid(x_t @ w_r + h_prev @ u_r + b_r)
    h_tilde = np.tanh(x_t @ w_h + (r * h_prev) @ u_h + b_h)
    return (1.0 - z) * h_prev + z * h_tilde


def keras_gru_step(x_t, h_prev, kernel, recurrent_kernel, bias=None):
    """One step of `keras.layers.GRU(reset_after=False)`: z keeps the OLD state."""
    units = h_prev.shape[-1]
    w_z, w_r, w_h = np.split(kernel, 3, axis=1)
    u_z, u_r, u_h = np.split(recurrent_kernel, 3, axis=1)
    if bias is None:
        bias = np.zeros(3 * units, dtype=kernel.dtype)
    b_z, b_r, b_h = np.split(bias, 3)
    z = sigmoid(x_t @ w_z + h_prev @ u_z + b_z)
    r = sigmoid(x_t @ w_r + h_prev @ u_r + b_r)
    h_tilde = np.tanh(x_t @ w_h + (r * h_prev) @ u_h + b_h)
    return z * h_prev + (1.0 - z) * h_tilde


def run_sequence(
    x,
    kernel,
    recurrent_kernel,
    bias=None,
    *,
    initial_state=None,
    mask=None,
    go_backwards=False,
    step=chung_gru_step,
):
    """Runs `step` over `x` (batch, time, input_dim) with Keras's RNN conventions.

    Returns `(outputs, final_state)`: outputs (batch, time, units) in the
    order the steps were taken (reversed input order when `go_backwards`),
    with masked steps repeating the previous output, as `keras.layers.RNN` does.
    """
    batch, time, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = (
        np.zeros((batch, units), dtype=x.dtype)
        if initial_state is None
        else initial_state.astype(x.dtype)
    )
    order = range(time - 1, -1, -1) if go_backwards else range(time)
    outputs = []
    last_output = np.zeros((batch, units), dtype=x.dtype)
    for t in order:
        h_new = step(x[:, t], h, kernel, recurrent_kernel, bias)
        if mask is not None:
            keep = mask[:, t][:, None]
            h_new = np.where(keep, h_new, h)
            out = np.where(keep, h_new, last_output)
        else:
            out = h_new
        h = h_new
        last_output = out
        outputs.append(out)
    return np.stack(outputs, axis=1), h


def random_gru_weights(rng, input_dim, units, *, use_bias=True, dtype="float64"):
    """`[kernel, recurrent_kernel, bias]` large enough that every gate works
    away from its linear part; without the bias when `use_bias=False`."""
    weights = [
        rng.normal(0.0, 0.6, (input_dim, 3 * units)),
        rng.normal(0.0, 0.6, (units, 3 * units)),
        rng.normal(0.0, 0.3, (3 * units,)),
    ]
    return [w.astype(dtype) for w in weights[: 3 if use_bias else 2]]

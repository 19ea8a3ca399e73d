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


def chung_gru_gradients(x, probe, kernel, recurrent_kernel, bias):
    """Backpropagation through time of `sum(outputs * probe)`, by hand.

    `outputs` are the paper's GRU states after every step from a zero state,
    `(batch, time, units)` like `probe`. Returns the gradients with respect to
    `x`, `kernel`, `recurrent_kernel` and `bias`, in that order.
    """
    batch, time, _ = x.shape
    units = recurrent_kernel.shape[0]
    w_z, w_r, w_h = np.split(kernel, 3, axis=1)
    u_z, u_r, u_h = np.split(recurrent_kernel, 3, axis=1)
    b_z, b_r, b_h = np.split(bias, 3)

    h = np.zeros((batch, units), dtype=x.dtype)
    steps = []
    for t in range(time):
        z = sigmoid(x[:, t] @ w_z + h @ u_z + b_z)
        r = sigmoid(x[:, t] @ w_r + h @ u_r + b_r)
        candidate = np.tanh(x[:, t] @ w_h + (r * h) @ u_h + b_h)
        steps.append((h, z, r, candidate))
        h = (1.0 - z) * h + z * candidate

    d_x = np.zeros_like(x)
    d_w = [np.zeros_like(w_z) for _ in range(3)]
    d_u = [np.zeros_like(u_z) for _ in range(3)]
    d_b = [np.zeros_like(b_z) for _ in range(3)]
    d_h = np.zeros((batch, units), dtype=x.dtype)
    for t in reversed(range(time)):
        h_prev, z, r, candidate = steps[t]
        d_h = d_h + probe[:, t]
        d_pre_h = d_h * z * (1.0 - candidate**2)
        d_reset_input = d_pre_h @ u_h.T
        d_pre_z = d_h * (candidate - h_prev) * z * (1.0 - z)
        d_pre_r = d_reset_input * h_prev * r * (1.0 - r)
        recurrent_inputs = (h_prev, h_prev, r * h_prev)
        for k, d_pre in enumerate((d_pre_z, d_pre_r, d_pre_h)):
            d_w[k] += x[:, t].T @ d_pre
            d_u[k] += recurrent_inputs[k].T @ d_pre
            d_b[k] += d_pre.sum(axis=0)
        d_x[:, t] = d_pre_z @ w_z.T + d_pre_r @ w_r.T + d_pre_h @ w_h.T
        d_h = d_h * (1.0 - z) + d_reset_input * r + d_pre_z @ u_z.T + d_pre_r @ u_r.T
    return (
        d_x,
        np.concatenate(d_w, axis=1),
        np.concatenate(d_u, axis=1),
        np.concatenate(d_b),
    )


# The variants, written from their papers: layer normalization (Ba, Kiros &
# Hinton, 2016, eqs. 3-4 applied to the input and recurrent parts as in their
# section 3.1), zoneout (Krueger et al., 2016, eq. 4) and recurrent
# DropConnect (Wan et al., 2013), each in the GRU of Chung et al. (2014).

LAYER_NORM_EPSILON = 1e-3


def layer_norm(a, gain, bias):
    """Normalizes `a` (batch, units) over its units, then `gain ∘ â + bias`."""
    mean = a.mean(axis=-1, keepdims=True)
    std = np.sqrt(((a - mean) ** 2).mean(axis=-1, keepdims=True) + LAYER_NORM_EPSILON)
    return gain * (a - mean) / std + bias


def chung_gru_variant_step(
    x_t,
    h_prev,
    kernel,
    recurrent_kernel,
    bias=None,
    *,
    norm=None,
    zoneout=0.0,
    keep=None,
    kernel_mask=None,
):
    """One step of the paper's GRU with the variants.

    `norm` is `None` or `(input_gain, input_bias, recurrent_gain,
    recurrent_bias)`, each `(3 * units,)` in gate blocks `[z | r | h]`: every
    gate's input part `x_t W_g` and recurrent part `h U_g` (for the candidate
    `(r ∘ h) U_h`) is normalized on its own. `zoneout` is the rate: with
    `keep` (batch, units) a unit marked True keeps `h_prev`; without it the
    state is the expectation. `kernel_mask` multiplies `recurrent_kernel`.
    """
    units = h_prev.shape[-1]
    if kernel_mask is not None:
        recurrent_kernel = recurrent_kernel * kernel_mask
    w = np.split(kernel, 3, axis=1)
    u = np.split(recurrent_kernel, 3, axis=1)
    b = np.split(np.zeros(3 * units) if bias is None else bias, 3)

    def pre_activation(gate, input_part, recurrent_part):
        if norm is not None:
            gate_block = slice(gate * units, (gate + 1) * units)
            gain_x, bias_x, gain_h, bias_h = (p[gate_block] for p in norm)
            input_part = layer_norm(input_part, gain_x, bias_x)
            recurrent_part = layer_norm(recurrent_part, gain_h, bias_h)
        return input_part + recurrent_part + b[gate]

    z = sigmoid(pre_activation(0, x_t @ w[0], h_prev @ u[0]))
    r = sigmoid(pre_activation(1, x_t @ w[1], h_prev @ u[1]))
    h_tilde = np.tanh(pre_activation(2, x_t @ w[2], (r * h_prev) @ u[2]))
    h = (1.0 - z) * h_prev + z * h_tilde
    if zoneout and keep is not None:
        return np.where(keep, h_prev, h)
    if zoneout:
        return zoneout * h_prev + (1.0 - zoneout) * h
    return h

"""The fused loop's math in `keras.ops`: forward steps, backward steps, scan.

Every backend runs `forward`; TensorFlow and JAX differentiate it with
`backward` and `project_backward`, their steps having projected their own
inputs (TensorFlow, after a forward pass that kept no residuals, with
`recompute` first; JAX, outside a Keras distribution, with
`accumulating_backward`, both in one loop), and `torch_loop` mirrors
`forward` and `backward` in plain PyTorch.
"""

import keras
from keras import ops

from keras_gru_cell import _layer_norm
from keras_gru_cell import _ops
from keras_gru_cell import _zoneout


def project(inputs, kernel, bias):
    """`inputs W + b`: the input half of every pre-activation."""
    projected = _ops.matmul(inputs, kernel)
    return projected if bias is None else projected + bias


def forward(
    projected,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
    activation=keras.activations.tanh,
    recurrent_activation=keras.activations.sigmoid,
    residuals=True,
    kernel=None,
    bias=None,
    recurrent_normalization=None,
    zoneout=0.0,
    zoneout_mask=None,
):
    """Returns `(states, (previous, gates, candidates))`, all
    `(time, batch, ...)`, where `previous[t]` is the state step `t` started
    from.

    `projected` is `(time, batch, 3 * units)`, `x_t W + b` for every step;
    given `kernel` (and `bias`), it is the inputs `(time, batch, input_dim)`
    instead, which each step projects. Without `residuals`, which only the
    backward pass reads, the second item is `None`: loops do not drop unused
    outputs by themselves.

    The variants, which only autodiff differentiates: `recurrent_normalization`
    is `None` or the `(gamma, beta)` of the recurrent parts' layer
    normalization (`projected` then holds the normalized input parts);
    `zoneout` is the zoneout rate, with `zoneout_mask` `None` (the
    expectation) or a boolean `(time, batch, units)`, True where a unit keeps
    its previous state.
    """
    units = recurrent_kernel.shape[0]
    kernel_zr = recurrent_kernel[:, : 2 * units]
    kernel_h = recurrent_kernel[:, 2 * units :]
    activation = _ops.activation(activation)

    def recurrent_part(product, block):
        if recurrent_normalization is None:
            return product
        gamma, beta = recurrent_normalization
        return _layer_norm.normalize(product, gamma[block], beta[block], units)

    def step(h_prev, inputs):
        projected_t = inputs["projected"]
        if kernel is not None:
            projected_t = project(projected_t, kernel, bias)
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        recurrent_zr = recurrent_part(
            _ops.matmul(h_rec, kernel_zr), slice(None, 2 * units)
        )
        gates = recurrent_activation(projected_t[:, : 2 * units] + recurrent_zr)
        z, r = gates[:, :units], gates[:, units:]
        recurrent_h = recurrent_part(
            _ops.matmul(r * h_rec, kernel_h), slice(2 * units, None)
        )
        candidate = activation(projected_t[:, 2 * units :] + recurrent_h)
        h = (1.0 - z) * h_prev + z * candidate
        if zoneout > 0.0:
            h = _zoneout.apply(h_prev, h, zoneout, inputs.get("keep"))
        if "mask" in inputs:
            h = ops.where(inputs["mask"], h, h_prev)
        return h, ((h_prev, gates, candidate) if residuals else (h,))

    sequence = {"projected": projected}
    if mask is not None:
        sequence["mask"] = mask
    if zoneout_mask is not None:
        sequence["keep"] = zoneout_mask
    last, outputs = scan(step, initial_state, sequence, 3 if residuals else 1)
    if not residuals:
        return outputs[0], None
    # The loop keeps the states its steps started from, which the backward
    # pass reads, and not the states themselves: shifted by a step, those
    # are a copy that XLA fuses into whatever reads it, or drops when only
    # the last state is asked for (`run`'s `last_only`). Either way a
    # training step holds one such array, not two.
    previous = outputs[0]
    states = ops.concatenate([previous[1:], last[None]], axis=0)
    return states, outputs


def recompute(projected, states, initial_state, recurrent_kernel):
    """The residuals of `forward`, `(previous, gates, candidates)`, from its
    states.

    Step t's gates depend only on `x_t W + b` and `h_{t-1}`, and its
    candidate on those and its reset gate, so once the states are known they
    are two large matmuls over all steps at once. That is a forward pass's
    worth of arithmetic, which makes training slower than keeping the
    residuals, but lets a forward pass that may not be differentiated keep
    nothing and still have an exact gradient. Such a pass has no recurrent
    dropout, which only training applies.
    """
    units = recurrent_kernel.shape[0]
    previous = ops.concatenate([initial_state[None], states[:-1]], axis=0)
    gates = ops.sigmoid(
        projected[..., : 2 * units]
        + _ops.matmul(previous, recurrent_kernel[:, : 2 * units])
    )
    candidates = _ops.tanh(
        projected[..., 2 * units :]
        + _ops.matmul(gates[..., units:] * previous, recurrent_kernel[:, 2 * units :])
    )
    return previous, gates, candidates


def backward(
    d_states,
    previous,
    gates,
    candidates,
    recurrent_kernel,
    mask,
    recurrent_mask,
    loop=None,
):
    """Gradients w.r.t. `projected`, `initial_state` and `recurrent_kernel`,
    from `forward`'s residuals and the gradient of every state or of the last
    alone (`_backward_sequence`).

    The first, `(d_gates, d_candidates)`, comes in two parts, the gradients
    of `projected[..., :2 * units]` and of `projected[..., 2 * units:]`:
    concatenated, they would be one more copy of every step's gradients, for
    products that read each part apart as well. `loop` runs `backward_loop`,
    compiled or not.
    """
    d_initial, d_gates, d_candidates, reset_inputs, *dropped_out = (
        loop or backward_loop
    )(
        d_states,
        previous,
        gates,
        candidates,
        recurrent_kernel,
        mask,
        recurrent_mask,
    )
    # With recurrent dropout the loop returns each step's `h_rec` too;
    # without it, `h_rec` is `previous`.
    recurrent_inputs = dropped_out[0] if dropped_out else previous

    d_recurrent_kernel = ops.concatenate(
        [
            _over_steps(recurrent_inputs, d_gates),
            _over_steps(reset_inputs, d_candidates),
        ],
        axis=1,
    )
    return (d_gates, d_candidates), d_initial, d_recurrent_kernel


def project_backward(d_projected, inputs, kernel, bias):
    """Gradients of `project` w.r.t. `inputs`, `kernel` and `bias`.

    `d_projected` is `backward`'s `(d_gates, d_candidates)`. Formed for all
    steps at once, as large matmuls, when the loop projected each step's
    inputs itself; each part apart, never concatenated.
    """
    d_gates, d_candidates = d_projected
    d_inputs = inputs_backward(d_projected, kernel)
    d_kernel = ops.concatenate(
        [_over_steps(inputs, d_gates), _over_steps(inputs, d_candidates)], axis=1
    )
    d_bias = (
        None
        if bias is None
        else ops.concatenate(
            [ops.sum(d_gates, axis=(0, 1)), ops.sum(d_candidates, axis=(0, 1))]
        )
    )
    return d_inputs, d_kernel, d_bias


def inputs_backward(d_projected, kernel):
    """The gradient of `project` w.r.t. its inputs, from `backward`'s
    `(d_gates, d_candidates)`."""
    units = kernel.shape[1] // 3
    d_gates, d_candidates = d_projected
    return _ops.matmul(d_gates, ops.transpose(kernel[:, : 2 * units])) + _ops.matmul(
        d_candidates, ops.transpose(kernel[:, 2 * units :])
    )


def _over_steps(inputs, d_outputs):
    """`sum_t inputs_t^T d_outputs_t`, both `(time, batch, n)`: a weight's
    gradient over every step and example, as one large matmul.

    On JAX, one contraction over both axes: reshaping them into one merges
    time with the batch axis, which data parallelism shards, and XLA then
    gathers the whole batch on every device. TensorFlow's data parallelism
    runs a replica per device, with no such reshape to fear, and its
    `tensordot` adds dynamic-shape ops that slow a small training step by
    about a tenth (`ChungGRU` at the tutorial's shape).
    """
    if keras.backend.backend() == "jax":
        return ops.tensordot(inputs, d_outputs, axes=([0, 1], [0, 1]))
    return _ops.matmul(ops.transpose(_flat(inputs)), _flat(d_outputs))


def _flat(tensor):
    """`(time, batch, n)` as `(time * batch, n)`."""
    return ops.reshape(tensor, (-1, tensor.shape[-1]))


def backward_loop(
    d_states,
    previous,
    gates,
    candidates,
    recurrent_kernel,
    mask,
    recurrent_mask,
):
    """Returns `d_initial_state` and, per step, the pre-activation gradients
    of the gates and of the candidate, and the operands of the recurrent
    products, `r ∘ h_rec` and, with recurrent dropout, `h_rec`.

    The loop writes out the operands, which it reads anyway, so that the
    weight-gradient matmuls after it take plain arrays: XLA on CPU runs a
    matmul whose operand it fused with elementwise math several times slower.
    Without recurrent dropout `h_rec` is `previous`, which the caller holds
    already: one array fewer to write trained `ChungGRU` 1.03x [1.01, 1.05]
    as fast on TensorFlow at the Benchmarks page's large shape, and 0.99x
    [0.94, 1.03] at the long one (`benchmarks/compare_commits.py`, 20 rounds,
    2026-12-04).
    """
    step_backward = _step_backward(recurrent_kernel, recurrent_mask)

    def step(d_carry, step_inputs):
        d_prev, d_gates, d_candidate, h_rec, reset_input = step_backward(
            d_carry, step_inputs
        )
        outputs = (d_gates, d_candidate, reset_input)
        return d_prev, outputs if recurrent_mask is None else (*outputs, h_rec)

    d_carry, sequence = _backward_sequence(d_states, previous, gates, candidates, mask)
    num_outputs = 3 if recurrent_mask is None else 4
    d_initial, outputs = scan(step, d_carry, sequence, num_outputs, reverse=True)
    return d_initial, *outputs


def _backward_sequence(d_states, previous, gates, candidates, mask):
    """A backward loop's initial carry and its per-step inputs.

    `d_states` is the gradient of every step's state, `(time, batch, units)`,
    which the steps add to the carried gradient; or of the last state alone,
    `(batch, units)`, which the loop starts from instead. The second asks for
    no sequence of gradients, mostly zeros, that a training step would
    otherwise hold beside the residuals.
    """
    sequence = {"h_prev": previous, "gates": gates, "candidate": candidates}
    if mask is not None:
        sequence["mask"] = mask
    if len(d_states.shape) == 2:
        return d_states, sequence
    return ops.zeros_like(previous[0]), {**sequence, "d_out": d_states}


def accumulating_backward(
    d_states,
    previous,
    gates,
    candidates,
    recurrent_kernel,
    mask,
    recurrent_mask,
    inputs,
    kernel,
    bias,
):
    """`backward` and `project_backward` in one loop, whose steps add their
    shares of the weight gradients as they go; `d_states` as in `backward`.

    Returns `(d_gates, d_candidates), d_initial, d_recurrent_kernel,
    d_kernel, d_bias`; the first, per step, is read only for the inputs'
    gradient (`project_backward`'s `d_inputs`), which XLA drops, with the
    loop's outputs, when nothing asks for it, as in `fit`. On JAX, at the
    Benchmarks page's large shape, it runs faster than `backward_loop` and
    the large products after it, and at the long shape slower, each timed
    apart (`benchmarks/training_step_profile.py`); the products dominate the
    large shape's training. In one program with the forward pass, as in
    `fit`, `backward` also keeps every step's gradients: at the long shape
    the program's temporaries then outgrow the block glibc's malloc reuses,
    every step maps them afresh, and this pass trains faster
    (`benchmarks/backward_crossover.py`). Each step's products sum over the
    batch, though: under data parallelism that sum would be an all-reduce a
    step, so a distributed JAX program runs `backward`.
    """
    step_backward = _step_backward(recurrent_kernel, recurrent_mask)
    # A 16-bit sum over hundreds of steps would lose the small ones.
    dtype = keras.backend.standardize_dtype(recurrent_kernel.dtype)
    accumulate_in = "float32" if dtype in ("float16", "bfloat16") else dtype

    def product(a, b):
        return ops.cast(_ops.matmul(ops.transpose(a), b), accumulate_in)

    def step(carry, step_inputs):
        d_carry, d_recurrent, d_kernel, d_bias = carry
        x_t = step_inputs["x"]
        d_prev, d_gates, d_candidate, h_rec, reset_input = step_backward(
            d_carry, step_inputs
        )
        d_recurrent = d_recurrent + ops.concatenate(
            [product(h_rec, d_gates), product(reset_input, d_candidate)], axis=1
        )
        d_kernel = d_kernel + ops.concatenate(
            [product(x_t, d_gates), product(x_t, d_candidate)], axis=1
        )
        d_bias = d_bias + ops.cast(
            ops.concatenate([ops.sum(d_gates, axis=0), ops.sum(d_candidate, axis=0)]),
            accumulate_in,
        )
        return (d_prev, d_recurrent, d_kernel, d_bias), (d_gates, d_candidate)

    d_carry, sequence = _backward_sequence(d_states, previous, gates, candidates, mask)
    sequence["x"] = inputs
    # Without a bias, its sum is formed and dropped: the carry keeps one
    # structure.
    init = (
        d_carry,
        *(
            ops.zeros(shape, accumulate_in)
            for shape in (recurrent_kernel.shape, kernel.shape, kernel.shape[1:])
        ),
    )
    (d_initial, *d_weights), d_projected = scan(step, init, sequence, 2, reverse=True)
    d_recurrent_kernel, d_kernel, d_bias = (ops.cast(d, dtype) for d in d_weights)
    return (
        d_projected,
        d_initial,
        d_recurrent_kernel,
        d_kernel,
        None if bias is None else d_bias,
    )


def _step_backward(recurrent_kernel, recurrent_mask):
    """One step of the backward pass, as a function of the carried gradient
    and the step's inputs from `_backward_sequence`.

    It returns the gradient for the step before, the pre-activation
    gradients of the gates and of the candidate, and the operands of the
    step's recurrent products, `h_rec` and `r ∘ h_rec`.
    """
    units = recurrent_kernel.shape[0]
    kernel_zr_t = ops.transpose(recurrent_kernel[:, : 2 * units])
    kernel_h_t = ops.transpose(recurrent_kernel[:, 2 * units :])

    def step(d_carry, step_inputs):
        h_prev, gates_t = step_inputs["h_prev"], step_inputs["gates"]
        candidate, mask_t = step_inputs["candidate"], step_inputs.get("mask")
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        d_h = d_carry + step_inputs["d_out"] if "d_out" in step_inputs else d_carry
        if mask_t is not None:
            # A masked step passed its state through unchanged.
            d_skip = ops.where(mask_t, 0.0, d_h)
            d_h = ops.where(mask_t, d_h, 0.0)
        z, r = gates_t[:, :units], gates_t[:, units:]
        d_candidate = d_h * z * (1.0 - candidate * candidate)
        d_reset_input = _ops.matmul(d_candidate, kernel_h_t)
        d_gates = ops.concatenate(
            [d_h * (candidate - h_prev), d_reset_input * h_rec], axis=-1
        ) * (gates_t * (1.0 - gates_t))
        d_rec = d_reset_input * r + _ops.matmul(d_gates, kernel_zr_t)
        if recurrent_mask is not None:
            d_rec = d_rec * recurrent_mask
        d_prev = d_h * (1.0 - z) + d_rec
        if mask_t is not None:
            d_prev = d_prev + d_skip
        return d_prev, d_gates, d_candidate, h_rec, r * h_rec

    return step


# XLA's CPU while loop costs more per step than a short sequence's
# arithmetic. Unrolled, on JAX the tutorial shape (T=5) trains 1.6x faster and
# T=16 1.15x, while T=32 is slower to run and every length slower to compile;
# on TensorFlow, T=5 and T=16 train and predict faster unrolled too (the
# Benchmarks page's tutorial shape).
UNROLL_MAX_STEPS = 16


def scan(step, init, sequence, num_outputs, reverse=False):
    """`ops.scan` for per-step outputs, a tuple of tensors of the carry's dtype.

    Sequences of at most `UNROLL_MAX_STEPS` steps are unrolled. TensorFlow's
    `ops.scan` wants outputs shaped like the carry, so that backend gets its
    own loop (`tensorflow_loop.scan`).
    """
    length = keras.tree.flatten(sequence)[0].shape[0]
    # Unknown (`None`) or symbolic, as in a JAX export for any length.
    unroll = isinstance(length, int) and length <= UNROLL_MAX_STEPS
    if keras.backend.backend() != "tensorflow":
        return ops.scan(step, init, sequence, reverse=reverse, unroll=unroll)
    from keras_gru_cell._fused import tensorflow_loop

    return tensorflow_loop.scan(step, init, sequence, num_outputs, reverse, unroll)

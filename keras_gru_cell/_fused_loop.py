"""The time loop of `ChungGRU`: fused steps and a hand-written backward pass.

The input products of all time steps are computed before this loop, so each
step holds only the two recurrent products and elementwise math. Autodiff
through a loop keeps per-step weight gradients, one small matmul per step; the
backward pass here instead returns the pre-activation gradients of every step
and forms the recurrent-kernel gradient as two large matmuls after the loop.
It is exact only for sigmoid gates and a tanh candidate, whose derivatives it
spells out; other activations differentiate the same forward loop by autodiff.

TensorFlow and JAX wrap the same `keras.ops` loops in their own custom-gradient
mechanism (TensorFlow also compiles them with XLA); PyTorch runs the same math
in plain PyTorch loops inside an `autograd.Function`. Backend libraries are
imported lazily; any other backend differentiates the `keras.ops` loop itself.
"""

import functools

import keras
from keras import ops


def has_fused_gradient(activation, recurrent_activation) -> bool:
    """Whether the hand-written backward pass matches these activations."""
    return (
        activation is keras.activations.tanh
        and recurrent_activation is keras.activations.sigmoid
    )


def run(
    projected,
    initial_state,
    recurrent_kernel,
    mask=None,
    recurrent_mask=None,
    activation=keras.activations.tanh,
    recurrent_activation=keras.activations.sigmoid,
):
    """Runs the recurrence over time-major pre-activations.

    Args:
        projected: `(time, batch, 3 * units)`, `x_t W + b` for every step.
        initial_state: `(batch, units)`.
        recurrent_kernel: `(units, 3 * units)`, `[U_z | U_r | U_h]`.
        mask: `None` or a boolean `(time, batch, 1)`; a masked step keeps the
            previous state.
        recurrent_mask: `None` or `(batch, units)`, the recurrent dropout
            mask applied to the state before both recurrent products.
        activation: The candidate activation.
        recurrent_activation: The gate activation.

    Returns:
        The states after every step, `(time, batch, units)`.
    """
    if not has_fused_gradient(activation, recurrent_activation):
        states, _ = _forward(
            projected,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            activation,
            recurrent_activation,
            residuals=False,
        )
        return states
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _run_tensorflow(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )
    if backend == "jax":
        return _run_jax(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )
    if backend == "torch":
        return _run_torch(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )
    states, _ = _forward(
        projected,
        initial_state,
        recurrent_kernel,
        mask,
        recurrent_mask,
        residuals=False,
    )
    return states


def _forward(
    projected,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
    activation=keras.activations.tanh,
    recurrent_activation=keras.activations.sigmoid,
    residuals=True,
):
    """Returns `(states, (gates, candidates))`, all `(time, batch, ...)`.

    Without `residuals`, which only the backward pass reads, the second item
    is `None`: loops do not drop unused outputs by themselves.
    """
    units = recurrent_kernel.shape[0]
    kernel_zr = recurrent_kernel[:, : 2 * units]
    kernel_h = recurrent_kernel[:, 2 * units :]

    def step(h_prev, inputs):
        projected_t, mask_t = inputs if mask is not None else (inputs, None)
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        gates = recurrent_activation(
            projected_t[:, : 2 * units] + ops.matmul(h_rec, kernel_zr)
        )
        z, r = gates[:, :units], gates[:, units:]
        candidate = activation(
            projected_t[:, 2 * units :] + ops.matmul(r * h_rec, kernel_h)
        )
        h = (1.0 - z) * h_prev + z * candidate
        if mask_t is not None:
            h = ops.where(mask_t, h, h_prev)
        return h, ((h, gates, candidate) if residuals else (h,))

    sequence = projected if mask is None else (projected, mask)
    _, outputs = _scan(step, initial_state, sequence, 3 if residuals else 1)
    return outputs[0], (outputs[1:] if residuals else None)


def _backward(
    d_states,
    states,
    gates,
    candidates,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
    loop=None,
):
    """Gradients w.r.t. `projected`, `initial_state` and `recurrent_kernel`.

    `loop` runs `_backward_loop`, compiled or not.
    """
    previous = ops.concatenate([initial_state[None], states[:-1]], axis=0)
    d_initial, d_gates, d_candidates, recurrent_inputs, reset_inputs = (
        loop or _backward_loop
    )(
        d_states,
        previous,
        gates,
        candidates,
        recurrent_kernel,
        mask,
        recurrent_mask,
    )

    def flat(tensor):
        return ops.reshape(tensor, (-1, tensor.shape[-1]))

    d_recurrent_kernel = ops.concatenate(
        [
            ops.matmul(ops.transpose(flat(recurrent_inputs)), flat(d_gates)),
            ops.matmul(ops.transpose(flat(reset_inputs)), flat(d_candidates)),
        ],
        axis=1,
    )
    d_projected = ops.concatenate([d_gates, d_candidates], axis=-1)
    return d_projected, d_initial, d_recurrent_kernel


def _backward_loop(
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
    products, `h_rec` and `r ∘ h_rec`.

    The loop writes out the operands, which it reads anyway, so that the
    weight-gradient matmuls after it take plain arrays: XLA on CPU runs a
    matmul whose operand it fused with elementwise math several times slower.
    """
    units = recurrent_kernel.shape[0]
    kernel_zr_t = ops.transpose(recurrent_kernel[:, : 2 * units])
    kernel_h_t = ops.transpose(recurrent_kernel[:, 2 * units :])

    def step(d_carry, inputs):
        if mask is not None:
            d_out, h_prev, gates_t, candidate, mask_t = inputs
        else:
            d_out, h_prev, gates_t, candidate = inputs
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        d_h = d_out + d_carry
        if mask is not None:
            # A masked step passed its state through unchanged.
            d_skip = ops.where(mask_t, 0.0, d_h)
            d_h = ops.where(mask_t, d_h, 0.0)
        z, r = gates_t[:, :units], gates_t[:, units:]
        d_candidate = d_h * z * (1.0 - candidate * candidate)
        d_reset_input = ops.matmul(d_candidate, kernel_h_t)
        d_gates = ops.concatenate(
            [d_h * (candidate - h_prev), d_reset_input * h_rec], axis=-1
        ) * (gates_t * (1.0 - gates_t))
        d_rec = d_reset_input * r + ops.matmul(d_gates, kernel_zr_t)
        if recurrent_mask is not None:
            d_rec = d_rec * recurrent_mask
        d_prev = d_h * (1.0 - z) + d_rec
        if mask is not None:
            d_prev = d_prev + d_skip
        return d_prev, (d_gates, d_candidate, h_rec, r * h_rec)

    sequence = (d_states, previous, gates, candidates)
    if mask is not None:
        sequence = (*sequence, mask)
    d_initial, outputs = _scan(
        step, ops.zeros_like(previous[0]), sequence, 4, reverse=True
    )
    return d_initial, *outputs


# On JAX, XLA's CPU while loop costs more per step than a short sequence's
# arithmetic: unrolled, the tutorial shape (T=5) trains 1.6x faster and T=16
# 1.15x, while T=32 is slower to run and every length slower to compile.
_UNROLL_MAX_STEPS = 16


def _scan(step, init, sequence, num_outputs, reverse=False):
    """`ops.scan` for per-step outputs, a tuple of tensors of the carry's dtype.

    Sequences of at most `_UNROLL_MAX_STEPS` steps are unrolled. TensorFlow's
    `ops.scan` wants outputs shaped like the carry, so that backend gets its
    own `while` loop over `TensorArray`s.
    """
    if keras.backend.backend() != "tensorflow":
        length = keras.tree.flatten(sequence)[0].shape[0]
        unroll = length is not None and length <= _UNROLL_MAX_STEPS
        return ops.scan(step, init, sequence, reverse=reverse, unroll=unroll)
    import tensorflow as tf

    flat_sequence = keras.tree.flatten(sequence)
    # XLA needs the static length for the TensorArrays when it is known.
    length = flat_sequence[0].shape[0] or tf.shape(flat_sequence[0])[0]
    inputs = [
        tf.TensorArray(t.dtype, size=length, element_shape=t.shape[1:]).unstack(t)
        for t in flat_sequence
    ]
    outputs = [tf.TensorArray(init.dtype, size=length) for _ in range(num_outputs)]

    def body(k, carry, outputs):
        i = length - 1 - k if reverse else k
        step_inputs = keras.tree.pack_sequence_as(
            sequence, [array.read(i) for array in inputs]
        )
        carry, step_outputs = step(carry, step_inputs)
        outputs = [
            array.write(i, value)
            for array, value in zip(outputs, step_outputs, strict=True)
        ]
        return k + 1, carry, outputs

    _, carry, outputs = tf.while_loop(
        lambda k, *_: k < length,
        body,
        (0, init, outputs),
        maximum_iterations=length,
    )
    return carry, tuple(array.stack() for array in outputs)


@functools.cache
def _xla_compiled(function):
    """`function` compiled by XLA, which runs TensorFlow's loops far faster.

    Outside XLA each loop step pays the graph executor's overhead per op.
    """
    import tensorflow as tf

    return tf.function(function, jit_compile=True)


def _run_tensorflow(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    import tensorflow as tf

    forward = _xla_compiled(_forward)
    backward_loop = _xla_compiled(_backward_loop)

    def unwatched(function):
        # An eager GradientTape would otherwise ask the compiled loop for its
        # own gradient, whose TensorLists cannot leave XLA; `grad` below is
        # the gradient.
        def call(*args):
            return function(*(a if a is None else tf.stop_gradient(a) for a in args))

        return call

    @tf.custom_gradient
    def fused(projected, initial_state, recurrent_kernel):
        states, (gates, candidates) = unwatched(forward)(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )

        def grad(d_states):
            return _backward(
                d_states,
                states,
                gates,
                candidates,
                initial_state,
                recurrent_kernel,
                mask,
                recurrent_mask,
                loop=unwatched(backward_loop),
            )

        return states, grad

    return fused(projected, initial_state, recurrent_kernel)


def _run_jax(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    import jax

    @jax.custom_vjp
    def fused(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
        states, _ = _forward(
            projected,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            residuals=False,
        )
        return states

    def fused_forward(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
        states, (gates, candidates) = _forward(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )
        residuals = (
            states,
            gates,
            candidates,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
        )
        return states, residuals

    def fused_backward(residuals, d_states):
        (
            states,
            gates,
            candidates,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
        ) = residuals
        grads = _backward(
            d_states,
            states,
            gates,
            candidates,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
        )
        return (*grads, None, None)

    fused.defvjp(fused_forward, fused_backward)
    return fused(projected, initial_state, recurrent_kernel, mask, recurrent_mask)


def _run_torch(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    return _torch_function().apply(
        projected, initial_state, recurrent_kernel, mask, recurrent_mask
    )


@functools.cache
def _torch_function():
    """The `torch.autograd.Function` of the fused loop, defined once."""
    import torch

    class Fused(torch.autograd.Function):
        @staticmethod
        def forward(ctx, projected, initial_state, recurrent_kernel, mask, dropout):
            states, gates, candidates = _torch_forward(
                projected, initial_state, recurrent_kernel, mask, dropout
            )
            # A stateful layer assigns its state variable, the storage of
            # `initial_state`, in place before the backward pass runs.
            ctx.save_for_backward(
                states, gates, candidates, initial_state.clone(), recurrent_kernel
            )
            ctx.masks = (mask, dropout)
            return states

        @staticmethod
        def backward(ctx, d_states):
            gradients = _torch_backward(d_states, *ctx.saved_tensors, *ctx.masks)
            return (*gradients, None, None)

    return Fused


# PyTorch runs loops in Python, where each `keras.ops` call costs more than
# the small tensor op it wraps; the functions below are `_forward`,
# `_backward` and `_backward_loop` in plain PyTorch.


def _torch_forward(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    import torch

    units = recurrent_kernel.shape[0]
    kernel_zr = recurrent_kernel[:, : 2 * units]
    kernel_h = recurrent_kernel[:, 2 * units :]
    time, batch = projected.shape[:2]
    states = projected.new_empty((time, batch, units))
    gates = projected.new_empty((time, batch, 2 * units))
    candidates = projected.new_empty((time, batch, units))
    h_prev = initial_state
    for t in range(time):
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        gates_t = torch.sigmoid(projected[t, :, : 2 * units] + h_rec @ kernel_zr)
        z, r = gates_t[:, :units], gates_t[:, units:]
        candidate = torch.tanh(projected[t, :, 2 * units :] + (r * h_rec) @ kernel_h)
        h = (1.0 - z) * h_prev + z * candidate
        if mask is not None:
            h = torch.where(mask[t], h, h_prev)
        states[t], gates[t], candidates[t] = h, gates_t, candidate
        h_prev = h
    return states, gates, candidates


def _torch_backward(
    d_states,
    states,
    gates,
    candidates,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
):
    """`_backward` in plain PyTorch (`ops.matmul` of a transpose costs 10x `@`)."""
    import torch

    previous = torch.cat([initial_state[None], states[:-1]])
    d_initial, d_gates, d_candidates, recurrent_inputs, reset_inputs = (
        _torch_backward_loop(
            d_states,
            previous,
            gates,
            candidates,
            recurrent_kernel,
            mask,
            recurrent_mask,
        )
    )

    def flat(tensor):
        # A float64 layer reaches here with some float32 tensors, as Keras's
        # PyTorch backend computes parts of it in float32; `@` wants one dtype.
        return tensor.flatten(0, 1).to(recurrent_kernel.dtype)

    d_recurrent_kernel = torch.cat(
        [
            flat(recurrent_inputs).T @ flat(d_gates),
            flat(reset_inputs).T @ flat(d_candidates),
        ],
        dim=1,
    )
    return torch.cat([d_gates, d_candidates], dim=-1), d_initial, d_recurrent_kernel


def _torch_backward_loop(
    d_states, previous, gates, candidates, recurrent_kernel, mask, recurrent_mask
):
    import torch

    units = recurrent_kernel.shape[0]
    kernel_zr_t = recurrent_kernel[:, : 2 * units].T
    kernel_h_t = recurrent_kernel[:, 2 * units :].T
    d_gates_all = torch.empty_like(gates)
    d_candidates = torch.empty_like(candidates)
    recurrent_inputs = torch.empty_like(previous)
    reset_inputs = torch.empty_like(previous)
    d_carry = torch.zeros_like(previous[0])
    for t in range(d_states.shape[0] - 1, -1, -1):
        h_prev, gates_t, candidate = previous[t], gates[t], candidates[t]
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        d_h = d_states[t] + d_carry
        if mask is not None:
            d_skip = torch.where(mask[t], 0.0, d_h)
            d_h = torch.where(mask[t], d_h, 0.0)
        z, r = gates_t[:, :units], gates_t[:, units:]
        d_candidate = d_h * z * (1.0 - candidate * candidate)
        d_reset_input = d_candidate @ kernel_h_t
        d_gates = torch.cat(
            [d_h * (candidate - h_prev), d_reset_input * h_rec], dim=-1
        ) * (gates_t * (1.0 - gates_t))
        d_rec = d_reset_input * r + d_gates @ kernel_zr_t
        if recurrent_mask is not None:
            d_rec = d_rec * recurrent_mask
        d_carry = d_h * (1.0 - z) + d_rec
        if mask is not None:
            d_carry = d_carry + d_skip
        d_gates_all[t], d_candidates[t] = d_gates, d_candidate
        recurrent_inputs[t], reset_inputs[t] = h_rec, r * h_rec
    return d_carry, d_gates_all, d_candidates, recurrent_inputs, reset_inputs

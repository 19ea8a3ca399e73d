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

from keras_gru_cell import _ops


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
    activation = _ops.activation(activation)

    def step(h_prev, inputs):
        projected_t, mask_t = inputs if mask is not None else (inputs, None)
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        gates = recurrent_activation(
            projected_t[:, : 2 * units] + _ops.matmul(h_rec, kernel_zr)
        )
        z, r = gates[:, :units], gates[:, units:]
        candidate = activation(
            projected_t[:, 2 * units :] + _ops.matmul(r * h_rec, kernel_h)
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
            _ops.matmul(ops.transpose(flat(recurrent_inputs)), flat(d_gates)),
            _ops.matmul(ops.transpose(flat(reset_inputs)), flat(d_candidates)),
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
        d_reset_input = _ops.matmul(d_candidate, kernel_h_t)
        d_gates = ops.concatenate(
            [d_h * (candidate - h_prev), d_reset_input * h_rec], axis=-1
        ) * (gates_t * (1.0 - gates_t))
        d_rec = d_reset_input * r + _ops.matmul(d_gates, kernel_zr_t)
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
# the small tensor op it wraps, and each PyTorch op costs microseconds even on
# tiny tensors; the functions below are `_forward`, `_backward` and
# `_backward_loop` in plain PyTorch, with as few ops per step as the math
# allows: fused ops (`addmm`, `lerp`, `addcmul`), per-step views taken once,
# and every factor that does not depend on the incoming gradient computed for
# all steps before the backward loop.


def _torch_forward(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    import torch

    units = recurrent_kernel.shape[0]
    kernel_zr = recurrent_kernel[:, : 2 * units]
    kernel_h = recurrent_kernel[:, 2 * units :]
    # A float64 layer reaches here with a float32 initial state, as Keras's
    # PyTorch backend makes it in float32; fused ops want one dtype.
    dtype = recurrent_kernel.dtype
    projected_zr, projected_h = projected.to(dtype).split([2 * units, units], dim=-1)
    masks = [None] * len(projected) if mask is None else mask.unbind(0)
    states, gates, candidates = [], [], []
    h_prev = initial_state.to(dtype)
    for projected_zr_t, projected_h_t, mask_t in zip(
        projected_zr.unbind(0), projected_h.unbind(0), masks, strict=True
    ):
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        gates_t = torch.sigmoid(torch.addmm(projected_zr_t, h_rec, kernel_zr))
        z, r = gates_t.split(units, dim=1)
        candidate = torch.tanh(torch.addmm(projected_h_t, r * h_rec, kernel_h))
        h = torch.lerp(h_prev, candidate, z)
        if mask_t is not None:
            h = torch.where(mask_t, h, h_prev)
        states.append(h)
        gates.append(gates_t)
        candidates.append(candidate)
        h_prev = h
    return torch.stack(states), torch.stack(gates), torch.stack(candidates)


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

    # As in `_torch_forward`, the incoming gradient and the saved initial
    # state may be float32; the forward pass's outputs are already in `dtype`.
    dtype = recurrent_kernel.dtype
    previous = torch.cat([initial_state[None], states[:-1]]).to(dtype)
    d_initial, d_gates, d_candidates, recurrent_inputs, reset_inputs = (
        _torch_backward_loop(
            d_states.to(dtype),
            previous,
            gates,
            candidates,
            recurrent_kernel,
            mask,
            recurrent_mask,
        )
    )

    def flat(tensor):
        return tensor.flatten(0, 1)

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
    z, r = gates.split(units, dim=-1)
    recurrent_inputs = previous if recurrent_mask is None else previous * recurrent_mask
    slopes = gates * (1.0 - gates)
    # Per step, d_candidate = d_h * candidate_factor, d_z = d_h * update_factor
    # and d_r = d_reset_input * reset_factor (pre-activation gradients).
    candidate_factor = z * (1.0 - candidates * candidates)
    update_factor = (candidates - previous) * slopes[..., :units]
    reset_factor = recurrent_inputs * slopes[..., units:]
    keep = 1.0 - z
    steps = zip(
        d_states.unbind(0),
        candidate_factor.unbind(0),
        update_factor.unbind(0),
        reset_factor.unbind(0),
        r.unbind(0),
        keep.unbind(0),
        [None] * len(d_states) if mask is None else mask.unbind(0),
        strict=True,
    )
    d_gates_all, d_candidates = [], []
    d_carry = torch.zeros_like(previous[0])
    for d_out, candidate_f, update_f, reset_f, r_t, keep_t, mask_t in reversed(
        list(steps)
    ):
        d_h = d_out + d_carry
        if mask_t is not None:
            # A masked step passed its state through unchanged.
            d_skip = torch.where(mask_t, 0.0, d_h)
            d_h = torch.where(mask_t, d_h, 0.0)
        d_candidate = d_h * candidate_f
        d_reset_input = d_candidate @ kernel_h_t
        d_gates = torch.cat([d_h * update_f, d_reset_input * reset_f], dim=1)
        d_rec = torch.addmm(d_reset_input * r_t, d_gates, kernel_zr_t)
        if recurrent_mask is not None:
            d_rec = d_rec * recurrent_mask
        d_carry = torch.addcmul(d_rec, d_h, keep_t)
        if mask_t is not None:
            d_carry = d_carry + d_skip
        d_gates_all.append(d_gates)
        d_candidates.append(d_candidate)
    return (
        d_carry,
        torch.stack(d_gates_all[::-1]),
        torch.stack(d_candidates[::-1]),
        recurrent_inputs,
        r * recurrent_inputs,
    )

"""The fused loop on PyTorch: `loop`'s math in plain PyTorch, as an `autograd.Function`.

PyTorch runs loops in Python, where each `keras.ops` call costs more than
the small tensor op it wraps, and each PyTorch op costs microseconds even on
tiny tensors; the functions here are `loop.forward`, `loop.backward` and
`loop.backward_loop` in plain PyTorch, with as few ops per step as the math
allows: fused ops (`addmm`, `lerp`, `addcmul`), per-step views taken once,
results written in place into arrays made once a call, and every factor
that does not depend on the incoming gradient computed for all steps before
the backward loop. Read them beside `loop.py`.
"""

import functools
import itertools

import torch


def run(
    projected, initial_state, recurrent_kernel, mask, recurrent_mask, last_only=False
):
    """Every state, or with `last_only` the last, whose gradient the
    backward pass starts from.

    TorchScript's tracer, which Keras's ONNX export runs with gradients on,
    gets the pass without residuals: it loses the data flow through the
    arrays that the residuals' pass writes into.
    """
    differentiable = (projected, initial_state, recurrent_kernel)
    if (
        torch.is_grad_enabled()
        and any(t.requires_grad for t in differentiable)
        and not torch.jit.is_tracing()
    ):
        return _function().apply(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask, last_only
        )
    # Nothing can differentiate this pass (Keras predicts under
    # `torch.no_grad`), so it keeps no residuals.
    states, _ = _forward(
        projected,
        initial_state,
        recurrent_kernel,
        mask,
        recurrent_mask,
        False,
        last_only,
    )
    return states


@functools.cache
def _function():
    """The `torch.autograd.Function` of the fused loop, defined once."""

    class Fused(torch.autograd.Function):
        @staticmethod
        def forward(
            ctx, projected, initial_state, recurrent_kernel, mask, dropout, last_only
        ):
            states, residuals = _forward(
                projected,
                initial_state,
                recurrent_kernel,
                mask,
                dropout,
                True,
                last_only,
            )
            # `previous` starts with a copy of the initial state, which a
            # stateful layer assigns in place before the backward pass runs.
            ctx.save_for_backward(*residuals, recurrent_kernel)
            ctx.masks = (mask, dropout)
            return states

        @staticmethod
        def backward(ctx, d_states):
            gradients = _backward(d_states, *ctx.saved_tensors, *ctx.masks)
            return (*gradients, None, None, None)

    return Fused


def _forward(
    projected,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
    residuals,
    last_only=False,
):
    """`loop.forward`: `(states, (previous, gates, candidates))`, the second
    `None` without `residuals`; with `last_only`, the last state in place of
    every state.

    With `residuals`, each step writes into arrays made once for all steps,
    `previous` and the states being two views of one: per-step tensors
    stacked after the loop were a second copy of every residual, made and
    dropped each call, and with the backward pass's temporaries they
    outgrew what glibc's malloc keeps, so that every call faulted its memory
    in afresh from the kernel (`benchmarks/training_step_profile.py`'s "MiB
    mapped fresh"). A pass that keeps none stacks its states, the form that
    TorchScript's tracer, which Keras's ONNX export runs, follows, or with
    `last_only` keeps none but the last.
    """
    units = recurrent_kernel.shape[0]
    kernel_zr = recurrent_kernel[:, : 2 * units]
    kernel_h = recurrent_kernel[:, 2 * units :]
    # A float64 layer reaches here with a float32 initial state, as Keras's
    # PyTorch backend makes it in float32; fused ops want one dtype.
    dtype = recurrent_kernel.dtype
    projected_zr, projected_h = projected.to(dtype).split([2 * units, units], dim=-1)
    time, batch = projected.shape[:2]
    h_prev = initial_state.to(dtype)
    if residuals:
        steps = projected_zr.new_empty((time + 1, batch, units))
        steps[0] = h_prev
        gates = projected_zr.new_empty((time, batch, 2 * units))
        candidates = projected_zr.new_empty((time, batch, units))
        outputs = zip(
            gates.unbind(0), candidates.unbind(0), steps[1:].unbind(0), strict=True
        )
    else:
        outputs = itertools.repeat((None, None, None), time)
    states = []
    for projected_zr_t, projected_h_t, mask_t, (gates_out, candidate_out, h_out) in zip(
        projected_zr.unbind(0),
        projected_h.unbind(0),
        _per_step(mask, time),
        outputs,
        strict=True,
    ):
        h_rec = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        gates_t = torch.addmm(projected_zr_t, h_rec, kernel_zr, out=gates_out)
        z, r = gates_t.sigmoid_().split(units, dim=1)
        candidate = torch.addmm(projected_h_t, r * h_rec, kernel_h, out=candidate_out)
        h = torch.lerp(h_prev, candidate.tanh_(), z, out=h_out)
        if mask_t is not None:
            h = torch.where(mask_t, h, h_prev, out=h_out)
        if not (residuals or last_only):
            states.append(h)
        h_prev = h
    if residuals:
        return (h_prev if last_only else steps[1:]), (steps[:-1], gates, candidates)
    return (h_prev if last_only else torch.stack(states)), None


def _backward(
    d_states, previous, gates, candidates, recurrent_kernel, mask, recurrent_mask
):
    """`loop.backward` in plain PyTorch (`ops.matmul` of a transpose costs 10x
    `@`), its first result `(time, batch, 3 * units)`."""
    units = recurrent_kernel.shape[0]
    # As in `_forward`, the incoming gradient may be float32.
    d_projected, d_initial, recurrent_inputs, reset_inputs = _backward_loop(
        d_states.to(recurrent_kernel.dtype),
        previous,
        gates,
        candidates,
        recurrent_kernel,
        mask,
        recurrent_mask,
    )

    def flat(tensor):
        return tensor.flatten(0, 1)

    d_recurrent_kernel = torch.cat(
        [
            flat(recurrent_inputs).T @ flat(d_projected[..., : 2 * units]),
            flat(reset_inputs).T @ flat(d_projected[..., 2 * units :]),
        ],
        dim=1,
    )
    return d_projected, d_initial, d_recurrent_kernel


def _backward_loop(
    d_states, previous, gates, candidates, recurrent_kernel, mask, recurrent_mask
):
    """Returns the pre-activation gradients `(time, batch, 3 * units)`, the
    initial state's gradient, and the operands of the recurrent products,
    `h_rec` and `r * h_rec`.

    `d_states` is the gradient of every state, `(time, batch, units)`, or of
    the last alone, `(batch, units)`, which the loop starts from (as
    `loop._backward_sequence`'s).

    As in `_forward`, each step writes into one array for all steps, and the
    factors below are formed with as few temporaries as the math allows.
    """
    units = recurrent_kernel.shape[0]
    kernel_zr_t = recurrent_kernel[:, : 2 * units].T
    kernel_h_t = recurrent_kernel[:, 2 * units :].T
    z, r = gates.split(units, dim=-1)
    recurrent_inputs = previous if recurrent_mask is None else previous * recurrent_mask
    # Per step, d_candidate = d_h * candidate_factor, d_z = d_h * update_factor
    # and d_r = d_reset_input * reset_factor (pre-activation gradients); the
    # gate factors start as the gates' slopes, g * (1 - g).
    update_factor, reset_factor = gates.neg().add_(1.0).mul_(gates).split(units, dim=-1)
    update_factor.mul_(candidates - previous)
    reset_factor.mul_(recurrent_inputs)
    candidate_factor = candidates.square().neg_().add_(1.0).mul_(z)
    keep = z.neg().add_(1.0)
    time, batch = previous.shape[:2]
    d_projected = previous.new_empty((time, batch, 3 * units))
    d_gates, d_candidates = d_projected.split([2 * units, units], dim=-1)
    d_updates, d_resets = d_gates.split(units, dim=-1)
    every_state = d_states.dim() == 3
    d_carry = torch.zeros_like(previous[0]) if every_state else d_states
    steps = zip(
        _per_step(d_states if every_state else None, time),
        candidate_factor.unbind(0),
        update_factor.unbind(0),
        reset_factor.unbind(0),
        r.unbind(0),
        keep.unbind(0),
        _per_step(mask, time),
        d_candidates.unbind(0),
        d_updates.unbind(0),
        d_resets.unbind(0),
        d_gates.unbind(0),
        strict=True,
    )
    for (
        d_out,
        candidate_f,
        update_f,
        reset_f,
        r_t,
        keep_t,
        mask_t,
        d_candidate_out,
        d_update_out,
        d_reset_out,
        d_gates_t,
    ) in reversed(list(steps)):
        d_h = d_carry if d_out is None else d_out + d_carry
        if mask_t is not None:
            # A masked step passed its state through unchanged.
            d_skip = torch.where(mask_t, 0.0, d_h)
            d_h = torch.where(mask_t, d_h, 0.0)
        d_candidate = torch.mul(d_h, candidate_f, out=d_candidate_out)
        d_reset_input = d_candidate @ kernel_h_t
        torch.mul(d_h, update_f, out=d_update_out)
        torch.mul(d_reset_input, reset_f, out=d_reset_out)
        d_rec = torch.addmm(d_reset_input * r_t, d_gates_t, kernel_zr_t)
        if recurrent_mask is not None:
            d_rec = d_rec * recurrent_mask
        d_carry = torch.addcmul(d_rec, d_h, keep_t)
        if mask_t is not None:
            d_carry = d_carry + d_skip
    return d_projected, d_carry, recurrent_inputs, r * recurrent_inputs


def _per_step(sequence, time):
    """Each step's view of a `(time, ...)` sequence, or `None` for each step
    when there is no sequence (no mask; only the last state's gradient)."""
    return itertools.repeat(None, time) if sequence is None else sequence.unbind(0)

"""The fused loop on PyTorch: `loop`'s math in plain PyTorch, as an `autograd.Function`.

PyTorch runs loops in Python, where each `keras.ops` call costs more than
the small tensor op it wraps, and each PyTorch op costs microseconds even on
tiny tensors; the functions here are `loop.forward`, `loop.backward` and
`loop.backward_loop` in plain PyTorch, with as few ops per step as the math
allows: fused ops (`addmm`, `lerp`, `addcmul`), per-step views taken once,
and every factor that does not depend on the incoming gradient computed for
all steps before the backward loop. Read them beside `loop.py`.
"""

import functools

import torch


def run(
    projected, initial_state, recurrent_kernel, mask, recurrent_mask, last_only=False
):
    """Every state, or with `last_only` the last, which autograd
    differentiates through the states' sequence."""
    differentiable = (projected, initial_state, recurrent_kernel)
    if torch.is_grad_enabled() and any(t.requires_grad for t in differentiable):
        states = _function().apply(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )
    else:
        # Nothing can differentiate this pass (Keras predicts under
        # `torch.no_grad`), so it keeps no residuals.
        states, _, _ = _forward(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask, False
        )
    return states[-1] if last_only else states


@functools.cache
def _function():
    """The `torch.autograd.Function` of the fused loop, defined once."""

    class Fused(torch.autograd.Function):
        @staticmethod
        def forward(ctx, projected, initial_state, recurrent_kernel, mask, dropout):
            states, gates, candidates = _forward(
                projected, initial_state, recurrent_kernel, mask, dropout, True
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
            gradients = _backward(d_states, *ctx.saved_tensors, *ctx.masks)
            return (*gradients, None, None)

    return Fused


def _forward(
    projected, initial_state, recurrent_kernel, mask, recurrent_mask, residuals
):
    """`loop.forward`: `(states, gates, candidates)`, the last two `None`
    without `residuals`."""
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
        if residuals:
            gates.append(gates_t)
            candidates.append(candidate)
        h_prev = h
    if not residuals:
        return torch.stack(states), None, None
    return torch.stack(states), torch.stack(gates), torch.stack(candidates)


def _backward(
    d_states,
    states,
    gates,
    candidates,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
):
    """`loop.backward` in plain PyTorch (`ops.matmul` of a transpose costs 10x `@`)."""
    # As in `_forward`, the incoming gradient and the saved initial
    # state may be float32; the forward pass's outputs are already in `dtype`.
    dtype = recurrent_kernel.dtype
    previous = torch.cat([initial_state[None], states[:-1]]).to(dtype)
    d_initial, d_gates, d_candidates, recurrent_inputs, reset_inputs = _backward_loop(
        d_states.to(dtype),
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
            flat(recurrent_inputs).T @ flat(d_gates),
            flat(reset_inputs).T @ flat(d_candidates),
        ],
        dim=1,
    )
    return torch.cat([d_gates, d_candidates], dim=-1), d_initial, d_recurrent_kernel


def _backward_loop(
    d_states, previous, gates, candidates, recurrent_kernel, mask, recurrent_mask
):
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

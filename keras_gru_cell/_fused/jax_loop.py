"""The fused loop on JAX: the `keras.ops` loops under `jax.custom_vjp`."""

import jax

from keras_gru_cell._fused import loop


def run(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    @jax.custom_vjp
    def fused(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
        states, _ = loop.forward(
            projected,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            residuals=False,
        )
        return states

    def fused_forward(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
        states, (gates, candidates) = loop.forward(
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
        grads = loop.backward(
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

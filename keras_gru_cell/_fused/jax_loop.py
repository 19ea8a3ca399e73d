"""The fused loop on JAX: the `keras.ops` loops under `jax.custom_vjp`.

Each step projects its own inputs (see `keras_gru_cell._fused.run`), and each
step of the backward pass adds its share of every weight gradient
(`loop.accumulating_backward`); under a Keras distribution, which shards the
batch, those shares would each be an all-reduce, so there the weight
gradients are large matmuls after the loop (`loop.backward`), one all-reduce
each. Undifferentiated, as in `predict`, a `custom_vjp` function runs its
primal, `fused` below, which keeps no residuals; only `jax.grad` and its kin
run `fused_forward`. With `last_only`, both return the last state alone, and
the backward pass starts from its gradient.
"""

import jax
import keras

from keras_gru_cell._fused import loop


def run(
    inputs,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
    kernel,
    bias,
    last_only=False,
):
    @jax.custom_vjp
    def fused(
        inputs, initial_state, recurrent_kernel, mask, recurrent_mask, kernel, bias
    ):
        states, _ = loop.forward(
            inputs,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            residuals=False,
            kernel=kernel,
            bias=bias,
        )
        return states[-1] if last_only else states

    def fused_forward(
        inputs, initial_state, recurrent_kernel, mask, recurrent_mask, kernel, bias
    ):
        states, (previous, gates, candidates) = loop.forward(
            inputs,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            kernel=kernel,
            bias=bias,
        )
        residuals = (
            inputs,
            kernel,
            bias,
            previous,
            gates,
            candidates,
            recurrent_kernel,
            mask,
            recurrent_mask,
        )
        return (states[-1] if last_only else states), residuals

    def fused_backward(residuals, d_states):
        inputs, kernel, bias, *loop_residuals = residuals
        if keras.distribution.distribution() is None:
            d_projected, d_initial, d_recurrent_kernel, d_kernel, d_bias = (
                loop.accumulating_backward(
                    d_states, *loop_residuals, inputs, kernel, bias
                )
            )
            d_inputs = loop.inputs_backward(d_projected, kernel)
        else:
            d_projected, d_initial, d_recurrent_kernel = loop.backward(
                d_states, *loop_residuals
            )
            d_inputs, d_kernel, d_bias = loop.project_backward(
                d_projected, inputs, kernel, bias
            )
        return (
            d_inputs,
            d_initial,
            d_recurrent_kernel,
            None,
            None,
            d_kernel,
            d_bias,
        )

    fused.defvjp(fused_forward, fused_backward)
    return fused(
        inputs, initial_state, recurrent_kernel, mask, recurrent_mask, kernel, bias
    )

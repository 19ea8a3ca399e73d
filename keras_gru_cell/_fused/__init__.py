"""The time loop of `ChungGRU`: fused steps and a hand-written backward pass.

Each step holds the recurrent products and elementwise math; the input
products of all time steps are one matmul before the loop (on JAX, each step
projects its own inputs; see `run`). Autodiff through a loop keeps per-step
weight gradients, one small matmul per step; the backward pass here instead
returns the pre-activation gradients of every step and forms the weight
gradients as large matmuls after the loop. It is exact only for sigmoid gates
and a tanh candidate, whose derivatives it spells out; other activations
differentiate the same forward loop by autodiff.

`loop` holds the math in `keras.ops`. TensorFlow and JAX wrap it in their own
custom-gradient mechanism (`tensorflow_loop`, which also compiles it with XLA,
and `jax_loop`); `torch_loop` runs the same math in plain PyTorch inside an
`autograd.Function`. A backend's module, and its library, is imported only
when that backend runs; any other backend differentiates the `keras.ops` loop
itself.
"""

import importlib

import keras

from keras_gru_cell._fused import loop

_BACKEND_LOOPS = {
    "tensorflow": "keras_gru_cell._fused.tensorflow_loop",
    "jax": "keras_gru_cell._fused.jax_loop",
    "torch": "keras_gru_cell._fused.torch_loop",
}


def has_fused_gradient(activation, recurrent_activation) -> bool:
    """Whether the hand-written backward pass matches these activations."""
    return (
        activation is keras.activations.tanh
        and recurrent_activation is keras.activations.sigmoid
    )


def run(
    inputs,
    kernel,
    bias,
    initial_state,
    recurrent_kernel,
    mask=None,
    recurrent_mask=None,
    activation=keras.activations.tanh,
    recurrent_activation=keras.activations.sigmoid,
):
    """Runs the recurrence over time-major inputs.

    Args:
        inputs: `(time, batch, input_dim)`.
        kernel: `(input_dim, 3 * units)`, `[W_z | W_r | W_h]`.
        bias: `None` or `(3 * units,)`.
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
    backend = keras.backend.backend()
    # XLA's CPU loop on JAX runs faster reading each step's narrow inputs and
    # projecting them than reading each step's slice of precomputed
    # `(time, batch, 3 * units)` projections, under the hand-written backward
    # pass and under autodiff alike.
    step_weights = {"kernel": kernel, "bias": bias} if backend == "jax" else {}
    sequence = inputs if step_weights else loop.project(inputs, kernel, bias)
    if backend in _BACKEND_LOOPS and has_fused_gradient(
        activation, recurrent_activation
    ):
        backend_loop = importlib.import_module(_BACKEND_LOOPS[backend])
        return backend_loop.run(
            sequence,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            **step_weights,
        )
    states, _ = loop.forward(
        sequence,
        initial_state,
        recurrent_kernel,
        mask,
        recurrent_mask,
        activation,
        recurrent_activation,
        residuals=False,
        **step_weights,
    )
    return states

"""The time loop of `ChungGRU`: fused steps and a hand-written backward pass.

The input products of all time steps are computed before this loop, so each
step holds only the two recurrent products and elementwise math. Autodiff
through a loop keeps per-step weight gradients, one small matmul per step; the
backward pass here instead returns the pre-activation gradients of every step
and forms the recurrent-kernel gradient as two large matmuls after the loop.
It is exact only for sigmoid gates and a tanh candidate, whose derivatives it
spells out; other activations differentiate the same forward loop by autodiff.

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
    backend = keras.backend.backend()
    if backend in _BACKEND_LOOPS and has_fused_gradient(
        activation, recurrent_activation
    ):
        backend_loop = importlib.import_module(_BACKEND_LOOPS[backend])
        return backend_loop.run(
            projected, initial_state, recurrent_kernel, mask, recurrent_mask
        )
    states, _ = loop.forward(
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

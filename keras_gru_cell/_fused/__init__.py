"""The time loop of `ChungGRU`: fused steps and a hand-written backward pass.

Each step holds the recurrent products and elementwise math; the input
products of all time steps are one matmul before the loop (on TensorFlow and
JAX, each step projects its own inputs; see `run`). The hand-written backward
pass forms the weight gradients from every step's pre-activation gradients:
as large matmuls after the loop (`loop.backward`), or, on JAX outside a Keras
distribution, step by step inside the loop (`loop.accumulating_backward`),
which trained faster there at the Benchmarks page's large shape. It is exact
only for sigmoid gates and a tanh candidate, whose derivatives it spells out;
other activations differentiate the same forward loop by autodiff. A pass
that nothing will differentiate keeps no residuals (see `run`'s `training`).

`loop` holds the math in `keras.ops`. TensorFlow and JAX wrap it in their own
custom-gradient mechanism (`tensorflow_loop`, which also compiles it with XLA,
and `jax_loop`); `torch_loop` runs the same math in plain PyTorch inside an
`autograd.Function`. A backend's module, and its library, is imported only
when that backend runs; any other backend differentiates the `keras.ops` loop
itself.
"""

import importlib

import keras

from keras_gru_cell import _layer_norm
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


def has_hand_written_backward(
    activation, recurrent_activation, *, layer_normalization=False, zoneout=0.0
) -> bool:
    """Whether `run` trains with the hand-written backward pass on this
    backend; if not, the backend's autodiff differentiates the same fused
    loop. It covers neither layer normalization nor zoneout."""
    return (
        keras.backend.backend() in _BACKEND_LOOPS
        and has_fused_gradient(activation, recurrent_activation)
        and not layer_normalization
        and zoneout == 0.0
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
    training=True,
    normalization=None,
    zoneout=0.0,
    zoneout_mask=None,
    last_only=False,
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
        training: Whether Keras runs the layer in training mode. TensorFlow,
            which cannot tell whether a pass will be differentiated, keeps
            the backward pass's residuals only then; JAX and PyTorch know.
        normalization: `None`, or `(input_gamma, input_beta, recurrent_gamma,
            recurrent_beta)` for layer normalization.
        zoneout: The zoneout rate.
        zoneout_mask: `None` (the expectation) or a boolean
            `(time, batch, units)`, True where a unit keeps its state.
        last_only: Whether only the state after the last step is wanted.
            The hand-written backward pass then starts from that state's
            gradient, and a training step holds no sequence of gradients,
            mostly zeros, beside its residuals.

    The hand-written backward pass covers neither layer normalization nor
    zoneout: with either, the backend's autodiff differentiates the same
    forward loop, still fused in time.

    Returns:
        The states after every step, `(time, batch, units)`; with
        `last_only`, the state after the last, `(batch, units)`.
    """
    backend = keras.backend.backend()
    fused = has_hand_written_backward(
        activation,
        recurrent_activation,
        layer_normalization=normalization is not None,
        zoneout=zoneout,
    )
    # XLA's CPU loop runs faster reading each step's narrow inputs and
    # projecting them than reading each step's slice of precomputed
    # `(time, batch, 3 * units)` projections: on JAX under the hand-written
    # backward pass and under autodiff alike, and in TensorFlow's
    # XLA-compiled fused loop (TensorFlow's autodiff loop is not compiled);
    # in training as in inference (`benchmarks/compare_commits.py` against
    # a revision whose training projected every step before the loop).
    # Layer normalization normalizes `x_t W` before `b` is added: all steps'
    # at once, before the loop.
    per_step = normalization is None and (
        backend == "jax" or (fused and backend == "tensorflow")
    )
    step_weights = {"kernel": kernel, "bias": bias} if per_step else {}
    if normalization is not None:
        input_gamma, input_beta, recurrent_gamma, recurrent_beta = normalization
        units = recurrent_kernel.shape[0]
        sequence = _layer_norm.normalize(
            loop.project(inputs, kernel, None), input_gamma, input_beta, units
        )
        if bias is not None:
            sequence = sequence + bias
    else:
        sequence = inputs if per_step else loop.project(inputs, kernel, bias)
    if fused:
        backend_loop = importlib.import_module(_BACKEND_LOOPS[backend])
        mode = {"training": bool(training)} if backend == "tensorflow" else {}
        return backend_loop.run(
            sequence,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            **step_weights,
            **mode,
            last_only=last_only,
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
        recurrent_normalization=(
            None if normalization is None else (recurrent_gamma, recurrent_beta)
        ),
        zoneout=zoneout,
        zoneout_mask=zoneout_mask,
    )
    return states[-1] if last_only else states

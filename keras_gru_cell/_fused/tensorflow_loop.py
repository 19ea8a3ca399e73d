"""The fused loop on TensorFlow: XLA-compiled loops under `tf.custom_gradient`.

As on JAX, each step projects its own inputs (see `keras_gru_cell._fused.run`);
unlike JAX's, the backward pass forms the weight gradients as large matmuls
after the loop.
"""

import functools

import keras
import tensorflow as tf

from keras_gru_cell._fused import loop
from keras_gru_cell._fused import tensorflow_export_loop


@functools.cache
def _xla_compiled(function):
    """`function` compiled by XLA, which runs TensorFlow's loops far faster.

    Outside XLA each loop step pays the graph executor's overhead per op.
    """
    return tf.function(function, jit_compile=True)


def run(
    inputs,
    initial_state,
    recurrent_kernel,
    mask,
    recurrent_mask,
    kernel,
    bias,
    training,
    last_only=False,
):
    """`loop.forward`, each step projecting its own inputs, and its gradient;
    with `training` false, a forward pass that keeps no residuals; with
    `last_only`, the last state alone.

    TensorFlow cannot tell whether a graph will be differentiated, and an
    XLA-compiled call computes all its outputs whether or not they are used,
    so Keras's `training` flag picks: keeping the residuals makes training
    faster, and not keeping them prediction. Either way the gradient is
    exact; without residuals, `loop.recompute` rebuilds them from the states.

    A graph traced for an ONNX or LiteRT export gets the forward loop alone,
    uncompiled (see `tensorflow_export_loop`): converters read neither XLA
    calls nor gradients.
    """
    if tensorflow_export_loop.tracing_for_converter():
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
    # Kept residuals rebuild no states, so with them the compiled call need
    # not write every state out.
    forward = _xla_compiled(
        _forward_to_last_state if last_only and training else loop.forward
    )
    # Not `loop.accumulating_backward`, which JAX runs: compiled here, it
    # trained `ChungGRU` 1.01x [0.95, 1.03] as fast as this pass at the
    # Benchmarks page's large shape and 0.71x [0.68, 0.74] at the long one;
    # nor the loop and the weight products after it as one compiled call:
    # 0.98x [0.93, 1.02] and 0.97x [0.90, 1.05] (`benchmarks/compare_commits.py`
    # against this revision, 16 rounds each, 2026-12-03).
    backward_loop = _xla_compiled(loop.backward_loop)

    def unwatched(function):
        # An eager GradientTape would otherwise ask the compiled loop for its
        # own gradient, whose TensorLists cannot leave XLA; `grad` below is
        # the gradient.
        def stop(value):
            return tf.stop_gradient(value) if tf.is_tensor(value) else value

        def call(*args, **kwargs):
            return function(
                *map(stop, args), **{key: stop(v) for key, v in kwargs.items()}
            )

        return call

    # `tf.custom_gradient` wants a gradient for each argument, so a missing
    # bias is no argument at all.
    weights = (kernel,) if bias is None else (kernel, bias)

    @tf.custom_gradient
    def fused(inputs, initial_state, recurrent_kernel, *weights):
        kernel, bias = (*weights, None)[:2]
        # Every state; with `last_only` and kept residuals, the last alone.
        outputs, residuals = unwatched(forward)(
            inputs,
            initial_state,
            recurrent_kernel,
            mask,
            recurrent_mask,
            residuals=training,
            kernel=kernel,
            bias=bias,
        )

        def grad(d_states):
            previous, gates, candidates = residuals or loop.recompute(
                loop.project(inputs, kernel, bias),
                outputs,
                initial_state,
                recurrent_kernel,
            )
            d_projected, d_initial, d_recurrent_kernel = loop.backward(
                d_states,
                previous,
                gates,
                candidates,
                recurrent_kernel,
                mask,
                recurrent_mask,
                loop=unwatched(backward_loop),
            )
            d_inputs, d_kernel, d_bias = loop.project_backward(
                d_projected, inputs, kernel, bias
            )
            d_weights = (d_kernel,) if bias is None else (d_kernel, d_bias)
            return (d_inputs, d_initial, d_recurrent_kernel, *d_weights)

        return (outputs[-1] if last_only and not training else outputs), grad

    return fused(inputs, initial_state, recurrent_kernel, *weights)


def _forward_to_last_state(*args, **kwargs):
    """`loop.forward`, with the last state in place of every state."""
    states, residuals = loop.forward(*args, **kwargs)
    return states[-1], residuals


def scan(step, init, sequence, num_outputs, reverse=False, unroll=False):
    """`loop.scan` on TensorFlow: a `while` loop over `TensorArray`s, or with
    `unroll`, the steps one after another; in a graph traced for a LiteRT
    export, a `while` loop over plain tensors (`tensorflow_export_loop.scan`)."""
    flat_sequence = keras.tree.flatten(sequence)
    if unroll:
        return _unrolled_scan(step, init, sequence, flat_sequence, num_outputs, reverse)
    if tensorflow_export_loop.tracing_for_litert():
        return tensorflow_export_loop.scan(step, init, sequence, reverse)
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


def _unrolled_scan(step, init, sequence, flat_sequence, num_outputs, reverse):
    length = flat_sequence[0].shape[0]
    carry, outputs = init, [None] * length
    for i in reversed(range(length)) if reverse else range(length):
        carry, outputs[i] = step(
            carry, keras.tree.pack_sequence_as(sequence, [t[i] for t in flat_sequence])
        )
    return carry, tuple(
        tf.stack([step_outputs[k] for step_outputs in outputs])
        for k in range(num_outputs)
    )

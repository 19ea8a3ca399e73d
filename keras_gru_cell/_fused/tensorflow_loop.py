"""The fused loop on TensorFlow: XLA-compiled loops under `tf.custom_gradient`."""

import functools

import keras
import tensorflow as tf

from keras_gru_cell._fused import loop


@functools.cache
def _xla_compiled(function):
    """`function` compiled by XLA, which runs TensorFlow's loops far faster.

    Outside XLA each loop step pays the graph executor's overhead per op.
    """
    return tf.function(function, jit_compile=True)


def run(projected, initial_state, recurrent_kernel, mask, recurrent_mask):
    forward = _xla_compiled(loop.forward)
    backward_loop = _xla_compiled(loop.backward_loop)

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
            return loop.backward(
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


def scan(step, init, sequence, num_outputs, reverse=False):
    """`loop.scan` on TensorFlow: a `while` loop over `TensorArray`s."""
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

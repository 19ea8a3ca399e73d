"""The fused loop on TensorFlow: XLA-compiled loops under `tf.custom_gradient`."""

import functools

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

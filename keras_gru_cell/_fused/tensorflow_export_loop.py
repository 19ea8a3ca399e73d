"""The loop TensorFlow traces for `model.export`: plain tensors, no XLA.

The fused loop runs as an XLA-compiled function, which the ONNX converter
(tf2onnx) cannot read: it leaves the call unconverted. A `TensorArray` loop,
which Keras's own RNNs run, converts to ONNX, but LiteRT's converter turns
its `TensorList` ops into built-in ops only when the sequence length is
fixed. So while Keras's `ExportArchive` traces a model (`model.export` in
every format on TensorFlow: ONNX, LiteRT and SavedModel), the loop is a
`tf.while_loop` whose carry holds the state and the outputs written so far,
each step writing its own with `tensor_scatter_nd_update`: a `Loop` with
`ScatterND` in ONNX, a `WHILE` of built-in ops (`SCATTER_ND` among them) in
LiteRT, at any sequence length. It is not compiled, so a SavedModel export
also runs where XLA does not. `fit`, `predict` and every other trace keep the
XLA-compiled loop.
"""

import functools
import inspect

import keras
import tensorflow as tf


def tracing_for_export() -> bool:
    """Whether TensorFlow is tracing a graph for Keras's `ExportArchive`.

    Keras 3 exports a TensorFlow model (`model.export`, in every format) by
    tracing it in a `tf.function` that a `keras.export.ExportArchive` builds
    and traces from its own methods, so one of them is on the stack.
    """
    if tf.executing_eagerly():
        return False
    archive = _archive_class()
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if isinstance(frame.f_locals.get("self"), archive):
                return True
            frame = frame.f_back
        return False
    finally:
        # A frame held in a local keeps every frame above it alive.
        del frame


@functools.cache
def _archive_class() -> type:
    """The class of the archives `keras.export.ExportArchive()` makes.

    `ExportArchive` is a factory: each backend has its own class, which
    Keras does not name publicly.
    """
    return type(keras.export.ExportArchive())


def scan(step, init, sequence, reverse=False):
    """`tensorflow_loop.scan` without `TensorArray`s.

    The first step (the last with `reverse`) runs before the loop: its
    outputs give the shapes of the buffers the loop writes into.
    """
    flat_sequence = keras.tree.flatten(sequence)
    length = tf.shape(flat_sequence[0])[0]

    def step_at(carry, i):
        step_inputs = [tf.gather(t, i) for t in flat_sequence]
        return step(carry, keras.tree.pack_sequence_as(sequence, step_inputs))

    first = length - 1 if reverse else 0
    carry, step_outputs = step_at(init, first)
    outputs = tuple(
        _write(_buffer(length, value), first, value) for value in step_outputs
    )

    def body(k, carry, outputs):
        i = length - 1 - k if reverse else k
        carry, step_outputs = step_at(carry, i)
        outputs = tuple(
            _write(buffer, i, value)
            for buffer, value in zip(outputs, step_outputs, strict=True)
        )
        return k + 1, carry, outputs

    _, carry, outputs = tf.while_loop(
        lambda k, *_: k < length, body, (1, carry, outputs)
    )
    return carry, outputs


def _buffer(length, value):
    """Zeros for `length` steps of outputs shaped like `value`."""
    return tf.zeros(tf.concat([[length], tf.shape(value)], 0), value.dtype)


def _write(buffer, index, value):
    """`buffer` with `buffer[index] = value`."""
    return tf.tensor_scatter_nd_update(buffer, tf.reshape(index, (1, 1)), value[None])

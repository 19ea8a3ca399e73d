"""The loops TensorFlow traces for the converters: no XLA.

The fused loop runs as an XLA-compiled function, which the ONNX converter
(tf2onnx) cannot read: it leaves the call unconverted. So while Keras's
`ExportArchive` traces a model for ONNX or LiteRT (`model.export(...,
format="onnx" | "litert")`), `tensorflow_loop` runs its loop uncompiled: a
`while` loop over `TensorArray`s, which tf2onnx converts to a `Loop` with
scan outputs. LiteRT's converter, though, leaves the `TensorList` ops of
such a loop to the Flex delegate ("Select TensorFlow ops"), which LiteRT's
stock interpreter does not have; so for a LiteRT export, the loop is the one
here: a `tf.while_loop` whose carry holds the state and the outputs written
so far, each step writing its own with `tensor_scatter_nd_update`, a `WHILE`
of built-in ops (`SCATTER_ND` among them) at any sequence length. Each of
its steps rewrites the whole output buffer, so its time grows with the
square of the length, which is why no other format gets it. A SavedModel
export, which TensorFlow runs with XLA, keeps the XLA-compiled loop, as do
`fit`, `predict` and every other trace.
"""

import functools
import inspect

import keras
import tensorflow as tf

# Keras's ONNX and LiteRT exporters trace through `ExportArchive` from
# modules of their own, which `keras.export` does not name publicly.
_CONVERTER_MODULES = {".export.onnx": "onnx", ".export.litert": "litert"}


def tracing_for_converter() -> bool:
    """Whether TensorFlow is tracing a graph for an ONNX or LiteRT export."""
    return _export_being_traced() in ("onnx", "litert")


def tracing_for_litert() -> bool:
    """Whether TensorFlow is tracing a graph for a LiteRT export."""
    return _export_being_traced() == "litert"


def _export_being_traced() -> str | None:
    """The format of the export whose graph TensorFlow is tracing:
    `"onnx"`, `"litert"`, `"saved_model"`, or `None` outside an export.

    Keras 3 exports a TensorFlow model (`model.export`, in every format) by
    tracing it in a `tf.function` that a `keras.export.ExportArchive` builds
    and traces from its own methods, so one of them is on the stack, and
    further up, for ONNX and LiteRT, the exporter's module.
    """
    if tf.executing_eagerly():
        return None
    archive = _archive_class()
    found = None
    frame = inspect.currentframe()
    try:
        while frame is not None:
            if found is None and isinstance(frame.f_locals.get("self"), archive):
                found = "saved_model"
            if found:
                module = frame.f_globals.get("__name__", "")
                for suffix, export_format in _CONVERTER_MODULES.items():
                    if module.endswith(suffix):
                        return export_format
            frame = frame.f_back
        return found
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

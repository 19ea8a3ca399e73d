"""`model.export` to ONNX and LiteRT, run in ONNX Runtime and LiteRT's interpreter.

Every format Keras offers on the running backend, for `keras.layers.GRU(
reset_after=False)` as the reference and both Chung layers, with the same
weights: each exported model runs in the format's own runtime and must compute
what `model.predict` computes and what the NumPy reference computes. A format
that takes any sequence length is exported once, with unknown batch and time
axes, and run at every shape; a fixed-shape one is exported once per shape.
The variants are exported too, all three options in one layer: at inference
zoneout is its expectation and DropConnect the identity.
"""

import contextlib
import functools
import warnings

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_allclose
from tests.asserts import tolerance
from tests.numpy_reference import chung_gru_step
from tests.numpy_reference import chung_gru_variant_step
from tests.numpy_reference import keras_gru_step
from tests.numpy_reference import random_gru_weights
from tests.numpy_reference import run_sequence

INPUT_DIM, UNITS = 2, 4
SHAPES = [(3, 7), (5, 37), (1, 1)]
BACKEND = keras.backend.backend()
VARIANTS = {"layer_normalization": True, "zoneout": 0.1, "recurrent_dropconnect": 0.2}
# Fewer shapes for the variants, whose loop is the same as the default's.
VARIANT_SHAPES = [(3, 7), (1, 1)]

# name: (layer, the NumPy step it computes)
LAYERS = {
    "gru": (
        lambda: keras.layers.GRU(UNITS, reset_after=False, return_sequences=True),
        keras_gru_step,
    ),
    "cell_in_rnn": (
        lambda: keras.layers.RNN(ChungGRUCell(UNITS), return_sequences=True),
        chung_gru_step,
    ),
    "fused": (lambda: ChungGRU(UNITS, return_sequences=True), chung_gru_step),
    "cell_in_rnn_variants": (
        lambda: keras.layers.RNN(
            ChungGRUCell(UNITS, **VARIANTS), return_sequences=True
        ),
        chung_gru_variant_step,
    ),
    "fused_variants": (
        lambda: ChungGRU(UNITS, return_sequences=True, **VARIANTS),
        chung_gru_variant_step,
    ),
}
# What Keras's exporters take on each backend: "any" exports one model for
# every batch size and length, "fixed" one per shape. Keras exports LiteRT
# from PyTorch only through `litert-torch`, which `keras.layers.GRU` needs as
# much as these layers; it is not among the export extra's runtimes.
FORMATS = {
    "tensorflow": {"onnx": "any", "litert": "fixed"},
    "jax": {"onnx": "any"},
    "torch": {"onnx": "fixed"},
}[BACKEND]
# Beyond `keras.layers.GRU`: ChungGRU's loop converts to LiteRT's built-in ops
# at any length (see `keras_gru_cell/_fused/tensorflow_export_loop.py`), where a
# `TensorList` loop, Keras's own, needs the Flex delegate.
BEYOND_BUILTIN = (
    {("fused", "litert"): "any", ("fused_variants", "litert"): "any"}
    if BACKEND == "tensorflow"
    else {}
)
# On JAX, `keras.layers.RNN` cannot export a cell with DropConnect (see
# `test_cell_with_dropconnect_exported_from_jax_leaves_its_model_unusable`).
CANNOT_EXPORT = {("cell_in_rnn_variants", "onnx")} if BACKEND == "jax" else set()


def case(layer, fmt, signature):
    # A fixed-shape case exports one model per shape.
    marks = [pytest.mark.slow] if signature == "fixed" else []
    return pytest.param(
        layer, fmt, signature, id=f"{layer}-{fmt}-{signature}_shape", marks=marks
    )


CASES = [
    case(layer, fmt, signature)
    for layer in LAYERS
    for fmt, signature in FORMATS.items()
    if (layer, fmt) not in CANNOT_EXPORT
] + [case(layer, fmt, signature) for (layer, fmt), signature in BEYOND_BUILTIN.items()]


def model_with_weights(layer):
    """`Input → layer`, every step's output, with seeded random weights."""
    make, _ = LAYERS[layer]
    inputs = keras.Input((None, INPUT_DIM))
    model = keras.Model(inputs, make()(inputs))
    rng = np.random.default_rng(0)
    weights = random_gru_weights(rng, INPUT_DIM, UNITS, dtype="float32")
    if layer.endswith("_variants"):
        # Gains and biases of both layer normalizations, far from 1 and 0.
        for _ in range(2):
            weights.append(rng.uniform(0.5, 1.5, 3 * UNITS).astype("float32"))
            weights.append(rng.normal(0.0, 0.3, 3 * UNITS).astype("float32"))
    model.set_weights(weights)
    # Keras's ONNX exporter wants a model called on data at least once:
    # `predict` does not count on JAX.
    model(np.zeros((1, 1, INPUT_DIM), "float32"))
    return model, weights


def reference(layer, x, weights):
    """The NumPy reference's every-step outputs of `layer` at inference."""
    _, step = LAYERS[layer]
    if layer.endswith("_variants"):
        step = functools.partial(step, norm=weights[3:], zoneout=VARIANTS["zoneout"])
        weights = weights[:3]
    outputs, _ = run_sequence(x, *weights, step=step)
    return outputs


def sequences(shape):
    return np.random.default_rng(sum(shape)).normal(size=(*shape, INPUT_DIM))


def export(model, path, fmt, shape=None):
    """Exports `model`, for `shape` `(batch, time)` or, without it, any shape."""
    shape = (*(shape or (None, None)), INPUT_DIM)
    signature = [keras.InputSpec(shape=shape, dtype="float32")]
    with _torchscript_tracing_warnings_ignored():
        model.export(path, format=fmt, verbose=False, input_signature=signature)


@contextlib.contextmanager
def _torchscript_tracing_warnings_ignored():
    """Keras exports ONNX from PyTorch with TorchScript's tracer, fixed to the
    sample's shape, and the tracer warns about each Python number and loop
    that it fixes, and that it is the legacy exporter: that fixed-shape
    export is what Keras offers there."""
    with warnings.catch_warnings():
        if BACKEND == "torch":
            import torch

            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings(
                "ignore", category=DeprecationWarning, module=r"torch\.onnx"
            )
        yield


def run_exported(path, fmt, x):
    """Runs the exported model at `path` on `x` in the format's own runtime."""
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path)
        (output,) = session.run(None, {session.get_inputs()[0].name: x})
        return output
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner()
    (name,) = runner.get_input_details()
    (output,) = runner(**{name: x}).values()
    return output


@pytest.mark.parametrize(("layer", "fmt", "signature"), CASES)
def test_an_exported_model_computes_what_predict_computes(
    layer, fmt, signature, tmp_path
):
    model, weights = model_with_weights(layer)
    suffix = {"onnx": "onnx", "litert": "tflite"}[fmt]
    if signature == "any":
        export(model, str(tmp_path / f"model.{suffix}"), fmt)
    for shape in VARIANT_SHAPES if layer.endswith("_variants") else SHAPES:
        path = str(tmp_path / f"model.{suffix}")
        if signature == "fixed":
            path = str(tmp_path / f"model_{shape[0]}x{shape[1]}.{suffix}")
            export(model, path, fmt, shape)
        x = sequences(shape).astype("float32")
        close = tolerance("float32", shape[1] * UNITS)

        actual = run_exported(path, fmt, x)

        assert actual.shape == (*shape, UNITS)
        assert_allclose(actual, model.predict(x, verbose=0), **close)
        assert_allclose(actual, reference(layer, x.astype("float64"), weights), **close)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="LiteRT is exported on TensorFlow")
@pytest.mark.parametrize("layer", ["gru", "cell_in_rnn"])
def test_keras_loops_need_the_flex_delegate_in_litert_at_any_length(layer, tmp_path):
    # The matrix on the Saving page: Keras's own `TensorList` loop converts to
    # built-in ops only at a fixed length.
    model, _ = model_with_weights(layer)
    path = str(tmp_path / "model.tflite")
    export(model, path, "litert")

    with pytest.raises(RuntimeError, match="Flex delegate"):
        run_exported(path, "litert", sequences(SHAPES[0]).astype("float32"))


@pytest.mark.skipif(BACKEND != "tensorflow", reason="LiteRT is exported on TensorFlow")
def test_every_fused_loop_exports_to_litert_at_any_length(tmp_path):
    # Masking, `go_backwards` and an activation without the hand-written
    # backward pass all run in the export loop too.
    inputs = keras.Input((None, INPUT_DIM))
    masked = keras.layers.Masking()(inputs)
    gru = ChungGRU(UNITS, activation="relu", go_backwards=True, return_sequences=True)
    model = keras.Model(inputs, gru(masked))
    x = sequences((3, 21)).astype("float32")
    x[0, 5:9] = 0.0
    x[2, -4:] = 0.0
    model(x)
    path = str(tmp_path / "model.tflite")
    export(model, path, "litert")

    actual = run_exported(path, "litert", x)

    assert_allclose(
        actual, model.predict(x, verbose=0), **tolerance("float32", 21 * UNITS)
    )


@pytest.mark.skipif(BACKEND != "jax", reason="the limit of an export from JAX")
def test_cell_with_dropconnect_exported_from_jax_leaves_its_model_unusable(tmp_path):
    # `keras.layers.RNN` asks its cell for its dropout masks before its loop
    # even at inference, and `ChungGRUCell` draws its DropConnect mask then,
    # which updates the seed generator's state. Keras exports from JAX by
    # tracing `model(x, training=False)` with jax2onnx, and that update leaves
    # a traced value in the state: the file is right, but the model's next
    # call fails. `ChungGRU` draws no mask at inference; the Saving page says
    # how to export such a cell.
    import jax

    model, weights = model_with_weights("cell_in_rnn_variants")
    path = str(tmp_path / "model.onnx")
    x = sequences(VARIANT_SHAPES[0]).astype("float32")
    export(model, path, "onnx")

    assert_allclose(
        run_exported(path, "onnx", x),
        reference("cell_in_rnn_variants", x.astype("float64"), weights),
        **tolerance("float32", x.shape[1] * UNITS),
    )
    with pytest.raises(jax.errors.UnexpectedTracerError, match="unexpected tracer"):
        model.predict(x, verbose=0)

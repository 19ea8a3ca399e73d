"""On TensorFlow, exporting changes what is traced for export, and nothing else.

`ChungGRU` runs its loop XLA-compiled, which converters cannot read; a graph
traced for an ONNX export gets the same `TensorArray` loop uncompiled, and
one traced for a LiteRT export a loop over plain tensors
(`keras_gru_cell/_fused/tensorflow_export_loop.py`). These tests prove that
`fit`, `predict` and a SavedModel export still trace the XLA-compiled loop,
that ONNX and LiteRT exports hold no XLA-compiled function, that only LiteRT
gets the plain-tensor loop, and that it computes what the TensorArray loop
computes.
"""

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from tests.asserts import assert_allclose
from tests.asserts import tolerance

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the XLA-compiled loop and its export twin are TensorFlow's",
)

BATCH, TIME, INPUT_DIM, UNITS = 3, 20, 2, 4  # over 16 steps: a loop, not unrolled


@pytest.fixture
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture
def traces(monkeypatch):
    """Records, at every trace of the fused loop, whether it was for a
    converter and which functions it asked XLA to compile."""
    from keras_gru_cell._fused import tensorflow_export_loop
    from keras_gru_cell._fused import tensorflow_loop

    seen = {"for_converter": [], "compiled": []}
    detect, compile_ = (
        tensorflow_export_loop.tracing_for_converter,
        tensorflow_loop._xla_compiled,
    )

    def tracing_for_converter():
        seen["for_converter"].append(detect())
        return seen["for_converter"][-1]

    def xla_compiled(function):
        seen["compiled"].append(function.__name__)
        return compile_(function)

    monkeypatch.setattr(
        tensorflow_export_loop, "tracing_for_converter", tracing_for_converter
    )
    monkeypatch.setattr(tensorflow_loop, "_xla_compiled", xla_compiled)
    return seen


def fused_model():
    inputs = keras.Input((None, INPUT_DIM))
    return keras.Model(inputs, ChungGRU(UNITS, return_sequences=True)(inputs))


def data(rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    return x, rng.normal(size=(BATCH, TIME, UNITS)).astype("float32")


def test_fit_and_predict_trace_the_xla_compiled_loop(traces):
    model = fused_model()
    model.compile("sgd", "mse")
    x, y = data()

    model.fit(x, y, epochs=1, verbose=0)
    model.predict(x, verbose=0)

    assert traces["for_converter"]
    assert not any(traces["for_converter"])
    assert {"forward", "backward_loop"} <= set(traces["compiled"])


def test_a_traced_call_holds_the_xla_compiled_loop(tf):
    model = fused_model()
    call = tf.function(lambda x: model(x, training=False), autograph=False)

    graph = call.get_concrete_function(tf.TensorSpec((None, None, INPUT_DIM))).graph

    assert _xla_compiled_functions(graph.as_graph_def())


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_a_converters_export_traces_no_xla_compiled_loop(traces, tmp_path, fmt):
    model = fused_model()
    model(data()[0])
    traces["for_converter"].clear()
    traces["compiled"].clear()

    path = tmp_path / {"onnx": "m.onnx", "litert": "m.tflite"}[fmt]

    model.export(str(path), format=fmt, verbose=False)

    assert traces["for_converter"]
    assert all(traces["for_converter"])
    assert traces["compiled"] == []


def test_a_saved_model_export_traces_the_xla_compiled_loop(traces, tmp_path):
    model = fused_model()
    model(data()[0])
    traces["for_converter"].clear()
    traces["compiled"].clear()

    model.export(str(tmp_path / "m"), verbose=False)

    assert traces["for_converter"]
    assert not any(traces["for_converter"])
    assert "forward" in traces["compiled"]


@pytest.mark.parametrize(
    ("fmt", "time", "plain_tensors"),
    [
        ("tf_saved_model", None, False),
        ("onnx", None, False),
        ("litert", TIME, True),
        ("litert", None, True),
    ],
)
def test_only_a_litert_export_traces_the_plain_tensor_loop(
    monkeypatch, tmp_path, fmt, time, plain_tensors
):
    # The plain-tensor loop rewrites its whole output buffer at every step:
    # a SavedModel of it served 1,024-bit sums tens of times slower
    # (benchmarks/addition_serving.py). Only LiteRT, which runs the
    # TensorArray loop only with the Flex delegate, pays that.
    from keras_gru_cell._fused import tensorflow_export_loop

    calls = []
    scan = tensorflow_export_loop.scan
    monkeypatch.setattr(
        tensorflow_export_loop,
        "scan",
        lambda *args, **kwargs: calls.append(fmt) or scan(*args, **kwargs),
    )
    inputs = keras.Input((time, INPUT_DIM), batch_size=BATCH if time else None)
    model = keras.Model(inputs, ChungGRU(UNITS, return_sequences=True)(inputs))
    model(data()[0])
    path = str(tmp_path / {"onnx": "m.onnx", "litert": "m.tflite"}.get(fmt, "m"))

    model.export(path, format=fmt, verbose=False)

    assert bool(calls) is plain_tensors


def test_a_saved_model_export_holds_the_xla_compiled_loop(tmp_path):
    from tensorflow.core.protobuf import saved_model_pb2

    model = fused_model()
    model(data()[0])
    model.export(str(tmp_path / "m"), verbose=False)

    saved = saved_model_pb2.SavedModel.FromString(
        (tmp_path / "m" / "saved_model.pb").read_bytes()
    )
    (meta_graph,) = saved.meta_graphs
    assert _xla_compiled_functions(meta_graph.graph_def)


@pytest.mark.parametrize("reverse", [False, True])
def test_the_export_scan_computes_what_the_tensorarray_scan_computes(tf, reverse):
    from keras_gru_cell._fused import tensorflow_export_loop
    from keras_gru_cell._fused import tensorflow_loop

    x, _ = data()
    sequence = (tf.constant(x), tf.constant(x[..., :1] > 0))

    def step(carry, inputs):
        x_t, keep = inputs
        total = carry + tf.reduce_sum(x_t, -1, keepdims=True) * carry
        total = tf.where(keep, tf.tanh(total + 1.0), carry)
        return total, (total, tf.concat([x_t, total], -1))

    init = tf.ones((TIME, 1))
    # Time-major: the batch axis of `x` is the scan's time axis here.
    export_scan = tf.function(
        lambda: tensorflow_export_loop.scan(step, init, sequence, reverse),
        autograph=False,
    )
    tensorarray_scan = tf.function(
        lambda: tensorflow_loop.scan(step, init, sequence, 2, reverse), autograph=False
    )

    carry, outputs = export_scan()
    expected_carry, expected_outputs = tensorarray_scan()

    close = tolerance("float32", BATCH)
    assert_allclose(carry, expected_carry, **close)
    for actual, expected in zip(outputs, expected_outputs, strict=True):
        assert actual.shape == expected.shape
        assert_allclose(actual, expected, **close)


def _xla_compiled_functions(graph_def):
    return [
        function.signature.name
        for function in graph_def.library.function
        if function.attr["_XlaMustCompile"].b
    ]

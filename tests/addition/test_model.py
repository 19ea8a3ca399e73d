"""Tests of the addition model: any batch and length, before and after reloads."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gru_cell.addition import ExactMatch
from keras_gru_cell.addition import QuadraticLoss
from keras_gru_cell.addition import addition_dataset
from keras_gru_cell.addition import build_addition_model
from keras_gru_cell.addition.data import decode_sums
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.pretrained import load_pretrained_model
from keras_gru_cell.addition.time_distributed import TimeDistributed
from tests.asserts import assert_allclose
from tests.asserts import tolerance
from tests.numpy_reference import run_sequence

# Runs on every Keras backend in CI, not only TensorFlow (see .ci/run).
pytestmark = pytest.mark.every_backend

# (batch, length) pairs with the batch both smaller and larger than the length,
# so a wrapper that confuses the two axes cannot pass.
SHAPES = [(1, 1), (2, 9), (9, 2), (3, 40), (40, 3), (5, 300)]

tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.function signatures and SavedModel export need the TensorFlow backend",
)


def _inputs(batch, length, seed=0):
    return (
        np.random.default_rng(seed).integers(0, 2, (batch, length, 2)).astype("float32")
    )


def _reference(model, x):
    """The model's output by the NumPy GRU equations, independent of Keras."""
    kernel, recurrent_kernel, bias = model.get_layer("gru").get_weights()
    w, b = model.get_layer("sum_bits").get_weights()
    states, _ = run_sequence(x.astype("float64"), kernel, recurrent_kernel, bias)
    logits = states @ w + b
    if model.get_layer("sum_bits").layer.activation is keras.activations.sigmoid:
        return 1 / (1 + np.exp(-logits))
    return logits


def _close(model, length):
    """The float32 tolerance of `length` steps of the model's GRU."""
    return tolerance("float32", length * model.get_layer("gru").cell.units)


def _assert_any_shape_matches_reference(predict, model):
    for batch, length in SHAPES:
        x = _inputs(batch, length)
        outputs = np.asarray(keras.ops.convert_to_numpy(predict(x)))
        assert outputs.shape == (batch, length, 1)
        assert_allclose(outputs, _reference(model, x), **_close(model, length))


def _trained_model():
    model = build_addition_model(8, output_activation="sigmoid")
    model.compile("adam", "binary_crossentropy", metrics=[ExactMatch()])
    model.fit(
        addition_dataset((3, 12), 16, seed=0),
        steps_per_epoch=3,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    return model


def test_model_has_the_tutorial_architecture():
    model = build_addition_model()
    assert model.input_shape == (None, None, 2)
    assert model.output_shape == (None, None, 1)
    rnn = model.get_layer("gru")
    assert isinstance(rnn, keras.layers.RNN)
    assert rnn.cell.units == 16
    assert rnn.return_sequences
    assert isinstance(model.get_layer("sum_bits"), keras.layers.TimeDistributed)
    assert model.get_layer("sum_bits").layer.units == 1


def test_model_takes_any_batch_and_length_right_after_training():
    model = _trained_model()
    _assert_any_shape_matches_reference(model.predict_on_batch, model)
    _assert_any_shape_matches_reference(lambda x: model(x), model)


@tensorflow_only
def test_model_takes_any_batch_and_length_through_a_dynamic_signature():
    model = _trained_model()
    dynamic = tf.function(
        lambda x: model(x), input_signature=[tf.TensorSpec((None, None, 2))]
    )
    _assert_any_shape_matches_reference(dynamic, model)


def test_model_takes_any_batch_and_length_after_a_keras_reload(tmp_path):
    model = _trained_model()
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(reloaded.get_layer("sum_bits"), TimeDistributed)
    _assert_any_shape_matches_reference(reloaded.predict_on_batch, model)


@pytest.mark.slow
def test_model_takes_any_batch_and_length_in_a_fresh_process(tmp_path):
    model = _trained_model()
    model.save(tmp_path / "model.keras")
    script = f"""
import json, keras, numpy as np
import keras_gru_cell.addition  # registers the addition model's Keras objects
model = keras.models.load_model({str(tmp_path / "model.keras")!r})
out = {{}}
for batch, length in {SHAPES!r}:
    x = np.random.default_rng(0).integers(0, 2, (batch, length, 2)).astype("float32")
    out[f"{{batch}},{{length}}"] = model.predict(x, verbose=0).tolist()
print(json.dumps(out))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    for batch, length in SHAPES:
        got = np.array(outputs[f"{batch},{length}"])
        assert got.shape == (batch, length, 1)
        assert_allclose(
            got, _reference(model, _inputs(batch, length)), **_close(model, length)
        )


@pytest.mark.slow
@tensorflow_only
def test_exported_saved_model_takes_any_batch_and_length(tmp_path):
    model = _trained_model()
    model.export(str(tmp_path / "saved"), format="tf_saved_model", verbose=0)
    served = tf.saved_model.load(str(tmp_path / "saved"))
    _assert_any_shape_matches_reference(lambda x: served.serve(tf.constant(x)), model)
    layer = keras.layers.TFSMLayer(str(tmp_path / "saved"), call_endpoint="serve")
    _assert_any_shape_matches_reference(lambda x: layer(x), model)


def test_shipped_model_adds_numbers_of_many_lengths():
    model = load_pretrained_model()
    rng = np.random.default_rng(0)
    for length in (2, 5, 20, 101, 1001):
        pairs = [
            (
                int.from_bytes(rng.bytes(130), "little") % 2 ** (length - 1),
                int.from_bytes(rng.bytes(130), "little") % 2 ** (length - 1),
            )
            for _ in range(7)
        ]
        predictions = model.predict(encode_pairs(pairs, length), verbose=0)
        assert decode_sums(predictions) == [a + b for a, b in pairs]


def test_float64_model_computes_in_float64():
    model = build_addition_model(4, dtype="float64")
    assert model.get_layer("gru").cell.kernel.dtype == "float64"
    assert keras.ops.convert_to_numpy(model(np.zeros((2, 3, 2)))).dtype == np.float64


def test_weight_stddev_draws_every_weight_small():
    model = build_addition_model(16, weight_stddev=0.01)
    values = np.concatenate([w.ravel() for w in model.get_weights()])
    assert np.all(np.abs(values) <= 0.02)  # truncated at two deviations
    # A normal truncated at ±2σ has a standard deviation of 0.88σ.
    assert 0.0075 < np.std(values) < 0.0100
    assert np.all(values != 0)  # biases too, unlike Keras's zeros


def test_cell_options_reach_the_cell_and_survive_a_reload(tmp_path):
    default = build_addition_model(4).get_layer("gru").cell.get_config()
    options = {"layer_normalization": True, "zoneout": 0.1, "kernel_constraint": None}
    model = build_addition_model(4, symmetric_summands=True, cell_options=options)
    model.save(tmp_path / "model.keras")

    restored = keras.models.load_model(tmp_path / "model.keras")

    for cell in (model.get_layer("gru").cell, restored.get_layer("gru").cell):
        config = cell.get_config()
        changed = {k for k in config if config[k] != default[k]}
        # An option given replaces the one `symmetric_summands` chose.
        assert changed == {"layer_normalization", "zoneout", "name"}
        assert [w.name for w in cell.weights][3:] == [
            "input_gamma",
            "input_beta",
            "recurrent_gamma",
            "recurrent_beta",
        ]


def test_keras_names_the_package_objects_under_the_package():
    assert keras.saving.get_registered_name(TimeDistributed) == (
        "keras_gru_cell>TimeDistributed"
    )
    assert keras.saving.get_registered_name(ExactMatch) == "keras_gru_cell>ExactMatch"
    assert keras.saving.get_registered_name(QuadraticLoss) == (
        "keras_gru_cell>QuadraticLoss"
    )


@pytest.mark.xfail(
    strict=True,
    reason="Keras 3.15's TimeDistributed maps over the batch size, not the "
    "steps, when the time axis has no static length; when this passes, "
    "keras_gru_cell.addition.time_distributed can go.",
)
def test_keras_time_distributed_handles_a_dynamic_time_axis():
    dense = keras.layers.Dense(1)
    layer = keras.layers.TimeDistributed(dense)
    dynamic = tf.function(
        lambda x: layer(x), input_signature=[tf.TensorSpec((None, None, 3))]
    )
    x = np.ones((2, 5, 3), "float32")
    assert dynamic(x).shape == (2, 5, 1)


def test_exact_match_config_round_trips():
    metric = ExactMatch(threshold=0.3, name="em")
    restored = ExactMatch.from_config(metric.get_config())
    assert restored.threshold == 0.3
    assert restored.name == "em"


def test_quadratic_loss_is_half_the_summed_squared_error_per_sequence():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.random((2, 4, 6, 1))
    expected = np.sum(0.5 * (y_pred - y_true) ** 2) / 4
    assert float(QuadraticLoss()(y_true, y_pred)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hidden_size": 0}, "`hidden_size`.*positive integer.*got 0"),
        ({"hidden_size": 2.0}, "`hidden_size`.*got 2.0"),
        ({"output_activation": "relu"}, "`output_activation`.*'relu'"),
        ({"weight_stddev": -1.0}, "`weight_stddev`.*-1.0"),
    ],
)
def test_build_addition_model_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_addition_model(**kwargs)

"""The serving model: the addition model's predictions, through `ChungGRU`."""

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell.addition import build_addition_model
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.evaluation import predict_sums
from keras_gru_cell.addition.evaluation import random_pairs
from keras_gru_cell.addition.pretrained import load_pretrained_model
from keras_gru_cell.addition.serving import predict
from keras_gru_cell.addition.serving import serving_model
from tests.asserts import assert_allclose
from tests.asserts import tolerance

pytestmark = pytest.mark.every_backend


def close(dtype, num_bits, hidden_size):
    """Each output ends `num_bits` recurrent steps of `hidden_size` terms and
    the head's sum of `hidden_size` more."""
    return tolerance(dtype, (num_bits + 1) * hidden_size)


@pytest.fixture(scope="module")
def shipped():
    return load_pretrained_model()


@pytest.mark.parametrize("num_bits", [2, 9, 64, 1024])
def test_predictions_match_the_shipped_model(shipped, num_bits):
    x = encode_pairs(random_pairs(num_bits, 50, seed=num_bits), num_bits)
    hidden_size = shipped.layers[1].cell.units

    actual = serving_model(shipped).predict(x, verbose=0)

    expected = shipped.predict(x, verbose=0)
    assert actual.shape == expected.shape
    assert_allclose(actual, expected, **close("float32", num_bits, hidden_size))


@pytest.mark.parametrize("batch_size", [1, 7, 50, 64])
def test_predict_batch_by_batch_is_the_models_predict(shipped, batch_size):
    x = encode_pairs(random_pairs(16, 50, seed=batch_size), 16)
    hidden_size = shipped.layers[1].cell.units

    actual = predict(shipped, x, batch_size=batch_size)

    expected = shipped.predict(x, verbose=0)
    assert isinstance(actual, np.ndarray)
    assert actual.shape == expected.shape
    assert_allclose(actual, expected, **close("float32", 16, hidden_size))


def test_predict_of_no_rows_is_an_empty_batch_of_outputs(shipped):
    assert predict(shipped, np.zeros((0, 8, 2), "float32")).shape == (0, 8, 1)


def test_the_serving_model_holds_chung_gru_and_the_same_weights(shipped):
    serving = serving_model(shipped)

    assert [type(layer) for layer in serving.layers[1:]] == [
        ChungGRU,
        type(shipped.layers[2]),
    ]
    for actual, expected in zip(
        serving.get_weights(), shipped.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(actual, expected)


def test_a_1024_bit_sum_comes_out_of_predict_sums_exactly(shipped):
    pairs = random_pairs(1024, 20, seed=1)

    assert predict_sums(shipped, pairs) == [a + b for a, b in pairs]


def test_a_float64_sigmoid_model_gives_its_own_predictions():
    keras.utils.set_random_seed(0)
    model = build_addition_model(
        hidden_size=8, output_activation="sigmoid", dtype="float64"
    )
    x = encode_pairs(random_pairs(40, 30, seed=0), 40).astype("float64")

    actual = serving_model(model).predict(x, verbose=0)

    assert_allclose(actual, model.predict(x, verbose=0), **close("float64", 40, 8))


def test_built_once_and_following_the_models_weights():
    keras.utils.set_random_seed(0)
    model = build_addition_model(hidden_size=4)
    first = serving_model(model)
    model.set_weights([w + 0.25 for w in model.get_weights()])
    x = encode_pairs(random_pairs(12, 10, seed=0), 12)

    second = serving_model(model)

    assert second is first
    assert_allclose(
        second.predict(x, verbose=0),
        model.predict(x, verbose=0),
        **close("float32", 12, 4),
    )


def test_a_model_of_another_form_is_served_as_it_is():
    inputs = keras.Input((None, 2))
    states = keras.layers.GRU(4, return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(states))

    assert serving_model(model) is model


@pytest.mark.skipif(
    keras.backend.backend() not in ("tensorflow", "jax"),
    reason="Keras exports SavedModels from TensorFlow and JAX",
)
def test_the_exported_serving_model_serves_any_length(shipped, tmp_path):
    import tensorflow as tf

    serving_model(shipped).export(
        str(tmp_path / "served"), format="tf_saved_model", verbose=0
    )
    served = tf.saved_model.load(str(tmp_path / "served"))
    hidden_size = shipped.layers[1].cell.units

    for num_bits in (5, 40):
        x = encode_pairs(random_pairs(num_bits, 7, seed=num_bits), num_bits)
        assert_allclose(
            served.serve(tf.constant(x)),
            shipped.predict(x, verbose=0),
            **close("float32", num_bits, hidden_size),
        )

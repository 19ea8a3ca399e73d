"""The contract every Keras layer keeps, checked for both layers with public APIs.

In the spirit of Keras's own `run_layer_test` (which is private): the config
round trip, serialization, the variables a layer creates, symbolic and eager
calls that agree, a training step, mixed precision and a saved model.
"""

import json

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_allclose
from tests.asserts import tolerance

BATCH, TIME, INPUT_DIM, UNITS = 3, 6, 4, 5

LAYERS = {
    "cell_in_rnn": lambda **kwargs: keras.layers.RNN(
        ChungGRUCell(UNITS, dropout=0.2, seed=1), **kwargs
    ),
    "fused": lambda **kwargs: ChungGRU(UNITS, dropout=0.2, seed=1, **kwargs),
}
OUTPUTS = {
    "last": {},
    "sequences": {"return_sequences": True},
    "sequences_and_state": {"return_sequences": True, "return_state": True},
}


def inputs(dtype="float32"):
    return np.random.default_rng(0).normal(size=(BATCH, TIME, INPUT_DIM)).astype(dtype)


def shapes(outputs):
    return [tuple(output.shape) for output in keras.tree.flatten(outputs)]


def computed_shapes(shape):
    """`compute_output_shape`'s answer, one shape or a list of them, as a list."""
    if all(isinstance(dim, int | None) for dim in shape):
        return [tuple(shape)]
    return [tuple(one) for one in shape]


def seed_generators(layer):
    return [
        v for v in layer.non_trainable_variables if "seed_generator_state" in v.path
    ]


@pytest.mark.parametrize("layer", list(LAYERS))
def test_config_round_trip_rebuilds_the_same_layer(layer):
    original = LAYERS[layer](return_sequences=True, go_backwards=True)

    restored = original.__class__.from_config(original.get_config())
    revived = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(original)
    )

    expected = json.dumps(original.get_config(), sort_keys=True)
    assert json.dumps(restored.get_config(), sort_keys=True) == expected
    assert json.dumps(revived.get_config(), sort_keys=True) == expected


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_build_creates_the_weights_and_one_seed_generator(layer, use_bias):
    if layer == "fused":
        recurrent = ChungGRU(UNITS, use_bias=use_bias, seed=1)
    else:
        recurrent = keras.layers.RNN(ChungGRUCell(UNITS, use_bias=use_bias, seed=1))
    assert not recurrent.weights

    recurrent.build((None, TIME, INPUT_DIM))

    assert len(recurrent.trainable_weights) == (3 if use_bias else 2)
    assert len(recurrent.non_trainable_weights) == 0
    assert len(seed_generators(recurrent)) == 1


@pytest.mark.parametrize("outputs", list(OUTPUTS))
@pytest.mark.parametrize("layer", list(LAYERS))
def test_symbolic_and_eager_calls_give_the_same_shapes(layer, outputs):
    recurrent = LAYERS[layer](**OUTPUTS[outputs])

    symbolic = recurrent(keras.Input((TIME, INPUT_DIM), batch_size=BATCH))
    eager = recurrent(inputs())

    assert shapes(symbolic) == shapes(eager)
    computed = recurrent.compute_output_shape((BATCH, TIME, INPUT_DIM))
    assert computed_shapes(computed) == shapes(eager)


@pytest.mark.parametrize("layer", list(LAYERS))
def test_a_training_step_changes_every_weight_and_lowers_the_loss(layer):
    model = keras.Sequential(
        [keras.Input((TIME, INPUT_DIM)), LAYERS[layer](), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = inputs(), np.ones((BATCH, 1), "float32")
    before = [np.array(w) for w in model.get_weights()]

    first = model.train_on_batch(x, y)
    second = model.train_on_batch(x, y)

    assert second < first
    for old, new in zip(before, model.get_weights(), strict=True):
        assert not np.array_equal(old, new)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_mixed_precision_computes_in_half_and_keeps_float32_weights(layer, policy):
    recurrent = LAYERS[layer](return_sequences=True, dtype=policy)

    outputs = recurrent(inputs())

    half = policy.removeprefix("mixed_")
    assert keras.backend.standardize_dtype(outputs.dtype) == half
    assert {w.dtype for w in recurrent.weights} == {"float32"}


@pytest.mark.parametrize("layer", list(LAYERS))
def test_a_saved_model_reloads_with_the_same_outputs(layer, tmp_path):
    model = keras.Sequential(
        [keras.Input((TIME, INPUT_DIM)), LAYERS[layer](return_sequences=True)]
    )
    x = inputs()
    expected = model(x)
    model.save(tmp_path / "model.keras")

    reloaded = keras.models.load_model(tmp_path / "model.keras")

    assert type(reloaded.layers[0]) is type(model.layers[0])
    assert_allclose(reloaded(x), expected, **tolerance("float32", TIME * UNITS))

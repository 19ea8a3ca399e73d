"""`ChungGRU` against `RNN(ChungGRUCell)` and the independent NumPy reference.

The fused layer has its own loop and its own backward pass, so everything the
cell-by-cell layer computes is compared: outputs, states, gradients and a
short training run, across the features that change the loop.
"""

import json

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_allclose
from tests.asserts import to_numpy
from tests.asserts import tolerance
from tests.gradients import input_and_weight_gradients
from tests.numpy_reference import random_gru_weights
from tests.numpy_reference import run_sequence

BATCH, TIME, INPUT_DIM, UNITS = 3, 7, 4, 5


def close(dtype="float64", steps=TIME):
    """The tolerance of a comparison of `steps` recurrent steps in `dtype`.

    A gradient runs the steps forward and back: twice as many (`steps=2 * TIME`).
    """
    return tolerance(dtype, steps * UNITS)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def random_weights(rng, use_bias=True, dtype="float64"):
    return random_gru_weights(rng, INPUT_DIM, UNITS, use_bias=use_bias, dtype=dtype)


def fused_and_cellwise(weights, dtype="float64", batch_size=None, **kwargs):
    """A `ChungGRU` and an `RNN(ChungGRUCell)` holding the same weights."""
    cell_kwargs = {
        key: kwargs.pop(key)
        for key in (
            "activation",
            "recurrent_activation",
            "dropout",
            "recurrent_dropout",
            "seed",
        )
        if key in kwargs
    }
    use_bias = len(weights) == 3
    fused = ChungGRU(UNITS, use_bias=use_bias, dtype=dtype, **cell_kwargs, **kwargs)
    cellwise = keras.layers.RNN(
        ChungGRUCell(UNITS, use_bias=use_bias, dtype=dtype, **cell_kwargs),
        dtype=dtype,
        **kwargs,
    )
    for layer in (fused, cellwise):
        layer.build((batch_size, TIME, INPUT_DIM))
        layer.set_weights(weights)
    return fused, cellwise


def output_shape(return_sequences, time=TIME):
    """The shape of the layer's output, which a gradient probe takes."""
    return (BATCH, time, UNITS) if return_sequences else (BATCH, UNITS)


def padded_inputs(rng, dtype):
    """Inputs and a mask with a leading, a trailing and an inner masked step."""
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype(dtype)
    mask = np.ones((BATCH, TIME), bool)
    mask[0, :2] = False
    mask[1, 4:] = False
    mask[2, 3] = False
    return x, mask


FEATURES = {
    "last_output": {},
    "sequences": {"return_sequences": True},
    "state": {"return_state": True},
    "backwards_sequences_state": {
        "return_sequences": True,
        "return_state": True,
        "go_backwards": True,
    },
    "zero_output_for_mask": {"return_sequences": True, "zero_output_for_mask": True},
    "last_output_zero_for_mask": {"zero_output_for_mask": True},
}


@pytest.mark.parametrize(
    ("use_bias", "dtype"),
    [(True, "float64"), (False, "float64"), (True, "float32")],
    ids=["bias-float64", "no_bias-float64", "bias-float32"],
)
@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
@pytest.mark.parametrize("features", list(FEATURES))
def test_outputs_and_states_match_cellwise_rnn(rng, features, masked, use_bias, dtype):
    weights = random_weights(rng, use_bias, dtype)
    fused, cellwise = fused_and_cellwise(weights, dtype, **FEATURES[features])
    x, mask = padded_inputs(rng, dtype)
    mask = mask if masked else None

    actual = keras.tree.flatten(fused(x, mask=mask))
    expected = keras.tree.flatten(cellwise(x, mask=mask))

    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape
        assert_allclose(a, e, **close(dtype))


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True], ids=["dense", "masked"])
def test_matches_numpy_reference_with_initial_state(rng, masked, go_backwards):
    weights = random_weights(rng)
    x, mask = padded_inputs(rng, "float64")
    mask = mask if masked else None
    h0 = rng.normal(size=(BATCH, UNITS))
    fused, _ = fused_and_cellwise(
        weights, return_sequences=True, return_state=True, go_backwards=go_backwards
    )

    outputs, state = fused(x, initial_state=h0, mask=mask)

    # A masked leading step outputs zeros though the state is h0, as in
    # Keras's TensorFlow loop; the reference spells that convention out.
    expected_outputs, expected_state = run_sequence(
        x, *weights, initial_state=h0, mask=mask, go_backwards=go_backwards
    )
    assert_allclose(outputs, expected_outputs, **close())
    assert_allclose(state, expected_state, **close())


def test_masking_layer_in_a_model_matches_cellwise_rnn(rng):
    weights = random_weights(rng)
    x, mask = padded_inputs(rng, "float64")
    x[~mask] = 0.0

    def model(layer):
        inputs = keras.Input((TIME, INPUT_DIM), dtype="float64")
        masked = keras.layers.Masking(0.0, dtype="float64")(inputs)
        return keras.Model(inputs, layer(masked))

    fused, cellwise = fused_and_cellwise(weights, return_sequences=True)

    assert_allclose(model(fused)(x), model(cellwise)(x), **close())


def test_stateful_layer_continues_across_batches_like_cellwise_rnn(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    fused, cellwise = fused_and_cellwise(
        weights, batch_size=BATCH, stateful=True, return_sequences=True
    )

    def batches_then_restart(layer):
        first, second = layer(x[:, :3]), layer(x[:, 3:])
        layer.reset_state()
        return [to_numpy(first), to_numpy(second), to_numpy(layer(x[:, 3:]))]

    actual = batches_then_restart(fused)

    expected, _ = run_sequence(x, *weights)
    assert_allclose(actual[0], expected[:, :3], **close())
    assert_allclose(actual[1], expected[:, 3:], **close())
    for a, e in zip(actual, batches_then_restart(cellwise), strict=True):
        assert_allclose(a, e, **close())


def test_stateful_layer_trains_across_batches(rng):
    # PyTorch refuses a backward pass whose saved input the layer has since
    # overwritten in place, as a stateful layer does with its state.
    x = rng.normal(size=(8, TIME, INPUT_DIM)).astype("float32")
    y = np.sum(x[..., :1], axis=1) / TIME
    model = keras.Sequential(
        [
            keras.Input((TIME, INPUT_DIM), batch_size=4),
            ChungGRU(UNITS, stateful=True),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")

    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)

    assert np.all(np.isfinite(history.history["loss"]))


GRADIENT_FEATURES = {
    "sequences": {"return_sequences": True},
    "last_output": {},
    "backwards": {"return_sequences": True, "go_backwards": True},
    "no_bias": {"return_sequences": True, "use_bias": False},
    "relu_hard_sigmoid": {
        "return_sequences": True,
        "activation": "relu",
        "recurrent_activation": "hard_sigmoid",
    },
}


@pytest.mark.parametrize(
    ("features", "dtype"),
    [(features, "float64") for features in GRADIENT_FEATURES]
    + [("sequences", "float32")],
)
def test_gradients_match_cellwise_rnn(rng, features, dtype):
    kwargs = dict(GRADIENT_FEATURES[features])
    weights = random_weights(rng, kwargs.pop("use_bias", True), dtype)
    fused, cellwise = fused_and_cellwise(weights, dtype, **kwargs)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype(dtype)
    probe = rng.normal(size=output_shape(kwargs.get("return_sequences"))).astype(dtype)

    d_x, d_weights = input_and_weight_gradients(fused, x, probe)
    expected_d_x, expected_d_weights = input_and_weight_gradients(cellwise, x, probe)

    assert_allclose(d_x, expected_d_x, **close(dtype, steps=2 * TIME))
    assert len(d_weights) == len(weights)
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(dtype, steps=2 * TIME))


# Short sequences are unrolled, longer ones run in a loop: both sides of
# the limit, 16 steps.
@pytest.mark.parametrize("time", [16, 17, 40])
def test_outputs_and_gradients_match_cellwise_rnn_at_any_length(rng, time):
    weights = random_weights(rng)
    kwargs = {"return_sequences": True, "go_backwards": True}
    fused, cellwise = fused_and_cellwise(weights, **kwargs)
    x = rng.normal(size=(BATCH, time, INPUT_DIM))
    probe = rng.normal(size=(BATCH, time, UNITS))

    d_x, d_weights = input_and_weight_gradients(fused, x, probe)
    expected_d_x, expected_d_weights = input_and_weight_gradients(cellwise, x, probe)

    assert_allclose(fused(x), cellwise(x), **close(steps=time))
    assert_allclose(d_x, expected_d_x, **close(steps=2 * time))
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(steps=2 * time))


# Without `return_sequences`, the backward pass starts from the last state's
# gradient alone.
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_gradients_through_masked_steps_match_cellwise_rnn(rng, return_sequences):
    weights = random_weights(rng)
    fused, cellwise = fused_and_cellwise(weights, return_sequences=return_sequences)
    x, mask = padded_inputs(rng, "float64")
    x[~mask] = 0.0
    masking = keras.layers.Masking(0.0, dtype="float64")
    probe = rng.normal(size=output_shape(return_sequences))

    def masked(layer):
        inputs = keras.Input((TIME, INPUT_DIM), dtype="float64")
        model = keras.Model(inputs, layer(masking(inputs)))
        return model

    d_x, d_weights = input_and_weight_gradients(masked(fused), x, probe)
    expected_d_x, expected_d_weights = input_and_weight_gradients(
        masked(cellwise), x, probe
    )

    assert_allclose(d_x, expected_d_x, **close(steps=2 * TIME))
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(steps=2 * TIME))


# With recurrent dropout, TensorFlow's and JAX's backward loops write out each
# step's dropped state for the recurrent kernel's gradient; without it, the
# state each step started from stands in.
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
def test_gradients_with_dropout_match_cellwise_rnn_with_the_same_seed(
    rng, return_sequences
):
    weights = random_weights(rng)
    dropout = {"dropout": 0.4, "recurrent_dropout": 0.3, "seed": 7}
    fused, cellwise = fused_and_cellwise(
        weights, return_sequences=return_sequences, **dropout
    )
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    probe = rng.normal(size=output_shape(return_sequences))

    d_x, d_weights = input_and_weight_gradients(fused, x, probe, training=True)
    expected_d_x, expected_d_weights = input_and_weight_gradients(
        cellwise, x, probe, training=True
    )

    assert_allclose(d_x, expected_d_x, **close(steps=2 * TIME))
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(steps=2 * TIME))
    # The masks were drawn: without them the gradient differs.
    assert not np.allclose(d_x, input_and_weight_gradients(fused, x, probe)[0])


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="Keras's distribution API runs on JAX"
)
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.3])
def test_gradients_under_a_distribution_match_cellwise_rnn(
    rng, monkeypatch, return_sequences, recurrent_dropout
):
    # Under a distribution, JAX's backward pass forms the weight gradients
    # after its loop (`loop.backward`) instead of step by step inside it.
    from keras_gru_cell._fused import loop

    original, calls = loop.backward, []

    def spied(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(loop, "backward", spied)
    weights = random_weights(rng)
    fused, cellwise = fused_and_cellwise(
        weights,
        return_sequences=return_sequences,
        recurrent_dropout=recurrent_dropout,
        seed=7,
    )
    time = 2 * TIME + 6
    x = rng.normal(size=(BATCH, time, INPUT_DIM))
    probe = rng.normal(size=output_shape(return_sequences, time))
    distribution = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()[:1]
    )

    with distribution.scope():
        d_x, d_weights = input_and_weight_gradients(fused, x, probe, training=True)
    expected_d_x, expected_d_weights = input_and_weight_gradients(
        cellwise, x, probe, training=True
    )

    assert calls
    assert_allclose(d_x, expected_d_x, **close(steps=2 * time))
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(steps=2 * time))


# TensorFlow keeps the backward pass's residuals only in training mode, and
# otherwise recomputes them from the states when a gradient is asked for.
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_gradients_in_either_mode_match_cellwise_rnn(rng, training, return_sequences):
    weights = random_weights(rng)
    fused, cellwise = fused_and_cellwise(
        weights, return_sequences=return_sequences, go_backwards=True
    )
    x, mask = padded_inputs(rng, "float64")
    probe = rng.normal(size=output_shape(return_sequences))

    d_x, d_weights = input_and_weight_gradients(
        fused, x, probe, mask=mask, training=training
    )
    expected_d_x, expected_d_weights = input_and_weight_gradients(
        cellwise, x, probe, mask=mask, training=training
    )

    assert_allclose(d_x, expected_d_x, **close(steps=2 * TIME))
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(steps=2 * TIME))


# Keras's TensorFlow loop's convention, which `run_sequence` spells out; its
# JAX loop outputs the initial state instead.
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_last_output_of_a_wholly_masked_sequence_is_zero(rng, zero_output_for_mask):
    weights = random_weights(rng)
    fused, cellwise = fused_and_cellwise(
        weights, return_state=True, zero_output_for_mask=zero_output_for_mask
    )
    x, mask = padded_inputs(rng, "float64")
    mask[2] = False
    h0 = rng.normal(size=(BATCH, UNITS))

    output, state = fused(x, initial_state=h0, mask=mask)
    expected_output, expected_state = cellwise(x, initial_state=h0, mask=mask)

    assert_allclose(output[:2], expected_output[:2], **close())
    assert_allclose(output[2], np.zeros(UNITS), **close())
    # The state passes every masked step through: it is still h0.
    assert_allclose(state, expected_state, **close())
    assert_allclose(state[2], h0[2], **close())


def masked_model(layer, dtype, batch_size=None):
    """`layer` behind a `Masking` layer, in a model for `predict`."""
    inputs = keras.Input((None, INPUT_DIM), batch_size=batch_size, dtype=dtype)
    return keras.Model(inputs, layer(keras.layers.Masking(0.0, dtype=dtype)(inputs)))


# `predict` runs where nothing differentiates the layer (under `torch.no_grad`,
# in a compiled function without a tape, jitted without a VJP), the path
# that keeps no residuals.
@pytest.mark.parametrize(
    ("features", "dtype"),
    [
        ("sequences", "float64"),
        ("backwards_sequences_state", "float64"),
        ("zero_output_for_mask", "float64"),
        ("backwards_sequences_state", "float32"),
        ("backwards_sequences_state", "mixed_float16"),
    ],
)
def test_predict_matches_cellwise_rnn(rng, features, dtype):
    compute_dtype = keras.DTypePolicy(dtype).compute_dtype
    input_dtype = keras.DTypePolicy(dtype).variable_dtype
    weights = random_weights(rng, dtype=input_dtype)
    fused, cellwise = fused_and_cellwise(weights, dtype, **FEATURES[features])
    x, mask = padded_inputs(rng, input_dtype)
    x[~mask] = 0.0

    actual = masked_model(fused, input_dtype).predict(x, verbose=0)
    expected = masked_model(cellwise, input_dtype).predict(x, verbose=0)

    actual, expected = keras.tree.flatten(actual), keras.tree.flatten(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape
        assert_allclose(a, e, **close(compute_dtype))


def test_stateful_predict_continues_across_batches_like_cellwise_rnn(rng):
    weights = random_weights(rng)
    # `predict` casts float64 arrays to `floatx()`; float32 values lose nothing.
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32").astype("float64")
    fused, cellwise = fused_and_cellwise(
        weights, batch_size=BATCH, stateful=True, return_sequences=True
    )

    def two_batches(layer):
        model = masked_model(layer, "float64", batch_size=BATCH)
        return [model.predict(x[:, :3], verbose=0), model.predict(x[:, 3:], verbose=0)]

    actual = two_batches(fused)

    expected, _ = run_sequence(x, *weights)
    if keras.backend.backend() == "jax":
        # Keras's JAX `predict` does not write the final state back to the
        # layer, for either layer: each call starts from the stored state.
        second, _ = run_sequence(x[:, 3:], *weights)
    else:
        second = expected[:, 3:]
    assert_allclose(actual[0], expected[:, :3], **close())
    assert_allclose(actual[1], second, **close())
    for a, e in zip(actual, two_batches(cellwise), strict=True):
        assert_allclose(a, e, **close())


def test_dropout_matches_cellwise_rnn_with_the_same_seed(rng):
    weights = random_weights(rng)
    fused, cellwise = fused_and_cellwise(
        weights, return_sequences=True, dropout=0.4, recurrent_dropout=0.3, seed=7
    )
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))

    dropped = fused(x, training=True)
    expected = cellwise(x, training=True)

    assert_allclose(dropped, expected, **close())
    assert not np.allclose(to_numpy(dropped), to_numpy(fused(x)))
    assert_allclose(fused(x), cellwise(x), **close())


def regression_model(layer):
    model = keras.Sequential(
        [keras.Input((TIME, INPUT_DIM)), layer, keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


def test_training_follows_the_cellwise_rnn_trajectory(rng):
    weights = random_weights(rng, dtype="float32")
    x = rng.normal(size=(16, TIME, INPUT_DIM)).astype("float32")
    y = np.sum(x[..., :1], axis=1) / TIME
    fused, cellwise = fused_and_cellwise(weights, "float32")
    models = [regression_model(fused), regression_model(cellwise)]
    head = models[0].layers[-1].get_weights()
    models[1].layers[-1].set_weights(head)

    histories = [
        m.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history["loss"]
        for m in models
    ]

    assert histories[0][-1] < histories[0][0]
    # Six optimizer steps, each through TIME steps forward and back.
    trajectory = close("float32", steps=6 * TIME)
    assert_allclose(histories[0], histories[1], **trajectory)
    for a, e in zip(models[0].get_weights(), models[1].get_weights(), strict=True):
        assert_allclose(a, e, **trajectory)


def test_weights_have_the_cell_layout():
    layer = ChungGRU(UNITS, use_bias=True)
    layer.build((None, TIME, INPUT_DIM))

    assert [tuple(w.shape) for w in layer.weights] == [
        (INPUT_DIM, 3 * UNITS),
        (UNITS, 3 * UNITS),
        (3 * UNITS,),
    ]
    assert [w.path.split("/")[-1] for w in layer.weights] == [
        "kernel",
        "recurrent_kernel",
        "bias",
    ]
    assert isinstance(layer.cell, ChungGRUCell)


class OneRecurrentLayer(keras.Model):
    """A subclassed model whose weights file keys the recurrent layer `gru`.

    Keras keys a weights file by attribute name for a subclassed model's
    attributes that sort before its `layers` list, and by class name for the
    layers of Sequential and Functional models, so only this kind of file can
    name `ChungGRU` and `RNN` the same way.
    """

    def __init__(self, recurrent):
        super().__init__()
        self.gru = recurrent
        self.head = keras.layers.Dense(1)

    def call(self, inputs):
        return self.head(self.gru(inputs))


@pytest.mark.parametrize("direction", ["fused_to_cellwise", "cellwise_to_fused"])
def test_a_weights_file_of_one_layer_loads_into_the_other(rng, tmp_path, direction):
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    fused = OneRecurrentLayer(ChungGRU(UNITS))
    cellwise = OneRecurrentLayer(keras.layers.RNN(ChungGRUCell(UNITS)))
    source, target = (
        (fused, cellwise) if direction == "fused_to_cellwise" else (cellwise, fused)
    )
    source(x), target(x)
    path = tmp_path / "recurrent.weights.h5"

    source.save_weights(path)
    target.load_weights(path)

    for a, e in zip(target.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, e)
    assert_allclose(target(x), source(x), **close("float32"))


def test_a_saved_cellwise_model_gives_its_weights_to_the_fused_layer(rng, tmp_path):
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    cellwise = keras.Sequential(
        [keras.Input((TIME, INPUT_DIM)), keras.layers.RNN(ChungGRUCell(UNITS))]
    )
    cellwise.save(tmp_path / "cellwise.keras")

    restored = keras.models.load_model(tmp_path / "cellwise.keras")
    fused = keras.Sequential([keras.Input((TIME, INPUT_DIM)), ChungGRU(UNITS)])
    fused.set_weights(restored.get_weights())

    assert_allclose(fused(x), cellwise(x), **close("float32"))


def test_registered_under_the_package_name():
    assert keras.saving.get_registered_name(ChungGRU) == "keras_gru_cell>ChungGRU"


def non_default_layer():
    return ChungGRU(
        6,
        activation="relu",
        recurrent_activation="hard_sigmoid",
        use_bias=False,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=4),
        recurrent_initializer="identity",
        kernel_regularizer=keras.regularizers.L2(1e-3),
        recurrent_constraint="non_neg",
        dropout=0.2,
        recurrent_dropout=0.1,
        seed=3,
        return_sequences=True,
        return_state=True,
        go_backwards=True,
        stateful=False,
        unroll=True,
        activity_regularizer="l2",
        name="fused",
    )


def test_config_round_trips_every_argument():
    layer = non_default_layer()

    config = layer.get_config()
    rebuilt = ChungGRU.from_config(config)

    assert json.dumps(rebuilt.get_config(), sort_keys=True) == json.dumps(
        config, sort_keys=True
    )
    assert config["units"] == 6
    assert config["go_backwards"] is True
    assert config["seed"] == 3
    assert "cell" not in config
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert isinstance(restored, ChungGRU)
    assert restored.recurrent_dropout == pytest.approx(0.1)


def test_saved_model_reloads_with_identical_predictions(rng, tmp_path):
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    inputs = keras.Input((TIME, INPUT_DIM))
    hidden = keras.layers.Bidirectional(ChungGRU(UNITS, return_sequences=True))(inputs)
    model = keras.Model(inputs, ChungGRU(UNITS, go_backwards=True)(hidden))
    path = tmp_path / "fused.keras"

    model.save(path)
    restored = keras.models.load_model(path)

    np.testing.assert_array_equal(
        to_numpy(restored.predict(x, verbose=0)), to_numpy(model.predict(x, verbose=0))
    )


def test_mixed_float16_computes_in_half_precision_and_trains(rng):
    x = rng.normal(size=(16, TIME, INPUT_DIM)).astype("float32")
    y = np.sum(x[..., :1], axis=1) / TIME
    layer = ChungGRU(8, dtype="mixed_float16")
    model = regression_model(layer)

    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0).history["loss"]

    assert keras.backend.standardize_dtype(layer(x).dtype) == "float16"
    assert layer.cell.kernel.dtype == "float32"
    assert history[-1] < history[0]


def test_invalid_cell_arguments_are_rejected_with_their_value():
    with pytest.raises(ValueError, match=r"`units`.*got 0"):
        ChungGRU(0)
    with pytest.raises(ValueError, match="`recurrent_dropout`"):
        ChungGRU(4, recurrent_dropout=1.5)


def test_inputs_that_are_not_sequences_are_rejected():
    with pytest.raises(ValueError, match="ndim=3"):
        ChungGRU(4)(np.zeros((2, 3), "float32"))


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_integer_and_boolean_sequences_are_cast_to_the_compute_dtype(rng, dtype):
    fused, _ = fused_and_cellwise(random_weights(rng, dtype="float32"), "float32")
    bits = rng.integers(0, 2, size=(BATCH, TIME, INPUT_DIM))

    outputs = fused(bits.astype(dtype))

    assert keras.backend.standardize_dtype(outputs.dtype) == "float32"
    assert_allclose(outputs, fused(bits.astype("float32")), atol=0.0)


def test_a_feature_size_other_than_the_built_one_is_rejected(rng):
    fused, _ = fused_and_cellwise(random_weights(rng))

    with pytest.raises(ValueError, match=rf"built for {INPUT_DIM} input features"):
        fused(np.zeros((BATCH, TIME, INPUT_DIM + 1)))


def test_sequences_without_time_steps_are_rejected_with_their_shape(rng):
    fused, _ = fused_and_cellwise(random_weights(rng))

    with pytest.raises(ValueError, match=r"at least one time step.*\(3, 0, 4\)"):
        fused(np.zeros((BATCH, 0, INPUT_DIM)))


def test_an_empty_batch_gives_an_empty_result(rng):
    fused, _ = fused_and_cellwise(random_weights(rng), return_sequences=True)

    assert tuple(fused(np.zeros((0, TIME, INPUT_DIM))).shape) == (0, TIME, UNITS)


def test_weights_saved_with_other_units_are_refused_naming_both(tmp_path):
    def model(units):
        return keras.Sequential([keras.Input((None, INPUT_DIM)), ChungGRU(units)])

    path = tmp_path / "wide.weights.h5"
    model(UNITS + 1).save_weights(path)

    with pytest.raises(ValueError, match=rf"units={UNITS + 1}.*units={UNITS}"):
        model(UNITS).load_weights(path)


@pytest.mark.slow
def test_ten_thousand_steps_stay_finite_and_inside_the_tanh_range():
    layer = ChungGRU(16)
    x = np.random.default_rng(0).integers(0, 2, size=(2, 10_000, 2))

    final_state = to_numpy(layer(x.astype("float32")))

    assert final_state.shape == (2, 16)
    assert np.isfinite(final_state).all()
    assert np.abs(final_state).max() < 1.0

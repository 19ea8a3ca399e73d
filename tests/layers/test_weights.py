"""Exact equivalence with `keras.layers.GRU(reset_after=False)` via the converters."""

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRUCell
from keras_gru_cell import chung_to_keras_gru_weights
from keras_gru_cell import keras_gru_to_chung_weights
from tests.asserts import assert_allclose
from tests.asserts import assert_array_equal
from tests.asserts import builtin_dtype
from tests.asserts import tolerance
from tests.gradients import input_and_weight_gradients
from tests.numpy_reference import keras_gru_step
from tests.numpy_reference import random_gru_weights
from tests.numpy_reference import run_sequence

BATCH, TIME, INPUT_DIM, UNITS = 4, 6, 3, 5


def close(dtype="float64", steps=TIME):
    """The tolerance of comparing `steps` recurrent steps with Keras's GRU.

    Keras's GRU computes float64 in float32 off TensorFlow. A gradient runs
    the steps forward and back: twice as many (`steps=2 * TIME`).
    """
    return tolerance(builtin_dtype(dtype), steps * UNITS)


def random_weights(rng, use_bias=True, dtype="float64"):
    return random_gru_weights(rng, INPUT_DIM, UNITS, use_bias=use_bias, dtype=dtype)


def twin_layers(weights, dtype="float64", **rnn_kwargs):
    """A ChungGRUCell RNN with `weights` and a built-in GRU with them converted."""
    use_bias = len(weights) == 3
    chung = keras.layers.RNN(
        ChungGRUCell(UNITS, use_bias=use_bias, dtype=dtype), dtype=dtype, **rnn_kwargs
    )
    builtin = keras.layers.GRU(
        UNITS, reset_after=False, use_bias=use_bias, dtype=dtype, **rnn_kwargs
    )
    for layer in (chung, builtin):
        layer.build((None, None, INPUT_DIM))
    chung.set_weights(weights)
    builtin.set_weights(chung_to_keras_gru_weights(weights))
    return chung, builtin


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def test_reference_keras_convention_matches_builtin_gru(rng):
    # Guards the NumPy model of keras.layers.GRU that the docs reason with.
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    gru = keras.layers.GRU(UNITS, reset_after=False, dtype="float64")
    gru.build((None, None, INPUT_DIM))
    gru.set_weights(weights)

    expected = run_sequence(x, *weights, step=keras_gru_step)[1]
    assert_allclose(gru(x), expected, **close())


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_converted_builtin_gru_gives_same_outputs_and_states(
    rng, use_bias, go_backwards
):
    chung, builtin = twin_layers(
        random_weights(rng, use_bias),
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
    )
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))

    (chung_sequence, chung_state), (builtin_sequence, builtin_state) = (
        chung(x),
        builtin(x),
    )

    assert_allclose(chung_sequence, builtin_sequence, **close())
    assert_allclose(chung_state, builtin_state, **close())


def test_converted_builtin_gru_gives_same_float32_outputs(rng):
    chung, builtin = twin_layers(random_weights(rng, dtype="float32"), "float32")
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")

    assert_allclose(chung(x), builtin(x), **close("float32"))


def test_converted_builtin_gru_gives_same_gradients(rng):
    chung, builtin = twin_layers(random_weights(rng), return_sequences=True)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    probe = rng.normal(size=(BATCH, TIME, UNITS))

    chung_dx, chung_dw = input_and_weight_gradients(chung, x, probe)
    builtin_dx, builtin_dw = input_and_weight_gradients(builtin, x, probe)

    assert_allclose(chung_dx, builtin_dx, **close(steps=2 * TIME))
    # The chain rule through the negated z block negates its gradient too.
    for chung_grad, mapped in zip(
        chung_dw, keras_gru_to_chung_weights(builtin_dw), strict=True
    ):
        assert_allclose(chung_grad, mapped, **close(steps=2 * TIME))


def addition_like_model(recurrent_layer, dtype):
    inputs = keras.Input((TIME, INPUT_DIM), dtype=dtype)
    hidden = recurrent_layer(inputs)
    outputs = keras.layers.TimeDistributed(keras.layers.Dense(1, dtype=dtype))(hidden)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("direction", ["chung_to_keras", "keras_to_chung"])
def test_fit_from_mapped_weights_follows_the_same_trajectory(rng, direction):
    dtype = "float64"
    x = rng.integers(0, 2, size=(64, TIME, INPUT_DIM)).astype(dtype)
    y = (x.sum(axis=-1, keepdims=True) % 2).astype(dtype)
    chung = addition_like_model(
        keras.layers.RNN(
            ChungGRUCell(UNITS, dtype=dtype), return_sequences=True, dtype=dtype
        ),
        dtype,
    )
    builtin = addition_like_model(
        keras.layers.GRU(UNITS, reset_after=False, return_sequences=True, dtype=dtype),
        dtype,
    )
    if direction == "chung_to_keras":
        recurrent = chung_to_keras_gru_weights(chung.layers[1].get_weights())
        builtin.layers[1].set_weights(recurrent)
        builtin.layers[2].set_weights(chung.layers[2].get_weights())
    else:
        recurrent = keras_gru_to_chung_weights(builtin.layers[1].get_weights())
        chung.layers[1].set_weights(recurrent)
        chung.layers[2].set_weights(builtin.layers[2].get_weights())
    histories = []
    for model in (chung, builtin):
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        history = model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
        histories.append(history.history["loss"])

    # Sixteen optimizer steps, each through TIME steps forward and back.
    trajectory = close(steps=16 * TIME)
    assert_allclose(histories[0], histories[1], **trajectory)
    assert histories[0][-1] < histories[0][0]
    mapped_back = keras_gru_to_chung_weights(builtin.layers[1].get_weights())
    for trained, mapped in zip(chung.layers[1].get_weights(), mapped_back, strict=True):
        assert_allclose(trained, mapped, **trajectory)
    for trained, other in zip(
        chung.layers[2].get_weights(), builtin.layers[2].get_weights(), strict=True
    ):
        assert_allclose(trained, other, **trajectory)


def test_conversion_is_its_own_inverse(rng):
    weights = random_weights(rng)

    round_trip = keras_gru_to_chung_weights(chung_to_keras_gru_weights(weights))

    for original, restored in zip(weights, round_trip, strict=True):
        assert_array_equal(original, restored)


def test_conversion_negates_only_the_update_gate_block(rng):
    kernel, recurrent_kernel, bias = random_weights(rng)

    converted = chung_to_keras_gru_weights([kernel, recurrent_kernel, bias])

    for original, new in zip([kernel, recurrent_kernel, bias], converted, strict=True):
        assert_array_equal(new[..., :UNITS], -original[..., :UNITS])
        assert_array_equal(new[..., UNITS:], original[..., UNITS:])


def test_conversion_accepts_keras_variables(rng):
    chung, builtin = twin_layers(random_weights(rng))

    converted = chung_to_keras_gru_weights(chung.weights)

    for new, expected in zip(converted, builtin.get_weights(), strict=True):
        assert_array_equal(new, expected)


def test_reset_after_weights_are_refused_naming_reset_after():
    gru = keras.layers.GRU(UNITS, reset_after=True)
    gru.build((None, None, INPUT_DIM))

    with pytest.raises(
        ValueError, match=r"reset_after=True.*\(2, 15\)|\(2, 15\).*`reset_after=True`"
    ):
        keras_gru_to_chung_weights(gru.get_weights())


@pytest.mark.parametrize("activation", ["sigmoid", "hard_sigmoid"])
def test_symmetric_gate_activations_are_accepted(rng, activation):
    converted = chung_to_keras_gru_weights(random_weights(rng), activation)

    assert len(converted) == 3


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_gate_activations_without_exact_mapping_are_refused(rng, activation):
    with pytest.raises(
        ValueError, match=rf"'{activation}' has no exact weight mapping"
    ):
        chung_to_keras_gru_weights(random_weights(rng), activation)


def test_wrong_number_of_weights_is_refused(rng):
    with pytest.raises(ValueError, match="received 1"):
        chung_to_keras_gru_weights(random_weights(rng)[:1])


def test_non_list_weights_are_refused(rng):
    with pytest.raises(ValueError, match="received ndarray"):
        chung_to_keras_gru_weights(random_weights(rng)[0])


def test_mismatched_kernel_shape_is_refused(rng):
    kernel, recurrent_kernel, bias = random_weights(rng)

    with pytest.raises(ValueError, match=r"`kernel` of shape \(input_dim, 15\)"):
        chung_to_keras_gru_weights([kernel[:, :12], recurrent_kernel, bias])


def test_mismatched_bias_shape_is_refused(rng):
    kernel, recurrent_kernel, bias = random_weights(rng)

    with pytest.raises(ValueError, match=r"`bias` of shape \(15,\).*\(14,\)"):
        chung_to_keras_gru_weights([kernel, recurrent_kernel, bias[:14]])


def test_non_square_recurrent_kernel_is_refused(rng):
    kernel, _, bias = random_weights(rng)

    with pytest.raises(ValueError, match=r"`recurrent_kernel` of shape"):
        chung_to_keras_gru_weights([kernel, np.zeros((4, 15)), bias])


@pytest.mark.parametrize("source", ["layer", "cell"])
def test_from_keras_gru_builds_an_equivalent_cell(rng, source):
    gru = keras.layers.GRU(
        UNITS, reset_after=False, return_sequences=True, dropout=0.25, seed=3
    )
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    expected = gru(x)

    cell = ChungGRUCell.from_keras_gru(gru if source == "layer" else gru.cell)

    assert (cell.units, cell.dropout, cell.seed) == (UNITS, 0.25, 3)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    assert_allclose(rnn(x), expected, **close("float32"))


def test_from_keras_gru_refuses_reset_after_true():
    gru = keras.layers.GRU(UNITS)
    gru.build((None, None, INPUT_DIM))

    with pytest.raises(ValueError, match="reset_after=True"):
        ChungGRUCell.from_keras_gru(gru)


def test_from_keras_gru_refuses_an_unbuilt_layer():
    with pytest.raises(ValueError, match="build it"):
        ChungGRUCell.from_keras_gru(keras.layers.GRU(UNITS, reset_after=False))


def test_from_keras_gru_refuses_other_layers():
    with pytest.raises(ValueError, match="received LSTM"):
        ChungGRUCell.from_keras_gru(keras.layers.LSTM(UNITS))

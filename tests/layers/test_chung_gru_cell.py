"""`ChungGRUCell` in `keras.layers.RNN` against the independent NumPy reference."""

import itertools

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_allclose
from tests.asserts import assert_array_equal
from tests.asserts import to_numpy
from tests.asserts import tolerance
from tests.numpy_reference import chung_gru_step
from tests.numpy_reference import random_gru_weights
from tests.numpy_reference import run_sequence

BATCH, TIME, INPUT_DIM, UNITS = 3, 7, 4, 5


def close(dtype="float64", steps=TIME):
    """The tolerance of a comparison of `steps` recurrent steps in `dtype`."""
    return tolerance(dtype, steps * UNITS)


def random_weights(rng, input_dim=INPUT_DIM, units=UNITS, dtype="float64"):
    return random_gru_weights(rng, input_dim, units, dtype=dtype)


def chung_rnn(weights, dtype="float64", batch_size=None, **rnn_kwargs):
    units = weights[1].shape[0]
    rnn = keras.layers.RNN(
        ChungGRUCell(units, use_bias=len(weights) == 3, dtype=dtype),
        dtype=dtype,
        **rnn_kwargs,
    )
    rnn.build((batch_size, None, weights[0].shape[0]))
    rnn.set_weights(weights)
    return rnn


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_whole_sequence_matches_numpy_reference(rng, dtype):
    weights = random_weights(rng, dtype=dtype)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype(dtype)
    rnn = chung_rnn(weights, dtype=dtype, return_sequences=True, return_state=True)

    outputs, state = rnn(x)

    expected_outputs, expected_state = run_sequence(x, *weights)
    assert_allclose(outputs, expected_outputs, **close(dtype))
    assert_allclose(state, expected_state, **close(dtype))


def test_update_gate_selects_the_new_candidate(rng):
    # A saturated update gate (z ≈ 1) must replace the state by the candidate
    # at the first step; Keras's convention would keep the zero state instead.
    kernel = np.zeros((1, 3), "float64")
    kernel[0, 2] = 1.0
    bias = np.array([50.0, 0.0, 0.0])
    rnn = chung_rnn([kernel, np.zeros((1, 3)), bias], return_sequences=True)

    outputs = rnn(np.full((1, 1, 1), 0.5))

    assert_allclose(outputs[0, 0, 0], np.tanh(0.5), **close())


def test_reset_gate_applies_before_the_recurrent_product(rng):
    weights = random_weights(rng, input_dim=2, units=3)
    x_t = rng.normal(size=(4, 2))
    h_prev = rng.normal(size=(4, 3))
    cell = ChungGRUCell(3, dtype="float64")
    cell.build((None, 2))
    cell.set_weights(weights)

    h, _ = cell(x_t, [h_prev])

    assert_allclose(h, chung_gru_step(x_t, h_prev, *weights), **close())


def test_golden_output_with_constant_initializers():
    # Hand-computed: every pre-activation is 0.1 * (sum of inputs) at step 1.
    cell = ChungGRUCell(
        2,
        kernel_initializer=keras.initializers.Constant(0.1),
        recurrent_initializer=keras.initializers.Constant(0.1),
        bias_initializer="zeros",
    )
    x = np.array([[[1.0, 2.0]]], "float32")

    output = keras.layers.RNN(cell)(x)

    a = 0.1 * 3.0
    z = 1.0 / (1.0 + np.exp(-a))
    assert_allclose(output, np.full((1, 2), z * np.tanh(a)), **tolerance("float32", 2))


def test_masking_layer_skips_padded_steps(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    mask = np.ones((BATCH, TIME), bool)
    mask[0, 5:] = False
    mask[2, 2:] = False
    x[~mask] = 0.0
    inputs = keras.Input((TIME, INPUT_DIM), dtype="float64")
    masked = keras.layers.Masking(0.0, dtype="float64")(inputs)
    outputs = chung_rnn(weights, return_sequences=True, return_state=True)(masked)
    model = keras.Model(inputs, outputs)

    sequence, state = model(x)

    expected_sequence, expected_state = run_sequence(x, *weights, mask=mask)
    assert_allclose(sequence, expected_sequence, **close())
    assert_allclose(state, expected_state, **close())


def test_embedding_mask_zero_propagates_to_the_cell(rng):
    tokens = np.array([[3, 1, 2, 0, 0], [1, 1, 0, 0, 0]])
    embedding = keras.layers.Embedding(4, INPUT_DIM, mask_zero=True, dtype="float64")
    weights = random_weights(rng)
    rnn = chung_rnn(weights)

    state = rnn(embedding(tokens))

    embedded = to_numpy(embedding(tokens))
    _, expected = run_sequence(embedded, *weights, mask=tokens != 0)
    assert_allclose(state, expected, **close())


def test_go_backwards_reads_the_sequence_in_reverse(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    rnn = chung_rnn(weights, return_sequences=True, go_backwards=True)

    outputs = rnn(x)

    expected, _ = run_sequence(x, *weights, go_backwards=True)
    assert_allclose(outputs, expected, **close())


def test_initial_state_is_used(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    h0 = rng.normal(size=(BATCH, UNITS))
    rnn = chung_rnn(weights)

    state = rnn(x, initial_state=[h0])

    _, expected = run_sequence(x, *weights, initial_state=h0)
    assert_allclose(state, expected, **close())


def test_stateful_layer_continues_across_batches(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    rnn = chung_rnn(weights, batch_size=BATCH, stateful=True, return_sequences=True)

    first, second = rnn(x[:, :3]), rnn(x[:, 3:])
    rnn.reset_state()
    restarted = rnn(x[:, 3:])

    expected, _ = run_sequence(x, *weights)
    assert_allclose(first, expected[:, :3], **close())
    assert_allclose(second, expected[:, 3:], **close())
    fresh, _ = run_sequence(x[:, 3:], *weights)
    assert_allclose(restarted, fresh, **close())


def test_unrolled_loop_matches_reference(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    inputs = keras.Input((TIME, INPUT_DIM), dtype="float64")
    model = keras.Model(inputs, chung_rnn(weights, unroll=True)(inputs))

    assert_allclose(model(x), run_sequence(x, *weights)[1], **close())


def test_no_bias_variant_has_two_weights_and_matches_reference(rng):
    weights = random_weights(rng)[:2]
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    rnn = chung_rnn(weights)

    assert [w.path.split("/")[-1] for w in rnn.weights] == [
        "kernel",
        "recurrent_kernel",
    ]
    assert_allclose(rnn(x), run_sequence(x, *weights)[1], **close())


def test_weights_are_created_in_contract_order_and_shapes():
    rnn = keras.layers.RNN(ChungGRUCell(UNITS))
    rnn.build((None, None, INPUT_DIM))

    assert [(w.path.split("/")[-1], tuple(w.shape)) for w in rnn.weights] == [
        ("kernel", (INPUT_DIM, 3 * UNITS)),
        ("recurrent_kernel", (UNITS, 3 * UNITS)),
        ("bias", (3 * UNITS,)),
    ]


def test_bidirectional_concatenates_forward_and_backward_passes(rng):
    forward, backward = random_weights(rng), random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    layer = keras.layers.Bidirectional(
        keras.layers.RNN(ChungGRUCell(UNITS, dtype="float64"), dtype="float64"),
        dtype="float64",
    )
    layer.build((None, TIME, INPUT_DIM))
    layer.set_weights(forward + backward)

    outputs = layer(x)

    _, expected_forward = run_sequence(x, *forward)
    _, expected_backward = run_sequence(x, *backward, go_backwards=True)
    assert_allclose(
        outputs,
        np.concatenate([expected_forward, expected_backward], -1),
        **close(),
    )


def test_stacked_cells_feed_each_other(rng):
    # Keras's StackedRNNCells computes in the default float32, whatever the RNN.
    first = random_weights(rng, dtype="float32")
    second = random_weights(rng, input_dim=UNITS, units=3, dtype="float32")
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    rnn = keras.layers.RNN(
        [ChungGRUCell(UNITS), ChungGRUCell(3)], return_sequences=True
    )
    rnn.build((None, TIME, INPUT_DIM))
    rnn.set_weights(first + second)

    outputs = rnn(x)

    hidden, _ = run_sequence(x, *first)
    expected, _ = run_sequence(hidden, *second)
    assert_allclose(outputs, expected, **close("float32", steps=2 * TIME))


class TwoLayerSubclassedModel(keras.Model):
    def __init__(self, units):
        super().__init__()
        self.rnn = keras.layers.RNN(ChungGRUCell(units), return_sequences=True)
        self.head = keras.layers.Dense(1)

    def call(self, inputs):
        return self.head(self.rnn(inputs))


@pytest.mark.parametrize("style", ["functional", "sequential", "subclassed"])
def test_trains_in_every_model_style(rng, style):
    x = rng.normal(size=(16, TIME, INPUT_DIM)).astype("float32")
    y = np.cumsum(x[..., :1], axis=1) / TIME
    if style == "functional":
        inputs = keras.Input((None, INPUT_DIM))
        hidden = keras.layers.RNN(ChungGRUCell(8), return_sequences=True)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    elif style == "sequential":
        model = keras.Sequential(
            [
                keras.Input((None, INPUT_DIM)),
                keras.layers.RNN(ChungGRUCell(8), return_sequences=True),
                keras.layers.Dense(1),
            ]
        )
    else:
        model = TwoLayerSubclassedModel(8)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")

    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)

    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def dropout_rnn(weights, seed, **cell_kwargs):
    cell = ChungGRUCell(UNITS, seed=seed, dtype="float64", **cell_kwargs)
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    rnn.build((None, None, weights[0].shape[0]))
    rnn.set_weights(weights)
    return rnn


def find_constant_mask(outputs, run, rate, width):
    """The one mask, held over all steps, that reproduces `outputs`, else None."""
    scale = 1.0 / (1.0 - rate)
    for bits in itertools.product([0.0, scale], repeat=width):
        if np.allclose(run(np.array(bits)), outputs, **close()):
            return np.array(bits)
    return None


def test_input_dropout_mask_is_held_over_all_time_steps(rng):
    weights = random_weights(rng, input_dim=3)
    x = rng.normal(size=(2, TIME, 3))
    outputs = to_numpy(dropout_rnn(weights, seed=1, dropout=0.5)(x, training=True))

    masks = [
        find_constant_mask(
            outputs[b],
            lambda m, b=b: run_sequence(x[b : b + 1] * m, *weights)[0][0],
            rate=0.5,
            width=3,
        )
        for b in range(2)
    ]

    assert all(mask is not None for mask in masks)
    assert any((mask == 0).any() for mask in masks), "no unit was dropped"


def test_recurrent_dropout_mask_is_held_over_all_time_steps(rng):
    weights = random_weights(rng, units=UNITS)
    x = rng.normal(size=(3, TIME, INPUT_DIM))
    outputs = to_numpy(
        dropout_rnn(weights, seed=3, recurrent_dropout=0.5)(x, training=True)
    )

    def run_row(b, mask):
        # The mask scales the state entering the recurrent products only.
        def step(x_t, h, kernel, recurrent_kernel, bias):
            units = h.shape[-1]
            dropped = h * mask
            pre = x_t @ kernel + bias
            zr = dropped @ recurrent_kernel[:, : 2 * units]
            z = 1 / (1 + np.exp(-(pre[:, :units] + zr[:, :units])))
            r = 1 / (1 + np.exp(-(pre[:, units : 2 * units] + zr[:, units:])))
            h_tilde = np.tanh(
                pre[:, 2 * units :] + (r * dropped) @ recurrent_kernel[:, 2 * units :]
            )
            return (1 - z) * h + z * h_tilde

        return run_sequence(x[b : b + 1], *weights, step=step)[0][0]

    masks = [
        find_constant_mask(
            outputs[b], lambda m, b=b: run_row(b, m), rate=0.5, width=UNITS
        )
        for b in range(3)
    ]

    assert all(mask is not None for mask in masks)
    assert any((mask == 0).any() for mask in masks), "no unit was dropped"


def test_dropout_is_reproducible_with_a_seed(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))

    first = dropout_rnn(weights, 7, dropout=0.3, recurrent_dropout=0.3)
    second = dropout_rnn(weights, 7, dropout=0.3, recurrent_dropout=0.3)
    other = dropout_rnn(weights, 8, dropout=0.3, recurrent_dropout=0.3)

    same_a, same_b = first(x, training=True), second(x, training=True)
    assert_array_equal(same_a, same_b)
    assert not np.allclose(to_numpy(same_a), to_numpy(other(x, training=True)))


def test_dropout_draws_new_masks_for_each_batch(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    rnn = dropout_rnn(weights, 7, dropout=0.5)

    assert not np.allclose(
        to_numpy(rnn(x, training=True)), to_numpy(rnn(x, training=True))
    )


def test_dropout_is_inactive_at_inference(rng):
    weights = random_weights(rng)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    rnn = dropout_rnn(weights, 7, dropout=0.5, recurrent_dropout=0.5)

    assert_allclose(rnn(x, training=False), run_sequence(x, *weights)[0], **close())


@pytest.mark.parametrize(
    ("policy", "compute_dtype"),
    [
        ("float64", "float64"),
        ("mixed_float16", "float16"),
        ("mixed_bfloat16", "bfloat16"),
    ],
)
def test_dtype_policies_compute_in_their_dtype_and_train(rng, policy, compute_dtype):
    x = rng.normal(size=(8, TIME, INPUT_DIM)).astype("float32")
    y = np.cumsum(x[..., :1], axis=1) / TIME
    inputs = keras.Input((None, INPUT_DIM))
    rnn = keras.layers.RNN(
        ChungGRUCell(8, dtype=policy), return_sequences=True, dtype=policy
    )
    hidden = rnn(inputs)
    outputs = keras.layers.Dense(1, dtype="float32")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")

    assert keras.backend.standardize_dtype(rnn(x).dtype) == compute_dtype
    assert all(
        w.dtype == ("float64" if policy == "float64" else "float32")
        for w in rnn.weights
    )
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("units", [0, -3, 2.5, "4", True, None])
def test_invalid_units_is_rejected_with_its_value(units):
    with pytest.raises(ValueError, match=rf"argument `units`.*got {units!r}"):
        ChungGRUCell(units)


@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.2"])
def test_dropout_rate_outside_unit_interval_is_rejected(argument, rate):
    with pytest.raises(ValueError, match=rf"argument `{argument}`.*got {rate!r}"):
        ChungGRUCell(4, **{argument: rate})


@pytest.mark.parametrize(
    "argument",
    [
        "activation",
        "recurrent_activation",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_constraint",
    ],
)
def test_unknown_identifier_is_rejected_naming_the_argument(argument):
    with pytest.raises(ValueError, match=rf"argument `{argument}`: 'no_such_thing'"):
        ChungGRUCell(4, **{argument: "no_such_thing"})


def test_wrong_input_rank_is_rejected():
    with pytest.raises(ValueError, match=r"rank 2.*input_shape=\(None, 4, 2\)"):
        keras.layers.RNN(ChungGRUCell(4)).build((None, 3, 4, 2))


def test_cell_called_with_a_sequence_is_rejected():
    cell = ChungGRUCell(4)
    with pytest.raises(ValueError, match=r"rank 2.*\(2, 3, 4\)"):
        cell(np.zeros((2, 3, 4), "float32"), [np.zeros((2, 4), "float32")])


def test_input_feature_size_different_from_build_is_rejected():
    rnn = keras.layers.RNN(ChungGRUCell(4))
    rnn(np.zeros((2, 3, 5), "float32"))

    with pytest.raises(ValueError, match=r"\(batch, 5\).*\(2, 6\)"):
        rnn(np.zeros((2, 3, 6), "float32"))

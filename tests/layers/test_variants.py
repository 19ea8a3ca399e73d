"""The GRU variants: layer normalization, zoneout and recurrent DropConnect,
and the per-gate initializers.

Every output is checked against the NumPy reference
(`tests/numpy_reference.py::chung_gru_variant_step`), the fused layer's
gradients against the cell's autodiff, and the cell's autodiff against
finite differences of the reference.
"""

import functools
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from keras_gru_cell import PerGateOrthogonal
from keras_gru_cell import UpdateGateBias
from keras_gru_cell import chung_to_keras_gru_weights
from tests.asserts import assert_allclose
from tests.asserts import to_numpy
from tests.asserts import tolerance
from tests.gradients import input_and_weight_gradients
from tests.numpy_reference import chung_gru_variant_step
from tests.numpy_reference import random_gru_weights
from tests.numpy_reference import run_sequence
from tests.numpy_reference import sigmoid

BATCH, TIME, INPUT_DIM, UNITS = 3, 7, 4, 5
SEED = 11

VARIANTS = {
    "layer_norm": {"layer_normalization": True},
    "zoneout": {"zoneout": 0.3},
    "dropconnect": {"recurrent_dropconnect": 0.4},
    "all": {"layer_normalization": True, "zoneout": 0.3, "recurrent_dropconnect": 0.4},
}


def close(dtype="float64", steps=TIME):
    return tolerance(dtype, steps * UNITS)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def variant_weights(rng, options, use_bias=True, dtype="float64"):
    """GRU weights, and random gains and biases when layer normalized."""
    weights = random_gru_weights(rng, INPUT_DIM, UNITS, use_bias=use_bias, dtype=dtype)
    if options.get("layer_normalization"):
        for _ in range(2):
            weights.append(rng.uniform(0.5, 1.5, 3 * UNITS).astype(dtype))
            weights.append(rng.normal(0.0, 0.3, 3 * UNITS).astype(dtype))
    return weights


def fused_and_cellwise(weights, options, dtype="float64", batch_size=None, **kwargs):
    """A `ChungGRU` and an `RNN(ChungGRUCell)` with the same options and weights."""
    use_bias = len(weights) in (3, 7)
    cell_options = {"use_bias": use_bias, "dtype": dtype, **options}
    fused = ChungGRU(UNITS, **cell_options, **kwargs)
    # keras.layers.RNN on JAX runs the cell in `lax.scan`, where zoneout's
    # per-step draw from a seed generator cannot update its state.
    unroll = keras.backend.backend() == "jax" and options.get("zoneout", 0.0) > 0.0
    cellwise = keras.layers.RNN(
        ChungGRUCell(UNITS, **cell_options), dtype=dtype, unroll=unroll, **kwargs
    )
    for layer in (fused, cellwise):
        layer.build((batch_size, TIME, INPUT_DIM))
        layer.set_weights(weights)
    return fused, cellwise


def reference(x, weights, options, *, kernel_mask=None, keep=None, **kwargs):
    """The NumPy reference's `(outputs, final_state)`."""
    norm = weights[-4:] if options.get("layer_normalization") else None
    gru = weights[:-4] if norm is not None else weights
    step = functools.partial(
        chung_gru_variant_step,
        norm=norm,
        zoneout=options.get("zoneout", 0.0),
        keep=keep,
        kernel_mask=kernel_mask,
    )
    return run_sequence(x, *gru, step=step, **kwargs)


def padded_inputs(rng, batch=BATCH):
    x = rng.normal(size=(batch, TIME, INPUT_DIM))
    mask = np.ones((batch, TIME), bool)
    mask[0, :2] = False
    mask[1, 4:] = False
    mask[2, 3] = False
    return x, mask


def dropconnect_mask(options):
    """The mask a layer with `seed=SEED` draws first: its DropConnect mask."""
    generator = keras.random.SeedGenerator(SEED)
    ones = keras.ops.ones((UNITS, 3 * UNITS))
    rate = options["recurrent_dropconnect"]
    return to_numpy(keras.random.dropout(ones, rate, seed=generator)).astype("float64")


# keras.layers.RNN on JAX repeats the initial state, not zeros, as the output
# of leading masked steps: a masked sequence starts from the zero state here.
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize(
    "padded", [False, True], ids=["initial_state", "masked_backwards"]
)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_inference_matches_numpy_reference(rng, variant, padded, use_bias):
    options = VARIANTS[variant]
    weights = variant_weights(rng, options, use_bias)
    kwargs = {"return_sequences": True, "return_state": True}
    x, mask = padded_inputs(rng)
    if padded:
        kwargs["go_backwards"] = True
        call = {"mask": mask}
    else:
        call = {"initial_state": rng.normal(size=(BATCH, UNITS))}
    fused, cellwise = fused_and_cellwise(weights, options, **kwargs)
    expected_outputs, expected_state = reference(
        x, weights, options, go_backwards=padded, **call
    )

    for layer in (fused, cellwise):
        outputs, state = layer(x, **call)
        assert_allclose(outputs, expected_outputs, **close())
        assert_allclose(state, expected_state, **close())


@pytest.mark.parametrize("variant", ["dropconnect", "all"])
def test_dropconnect_in_training_matches_numpy_reference_with_its_mask(rng, variant):
    options = {**VARIANTS[variant], "zoneout": 0.0, "seed": SEED}
    weights = variant_weights(rng, options)
    fused, cellwise = fused_and_cellwise(weights, options, return_sequences=True)
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM))
    kernel_mask = dropconnect_mask(options)
    expected, _ = reference(x, weights, options, kernel_mask=kernel_mask)

    rate = options["recurrent_dropconnect"]
    assert set(np.unique(kernel_mask)) == {0.0, np.float32(1.0 / (1.0 - rate))}
    for layer in (fused, cellwise):
        assert_allclose(layer(x, training=True), expected, **close())
        # One mask per call: the next call draws another.
        assert not np.allclose(to_numpy(layer(x, training=True)), expected)
    assert_allclose(fused(x), reference(x, weights, options)[0], **close())


def zoned_out_units(layer, x, weights, options):
    """Which units `layer` kept at each step of a training call on `x`.

    Returns `(kept, distinct)`, both `(batch, time, units)`: `kept` where a
    unit's state equals its previous one, and `distinct` where the step
    without zoneout would have moved it clearly, so that a kept unit was
    zoned out. Asserts that every unit was either kept or updated as the
    NumPy reference updates it.
    """
    batch = x.shape[0]
    states = to_numpy(layer(x, training=True))
    previous = np.concatenate([np.zeros((batch, 1, UNITS)), states[:, :-1]], axis=1)
    no_zoneout = {**options, "zoneout": 0.0}
    updated = np.stack(
        [
            reference(
                x[:, t : t + 1], weights, no_zoneout, initial_state=previous[:, t]
            )[1]
            for t in range(x.shape[1])
        ],
        axis=1,
    )
    atol = close()["atol"]
    kept = np.abs(states - previous) <= atol
    assert np.all(kept | (np.abs(states - updated) <= atol))
    return kept, np.abs(previous - updated) > 10 * atol


@pytest.mark.parametrize("variant", ["zoneout", "all"])
@pytest.mark.parametrize("layer_type", ["fused", "cellwise"])
def test_zoneout_in_training_keeps_each_unit_or_updates_it(rng, variant, layer_type):
    options = {**VARIANTS[variant], "recurrent_dropconnect": 0.0, "seed": SEED}
    weights = variant_weights(rng, options)
    layers = fused_and_cellwise(weights, options, return_sequences=True)
    layer = layers[0] if layer_type == "fused" else layers[1]
    x = rng.normal(size=(64, TIME, INPUT_DIM))

    kept, distinct = zoned_out_units(layer, x, weights, options)

    fraction = kept[distinct].mean()
    # 2240 Bernoulli(0.3) draws: 0.05 is over 5 standard deviations.
    assert abs(fraction - options["zoneout"]) < 0.05
    # A new mask at every step: of the units that three or more steps would
    # clearly move, about 0.3³ stay kept at all of them (0.3 with one mask).
    kept_throughout = np.all(kept | ~distinct, axis=1)
    watched = distinct.sum(axis=1) >= 3
    assert kept_throughout[watched].mean() < 0.1


# The cell and the fused layer zone out different units in training, from
# the same distribution: the fused layer draws every step's mask before its
# loop, while keras.layers.RNN runs the cell's per-step draws inside its own
# loop, where TensorFlow's and PyTorch's call the step once more before the
# loop (for the output's shape) and JAX's `lax.scan` cannot advance the seed
# generator at all (below). Matching them would tie the fused layer to each
# backend's private loop; both are checked against the reference instead.
@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX's scan of keras.layers.RNN"
)
def test_cellwise_zoneout_in_a_jax_scan_keeps_one_mask_for_every_step(rng):
    # keras.layers.RNN on JAX runs its cell in `lax.scan` within a stateless
    # scope, which discards the seed generator's updates: each step draws
    # the same mask (documented on the Variants page; `unroll=True` or
    # `ChungGRU` draw a new one at every step).
    options = {"zoneout": 0.3, "seed": SEED}
    weights = variant_weights(rng, options)
    cell = ChungGRUCell(UNITS, dtype="float64", **options)
    layer = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    layer.build((None, TIME, INPUT_DIM))
    layer.set_weights(weights)
    x = rng.normal(size=(64, TIME, INPUT_DIM))

    kept, distinct = zoned_out_units(layer, x, weights, options)

    both = distinct[:, 1:] & distinct[:, :1]
    assert np.all(
        kept[:, 1:][both] == np.broadcast_to(kept[:, :1], kept[:, 1:].shape)[both]
    )
    assert abs(kept[distinct].mean() - options["zoneout"]) < 0.05


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX's scan of keras.layers.RNN"
)
def test_cellwise_zoneout_trains_in_a_jax_fit_only_unrolled():
    # In `fit`'s compiled step the scan's discarded seed updates leak out of
    # it as tracers, and JAX refuses them: the cell with zoneout trains in
    # keras.layers.RNN on JAX only with `unroll=True` (the Variants page
    # says so; `ChungGRU` needs nothing). This fails, and is seen, the day
    # Keras's scan carries the seed generator.
    x, y = np.zeros((8, 5, INPUT_DIM)), np.zeros((8, 1))

    def fit(unroll):
        cell = ChungGRUCell(UNITS, zoneout=0.3, seed=SEED)
        model = keras.Sequential(
            [
                keras.Input((5, INPUT_DIM)),
                keras.layers.RNN(cell, unroll=unroll),
                keras.layers.Dense(1),
            ]
        )
        model.compile("adam", "mse")
        return model.fit(x, y, epochs=1, verbose=0).history["loss"]

    import jax

    with pytest.raises(jax.errors.UnexpectedTracerError):
        fit(unroll=False)
    assert np.isfinite(fit(unroll=True)).all()


# "all" at inference covers the autodiff fallback (layer normalization and
# zoneout); DropConnect in training alone keeps the hand-written backward pass.
@pytest.mark.parametrize(
    ("variant", "training"),
    [("all", False), ("dropconnect", True), ("layer_norm_dropconnect", True)],
)
def test_gradients_match_cellwise_rnn(rng, variant, training):
    options = VARIANTS.get(
        variant, {"layer_normalization": True, "recurrent_dropconnect": 0.4}
    )
    options = {**options, "seed": SEED}
    weights = variant_weights(rng, options)
    fused, cellwise = fused_and_cellwise(
        weights, options, return_sequences=True, go_backwards=True
    )
    x, mask = padded_inputs(rng)
    probe = rng.normal(size=(BATCH, TIME, UNITS))

    d_x, d_weights = input_and_weight_gradients(
        fused, x, probe, mask=mask, training=training
    )
    expected_d_x, expected_d_weights = input_and_weight_gradients(
        cellwise, x, probe, mask=mask, training=training
    )

    assert_allclose(d_x, expected_d_x, **close(steps=2 * TIME))
    assert len(d_weights) == len(weights)
    for actual, expected in zip(d_weights, expected_d_weights, strict=True):
        assert_allclose(actual, expected, **close(steps=2 * TIME))


def test_cell_gradients_match_finite_differences_of_the_reference(rng):
    options = {"layer_normalization": True, "zoneout": 0.3}
    weights = variant_weights(rng, options)
    _, cellwise = fused_and_cellwise(weights, options, return_sequences=True)
    x = rng.normal(size=(2, 4, INPUT_DIM))
    probe = rng.normal(size=(2, 4, UNITS))

    def loss(x, weights):
        return np.sum(reference(x, weights, options)[0] * probe)

    def numeric_gradient(array, rebuild):
        gradient = np.zeros_like(array)
        step = 1e-6
        for index in np.ndindex(array.shape):
            shifted = [array.copy(), array.copy()]
            shifted[0][index] += step
            shifted[1][index] -= step
            gradient[index] = (
                loss(*rebuild(shifted[0])) - loss(*rebuild(shifted[1]))
            ) / (2 * step)
        return gradient

    d_x, d_weights = input_and_weight_gradients(cellwise, x, probe)

    assert_allclose(
        d_x, numeric_gradient(x, lambda a: (a, weights)), atol=1e-7, rtol=1e-6
    )
    for k, actual in enumerate(d_weights):

        def rebuild(a, k=k):
            return x, [a if i == k else w for i, w in enumerate(weights)]

        assert_allclose(
            actual, numeric_gradient(weights[k], rebuild), atol=1e-7, rtol=1e-6
        )


def test_stateful_layer_with_variants_continues_like_cellwise_rnn(rng):
    options = VARIANTS["all"]
    weights = variant_weights(rng, options)
    fused, cellwise = fused_and_cellwise(
        weights, options, batch_size=BATCH, stateful=True
    )
    batches = rng.normal(size=(2, BATCH, TIME, INPUT_DIM))

    for x in batches:
        assert_allclose(fused(x), cellwise(x), **close(steps=2 * TIME))


def test_default_layers_create_no_new_weights_and_read_old_configs():
    old_config = ChungGRU(UNITS).get_config()
    for key in ("layer_normalization", "zoneout", "recurrent_dropconnect"):
        del old_config[key]
    layer = ChungGRU.from_config(old_config)
    layer.build((None, TIME, INPUT_DIM))

    assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert (layer.layer_normalization, layer.zoneout, layer.recurrent_dropconnect) == (
        False,
        0.0,
        0.0,
    )


def test_layer_normalization_adds_its_weights_after_the_gru_weights():
    layer = ChungGRU(UNITS, layer_normalization=True)
    layer.build((None, TIME, INPUT_DIM))

    assert [(w.name, tuple(w.shape)) for w in layer.weights[3:]] == [
        (name, (3 * UNITS,))
        for name in ("input_gamma", "input_beta", "recurrent_gamma", "recurrent_beta")
    ]


def non_default_layer(**kwargs):
    return ChungGRU(
        UNITS,
        layer_normalization=True,
        zoneout=0.2,
        recurrent_dropconnect=0.1,
        recurrent_initializer=PerGateOrthogonal(gain=0.9, seed=3),
        bias_initializer=UpdateGateBias(chrono=20, seed=4),
        seed=5,
        **kwargs,
    )


def test_config_round_trips_the_variants_and_initializers():
    for layer in (non_default_layer(), non_default_layer().cell):
        config = layer.get_config()
        restored = type(layer).from_config(config)
        assert json.dumps(restored.get_config(), sort_keys=True) == json.dumps(
            config, sort_keys=True
        )
    assert keras.saving.get_registered_name(PerGateOrthogonal) == (
        "keras_gru_cell>PerGateOrthogonal"
    )
    assert keras.saving.get_registered_name(UpdateGateBias) == (
        "keras_gru_cell>UpdateGateBias"
    )


def variants_model(dtype=None):
    inputs = keras.Input((TIME, INPUT_DIM))
    hidden = keras.layers.Bidirectional(non_default_layer(dtype=dtype))(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


def test_keras_file_reloads_with_identical_predictions(rng, tmp_path):
    model = variants_model()
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    model.save(tmp_path / "variants.keras")

    restored = keras.models.load_model(tmp_path / "variants.keras")

    np.testing.assert_array_equal(
        restored.predict(x, verbose=0), model.predict(x, verbose=0)
    )


@pytest.mark.slow
def test_keras_file_reloads_in_a_fresh_process(rng, tmp_path):
    model = variants_model()
    x = rng.normal(size=(BATCH, TIME, INPUT_DIM)).astype("float32")
    model.save(tmp_path / "variants.keras")
    np.save(tmp_path / "inputs.npy", x)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import keras
        import numpy as np

        import keras_gru_cell  # noqa: F401  registers the layers

        folder = Path(sys.argv[1])
        model = keras.models.load_model(folder / "variants.keras")
        np.save(folder / "out.npy", model.predict(np.load(folder / "inputs.npy")))
        """
    )

    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )

    np.testing.assert_array_equal(
        np.load(tmp_path / "out.npy"), model.predict(x, verbose=0)
    )


def test_bidirectional_model_with_every_variant_trains_in_mixed_precision(rng):
    model = variants_model(dtype="mixed_float16")
    model.compile("adam", "mse")
    x = rng.normal(size=(8, TIME, INPUT_DIM)).astype("float32")
    y = x[:, :, :1].sum(axis=1)

    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0).history["loss"]

    layer = model.layers[1].forward_layer
    assert keras.backend.standardize_dtype(layer(x).dtype) == "float16"
    assert layer.cell.input_gamma.dtype == "float32"
    assert np.all(np.isfinite(history))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_converter_refuses_a_layer_with_a_variant(variant):
    layer = ChungGRU(UNITS, **VARIANTS[variant])
    layer.build((None, TIME, INPUT_DIM))

    with pytest.raises(ValueError, match=r"keras\.layers\.GRU cannot express"):
        chung_to_keras_gru_weights(layer)


def test_converter_refuses_layer_normalized_weights():
    layer = ChungGRU(UNITS, layer_normalization=True)
    layer.build((None, TIME, INPUT_DIM))

    with pytest.raises(ValueError, match=r"7 arrays.*layer_normalization=True"):
        chung_to_keras_gru_weights(layer.get_weights())


def test_converter_takes_a_default_layer_as_its_weights():
    layer = ChungGRU(UNITS)
    layer.build((None, TIME, INPUT_DIM))

    for actual, expected in zip(
        chung_to_keras_gru_weights(layer),
        chung_to_keras_gru_weights(layer.get_weights()),
        strict=True,
    ):
        np.testing.assert_array_equal(actual, expected)
    with pytest.raises(ValueError, match="received a GRU"):
        chung_to_keras_gru_weights(keras.layers.GRU(UNITS))


@pytest.mark.parametrize("argument", ["zoneout", "recurrent_dropconnect"])
@pytest.mark.parametrize("value", [1.0, -0.1, True])
def test_invalid_rates_are_rejected_with_their_value(argument, value):
    with pytest.raises(ValueError, match=f"argument `{argument}`.*got {value!r}"):
        ChungGRUCell(UNITS, **{argument: value})


def test_per_gate_orthogonal_makes_every_gate_block_orthogonal():
    layer = ChungGRU(UNITS, recurrent_initializer=PerGateOrthogonal(gain=2.0))
    layer.build((None, TIME, INPUT_DIM))
    kernel = to_numpy(layer.cell.recurrent_kernel)

    for block in np.split(kernel, 3, axis=1):
        assert_allclose(block.T @ block, 4.0 * np.eye(UNITS), atol=1e-5)
    # Keras's own orthogonal initializer leaves the blocks non-orthogonal.
    whole = to_numpy(keras.initializers.Orthogonal(seed=1)((UNITS, 3 * UNITS)))
    first = whole[:, :UNITS]
    assert not np.allclose(first.T @ first, np.eye(UNITS), atol=1e-3)


def test_per_gate_orthogonal_refuses_columns_it_cannot_split():
    with pytest.raises(ValueError, match=r"3 blocks; received shape \(4, 10\)"):
        PerGateOrthogonal()((4, 10))


def test_update_gate_bias_sets_only_the_update_gate():
    bias = to_numpy(UpdateGateBias(-1.5)((3 * UNITS,)))

    np.testing.assert_array_equal(bias[:UNITS], np.full(UNITS, -1.5, "float32"))
    np.testing.assert_array_equal(bias[UNITS:], np.zeros(2 * UNITS, "float32"))


def test_chrono_bias_spreads_time_constants_over_two_to_t_max_steps():
    t_max = 50
    bias = to_numpy(UpdateGateBias(chrono=t_max, seed=0)((3 * 400,))).astype("float64")
    b_z = bias[:400]

    time_constants = 1.0 / sigmoid(b_z)
    assert np.all(b_z <= 0.0)
    assert np.all((time_constants >= 2.0 - 1e-5) & (time_constants <= t_max + 1e-3))
    # u = exp(-b_z) is uniform on [1, T_max - 1]: its mean is T_max / 2.
    assert abs(np.exp(-b_z).mean() - t_max / 2) < 2.0
    np.testing.assert_array_equal(bias[400:], np.zeros(800))


def test_update_gate_bias_refuses_conflicting_or_invalid_arguments():
    with pytest.raises(ValueError, match="both `chrono` and a nonzero `value`"):
        UpdateGateBias(-1.0, chrono=10)
    with pytest.raises(ValueError, match=r"argument `chrono`.*got 1"):
        UpdateGateBias(chrono=1)
    with pytest.raises(ValueError, match=r"\(3 \* units,\); received shape \(4,\)"):
        UpdateGateBias()((4,))

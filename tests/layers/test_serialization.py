"""Saving, reloading and configuring `ChungGRUCell` with public Keras APIs."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRUCell
from tests.asserts import assert_array_equal

INPUT_DIM = 3


def test_registered_under_the_package_name():
    assert keras.saving.get_registered_name(ChungGRUCell) == (
        "keras_gru_cell>ChungGRUCell"
    )


def non_default_cell():
    return ChungGRUCell(
        7,
        activation="relu",
        recurrent_activation="hard_sigmoid",
        use_bias=False,
        kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=4),
        recurrent_initializer="identity",
        bias_initializer="ones",
        kernel_regularizer=keras.regularizers.L2(1e-3),
        recurrent_regularizer="l1",
        bias_regularizer=keras.regularizers.L1L2(1e-4, 1e-4),
        kernel_constraint=keras.constraints.MaxNorm(2.0),
        recurrent_constraint="non_neg",
        bias_constraint=keras.constraints.UnitNorm(),
        dropout=0.2,
        recurrent_dropout=0.1,
        seed=11,
        dtype="float64",
        name="custom_cell",
    )


def test_config_round_trip_preserves_every_argument():
    cell = non_default_cell()
    config = cell.get_config()

    restored = ChungGRUCell.from_config(config)

    assert json.dumps(restored.get_config(), sort_keys=True) == json.dumps(
        config, sort_keys=True
    )
    assert (restored.units, restored.dropout, restored.seed) == (7, 0.2, 11)
    assert restored.dtype_policy.name == "float64"


def test_serialize_and_deserialize_restore_the_class():
    serialized = keras.saving.serialize_keras_object(non_default_cell())

    restored = keras.saving.deserialize_keras_object(serialized)

    assert isinstance(restored, ChungGRUCell)
    assert restored.get_config() == non_default_cell().get_config()


def build_models():
    """Three small models that use the cell the ways users do."""
    plain = keras.Sequential(
        [
            keras.Input((None, INPUT_DIM)),
            keras.layers.RNN(
                ChungGRUCell(6, dropout=0.1, seed=1), return_sequences=True
            ),
            keras.layers.TimeDistributed(keras.layers.Dense(1)),
        ]
    )
    bidirectional = keras.Sequential(
        [
            keras.Input((None, INPUT_DIM)),
            keras.layers.Bidirectional(keras.layers.RNN(ChungGRUCell(4))),
            keras.layers.Dense(2),
        ]
    )
    stacked = keras.Sequential(
        [
            keras.Input((None, INPUT_DIM)),
            keras.layers.RNN([ChungGRUCell(5), ChungGRUCell(3)]),
        ]
    )
    return {"plain": plain, "bidirectional": bidirectional, "stacked": stacked}


@pytest.fixture
def inputs():
    return np.random.default_rng(0).normal(size=(2, 9, INPUT_DIM)).astype("float32")


def test_saved_model_reloads_in_process_with_safe_mode(tmp_path, inputs):
    for name, model in build_models().items():
        path = tmp_path / f"{name}.keras"
        model.save(path)

        restored = keras.models.load_model(path, safe_mode=True)

        assert_array_equal(
            restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0)
        )


@pytest.mark.slow
def test_saved_models_reload_in_a_fresh_process_without_custom_objects(
    tmp_path, inputs
):
    expected = {}
    for name, model in build_models().items():
        model.save(tmp_path / f"{name}.keras")
        expected[name] = model.predict(inputs, verbose=0)
    np.save(tmp_path / "inputs.npy", inputs)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import keras
        import numpy as np

        import keras_gru_cell  # noqa: F401  registers ChungGRUCell

        folder = Path(sys.argv[1])
        inputs = np.load(folder / "inputs.npy")
        for name in ("plain", "bidirectional", "stacked"):
            model = keras.models.load_model(folder / f"{name}.keras")
            np.save(folder / f"{name}.out.npy", model.predict(inputs, verbose=0))
        """
    )

    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )

    for name, prediction in expected.items():
        assert_array_equal(np.load(tmp_path / f"{name}.out.npy"), prediction)


def test_weights_only_save_and_load(tmp_path, inputs):
    source = build_models()["plain"]
    path = tmp_path / "model.weights.h5"
    source.save_weights(path)
    target = build_models()["plain"]

    target.load_weights(path)

    assert_array_equal(
        target.predict(inputs, verbose=0), source.predict(inputs, verbose=0)
    )


def single_cell_model(units, use_bias=True):
    return keras.Sequential(
        [
            keras.Input((None, INPUT_DIM)),
            keras.layers.RNN(ChungGRUCell(units, use_bias=use_bias)),
        ]
    )


@pytest.mark.parametrize("file_name", ["model.weights.h5", "model.keras"])
@pytest.mark.parametrize(
    ("target_kwargs", "pattern"),
    [
        ({"units": 5}, r"units=6, .* with units=5, "),
        ({"units": 6, "use_bias": False}, r"use_bias=True into .* use_bias=False"),
    ],
    ids=["units", "use_bias"],
)
def test_weights_saved_with_another_configuration_are_refused_naming_it(
    tmp_path, file_name, target_kwargs, pattern
):
    path = tmp_path / file_name
    source = single_cell_model(6)
    if file_name.endswith(".keras"):
        source.save(path)
    else:
        source.save_weights(path)

    with pytest.raises(ValueError, match=pattern):
        single_cell_model(**target_kwargs).load_weights(path)

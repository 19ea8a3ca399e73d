"""`SymmetricSummands`: both summands' kernel rows stay one, through training."""

import keras
import numpy as np
import pytest

from keras_gru_cell.addition import SymmetricSummands
from keras_gru_cell.addition import addition_dataset
from keras_gru_cell.addition import build_addition_model

pytestmark = pytest.mark.every_backend


def test_each_column_becomes_its_mean_over_the_input_rows():
    kernel = np.random.default_rng(0).normal(size=(3, 12)).astype("float32")

    tied = keras.ops.convert_to_numpy(SymmetricSummands()(kernel))

    # NumPy's own mean, broadcast back over the rows.
    expected = np.broadcast_to(kernel.mean(axis=0), kernel.shape)
    np.testing.assert_allclose(tied, expected, rtol=4 * np.finfo("float32").eps)


def _input_rows(model):
    kernel = keras.ops.convert_to_numpy(model.get_layer("gru").cell.kernel)
    return kernel[0], kernel[1]


def test_a_tied_model_starts_and_stays_tied_through_fit():
    keras.utils.set_random_seed(0)
    model = build_addition_model(
        4, output_activation="sigmoid", symmetric_summands=True
    )
    a, b = _input_rows(model)
    np.testing.assert_array_equal(a, b)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")

    data = addition_dataset(6, 16, seed=0)
    model.fit(data, steps_per_epoch=5, shuffle=False, verbose=0)

    a_after, b_after = _input_rows(model)
    np.testing.assert_array_equal(a_after, b_after)
    assert not np.array_equal(a_after, a)  # it trained


def test_a_tied_model_saves_and_loads_with_its_constraint(tmp_path):
    model = build_addition_model(4, symmetric_summands=True)
    model.save(tmp_path / "tied.keras")

    loaded = keras.models.load_model(tmp_path / "tied.keras")

    assert isinstance(loaded.get_layer("gru").cell.kernel_constraint, SymmetricSummands)
    for original, reloaded in zip(
        model.get_weights(), loaded.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(original, reloaded)


def test_models_are_untied_unless_asked():
    keras.utils.set_random_seed(0)
    model = build_addition_model(4)
    assert model.get_layer("gru").cell.kernel_constraint is None
    a, b = _input_rows(model)
    assert not np.array_equal(a, b)

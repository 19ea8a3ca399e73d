"""The addition names 0.1.0 exported at the top level still work, with a warning."""

import pytest

import keras_gru_cell
import keras_gru_cell.addition

MOVED = [
    "ExactMatch",
    "QuadraticLoss",
    "addition_dataset",
    "build_addition_model",
    "distribution_scope",
    "from_bits",
    "load_addition_model",
    "to_bits",
]


@pytest.mark.parametrize("name", MOVED)
def test_a_moved_name_warns_and_gives_the_addition_object(name):
    with pytest.warns(DeprecationWarning, match=f"keras_gru_cell.addition.{name}"):
        moved = getattr(keras_gru_cell, name)

    assert moved is getattr(keras_gru_cell.addition, name)
    assert name not in keras_gru_cell.__all__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        keras_gru_cell.no_such_name  # noqa: B018

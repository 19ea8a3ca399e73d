"""Files saved by keras-gru-cell 0.1.0 load and add right after the package split."""

from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from keras_gru_cell.addition import ExactMatch
from keras_gru_cell.addition import QuadraticLoss
from keras_gru_cell.addition import TimeDistributed
from keras_gru_cell.addition import encode_pairs
from keras_gru_cell.addition import load_addition_model
from keras_gru_cell.addition import predict_sums

# Runs on every Keras backend in CI, not only TensorFlow (see .ci/run).
pytestmark = pytest.mark.every_backend

FIXTURES = Path(__file__).with_name("fixtures")
FILES = ["addition_model_0.1.0.keras", "fused_addition_model_0.1.0.keras"]


@pytest.mark.parametrize(
    "registered", [ChungGRUCell, ChungGRU, TimeDistributed, QuadraticLoss, ExactMatch]
)
def test_registered_names_are_those_of_0_1_0(registered):
    expected = f"keras_gru_cell>{registered.__name__}"
    assert keras.saving.get_registered_name(registered) == expected


@pytest.mark.parametrize("name", FILES)
def test_a_0_1_0_file_loads_and_adds_numbers_of_any_length(name):
    model = load_addition_model(FIXTURES / name)
    rng = np.random.default_rng(0)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, 2**62, size=(50, 2))]
    pairs += [(2**300 - 1, 1), (2**300 - 1, 2**300 - 1), (0, 0)]

    assert predict_sums(model, pairs) == [a + b for a, b in pairs]


def test_a_0_1_0_file_keeps_its_compiled_loss_and_metric():
    model = keras.models.load_model(FIXTURES / FILES[0])
    pairs = [(3, 4), (1024, 16)]
    x = encode_pairs(pairs, 12)
    y = encode_pairs([(a + b, 0) for a, b in pairs], 12)[..., :1]

    scores = model.evaluate(x, y, verbose=0, return_dict=True)

    assert isinstance(model.loss, QuadraticLoss)
    assert scores["exact_match"] == 1.0

"""Files saved by keras-gru-cell 0.1.0 load and add right after the package split."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell
from keras_gru_cell._addition_names import ADDITION_NAMES
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


# What a user who imports only the library meets: a fresh interpreter that
# has imported `keras_gru_cell` and nothing of the addition.
_LOAD_WITH_THE_LIBRARY_ALONE = """
import json, sys
import keras
import keras_gru_cell
{before}
imported_before = "keras_gru_cell.addition" in sys.modules
try:
    model = keras.saving.load_model(sys.argv[1])
except ImportError as error:
    print(json.dumps({{"error": str(error)}}))
    raise SystemExit
from keras_gru_cell.addition import QuadraticLoss, TimeDistributed, predict_sums
pairs = [(2**70 - 1, 1), (5, 9), (0, 0)]
print(json.dumps({{
    "imported_before": imported_before,
    "loss": isinstance(model.loss, QuadraticLoss),
    "head": isinstance(model.layers[-1], TimeDistributed),
    "sums": predict_sums(model, pairs) == [a + b for a, b in pairs],
}}))
"""


def _load_with_the_library_alone(before=""):
    code = _LOAD_WITH_THE_LIBRARY_ALONE.format(before=before)
    result = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / FILES[0])],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_0_1_0_file_loads_after_importing_the_library_alone():
    loaded = _load_with_the_library_alone()

    assert loaded == {
        "imported_before": False,
        "loss": True,
        "head": True,
        "sums": True,
    }


@pytest.mark.slow
def test_a_file_that_cannot_load_the_addition_names_the_import_it_needs():
    # As if `keras_gru_cell.addition` could not be imported (no TensorFlow).
    loaded = _load_with_the_library_alone(
        before='sys.modules["keras_gru_cell.addition"] = None'
    )

    (line,) = loaded["error"].splitlines()
    assert "`import keras_gru_cell.addition`" in line
    assert "keras_gru_cell>TimeDistributed" in line


def test_the_library_stands_in_for_every_name_the_addition_registers():
    registered = {
        name.removeprefix("keras_gru_cell>")
        for name, registered in keras.saving.get_custom_objects().items()
        if name.startswith("keras_gru_cell>")
        and registered.__module__.startswith("keras_gru_cell.addition.")
    }

    assert registered == set(ADDITION_NAMES)

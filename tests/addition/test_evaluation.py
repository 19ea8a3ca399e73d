"""Loading addition models from untrusted files, and scoring them on carry chains."""

from importlib import resources

import keras
import pytest

from keras_gru_cell.addition import load_addition_model
from keras_gru_cell.addition.evaluation import CARRY_CHAINS
from keras_gru_cell.addition.evaluation import carry_chain_pairs
from keras_gru_cell.addition.evaluation import evaluate_carry_chains
from keras_gru_cell.addition.evaluation import predict_sums
from tests.addition.numpy_adder import NumpyAdder


@pytest.fixture
def shipped_model_bytes():
    files = resources.files("keras_gru_cell.addition.pretrained")
    return (files / "addition.keras").read_bytes()


def test_a_saved_addition_model_loads_and_adds(tmp_path, shipped_model_bytes):
    path = tmp_path / "model.keras"
    path.write_bytes(shipped_model_bytes)

    model = load_addition_model(path)

    assert predict_sums(model, [(1024, 16), (3, 5)]) == [1040, 8]


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"no model file at '.*missing\.keras'"):
        load_addition_model(tmp_path / "missing.keras")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: b"PK\x03\x04 not really a zip",
        lambda data: b"",
    ],
    ids=["truncated", "not_a_zip", "empty"],
)
def test_a_damaged_file_is_refused_naming_it(tmp_path, shipped_model_bytes, damage):
    path = tmp_path / "damaged.keras"
    path.write_bytes(damage(shipped_model_bytes))

    with pytest.raises(ValueError, match=r"cannot load a Keras model from '.*damaged"):
        load_addition_model(path)


def test_a_file_that_needs_unsafe_deserialization_is_refused(tmp_path):
    # A Lambda layer is stored as Python bytecode, which safe_mode never runs.
    inputs = keras.Input((None, 2))
    outputs = keras.layers.Lambda(lambda x: x[..., :1])(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)

    with pytest.raises(ValueError, match=r"cannot load .*safe_mode"):
        load_addition_model(path)


def test_a_model_of_another_shape_is_refused_naming_its_shapes(tmp_path):
    path = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)

    with pytest.raises(ValueError, match=r"not an addition model.*\(None, 3\)"):
        load_addition_model(path)


def _longest_runs(a, b):
    """The most columns in a row that carry out, and the most in a row that
    hold one 1 bit and take in no carry, counted column by column."""
    carry = carried = uncarried = longest_carried = longest_uncarried = 0
    while a or b or carry:
        ones = (a & 1) + (b & 1)
        uncarried = uncarried + 1 if ones == 1 and not carry else 0
        carry = (ones + carry) >> 1
        carried = carried + 1 if carry else 0
        longest_carried = max(longest_carried, carried)
        longest_uncarried = max(longest_uncarried, uncarried)
        a, b = a >> 1, b >> 1
    return longest_carried, longest_uncarried


def test_carry_chains_run_through_n_columns_for_every_n_below_the_length():
    chains = carry_chain_pairs(12)
    assert list(chains) == list(CARRY_CHAINS)
    runs = {name: [_longest_runs(a, b) for a, b in chains[name]] for name in chains}
    assert [uncarried for _, uncarried in runs["2^n-1 + 0"]] == list(range(1, 12))
    for name in ("2^n-1 + 1", "2^n-1 + 2^n-1"):
        assert [carried for carried, _ in runs[name]] == list(range(1, 12))
    assert max((a + b).bit_length() for a, b in chains["2^n-1 + 0"]) == 11
    for name in ("2^n-1 + 1", "2^n-1 + 2^n-1"):
        assert max((a + b).bit_length() for a, b in chains[name]) == 12


def test_carry_chain_scores_count_the_chains_a_model_gets_right():
    # Loses any carry that has run through more than 5 columns.
    scores = evaluate_carry_chains(NumpyAdder(forget_after=5), 12)
    assert [scores[name]["exact_match"] for name in CARRY_CHAINS] == [1.0] + [
        5 / 11
    ] * 2
    # Invents a carry after more than 5 columns of one 1 bit and no carry.
    scores = evaluate_carry_chains(NumpyAdder(invent_after=5), 12)
    assert [scores[name]["exact_match"] for name in CARRY_CHAINS] == [5 / 11] + [
        1.0
    ] * 2
    scores = evaluate_carry_chains(NumpyAdder(), 12)
    assert [scores[name]["exact_match"] for name in CARRY_CHAINS] == [1.0] * 3

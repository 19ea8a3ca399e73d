"""The shipped model adds numbers of any length: long sums, long carries, 10,000 bits.

Python's own integers are the reference: `predict_sums` reads the model's
bits back into integers, which must equal `a + b`.
"""

import random

import pytest

from keras_gru_cell.addition.evaluation import carry_chain_pairs
from keras_gru_cell.addition.evaluation import predict_sums
from keras_gru_cell.addition.evaluation import random_pairs
from keras_gru_cell.addition.pretrained import load_pretrained_model


@pytest.fixture(scope="module")
def model():
    return load_pretrained_model()


def _wrong(model, pairs):
    return [
        (a, b)
        for (a, b), total in zip(pairs, predict_sums(model, pairs), strict=True)
        if total != a + b
    ]


def test_the_shipped_model_adds_10000_random_sums_of_1024_bits(model):
    assert _wrong(model, random_pairs(1024, 10_000, seed=2026)) == []


def test_the_shipped_model_carries_through_every_chain_of_up_to_1000_columns(model):
    for pairs in carry_chain_pairs(1001).values():
        assert _wrong(model, pairs) == []


def test_the_shipped_model_adds_one_sum_of_10000_bits(model):
    rng = random.Random(10_000)
    a, b = rng.getrandbits(10_000), rng.getrandbits(10_000)
    assert predict_sums(model, [(a, b)]) == [a + b]

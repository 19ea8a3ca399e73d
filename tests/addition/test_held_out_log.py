"""The stopping rule: training stops only once long sums and carry chains are right."""

import dataclasses
import math

import numpy as np
import pytest

from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.evaluation import random_pairs
from keras_gru_cell.addition.training import TrainingSettings
from keras_gru_cell.addition.training.callbacks import HeldOutLog
from keras_gru_cell.addition.training.run import long_validation
from tests.addition.numpy_adder import NumpyAdder

# Short sums of 6 bits carry through at most 5 columns; the long held-out
# sums, of 24 bits, hold carries of up to 23.
SHORT_BITS = 6
SETTINGS = TrainingSettings(long_validation_bits=24, long_validation_size=50)


def _short_validation():
    pairs = random_pairs(SHORT_BITS, 200, seed=0)
    x = encode_pairs(pairs, SHORT_BITS)
    y = encode_pairs([(a + b, 0) for a, b in pairs], SHORT_BITS)[..., :1]
    return x, y


def _log(model, tmp_path, settings=SETTINGS):
    log = HeldOutLog(
        _short_validation(),
        every=1,
        last_step=100,
        log_path=tmp_path / "history.csv",
        stream_offset=None,
        stop_after_perfect=2,
        fixed_training=None,
        long_validation=long_validation(settings, seed=0),
    )
    log.set_model(model)
    return log


def _validate(log, model, times):
    for _ in range(times):
        model.optimizer.iterations += 1
        log.on_train_batch_end(0)
    return log.rows


def test_a_model_right_at_every_length_stops_after_two_perfect_validations(
    tmp_path,
):
    model = NumpyAdder()
    log = _log(model, tmp_path)
    rows = _validate(log, model, 2)
    assert [r["val_long_exact_match"] for r in rows] == [1.0, 1.0]
    assert [r["val_carry_exact_match"] for r in rows] == [1.0, 1.0]
    assert model.stop_training
    # The weights of an all-right validation are kept, to go back to.
    assert log.right_path.exists()


# Right on every short sum, each flaw wrong on some chains of n = 1 … 23
# columns: the share of the 3 × 23 chains that stay right.
@pytest.mark.parametrize(
    ("flaw", "chains_right"),
    [
        # Drops a carry run past 5 columns: every `2^n-1 + 0`, which carries
        # nothing, and the first 5 of each family that carries are right.
        ({"forget_after": 5}, (23 + 5 + 5) / 69),
        # Carries one in after 5 columns of one 1 bit each and no carry,
        # which only `2^n-1 + 0` holds past 5 columns.
        ({"invent_after": 5}, (5 + 23 + 23) / 69),
    ],
    ids=["loses_long_carries", "invents_a_carry_in_a_long_run"],
)
def test_a_model_wrong_only_on_long_runs_does_not_stop(tmp_path, flaw, chains_right):
    model = NumpyAdder(**flaw)
    rows = _validate(_log(model, tmp_path), model, 3)
    assert [r["val_exact_match"] for r in rows] == [1.0] * 3
    assert [r["val_carry_exact_match"] for r in rows] == [chains_right] * 3
    assert not model.stop_training
    assert not (tmp_path / "right.weights.h5").exists()


def test_long_sums_are_scored_only_once_the_short_ones_are_right(tmp_path):
    # Forgetting after 2 columns is wrong on some 6-bit sums too.
    model = NumpyAdder(forget_after=2)
    (row,) = _validate(_log(model, tmp_path), model, 1)
    assert row["val_exact_match"] < 1.0
    assert math.isnan(row["val_long_exact_match"])
    assert math.isnan(row["val_carry_exact_match"])


def test_the_long_held_out_sums_are_seeded_and_hold_every_carry_chain():
    first = long_validation(SETTINGS, seed=3)
    again = long_validation(SETTINGS, seed=3)
    other = long_validation(SETTINGS, seed=4)
    np.testing.assert_array_equal(first.x, again.x)
    assert not np.array_equal(
        first.x[first.groups["long"]], other.x[other.groups["long"]]
    )
    assert first.x.shape == (50 + 3 * 23, 24, 2)
    # The sums are those the bits write.
    sums = NumpyAdder().predict_on_batch(first.x)
    np.testing.assert_array_equal(sums, first.y)


def test_without_long_validation_no_long_columns_are_logged(tmp_path):
    settings = dataclasses.replace(SETTINGS, long_validation_bits=None)
    model = NumpyAdder()
    (row,) = _validate(_log(model, tmp_path, settings), model, 1)
    assert not any(key.startswith("val_long") for key in row)
    assert not any(key.startswith("val_carry") for key in row)


@pytest.mark.parametrize(("bits", "size"), [(1, 10), (8, 0)])
def test_long_validation_settings_are_checked(bits, size):
    with pytest.raises(ValueError, match="long_validation"):
        TrainingSettings(long_validation_bits=bits, long_validation_size=size)

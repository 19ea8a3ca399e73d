"""Tests of the addition task's data: bit encodings and the tf.data pipeline."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from keras_gru_cell.addition import ExactMatch
from keras_gru_cell.addition.data import MAX_NUM_BITS
from keras_gru_cell.addition.data import addition_dataset
from keras_gru_cell.addition.data import decode_sums
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.data import from_bits
from keras_gru_cell.addition.data import to_bits
from keras_gru_cell.addition.data import tutorial_data
from tests.asserts import tolerance


def _read(bits_row) -> int:
    """An integer from float bits, least significant first, by Python arithmetic."""
    return sum(int(bit) << i for i, bit in enumerate(np.asarray(bits_row)))


def test_to_bits_writes_least_significant_bit_first():
    assert to_bits(6, 4) == [0, 1, 1, 0]
    assert to_bits(0, 3) == [0, 0, 0]
    assert to_bits(0, 0) == []


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=0, max_value=2**1500), padding=st.integers(0, 9))
def test_bits_round_trip_for_integers_of_any_size(n, padding):
    length = n.bit_length() + padding
    bits = to_bits(n, length)
    assert len(bits) == length
    assert set(bits) <= {0, 1}
    assert sum(bit << i for i, bit in enumerate(bits)) == n
    assert from_bits(bits) == n


def test_bits_are_exact_for_1000_bit_numbers():
    n = 2**999 + 2**500 + 1
    bits = to_bits(n, 1000)
    assert bits[0] == bits[500] == bits[999] == 1
    assert sum(bits) == 3
    assert from_bits(bits) == n


def test_to_bits_rejects_negative_numbers():
    with pytest.raises(ValueError, match="negative"):
        to_bits(-1, 4)


def test_to_bits_rejects_a_number_longer_than_length():
    with pytest.raises(ValueError, match="length=3"):
        to_bits(8, 3)


def test_to_bits_rejects_non_integers():
    with pytest.raises(ValueError, match=r"`n`.*2\.5"):
        to_bits(2.5, 4)


def test_from_bits_rejects_values_other_than_0_and_1():
    with pytest.raises(ValueError, match=r"`bits`.*2"):
        from_bits([1, 2, 0])


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.integers(0, 2**300), st.integers(0, 2**300)), min_size=1
    )
)
def test_encode_pairs_and_decode_sums_are_exact_for_huge_integers(pairs):
    x = encode_pairs(pairs, 301)
    assert x.shape == (len(pairs), 301, 2)
    for row, (a, b) in zip(x, pairs, strict=True):
        assert _read(row[:, 0]) == a
        assert _read(row[:, 1]) == b
    assert decode_sums(x[..., :1]) == [a for a, _ in pairs]


def test_decode_sums_reads_outputs_above_one_half_as_ones():
    outputs = np.array([[0.49], [0.51], [-3.0], [7.0]]).reshape(1, 4, 1)
    assert decode_sums(outputs) == [2 + 8]


@pytest.mark.parametrize("num_bits", [2, 5, 16, 70, (5, 16), (2, 3)])
def test_every_label_is_the_sum_of_its_operands(num_bits):
    low, high = num_bits if isinstance(num_bits, tuple) else (num_bits, num_bits)
    for x, y in addition_dataset(num_bits, 64, seed=3, num_batches=20):
        length = x.shape[1]
        assert low <= length <= high
        for row, target in zip(x.numpy(), y.numpy(), strict=True):
            a, b = _read(row[:, 0]), _read(row[:, 1])
            assert a < 2 ** (length - 1)
            assert b < 2 ** (length - 1)
            assert _read(target[:, 0]) == a + b


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.tuples(st.integers(2, 130), st.integers(0, 40)),
    batch_size=st.integers(1, 9),
    num_batches=st.integers(1, 3),
    first_batch=st.integers(0, 2**40),
    seed=st.integers(0, 2**63 - 1),
    dtype=st.sampled_from(["float16", "float32", "float64"]),
)
def test_any_sizes_and_seeds_give_exact_sums_of_the_stated_shape(
    lengths, batch_size, num_batches, first_batch, seed, dtype
):
    low, extra = lengths
    num_bits = (low, low + extra) if extra else low
    dataset = addition_dataset(
        num_bits,
        batch_size,
        seed=seed,
        num_batches=num_batches,
        first_batch=first_batch,
        dtype=dtype,
    )
    batches = list(dataset)

    assert len(batches) == num_batches
    for x, y in batches:
        length = x.shape[1]
        assert low <= length <= low + extra
        assert x.shape == (batch_size, length, 2)
        assert y.shape == (batch_size, length, 1)
        assert x.dtype == y.dtype == dtype
        x, y = x.numpy().astype("float64"), y.numpy().astype("float64")
        assert set(np.unique(x)) | set(np.unique(y)) <= {0.0, 1.0}
        for row, target in zip(x, y, strict=True):
            a, b = _read(row[:, 0]), _read(row[:, 1])
            assert a < 2 ** (length - 1)
            assert b < 2 ** (length - 1)
            assert _read(target[:, 0]) == a + b
    # Batch k depends only on the seed and k.
    x_again, _ = next(
        iter(
            addition_dataset(
                num_bits, batch_size, seed=seed, first_batch=first_batch, dtype=dtype
            )
        )
    )
    np.testing.assert_array_equal(x_again, batches[0][0])


def test_long_sums_are_exact():
    x, y = next(iter(addition_dataset(1000, 8, seed=0)))
    for row, target in zip(x.numpy(), y.numpy(), strict=True):
        assert _read(target[:, 0]) == _read(row[:, 0]) + _read(row[:, 1])


def test_operands_are_uniform_below_half_the_range():
    x, _ = next(iter(addition_dataset(4, 8000, seed=1)))
    values = [_read(row) for row in x.numpy()[:, :, 0]]
    counts = np.bincount(values, minlength=8)
    assert len(counts) == 8  # never 8 or more: the top bit stays 0
    # Each of the 8 values has probability 1/8: 1000 ± 5 standard deviations.
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(8000 * 1 / 8 * 7 / 8))


def test_the_same_seed_gives_the_same_stream():
    first = list(addition_dataset((3, 12), 16, seed=7, num_batches=5))
    second = list(addition_dataset((3, 12), 16, seed=7, num_batches=5))
    for (x1, y1), (x2, y2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_different_seeds_give_different_streams():
    x1, _ = next(iter(addition_dataset(16, 16, seed=1)))
    x2, _ = next(iter(addition_dataset(16, 16, seed=2)))
    assert not np.array_equal(x1, x2)


def test_first_batch_starts_the_stream_later():
    stream = list(addition_dataset((3, 12), 4, seed=5, num_batches=6))
    later = list(addition_dataset((3, 12), 4, seed=5, num_batches=3, first_batch=3))
    offset = tf.Variable(3, dtype=tf.int64)
    from_variable = list(
        addition_dataset((3, 12), 4, seed=5, num_batches=3, first_batch=offset)
    )
    for (x, y), (x_later, y_later), (x_var, _) in zip(
        stream[3:], later, from_variable, strict=True
    ):
        np.testing.assert_array_equal(x, x_later)
        np.testing.assert_array_equal(y, y_later)
        np.testing.assert_array_equal(x, x_var)


def test_the_stream_is_infinite_by_default_and_finite_with_num_batches():
    assert addition_dataset(5, 2, seed=0).cardinality() == tf.data.INFINITE_CARDINALITY
    assert len(list(addition_dataset(5, 2, seed=0, num_batches=3))) == 3


def test_the_stream_runs_without_tf_data_autotuning():
    # Autotuning's sleeping thread stalled whole training runs (changelog).
    for dataset in (addition_dataset(5, 2, seed=0), addition_dataset((4, 8), 2)):
        assert dataset.options().autotune.enabled is False


def test_element_spec_has_a_static_length_unless_it_varies():
    fixed = addition_dataset(8, 32, seed=0).element_spec
    assert fixed == (
        tf.TensorSpec((32, 8, 2), tf.float32),
        tf.TensorSpec((32, 8, 1), tf.float32),
    )
    varying = addition_dataset((5, 16), 32, seed=0, dtype="float64").element_spec
    assert varying == (
        tf.TensorSpec((32, None, 2), tf.float64),
        tf.TensorSpec((32, None, 1), tf.float64),
    )


def test_variable_lengths_cover_the_range_and_stay_in_it():
    lengths = {
        x.shape[1] for x, _ in addition_dataset((5, 9), 2, seed=0, num_batches=200)
    }
    assert lengths == {5, 6, 7, 8, 9}


def test_padded_batches_are_the_same_sums_with_zero_bits_above():
    plain = addition_dataset((5, 12), 8, seed=4, num_batches=30)
    padded = addition_dataset((5, 12), 8, seed=4, num_batches=30, pad_to_longest=True)
    lengths = set()
    for (x, y), (x_pad, y_pad, weights) in zip(plain, padded, strict=True):
        length = x.shape[1]
        lengths.add(length)
        assert x_pad.shape == (8, 12, 2)
        assert y_pad.shape == (8, 12, 1)
        assert weights.shape == (8, 12)
        np.testing.assert_array_equal(x_pad[:, :length], x)
        np.testing.assert_array_equal(y_pad[:, :length], y)
        assert not np.any(x_pad[:, length:])
        assert not np.any(y_pad[:, length:])
        for row, target in zip(x_pad.numpy(), y_pad.numpy(), strict=True):
            assert _read(target[:, 0]) == _read(row[:, 0]) + _read(row[:, 1])
        np.testing.assert_allclose(weights[:, :length], 12 / length)
        assert not np.any(weights[:, length:])
    assert len(lengths) > 1


def test_padding_weights_leave_a_mean_loss_that_of_the_unpadded_batch():
    _, y, weights = next(
        iter(addition_dataset((5, 12), 64, seed=2, pad_to_longest=True))
    )
    length = int(np.count_nonzero(weights[0]))
    assert length < 12
    # The padding's predictions are anything at all: its weight is 0.
    predictions = np.random.default_rng(0).uniform(0.01, 0.99, y.shape)
    predictions = predictions.astype("float32")
    for loss in (keras.losses.BinaryCrossentropy(), keras.losses.MeanSquaredError()):
        padded = loss(y, predictions, sample_weight=weights)
        unpadded = loss(y[:, :length], predictions[:, :length])
        # A mean over the batch's 64 × 12 bits, reweighted.
        np.testing.assert_allclose(
            padded, unpadded, rtol=tolerance("float32", 64 * 12)["rtol"]
        )


def test_padding_weights_leave_the_metrics_those_of_the_unpadded_batch():
    _, y, weights = next(
        iter(addition_dataset((5, 12), 64, seed=2, pad_to_longest=True))
    )
    length = int(np.count_nonzero(weights[0]))
    # Right at every real bit for half the sums, and wrong on all padding:
    # the padding must not count.
    step = np.random.default_rng(0).integers(length)
    predictions = np.where(y.numpy() == 1, 0.9, 0.1).astype("float32")
    predictions[32:, step] = 1 - predictions[32:, step]
    predictions[:, length:] = 1 - y.numpy()[:, length:]
    for metric in (ExactMatch(), keras.metrics.BinaryAccuracy()):
        metric.update_state(y, predictions, sample_weight=weights)
        padded = float(metric.result())
        metric.reset_state()
        metric.update_state(y[:, :length], predictions[:, :length])
        rel = tolerance("float32", 64 * 12)["rtol"]
        assert padded == pytest.approx(float(metric.result()), rel=rel)
    assert ExactMatch()(y, predictions, sample_weight=weights) == 0.5


def test_padding_a_single_length_weighs_every_step_once():
    x, _, weights = next(iter(addition_dataset(6, 4, seed=0, pad_to_longest=True)))
    assert x.shape == (4, 6, 2)
    np.testing.assert_array_equal(weights, np.ones((4, 6)))


def test_padded_element_spec_has_the_longest_length():
    spec = addition_dataset((5, 16), 32, seed=0, pad_to_longest=True).element_spec
    assert spec == (
        tf.TensorSpec((32, 16, 2), tf.float32),
        tf.TensorSpec((32, 16, 1), tf.float32),
        tf.TensorSpec((32, 16), tf.float32),
    )


def test_tutorial_data_is_100_training_and_100_test_sums_at_5_bits():
    (x_train, y_train), (x_test, y_test) = tutorial_data(seed=0)
    assert x_train.shape == x_test.shape == (100, 5, 2)
    assert y_train.shape == y_test.shape == (100, 5, 1)
    assert x_train.dtype == tf.float64
    for x, y in ((x_train, y_train), (x_test, y_test)):
        for row, target in zip(x.numpy(), y.numpy(), strict=True):
            a, b = _read(row[:, 0]), _read(row[:, 1])
            # The tutorial's randint(0, 2**4 - 1) excludes its upper bound.
            assert a <= 14
            assert b <= 14
            assert _read(target[:, 0]) == a + b
    assert not np.array_equal(x_train, x_test)


def test_tutorial_data_is_fixed_by_its_seed():
    (x1, _), _ = tutorial_data(seed=4)
    (x2, _), _ = tutorial_data(seed=4)
    (x3, _), _ = tutorial_data(seed=5)
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, x3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_bits": 1, "batch_size": 4}, "`num_bits`.*at least 2.*got 1"),
        ({"num_bits": (1, 5), "batch_size": 4}, "`num_bits`.*at least 2.*got 1"),
        ({"num_bits": (6, 5), "batch_size": 4}, "`num_bits`.*low <= high"),
        ({"num_bits": (2, 3, 4), "batch_size": 4}, "`num_bits`"),
        ({"num_bits": 2.5, "batch_size": 4}, "`num_bits`.*integer.*2.5"),
        ({"num_bits": MAX_NUM_BITS + 1, "batch_size": 4}, "at most 2147483647"),
        ({"num_bits": 5, "batch_size": 0}, "`batch_size`.*positive.*got 0"),
        ({"num_bits": 5, "batch_size": 4, "num_batches": 0}, "`num_batches`"),
        ({"num_bits": 5, "batch_size": 4, "seed": -1}, "`seed`.*-1"),
        ({"num_bits": 5, "batch_size": 4, "dtype": "int32"}, "`dtype`.*int32"),
    ],
)
def test_addition_dataset_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        addition_dataset(**kwargs)

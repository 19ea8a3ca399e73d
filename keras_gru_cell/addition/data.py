"""The binary addition task: bit encodings and a `tf.data` pipeline of sums.

Two numbers are added bit by bit, least significant bit first, so that a
recurrent model can carry from one time step to the next, as a person adding
on paper carries from one column to the next.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from keras_gru_cell import _validation

MAX_NUM_BITS = 2**31 - 1
"""The longest sequence `addition_dataset` makes: lengths are int32 tensors."""

_TUTORIAL_NUM_BITS = 5
_TUTORIAL_NUM_EXAMPLES = 100


def to_bits(n: int, length: int) -> list[int]:
    """Writes a non-negative integer as `length` bits, least significant first.

    Exact for Python integers of any size.

    Args:
        n: The integer to write; `0 <= n < 2**length`.
        length: The number of bits to write; leading (high) zeros pad the
            result up to it.

    Returns:
        A list of `length` ints, each 0 or 1; element `i` is the bit of
        weight `2**i`.

    Raises:
        ValueError: If `n` is not an integer or is negative, if `length` is
            not a non-negative integer, or if `n` does not fit in `length`
            bits.

    Examples:
        >>> to_bits(3, 4)
        [1, 1, 0, 0]
        >>> to_bits(1040, 12)
        [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    """
    n = _validation.integer("n", n)
    length = _validation.integer("length", length, minimum=0)
    if n < 0:
        raise ValueError(f"Cannot write a negative number in bits; got n={n}.")
    if n.bit_length() > length:
        raise ValueError(
            f"n={n} needs {n.bit_length()} bits and does not fit in "
            f"length={length} bits."
        )
    # bin() is linear in the number of bits; shifting bit by bit is quadratic.
    digits = bin(n)[2:] if n else ""
    return [int(c) for c in reversed(digits.zfill(length))]


def from_bits(bits: Iterable[int]) -> int:
    """Reads an integer from its bits, least significant first.

    The inverse of `to_bits`; exact for any number of bits.

    Args:
        bits: 0s and 1s (ints, bools or NumPy scalars); element `i` has
            weight `2**i`.

    Returns:
        The integer the bits write. No bits read as 0.

    Raises:
        ValueError: If an element of `bits` is neither 0 nor 1.

    Examples:
        >>> from_bits([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0])
        1040
        >>> from_bits(to_bits(2**100 + 1, 101)) == 2**100 + 1
        True
    """
    digits = []
    for bit in bits:
        if bit != 0 and bit != 1:
            raise ValueError(
                f"Received an invalid value in argument `bits`: expected only "
                f"0 and 1, got {bit!r}."
            )
        digits.append("1" if bit else "0")
    return int("".join(reversed(digits)) or "0", 2)


def encode_pairs(
    pairs: Sequence[tuple[int, int]], num_bits: int, dtype: str = "float32"
) -> np.ndarray:
    """Writes pairs of integers as model inputs, least significant bit first.

    Exact for Python integers of any size, and without a loop over bits.

    Args:
        pairs: `(a, b)` pairs of non-negative integers, each below
            `2**num_bits`.
        num_bits: The sequence length.
        dtype: The NumPy dtype of the result.

    Returns:
        An array of shape `(len(pairs), num_bits, 2)`: `[i, t, 0]` is bit `t`
        of the `i`th `a`, `[i, t, 1]` bit `t` of the `i`th `b`.

    Raises:
        ValueError: If an operand is negative or does not fit in `num_bits`.

    Examples:
        >>> encode_pairs([(3, 1)], 3)[0].tolist()
        [[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    """
    num_bytes = (num_bits + 7) // 8
    rows = []
    for pair in pairs:
        for n in pair:
            if n < 0:
                raise ValueError(
                    f"Cannot write a negative number in bits; got {n} in `pairs`."
                )
            if n.bit_length() > num_bits:
                raise ValueError(
                    f"{n} in `pairs` needs {n.bit_length()} bits and does not "
                    f"fit in num_bits={num_bits}."
                )
            rows.append(n.to_bytes(num_bytes, "little"))
    raw = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(-1, num_bytes)
    bits = np.unpackbits(raw, axis=1, bitorder="little")[:, :num_bits]
    return bits.reshape(len(pairs), 2, num_bits).transpose(0, 2, 1).astype(dtype)


def decode_sums(predictions: np.ndarray) -> list[int]:
    """Reads the integers that model outputs write, a bit being 1 above 0.5.

    Args:
        predictions: An array of shape `(batch, num_bits, 1)` or
            `(batch, num_bits)`: the predicted value of each sum bit, least
            significant first.

    Returns:
        One Python integer per row, exact at any length.

    Examples:
        >>> decode_sums(np.array([[[0.1], [0.2], [0.9]]]))
        [4]
    """
    bits = np.asarray(predictions).reshape(len(predictions), -1) > 0.5
    packed = np.packbits(bits, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def check_num_bits(value: int, name: str = "num_bits") -> int:
    """Checks a sequence length: a sum needs at least 2 bits, and lengths are int32."""
    return _validation.integer(
        name,
        value,
        minimum=2,
        maximum=MAX_NUM_BITS,
        expected=(
            "an integer of at least 2 bits (a sum needs one bit more than its "
            f"summands) and at most {MAX_NUM_BITS} (2**31 - 1, the largest int32)"
        ),
    )


def _seed_or_draw(seed: int | None) -> int:
    seed = _validation.seed("seed", seed, bits=63)
    return random.getrandbits(63) if seed is None else seed


def _sum_bits(operands: tf.Tensor) -> tf.Tensor:
    """The bits of a + b from the bits of a and b, shape (batch, time, 2)."""
    columns = tf.transpose(tf.reduce_sum(operands, axis=-1))  # (time, batch)
    carries_out = tf.scan(
        lambda carry, column: (column + carry) // 2,
        columns,
        initializer=tf.zeros_like(columns[0]),
    )
    carries_in = tf.concat([tf.zeros_like(carries_out[:1]), carries_out[:-1]], 0)
    return tf.transpose((columns + carries_in) % 2)[..., tf.newaxis]


def addition_dataset(
    num_bits: int | tuple[int, int],
    batch_size: int,
    *,
    seed: int | None = None,
    num_batches: int | None = None,
    first_batch: int | tf.Variable = 0,
    dtype: str = "float32",
    pad_to_longest: bool = False,
) -> tf.data.Dataset:
    """A seeded stream of batches of binary sums, least significant bit first.

    Each example adds two numbers `a` and `b`, drawn uniformly below
    `2**(num_bits - 1)` so that their sum fits in `num_bits` bits. The
    operands' bits are drawn directly and the sum's bits computed with a carry
    scan, all in TensorFlow ops, so any length is exact. Batch `k` of the
    stream depends only on `seed` and `k`: the stream is the same for a seed
    at any level of parallelism, and can start at any batch.

    Args:
        num_bits: The sequence length, at least 2; or a `(low, high)` pair
            of lengths, inclusive: each batch then has its own length drawn
            uniformly from the range, to train toward lengths not seen.
        batch_size: The number of sums per batch.
        seed: An integer in `[0, 2**63)` that fixes the stream. `None` draws
            one from Python's `random` module.
        num_batches: How many batches the dataset yields; `None` (default)
            yields batches forever.
        first_batch: The index in the stream of the first batch yielded. An
            int, or a scalar integer `tf.Variable` read each time a batch is
            made (a resumed training run points it at the step it resumes
            from).
        dtype: The floating dtype of `x` and `y`.
        pad_to_longest: Whether to pad every batch with zero bits up to the
            longest length, `high` for a range, so that all batches have one
            shape: JAX then compiles a train step once rather than once per
            length. The dataset yields `(x, y, sample_weight)` instead: zero
            bits above the most significant one still write the same
            numbers, and `sample_weight[i, t]` is `high / length` at the
            batch's own `length` steps and 0 on the padding, as Keras weighs
            a masked loss, so that a loss averaged over every step (Keras's
            default reduction, `"sum_over_batch_size"`) is the mean over the
            real steps, with the gradients of the unpadded batch. The
            padding comes after the last real step in time, so a recurrent
            model's outputs at the real steps do not see it.

    Returns:
        A `tf.data.Dataset` of `(x, y)` pairs with `element_spec`
        `(TensorSpec((batch_size, num_bits, 2), dtype),
        TensorSpec((batch_size, num_bits, 1), dtype))`, where the time
        dimension is `None` when `num_bits` is a range. `x[i, t]` holds bit
        `t` of the `i`th `a` and `b`, `y[i, t, 0]` bit `t` of their sum.
        With `pad_to_longest`, `(x, y, sample_weight)` triples whose time
        dimension is always `high`, and `sample_weight` of shape
        `(batch_size, high)`.

    Raises:
        ValueError: If a length is below 2 or above `MAX_NUM_BITS`, a range
            is empty, `batch_size` or `num_batches` is not a positive
            integer, `seed` is not None or an integer in `[0, 2**63)`, or
            `dtype` is not floating.

    Examples:
        >>> dataset = addition_dataset(8, batch_size=4, seed=0)
        >>> dataset.element_spec[0]
        TensorSpec(shape=(4, 8, 2), dtype=tf.float32, name=None)
        >>> x, y = next(iter(dataset))
        >>> a, b = from_bits(x[0, :, 0].numpy()), from_bits(x[0, :, 1].numpy())
        >>> from_bits(y[0, :, 0].numpy()) == a + b
        True
        >>> addition_dataset((5, 16), batch_size=4).element_spec[1]
        TensorSpec(shape=(4, None, 1), dtype=tf.float32, name=None)
        >>> padded = addition_dataset((5, 16), 4, seed=0, pad_to_longest=True)
        >>> padded.element_spec[0]
        TensorSpec(shape=(4, 16, 2), dtype=tf.float32, name=None)
        >>> x, y, sample_weight = next(iter(padded))
        >>> a, b = from_bits(x[0, :, 0].numpy()), from_bits(x[0, :, 1].numpy())
        >>> from_bits(y[0, :, 0].numpy()) == a + b
        True
        >>> float(tf.reduce_mean(sample_weight))  # the loss's scale is kept
        1.0
    """
    if isinstance(num_bits, tuple | list):
        if len(num_bits) != 2:
            raise ValueError(
                f"Received an invalid value for argument `num_bits`, expected "
                f"an integer or a (low, high) pair, got {num_bits!r}."
            )
        low, high = num_bits
        low, high = check_num_bits(low), check_num_bits(high)
        if low > high:
            raise ValueError(
                f"Received an invalid value for argument `num_bits`, expected "
                f"low <= high, got {tuple(num_bits)}."
            )
    else:
        low = high = check_num_bits(num_bits)
    batch_size = _validation.positive_integer("batch_size", batch_size)
    if num_batches is not None:
        num_batches = _validation.positive_integer("num_batches", num_batches)
    seed = _seed_or_draw(seed)
    tf_dtype = tf.as_dtype(dtype)
    if not tf_dtype.is_floating:
        raise ValueError(
            f"Received an invalid value for argument `dtype`, expected a "
            f"floating dtype, got {dtype!r}."
        )

    def make_batch(index):
        key = tf.random.experimental.stateless_fold_in(
            tf.constant([0, seed], tf.int64),
            tf.cast(index, tf.int64) + tf.cast(first_batch, tf.int64),
        )
        length_key, bits_key = tf.unstack(tf.random.experimental.stateless_split(key))
        length = tf.random.stateless_uniform(
            [], length_key, minval=low, maxval=high + 1, dtype=tf.int32
        )
        # The top bit of each operand stays 0, so the sum fits in `length`;
        # padding adds more zero bits above it.
        low_bits = tf.random.stateless_uniform(
            [batch_size, length - 1, 2], bits_key, minval=0, maxval=2, dtype=tf.int32
        )
        zero_bits = (high if pad_to_longest else length) - (length - 1)
        operands = tf.pad(low_bits, [[0, 0], [0, zero_bits], [0, 0]])
        x = tf.cast(operands, tf_dtype)
        y = tf.cast(_sum_bits(operands), tf_dtype)
        time = high if pad_to_longest or low == high else None
        x = tf.ensure_shape(x, [batch_size, time, 2])
        y = tf.ensure_shape(y, [batch_size, time, 1])
        if not pad_to_longest:
            return x, y
        real = tf.range(high) < length
        scale = tf.cast(high, tf_dtype) / tf.cast(length, tf_dtype)
        weights = tf.where(real, scale, tf.zeros([], tf_dtype))
        return x, y, tf.broadcast_to(weights, [batch_size, high])

    if num_batches is None:
        indices = tf.data.Dataset.counter()
    else:
        indices = tf.data.Dataset.range(num_batches)
    # Without autotuning: its thread, which sleeps for periods that double,
    # stalled whole training runs for tens of seconds with the cores idle.
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        indices.map(make_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(options)
    )


def tutorial_data(
    seed: int | None = None, dtype: str = "float64"
) -> tuple[tuple[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """The tutorial's fixed data: 100 training and 100 test sums at 5 bits.

    The tutorial draws each operand with NumPy's
    `randint(0, 2**(num_bits - 1) - 1)`, whose upper bound is exclusive, so
    its operands run from 0 to 14; this draws them the same way, from a seed.

    Args:
        seed: An integer in `[0, 2**63)`; `None` draws one from Python's
            `random` module.
        dtype: The floating dtype of the arrays (the tutorial's is float64).

    Returns:
        `((x_train, y_train), (x_test, y_test))`, tensors of shapes
        `(100, 5, 2)` and `(100, 5, 1)`, encoded as in `addition_dataset`.

    Raises:
        ValueError: If `seed` is not None or an integer in `[0, 2**63)`.

    Examples:
        >>> (x_train, y_train), (x_test, y_test) = tutorial_data(seed=0)
        >>> x_train.shape, y_test.shape
        (TensorShape([100, 5, 2]), TensorShape([100, 5, 1]))
    """
    seed = _seed_or_draw(seed)
    operands = tf.random.stateless_uniform(
        [2, _TUTORIAL_NUM_EXAMPLES, 2],
        tf.constant([1, seed], tf.int64),
        minval=0,
        maxval=2 ** (_TUTORIAL_NUM_BITS - 1) - 1,
        dtype=tf.int64,
    )
    values = tf.concat([operands, tf.reduce_sum(operands, -1, keepdims=True)], -1)
    bits = tf.bitwise.bitwise_and(
        tf.bitwise.right_shift(
            values[..., tf.newaxis, :],
            tf.range(_TUTORIAL_NUM_BITS, dtype=tf.int64)[:, None],
        ),
        1,
    )
    bits = tf.cast(bits, dtype)  # (split, example, bit, [a, b, a + b])
    train, test = tf.unstack(bits)
    return (train[..., :2], train[..., 2:]), (test[..., :2], test[..., 2:])

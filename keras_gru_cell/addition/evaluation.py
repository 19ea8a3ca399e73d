"""Using a trained addition model: sums of Python integers, and held-out scores."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

import keras

from keras_gru_cell import _validation
from keras_gru_cell.addition.data import check_num_bits
from keras_gru_cell.addition.data import decode_sums
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.scoring import score_sums
from keras_gru_cell.addition.serving import predict


def check_addition_model(model: keras.Model) -> None:
    """Checks that a model maps `(batch, time, 2)` bits to `(batch, time, 1)`.

    Args:
        model: The model to check.

    Raises:
        ValueError: If the model's input or output shape is not that of
            `build_addition_model`'s models.
    """
    inputs = getattr(model, "input_shape", None)
    outputs = getattr(model, "output_shape", None)
    if (
        not isinstance(inputs, tuple)
        or len(inputs) != 3
        or inputs[1:] != (None, 2)
        or not isinstance(outputs, tuple)
        or len(outputs) != 3
        or outputs[1:] != (None, 1)
    ):
        raise ValueError(
            f"Expected an addition model taking (batch, None, 2) and returning "
            f"(batch, None, 1); got a model taking {inputs} and returning "
            f"{outputs}."
        )


def load_addition_model(path: str | os.PathLike) -> keras.Model:
    """Loads an addition model from a `.keras` file, with Keras's `safe_mode`.

    Every failure is one `ValueError` that names the file: no file there, a
    file Keras cannot read (corrupted, truncated, not a `.keras` archive, or
    one that needs unsafe deserialization such as a `Lambda` layer's
    bytecode), or a model that is not an addition model.

    Args:
        path: The `.keras` file, as `keras-gru-cell train` writes it.

    Returns:
        The model, compiled as it was saved.

    Raises:
        ValueError: If the file is missing, cannot be loaded safely, or
            holds a model whose input or output shape is not that of
            `build_addition_model`'s models.

    Examples:
        >>> load_addition_model("no/such/model.keras")
        Traceback (most recent call last):
        ...
        ValueError: no model file at 'no/such/model.keras'
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no model file at {str(path)!r}")
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad file.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"cannot load a Keras model from {str(path)!r}: "
            f"{reason or type(error).__name__}"
        ) from None
    try:
        check_addition_model(model)
    except ValueError as error:
        raise ValueError(f"{str(path)!r} is not an addition model: {error}") from None
    return model


def predict_sums(model: keras.Model, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Adds pairs of non-negative integers with an addition model.

    The numbers are written in as many bits as the largest sum needs, so
    Python integers of any size work.

    Args:
        model: A model from `build_addition_model`, trained.
        pairs: `(a, b)` pairs of non-negative Python integers.

    Returns:
        The model's sum for each pair, in order.

    Raises:
        ValueError: If a number is negative.

    Examples:
        >>> from keras_gru_cell.addition.pretrained import load_pretrained_model
        >>> predict_sums(load_pretrained_model(), [(1024, 16), (2**100, 2**100)])
        [1040, 2535301200456458802993406410752]
    """
    if not pairs:
        return []
    num_bits = max(2, max(max(a, b) for a, b in pairs).bit_length() + 1)
    x = encode_pairs(pairs, num_bits)
    predictions = predict(model, x)
    return decode_sums(predictions)


def random_pairs(
    num_bits: int, n: int, seed: int | str | None = None
) -> list[tuple[int, int]]:
    """Draws `n` pairs of Python integers uniformly below `2**(num_bits - 1)`.

    Independent of `addition_dataset`: the operands come from Python's
    `random.Random`, at full width, so their sums fit in `num_bits` bits.

    Args:
        num_bits: The sum's length in bits, at least 2.
        n: The number of pairs.
        seed: Seeds a `random.Random` of its own.

    Returns:
        A list of `(a, b)` tuples.

    Examples:
        >>> pairs = random_pairs(8, 3, seed=0)
        >>> len(pairs), all(a < 128 and b < 128 for a, b in pairs)
        (3, True)
    """
    rng = random.Random(seed)
    return [
        (rng.getrandbits(num_bits - 1), rng.getrandbits(num_bits - 1)) for _ in range(n)
    ]


def evaluate_addition(
    model: keras.Model, num_bits: int, n: int = 10_000, *, seed: int | None = 0
) -> dict[str, float]:
    """Scores an addition model on random held-out sums of one length.

    Args:
        model: A model from `build_addition_model`, trained.
        num_bits: The length of the sums, at least 2.
        n: The number of random pairs (see `random_pairs`).
        seed: Seeds the pairs.

    Returns:
        A dict with `exact_match`, the share of sums entirely right, and
        `bit_accuracy`, the share of sum bits right.

    Raises:
        ValueError: If `num_bits` is below 2 or `n` is below 1.
    """
    check_num_bits(num_bits)
    _validation.positive_integer("n", n)
    return _score_pairs(model, random_pairs(num_bits, n, seed), num_bits)


CARRY_CHAINS = ("2^n-1 + 0", "2^n-1 + 1", "2^n-1 + 2^n-1")
"""The names of `carry_chain_pairs`' three families of sums."""


def carry_chain_pairs(num_bits: int) -> dict[str, list[tuple[int, int]]]:
    """The sums whose carries run longest, for every `n` below `num_bits`.

    Random sums rarely carry far: the longest carry in an `n`-bit random sum
    runs about `log2(n)` columns. A column holding one 1 bit passes on
    whatever carry it takes in, so what decides such a column's bit is
    remembered from further back; in these sums it is remembered over the
    whole length:

    - `2**n - 1 + 0`: `n` columns that hold one 1 bit each and take in no
      carry, writing 1s: a model must keep "no carry" through all of them
      (models that are right on every random sum can still invent a carry
      here, after some such columns);
    - `2**n - 1 + 1`: the carry made by the two 1 bits at bit 0 runs through
      `n - 1` columns that hold one 1 bit each, writing 0s, to land at bit
      `n`;
    - `2**n - 1 + 2**n - 1`: every column holds two 1 bits, so each writes
      the carry it takes in and makes one for the next, `n` times.

    Args:
        num_bits: The sum length they must fit in, at least 2; `n` runs from
            1 to `num_bits - 1`.

    Returns:
        A dict from each name in `CARRY_CHAINS` to its `num_bits - 1` pairs.

    Raises:
        ValueError: If `num_bits` is below 2.

    Examples:
        >>> for name, pairs in carry_chain_pairs(4).items():
        ...     print(f"{name:<14}", pairs)
        2^n-1 + 0      [(1, 0), (3, 0), (7, 0)]
        2^n-1 + 1      [(1, 1), (3, 1), (7, 1)]
        2^n-1 + 2^n-1  [(1, 1), (3, 3), (7, 7)]
    """
    check_num_bits(num_bits)
    ones = [2**n - 1 for n in range(1, num_bits)]
    families = ([(a, 0) for a in ones], [(a, 1) for a in ones], [(a, a) for a in ones])
    return dict(zip(CARRY_CHAINS, families, strict=True))


def evaluate_carry_chains(
    model: keras.Model, num_bits: int
) -> dict[str, dict[str, float]]:
    """Scores an addition model on the sums with the longest carries.

    Args:
        model: A model from `build_addition_model`, trained.
        num_bits: The longest sum, at least 2 (see `carry_chain_pairs`);
            every sum is written in this many bits.

    Returns:
        A dict from each name in `CARRY_CHAINS` to its scores, as
        `evaluate_addition` returns them.

    Raises:
        ValueError: If `num_bits` is below 2.

    Examples:
        >>> from keras_gru_cell.addition.pretrained import load_pretrained_model
        >>> scores = evaluate_carry_chains(load_pretrained_model(), 64)
        >>> [round(scores[name]["exact_match"], 2) for name in CARRY_CHAINS]
        [1.0, 1.0, 1.0]
    """
    return {
        name: _score_pairs(model, pairs, num_bits)
        for name, pairs in carry_chain_pairs(num_bits).items()
    }


def _score_pairs(
    model: keras.Model, pairs: Sequence[tuple[int, int]], num_bits: int
) -> dict[str, float]:
    x = encode_pairs(pairs, num_bits)
    predictions = predict(model, x)
    expected = encode_pairs([(a + b, 0) for a, b in pairs], num_bits)[..., :1]
    return score_sums(expected, predictions)

"""Argument checks shared by every public entry point, in Keras's wording.

Each check names the argument and the value it received, rejects booleans
where a number is expected (`True` is an `int` to Python, never a valid size
or seed here), and returns the value in its canonical type.
"""

from __future__ import annotations

import math
import operator
from typing import Any


def _invalid(argument: str, expected: str, value: Any) -> ValueError:
    return ValueError(
        f"Received an invalid value for argument `{argument}`, expected "
        f"{expected}, got {value!r}."
    )


def _as_integer(value: Any) -> int | None:
    """`value` as an `int` if it is an integer (NumPy's too), else `None`."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def integer(
    argument: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    expected: str | None = None,
) -> int:
    """Checks that `value` is an integer in `[minimum, maximum]`.

    `expected` replaces the generated description of the valid values in the
    error, for a bound that needs its reason stated.
    """
    number = _as_integer(value)
    valid = (
        number is not None
        and (minimum is None or number >= minimum)
        and (maximum is None or number <= maximum)
    )
    if not valid:
        if expected is None:
            expected = "an integer"
            if minimum == 1 and maximum is None:
                expected = "a positive integer"
            elif minimum == 0 and maximum is None:
                expected = "a non-negative integer"
            elif minimum is not None and maximum is not None:
                expected = f"an integer in [{minimum}, {maximum}]"
            elif minimum is not None:
                expected = f"an integer of at least {minimum}"
        raise _invalid(argument, expected, value)
    return number


def positive_integer(argument: str, value: Any) -> int:
    """Checks that `value` is an integer of at least 1."""
    return integer(argument, value, minimum=1)


def seed(argument: str, value: Any, *, bits: int) -> int | None:
    """Checks that `value` is `None` or an integer in `[0, 2**bits)`."""
    if value is None:
        return None
    return integer(
        argument,
        value,
        minimum=0,
        maximum=2**bits - 1,
        expected=f"None or an integer in [0, 2**{bits})",
    )


def positive_number(argument: str, value: Any) -> float:
    """Checks that `value` is a finite number above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        valid = False
    else:
        valid = 0 < value < math.inf
    if not valid:
        raise _invalid(argument, "a positive number", value)
    return float(value)


def rate(argument: str, value: Any) -> float:
    """Checks that `value` is a fraction in `[0, 1)`, such as a dropout rate."""
    # A rate of 1 would drop everything and divide by zero when rescaling.
    if isinstance(value, bool) or not isinstance(value, int | float):
        valid = False
    else:
        valid = 0.0 <= value < 1.0
    if not valid:
        raise _invalid(argument, "a float in [0, 1)", value)
    return float(value)


def one_of(argument: str, value: Any, choices: tuple) -> Any:
    """Checks that `value` is one of `choices`."""
    if value not in choices:
        raise _invalid(argument, f"one of {choices}", value)
    return value

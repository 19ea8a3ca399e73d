"""What the `keras-gru-cell` commands share to read their arguments.

The parser class, whose errors are one line, and the argparse `type`s that
check numbers with `_validation`'s messages, which name the option. Reading
the arguments imports no TensorFlow: see `keras_gru_cell.addition.cli`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from keras_gru_cell import _validation

# A copy of `data.MAX_NUM_BITS`: importing `data` imports TensorFlow. The
# tests check that the copies agree.
MAX_BITS = 2**31 - 1


class UsageError(Exception):
    """A mistake in the command line or its inputs, shown as one line."""


class Parser(argparse.ArgumentParser):
    # argparse prints the usage before its error: one line is clearer.
    def error(self, message):
        raise UsageError(message)


def checked(parse: Callable[[str], Any], check: Callable[[Any], Any]):
    """An argparse `type`: `parse` the text, then `check` the value.

    Text that `parse` refuses goes to `check` as it is, so that its error
    shows what was typed. `check` is one of `_validation`'s, whose message
    names the option: it is raised as a `UsageError` as it stands, since
    argparse would prefix the option's name a second time.
    """

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check(value)
        except ValueError as error:
            raise UsageError(str(error)) from None

    return convert


def integer(
    option: str,
    *,
    minimum: int,
    maximum: int | None = None,
    expected: str | None = None,
):
    return checked(
        int,
        lambda value: _validation.integer(
            option, value, minimum=minimum, maximum=maximum, expected=expected
        ),
    )


def bit_count(option: str):
    return integer(
        option,
        minimum=2,
        maximum=MAX_BITS,
        expected=f"a length of at least 2 bits and at most {MAX_BITS}",
    )


def positive_float(option: str):
    return checked(float, lambda value: _validation.positive_number(option, value))

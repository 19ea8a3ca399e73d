"""`keras-gru-cell add`: adds two numbers with an addition model."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_gru_cell.addition.cli.files import load_model
from keras_gru_cell.addition.cli.options import integer


def add_parser(commands) -> None:
    """Adds the `add` command and its options to `commands`."""
    add = commands.add_parser(
        "add",
        help="add two numbers with a model",
        description="Add two non-negative integers of any size with a model.",
    )
    add.add_argument(
        "a", type=integer("A", minimum=0), metavar="A", help="a non-negative integer"
    )
    add.add_argument(
        "b", type=integer("B", minimum=0), metavar="B", help="a non-negative integer"
    )
    add.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help="a .keras addition model (default: the one shipped with the package)",
    )


def run(args: argparse.Namespace) -> None:
    """Runs `add` with the parsed `args`."""
    from keras_gru_cell.addition.evaluation import predict_sums

    model = load_model(args.model)
    (total,) = predict_sums(model, [(args.a, args.b)])
    verdict = "right" if total == args.a + args.b else f"wrong: {args.a + args.b}"
    print(f"{args.a} + {args.b} = {total} ({verdict})")

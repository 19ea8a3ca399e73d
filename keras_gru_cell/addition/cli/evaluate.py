"""`keras-gru-cell evaluate`: scores a model on held-out sums and long carries."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_gru_cell.addition.cli.files import load_model
from keras_gru_cell.addition.cli.options import bit_count
from keras_gru_cell.addition.cli.options import integer

DEFAULT_BITS = "8,16,64,256,1024"


def _bit_counts(option: str):
    single = bit_count(option)
    return lambda text: [single(part) for part in text.split(",")]


def add_parser(commands) -> None:
    """Adds the `evaluate` command and its options to `commands`."""
    evaluate = commands.add_parser(
        "evaluate",
        help="score a model on random held-out sums and long carries",
        description="Score a model on random held-out sums of each length, "
        "then on the sums whose carries run longest, up to the longest "
        "length: 2^n-1 + 0, 2^n-1 + 1 and 2^n-1 + 2^n-1 for every n below "
        "it. Each row gives the share of sums entirely right and the share "
        "of bits right.",
    )
    evaluate.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="FILE",
        help="the .keras addition model to score (required)",
    )
    evaluate.add_argument(
        "--bits",
        type=_bit_counts("--bits"),
        # A string, which argparse converts with `type`, so that the help
        # shows it as it would be typed.
        default=DEFAULT_BITS,
        help="comma-separated sum lengths (default: %(default)s)",
    )
    evaluate.add_argument(
        "-n",
        type=integer("-n", minimum=1),
        default=10_000,
        help="random sums per length (default: %(default)s)",
    )
    evaluate.add_argument(
        "--seed",
        type=integer("--seed", minimum=0),
        default=0,
        help="seed of the random sums (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> None:
    """Runs `evaluate` with the parsed `args`."""
    from keras_gru_cell.addition.evaluation import evaluate_addition
    from keras_gru_cell.addition.evaluation import evaluate_carry_chains

    model = load_model(args.model)

    def row(num_bits: int, sums: str, scores: dict[str, float]) -> None:
        print(
            f"{num_bits:>6}  {sums:<14} {scores['exact_match']:>12.2%} "
            f"{scores['bit_accuracy']:>13.4%}",
            flush=True,
        )

    print(f"{'bits':>6}  {'sums':<14} {'exact match':>12} {'bit accuracy':>13}")
    for num_bits in args.bits:
        row(
            num_bits,
            "random",
            evaluate_addition(model, num_bits, args.n, seed=args.seed),
        )
    longest = max(args.bits)
    for name, scores in evaluate_carry_chains(model, longest).items():
        row(longest, name, scores)

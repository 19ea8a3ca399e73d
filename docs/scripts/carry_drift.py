"""Draws docs/assets/tutorial/carry_drift.png: a carry kept, or lost, over 300 columns.

Trains the addition model twice with the default settings and one seed,
once with the summands' weights tied (`symmetric_summands`, the default) and
once without, then plots, column by column, each model's probability that
the sum bit of `2**300 - 1 + 1` is 1. The carry made at bit 0 runs through
299 columns that hold one 1 bit each (`a`'s), writing 0s, and lands at bit
300: the right answer is 0 everywhere but there.

    python docs/scripts/carry_drift.py

Takes about a minute on 2 CPU cores.
"""

import dataclasses
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from matplotlib.figure import Figure

from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import train_addition_model

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "docs" / "assets" / "tutorial" / "carry_drift.png"
# A seed whose untied model loses long carries (most seeds' do, sooner or
# later; see docs/tutorial.md).
SEED = 1
COLUMNS = 300


def sum_bit_probabilities(symmetric_summands: bool):
    settings = dataclasses.replace(
        PRESETS["default"], seed=SEED, symmetric_summands=symmetric_summands
    )
    with tempfile.TemporaryDirectory() as out_dir:
        model = train_addition_model(settings, out_dir, verbose=0).model
    x = encode_pairs([(2**COLUMNS - 1, 1)], COLUMNS + 1)
    return model.predict(x, verbose=0)[0, :, 0]


def main() -> None:
    figure = Figure(figsize=(7, 3.5))
    axes = figure.subplots()
    for tied, style, label in (
        (False, "-r", "summands' weights free"),
        (True, "-b", "summands' weights tied (default)"),
    ):
        axes.plot(sum_bit_probabilities(tied), style, label=label)
    expected = [0.0] * COLUMNS + [1.0]
    axes.plot(expected, ":k", label="right answer")
    axes.set_title(f"The sum bits of 2^{COLUMNS} − 1 + 1, seed {SEED}")
    axes.set_xlabel("Column (bit), least significant first")
    axes.set_ylabel("P(sum bit is 1)")
    axes.legend(loc="center left")
    figure.tight_layout()
    figure.savefig(CHART, format="png", dpi=100)
    print(f"wrote {CHART.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())

"""What a training run writes: atomic files, the CSV history and the loss plot."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Calls `write` on a temporary file beside `path`, then renames it to `path`.

    A reader, or a run killed halfway, never sees a half-written `path`.

    Args:
        path: The file to write.
        write: Writes the file at the path it is given, whose name ends with
            the name of `path` (Keras and Matplotlib read the format from
            it).
    """
    temporary = path.with_name(f".{os.getpid()}.tmp.{path.name}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_history(rows: list[dict[str, float]], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["step"])
        writer.writeheader()
        writer.writerows(rows)


def read_history(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [
            {key: (int(v) if key == "step" else float(v)) for key, v in row.items()}
            for row in csv.DictReader(f)
        ]


def plot_losses(history: list[dict[str, float]], path: Path) -> None:
    """Plots training and validation loss against training steps, as a PNG.

    Args:
        history: Rows as in `TrainingResult.history`.
        path: The image file to write.
    """
    figure = Figure(figsize=(7, 4.5))
    axes = figure.subplots()
    steps = [row["step"] for row in history]
    for key, label, style in (
        ("loss", "Training loss", "-b"),
        ("val_loss", "Validation loss", "-r"),
    ):
        if history and key in history[0]:
            axes.plot(steps, [row[key] for row in history], style, label=label)
    axes.set_yscale("log")
    axes.set_title("Loss")
    axes.set_xlabel("Iteration")
    axes.set_ylabel("Loss")
    axes.legend(loc="upper right")
    figure.savefig(path, format="png", dpi=100)

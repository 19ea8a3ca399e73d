"""`keras-gru-cell export`: exports a model as a TensorFlow SavedModel."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from _keras_gru_cell_process import removed_if_interrupted
from keras_gru_cell.addition.cli.files import load_model
from keras_gru_cell.addition.cli.files import user_path
from keras_gru_cell.addition.cli.options import UsageError


def add_parser(commands) -> None:
    """Adds the `export` command and its options to `commands`."""
    export = commands.add_parser(
        "export",
        help="export a TensorFlow SavedModel",
        description="Export a model as a TensorFlow SavedModel whose `serve` "
        "endpoint takes any batch size and length.",
    )
    export.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="FILE",
        help="the .keras addition model to export (required)",
    )
    export.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="the SavedModel folder to create; must not exist or be empty (required)",
    )


def run(args: argparse.Namespace) -> None:
    """Runs `export` with the parsed `args`."""
    out = args.out
    with user_path("--out", out):
        taken = out.exists() and not (out.is_dir() and not any(out.iterdir()))
    if taken:
        raise UsageError(f"--out {str(out)!r} already exists; choose a new folder")
    from keras_gru_cell.addition.serving import serving_model

    model = load_model(args.model)
    with user_path("--out", out):
        out.parent.mkdir(parents=True, exist_ok=True)
        # Export beside the target and rename, so no half-written SavedModel
        # shows.
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        with removed_if_interrupted(staging):
            # The model file's `RNN(ChungGRUCell)` steps one cell call at a
            # time; the endpoint serves the same weights through `ChungGRU`.
            serving_model(model).export(
                str(staging / "saved_model"), format="tf_saved_model", verbose=0
            )
            with user_path("--out", out):
                os.replace(staging / "saved_model", out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(
        f"Wrote a SavedModel to {out}; its `serve` endpoint takes any batch and length."
    )

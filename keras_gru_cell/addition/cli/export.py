"""`keras-gru-cell export`: exports a model as a TensorFlow SavedModel, an
ONNX model or a LiteRT model."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_gru_cell.addition.cli.files import load_model
from keras_gru_cell.addition.cli.files import user_path
from keras_gru_cell.addition.cli.options import UsageError

# A copy of `export_formats.FORMATS`: that module imports Keras, which the
# parser must not before TensorFlow's start-up log is silenced. The tests
# check that the copies agree.
FORMATS = ("saved_model", "onnx", "litert")


def add_parser(commands) -> None:
    """Adds the `export` command and its options to `commands`."""
    export = commands.add_parser(
        "export",
        help="export a SavedModel, ONNX or LiteRT model for serving",
        description="Export a model as a TensorFlow SavedModel, an ONNX model "
        "or a LiteRT model that takes any batch size and length.",
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
        metavar="PATH",
        help="the SavedModel folder (which may exist empty) or the .onnx or "
        ".tflite file to create; must not exist (required)",
    )
    export.add_argument(
        "--format",
        choices=FORMATS,
        default=FORMATS[0],
        help="saved_model (TensorFlow Serving), onnx (ONNX Runtime) or litert "
        "(LiteRT); onnx and litert need the TensorFlow backend "
        "(default: %(default)s)",
    )


def run(args: argparse.Namespace) -> None:
    """Runs `export` with the parsed `args`."""
    from keras_gru_cell.addition import export_formats

    try:
        with user_path("--out", args.out):
            export_formats.check_export(args.out, args.format)
    except ValueError as error:
        raise UsageError(str(error)) from None
    model = load_model(args.model)
    with user_path("--out", args.out):
        print(export_formats.export_addition_model(model, args.out, args.format))

"""`export_addition_model`: an addition model for serving, as a SavedModel,
an ONNX model or a LiteRT model, written all at once or not at all.

What `keras-gru-cell export` writes. Each format is `Model.export`'s, of the
model's `serving_model` twin (`ChungGRU` in place of `RNN(ChungGRUCell)`),
and takes any batch size and any sum length.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import keras

from _keras_gru_cell_process import removed_if_interrupted
from keras_gru_cell.addition.serving import serving_model

FORMATS = ("saved_model", "onnx", "litert")
# `Model.export`'s name for each format.
_KERAS_FORMATS = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
# What each format writes, and what a runtime calls in it.
_WRITTEN = {
    "saved_model": ("a SavedModel", "its `serve` endpoint"),
    "onnx": ("an ONNX model", "its input `summand_bits`"),
    "litert": ("a LiteRT model", "its `serving_default` signature (`summand_bits`)"),
}
# The backends that export an adder for any batch size and length. Keras
# exports ONNX from PyTorch for one fixed shape, and LiteRT from TensorFlow
# (or, with the `litert-torch` package, from PyTorch at one fixed shape);
# jax2onnx, Keras's ONNX exporter on JAX, cannot lower the adder's
# `TimeDistributed` head, whose reshapes merge two unknown axes.
_BACKENDS = {"onnx": ("tensorflow",), "litert": ("tensorflow",)}
# The exported model's input: an addition model's summand bits, `(batch, time, 2)`.
_INPUT = keras.InputSpec(shape=(None, None, 2), dtype="float32", name="summand_bits")


def check_export(out: Path, format: str, backend: str | None = None) -> None:
    """Checks, before any work, that `format` can be exported to `out`.

    Args:
        out: The folder (a SavedModel) or file (ONNX, LiteRT) to create.
        format: One of `FORMATS`.
        backend: The Keras backend; defaults to the one in use.

    Raises:
        ValueError: If `format` is unknown, the backend cannot export it for
            any length, or `out` exists (a SavedModel may go into an empty
            folder).
        OSError: If `out` cannot be inspected.
    """
    if format not in FORMATS:
        raise ValueError(
            f"--format must be one of {', '.join(FORMATS)}; got {format!r}"
        )
    backend = backend or keras.backend.backend()
    backends = _BACKENDS.get(format, (backend,))
    if backend not in backends:
        needed = " or ".join(f"KERAS_BACKEND={name}" for name in backends)
        raise ValueError(
            f"--format {format} needs {needed} (the {backend} backend is in use)"
        )
    empty_folder = format == "saved_model" and out.is_dir() and not any(out.iterdir())
    if out.exists() and not empty_folder:
        what = "folder" if format == "saved_model" else "file name"
        raise ValueError(f"--out {str(out)!r} already exists; choose a new {what}")


def export_addition_model(
    model: keras.Model, out: Path, format: str = "saved_model"
) -> str:
    """Writes `model`'s serving twin to `out` in `format`, all or nothing.

    The export goes to a hidden folder beside `out`, which is renamed into
    place when complete, and removed whatever happens, so that no
    half-written model shows, even after an interruption.

    Args:
        model: An addition model.
        out: The folder (a SavedModel) or file (ONNX, LiteRT) to create; see
            `check_export`.
        format: One of `FORMATS`.

    Returns:
        A sentence saying what was written.

    Raises:
        OSError: If `out` cannot be written.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    # Keras's LiteRT exporter wants the `.tflite` suffix; `out` need not have it.
    staged = staging / {"onnx": "model.onnx", "litert": "model.tflite"}.get(
        format, "saved_model"
    )
    # The SavedModel keeps the argument name it always had, the input layer's.
    signature = None if format == "saved_model" else [_INPUT]
    try:
        with removed_if_interrupted(staging):
            serving_model(model).export(
                str(staged),
                format=_KERAS_FORMATS[format],
                verbose=False,
                input_signature=signature,
            )
            os.replace(staged, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    model_kind, entry = _WRITTEN[format]
    return f"Wrote {model_kind} to {out}; {entry} takes any batch and length."

"""The files and folders a user names to the `keras-gru-cell` commands.

A path that cannot be read or written, or a model file that does not load,
is the user's to fix: each is reported as a `UsageError` naming the option.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from keras_gru_cell.addition.cli.options import UsageError


@contextlib.contextmanager
def user_path(
    option: str, path: Path, failed: str = "cannot be created or written"
) -> Iterator[None]:
    """Reports an `OSError` on a path the user gave as a usage error naming it."""
    try:
        yield
    except OSError as error:
        raise UsageError(
            f"{option} {str(path)!r} {failed}: {error.strerror or error}"
        ) from None


def writable_folder(option: str, path: Path) -> None:
    """Creates `path` if missing and checks that a file can be written there."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {str(path)!r} exists and is not a folder")
    with user_path(option, path):
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass


def load_model(path: Path | None):
    """Loads the addition model at `path`, or the shipped one for `None`."""
    if path is None:
        # The shipped model: a failure to load it is a defect, not the user's.
        from keras_gru_cell.addition.pretrained import load_pretrained_model

        return load_pretrained_model()
    from keras_gru_cell.addition.evaluation import load_addition_model

    # Its one ValueError names the file: missing, damaged, unsafe, not an adder.
    try:
        with user_path("--model", path, "cannot be read"):
            return load_addition_model(path)
    except ValueError as error:
        raise UsageError(str(error)) from None

"""The addition model shipped with the package, trained by its own command.

`addition.keras` is the `model.keras` that this command wrote, run from the
repository root:

    keras-gru-cell train --seed 0 --out runs/pretrained
    cp runs/pretrained/model.keras keras_gru_cell/addition/pretrained/addition.keras

How long it trained and how it scores is in the README.md beside it, written
by `docs/scripts/pretrained_report.py` from the file itself.
"""

from __future__ import annotations

from importlib import resources

import keras


def load_pretrained_model() -> keras.Model:
    """Loads the shipped addition model.

    Returns:
        A trained model from `build_addition_model`, compiled.

    Examples:
        >>> from keras_gru_cell.addition.data import encode_pairs, decode_sums
        >>> model = load_pretrained_model()
        >>> decode_sums(model.predict(encode_pairs([(1024, 16)], 20), verbose=0))
        [1040]
    """
    with resources.as_file(resources.files(__name__) / "addition.keras") as path:
        return keras.models.load_model(path)

"""The gated recurrent unit of Chung et al. (2014) as Keras 3 layers.

The library: `ChungGRUCell`, `ChungGRU`, their initializers and the weight
converters, which import only Keras and NumPy (and a backend's own library
only when that backend runs). The binary addition application built on it lives in
`keras_gru_cell.addition`, which needs TensorFlow.
"""

import importlib
import warnings

from keras_gru_cell._addition_names import register_stand_ins
from keras_gru_cell.chung_gru import ChungGRU
from keras_gru_cell.chung_gru_cell import ChungGRUCell
from keras_gru_cell.per_gate_orthogonal import PerGateOrthogonal
from keras_gru_cell.update_gate_bias import UpdateGateBias
from keras_gru_cell.version import __version__
from keras_gru_cell.weights import chung_to_keras_gru_weights
from keras_gru_cell.weights import keras_gru_to_chung_weights

__all__ = [
    "ChungGRU",
    "ChungGRUCell",
    "PerGateOrthogonal",
    "UpdateGateBias",
    "__version__",
    "chung_to_keras_gru_weights",
    "keras_gru_to_chung_weights",
]

# So that addition model files, 0.1.0's included, load after `import
# keras_gru_cell` alone, importing the addition when a file needs it.
register_stand_ins()

# Names of 0.1.0 that moved to `keras_gru_cell.addition`; they keep working,
# with a warning, until 0.3.0. Loading them lazily keeps TensorFlow out of
# `import keras_gru_cell`.
_MOVED_TO_ADDITION = frozenset(
    {
        "ExactMatch",
        "QuadraticLoss",
        "addition_dataset",
        "build_addition_model",
        "distribution_scope",
        "from_bits",
        "load_addition_model",
        "to_bits",
    }
)


def __getattr__(name: str):
    if name not in _MOVED_TO_ADDITION:
        raise AttributeError(f"module 'keras_gru_cell' has no attribute {name!r}")
    warnings.warn(
        f"`keras_gru_cell.{name}` moved to `keras_gru_cell.addition.{name}`; the "
        "old name will be removed in 0.3.0.",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module("keras_gru_cell.addition"), name)

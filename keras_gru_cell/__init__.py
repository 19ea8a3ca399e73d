"""The gated recurrent unit of Chung et al. (2014) as a Keras 3 layer."""

from keras_gru_cell.chung_gru_cell import ChungGRUCell
from keras_gru_cell.version import __version__
from keras_gru_cell.weights import chung_to_keras_gru_weights
from keras_gru_cell.weights import keras_gru_to_chung_weights

__all__ = [
    "ChungGRUCell",
    "__version__",
    "chung_to_keras_gru_weights",
    "keras_gru_to_chung_weights",
]

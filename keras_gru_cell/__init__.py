"""The gated recurrent unit of Chung et al. (2014) as a Keras 3 layer."""

from keras_gru_cell.addition import addition_dataset
from keras_gru_cell.addition import from_bits
from keras_gru_cell.addition import to_bits
from keras_gru_cell.chung_gru import ChungGRU
from keras_gru_cell.chung_gru_cell import ChungGRUCell
from keras_gru_cell.distribution import distribution_scope
from keras_gru_cell.evaluation import load_addition_model
from keras_gru_cell.losses import QuadraticLoss
from keras_gru_cell.metrics import ExactMatch
from keras_gru_cell.model import build_addition_model
from keras_gru_cell.version import __version__
from keras_gru_cell.weights import chung_to_keras_gru_weights
from keras_gru_cell.weights import keras_gru_to_chung_weights

__all__ = [
    "ChungGRU",
    "ChungGRUCell",
    "ExactMatch",
    "QuadraticLoss",
    "__version__",
    "addition_dataset",
    "build_addition_model",
    "chung_to_keras_gru_weights",
    "distribution_scope",
    "from_bits",
    "keras_gru_to_chung_weights",
    "load_addition_model",
    "to_bits",
]

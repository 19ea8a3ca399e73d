"""The binary addition task, built on the library: data, model, training, CLI.

The application of `keras_gru_cell`: a `tf.data` pipeline of binary sums,
the addition model (`RNN(ChungGRUCell)` and a `TimeDistributed(Dense(1))`
head), its loss and metric, training with one `model.fit`, evaluation,
data-parallel training (with `TorchDataParallel` on PyTorch), the
`keras-gru-cell` command and the shipped model. Unlike the library it
needs TensorFlow (`tf.data`) and matplotlib. Importing it registers the
addition model's Keras objects, so that saved addition models load.
"""

from keras_gru_cell.addition.data import addition_dataset
from keras_gru_cell.addition.data import decode_sums
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.data import from_bits
from keras_gru_cell.addition.data import to_bits
from keras_gru_cell.addition.data import tutorial_data
from keras_gru_cell.addition.distribution import distribution_scope
from keras_gru_cell.addition.evaluation import carry_chain_pairs
from keras_gru_cell.addition.evaluation import evaluate_addition
from keras_gru_cell.addition.evaluation import evaluate_carry_chains
from keras_gru_cell.addition.evaluation import load_addition_model
from keras_gru_cell.addition.evaluation import predict_sums
from keras_gru_cell.addition.exact_match import ExactMatch
from keras_gru_cell.addition.model import build_addition_model
from keras_gru_cell.addition.quadratic_loss import QuadraticLoss
from keras_gru_cell.addition.scoring import score_sums
from keras_gru_cell.addition.symmetric_summands import SymmetricSummands
from keras_gru_cell.addition.time_distributed import TimeDistributed
from keras_gru_cell.addition.torch_data_parallel import TorchDataParallel
from keras_gru_cell.addition.training import StopOnSignal
from keras_gru_cell.addition.training import TrainingSettings
from keras_gru_cell.addition.training import compare_with_builtin_gru
from keras_gru_cell.addition.training import train_addition_model

__all__ = [
    "ExactMatch",
    "QuadraticLoss",
    "StopOnSignal",
    "SymmetricSummands",
    "TimeDistributed",
    "TorchDataParallel",
    "TrainingSettings",
    "addition_dataset",
    "build_addition_model",
    "carry_chain_pairs",
    "compare_with_builtin_gru",
    "decode_sums",
    "distribution_scope",
    "encode_pairs",
    "evaluate_addition",
    "evaluate_carry_chains",
    "from_bits",
    "load_addition_model",
    "predict_sums",
    "score_sums",
    "to_bits",
    "train_addition_model",
    "tutorial_data",
]

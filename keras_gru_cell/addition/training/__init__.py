"""Training the addition model: settings, callbacks, artifacts, run, comparison.

`train_addition_model` trains the model with one `model.fit` and writes its
artifacts; `compare_with_builtin_gru` trains it beside its twin on
`keras.layers.GRU`.
"""

from keras_gru_cell.addition.training.artifacts import plot_losses
from keras_gru_cell.addition.training.artifacts import write_atomically
from keras_gru_cell.addition.training.callbacks import IncompatibleBackupError
from keras_gru_cell.addition.training.compare import ComparisonResult
from keras_gru_cell.addition.training.compare import builtin_twin
from keras_gru_cell.addition.training.compare import compare_with_builtin_gru
from keras_gru_cell.addition.training.run import TrainingResult
from keras_gru_cell.addition.training.run import train_addition_model
from keras_gru_cell.addition.training.settings import LOSSES
from keras_gru_cell.addition.training.settings import PRESETS
from keras_gru_cell.addition.training.settings import TUTORIAL
from keras_gru_cell.addition.training.settings import TrainingSettings
from keras_gru_cell.addition.training.stop_on_signal import StopOnSignal

__all__ = [
    "LOSSES",
    "PRESETS",
    "TUTORIAL",
    "ComparisonResult",
    "IncompatibleBackupError",
    "StopOnSignal",
    "TrainingResult",
    "TrainingSettings",
    "builtin_twin",
    "compare_with_builtin_gru",
    "plot_losses",
    "train_addition_model",
    "write_atomically",
]

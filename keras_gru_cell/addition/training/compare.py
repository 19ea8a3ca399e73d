"""`compare_with_builtin_gru`: the model and its `keras.layers.GRU` twin, in step."""

from __future__ import annotations

import dataclasses
import random

import keras
import numpy as np

from keras_gru_cell.addition.time_distributed import TimeDistributed
from keras_gru_cell.addition.training.run import compiled_model
from keras_gru_cell.addition.training.run import loss_function
from keras_gru_cell.addition.training.run import optimizer
from keras_gru_cell.addition.training.run import training_data
from keras_gru_cell.addition.training.settings import TrainingSettings
from keras_gru_cell.weights import chung_to_keras_gru_weights
from keras_gru_cell.weights import keras_gru_to_chung_weights


@dataclasses.dataclass
class ComparisonResult:
    """How far the addition model and its `keras.layers.GRU` twin drifted apart.

    Attributes:
        losses: The addition model's training loss at each step.
        loss_differences: |loss − twin loss| at each step.
        max_weight_difference: The largest absolute difference between the
            final weights, the twin's converted back to `ChungGRUCell` form.
    """

    losses: list[float]
    loss_differences: list[float]
    max_weight_difference: float


def builtin_twin(model: keras.Model) -> keras.Model:
    """The addition model rebuilt on `keras.layers.GRU`, computing the same function.

    Args:
        model: A model from `build_addition_model`.

    Returns:
        A model whose `keras.layers.GRU(reset_after=False)` holds the
        converted weights of `model`'s `ChungGRUCell`, and its kernel
        constraint, with the same output layer and weights.
    """
    cell = model.get_layer("gru").cell
    dense = model.get_layer("sum_bits").layer
    dtype = model.get_layer("gru").dtype_policy.name
    inputs = keras.Input((None, 2), dtype=dtype)
    gru = keras.layers.GRU(
        cell.units,
        reset_after=False,
        return_sequences=True,
        # Tying the summands' rows commutes with negating the z columns.
        kernel_constraint=cell.kernel_constraint,
        dtype=dtype,
        name="gru",
    )
    twin_dense = keras.layers.Dense(1, activation=dense.activation, dtype=dtype)
    outputs = TimeDistributed(twin_dense, dtype=dtype, name="sum_bits")(gru(inputs))
    twin = keras.Model(inputs, outputs)
    gru.set_weights(chung_to_keras_gru_weights(model.get_layer("gru").get_weights()))
    twin_dense.set_weights(dense.get_weights())
    return twin


def compare_with_builtin_gru(
    settings: TrainingSettings, steps: int | None = None
) -> ComparisonResult:
    """Trains the addition model and its `keras.layers.GRU` twin side by side.

    Both start from the same weights (converted with
    `chung_to_keras_gru_weights`), see the same batches in the same order
    and take one `train_on_batch` step each per batch.

    Args:
        settings: The run's settings; the seed decides weights and batches.
        steps: The number of steps; defaults to `settings.steps`.

    Returns:
        A `ComparisonResult`.
    """
    steps = settings.steps if steps is None else steps
    seed = settings.seed if settings.seed is not None else random.randrange(2**31)
    keras.utils.set_random_seed(seed)
    model = compiled_model(settings, metrics=False)
    twin = builtin_twin(model)
    twin.compile(
        optimizer=optimizer(settings),
        loss=loss_function(settings.loss, settings.dtype),
    )
    train, _, _ = training_data(settings, seed)
    losses, differences = [], []
    # train_on_batch reports the loss through a float32 mean; score each
    # batch in the models' own dtype instead, with the weights it is fit from.
    loss_fn = loss_function(settings.loss, settings.dtype)
    # NumPy batches: every backend's compiled functions take them.
    for x, y, *weights in train.take(steps).as_numpy_iterator():
        # Padded batches weigh their padding 0 (see `training_data`).
        sample_weight = weights[0] if weights else None
        loss = float(
            keras.ops.convert_to_numpy(
                loss_fn(y, model.predict_on_batch(x), sample_weight)
            )
        )
        twin_loss = float(
            keras.ops.convert_to_numpy(
                loss_fn(y, twin.predict_on_batch(x), sample_weight)
            )
        )
        model.train_on_batch(x, y, sample_weight=sample_weight)
        twin.train_on_batch(x, y, sample_weight=sample_weight)
        losses.append(loss)
        differences.append(abs(loss - twin_loss))
    twin_weights = keras_gru_to_chung_weights(twin.get_layer("gru").get_weights())
    twin_weights += twin.get_layer("sum_bits").get_weights()
    max_difference = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(model.get_weights(), twin_weights, strict=True)
    )
    return ComparisonResult(losses, differences, max_difference)

"""
Title: Switching a trained GRU model to the paper's GRU
Author: keras-gru-cell developers
Description: Rebuild a model trained on `keras.layers.GRU(reset_after=False)`
    on `ChungGRUCell`, convert its weights, and get the same predictions.

A model that already uses `keras.layers.GRU(reset_after=False)` can move to
the GRU exactly as Chung et al. (2014) write it without retraining: the two
compute the same function once the update gate's weights are negated
(`keras_gru_cell.keras_gru_to_chung_weights`). This script trains a small
model with a bidirectional and a stacked GRU on a toy regression, rebuilds
the same architecture on `ChungGRUCell`, converts the weights layer by layer,
and checks that both models predict the same values and keep training alike.

Expected result: the largest difference between the two models' predictions
is at float32 round-off (about 1e-7), and one more epoch of training gives
both the same loss to about six significant digits. The script raises an
error if not. It runs in under a minute on a 2-core CPU.
"""

## Setup

import keras
import numpy as np

from keras_gru_cell import ChungGRUCell
from keras_gru_cell import keras_gru_to_chung_weights

NUM_SEQUENCES = 512
TIME_STEPS = 20
FEATURES = 3
UNITS = 16
BATCH_SIZE = 32
EPOCHS = 3
SEED = 42

keras.utils.set_random_seed(SEED)

## A toy task

# Each target is the mean over time of the product of the first two features,
# something a recurrent layer must accumulate step by step.

rng = np.random.default_rng(SEED)
x = rng.normal(size=(NUM_SEQUENCES, TIME_STEPS, FEATURES)).astype("float32")
y = (x[:, :, 0] * x[:, :, 1]).mean(axis=1, keepdims=True)

## One architecture, two recurrent layers

# The model is written once, taking the recurrent layer as an argument. Today
# it uses Keras's GRU; the paper's GRU is `ChungGRUCell` in `keras.layers.RNN`,
# with the same sequence arguments.


def builtin_gru(units, **kwargs):
    return keras.layers.GRU(units, reset_after=False, **kwargs)


def chung_gru(units, **kwargs):
    return keras.layers.RNN(ChungGRUCell(units), **kwargs)


def build_model(recurrent_layer):
    inputs = keras.Input((None, FEATURES))
    recurrent = recurrent_layer(UNITS, return_sequences=True)
    hidden = keras.layers.Bidirectional(recurrent)(inputs)
    hidden = recurrent_layer(UNITS)(hidden)
    outputs = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs, outputs)


## Train the model that exists today

builtin_model = build_model(builtin_gru)
builtin_model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
builtin_model.fit(x, y, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=2)

## Convert it, layer by layer

# A GRU's weights are `[kernel, recurrent_kernel, bias]`; a bidirectional
# layer holds the forward GRU's three, then the backward GRU's three. Every
# other layer keeps its weights as they are.


def converted_weights(layer):
    weights = layer.get_weights()
    if isinstance(layer, keras.layers.GRU):
        return keras_gru_to_chung_weights(weights)
    if isinstance(layer, keras.layers.Bidirectional):
        half = len(weights) // 2
        return keras_gru_to_chung_weights(weights[:half]) + (
            keras_gru_to_chung_weights(weights[half:])
        )
    return weights


chung_model = build_model(chung_gru)
for source, target in zip(builtin_model.layers, chung_model.layers, strict=True):
    target.set_weights(converted_weights(source))

## Same predictions

builtin_predictions = builtin_model.predict(x, verbose=0)
chung_predictions = chung_model.predict(x, verbose=0)
difference = float(np.abs(builtin_predictions - chung_predictions).max())
print(f"Largest difference between the two models' predictions: {difference:.2e}")
np.testing.assert_allclose(chung_predictions, builtin_predictions, atol=1e-5)

## Same training from here on

# The converted model is not only equal at this point: gradients map onto each
# other too, so training both further, on the same batches, keeps them equal.

chung_model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
builtin_loss = builtin_model.fit(
    x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0
).history["loss"][-1]
chung_loss = chung_model.fit(
    x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0
).history["loss"][-1]
print(
    f"One more epoch: built-in GRU loss {builtin_loss:.6f}, Chung GRU {chung_loss:.6f}"
)
np.testing.assert_allclose(chung_loss, builtin_loss, rtol=1e-4)

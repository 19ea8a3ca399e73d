"""
Title: Exporting the addition model and serving it
Author: keras-gru-cell developers
Description: Train a small binary adder on `ChungGRUCell`, save it as
    `.keras`, export a TensorFlow SavedModel, and serve it with TensorFlow
    alone and with `keras.layers.TFSMLayer`, at lengths never seen in
    training.

A model is only useful once it runs where it is needed. This script takes
the addition model of the tutorial through the three forms a Keras model
travels in: the `.keras` file (architecture, weights and optimizer, reloaded
with `keras.models.load_model` and no `custom_objects`), the SavedModel
(a traced TensorFlow graph that needs neither Keras nor this package to
serve), and a `TFSMLayer`, the SavedModel wrapped back into a Keras layer.
The command `keras-gru-cell export --model PATH --out DIR` writes the same
SavedModel from the command line.

Expected result: after 500 training steps on sums of 5 to 16 bits (about
10 seconds on a CPU), the `.keras` model, the SavedModel and the `TFSMLayer`
all print `1024 + 16 = 1040` from 20-bit inputs and add five random 100-bit
pairs exactly, and the three give the same outputs to 1e-5. The script
raises an error if not. It needs the TensorFlow backend.
"""

## Setup

import random
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_gru_cell.addition import addition_dataset
from keras_gru_cell.addition import build_addition_model
from keras_gru_cell.addition import from_bits
from keras_gru_cell.addition import to_bits

HIDDEN_SIZE = 16
TRAIN_BITS = (5, 16)
BATCH_SIZE = 100
STEPS = 500
LEARNING_RATE = 0.01
SEED = 0
OUTPUT_DIR = Path("addition_export")

keras.utils.set_random_seed(SEED)
OUTPUT_DIR.mkdir(exist_ok=True)

## Train a small adder

# Sums of 5 to 16 bits, one length per batch, with a sigmoid output and binary
# cross-entropy per bit. A few hundred steps suffice for the carry rule.

model = build_addition_model(HIDDEN_SIZE, output_activation="sigmoid")
model.compile(
    optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="binary_crossentropy"
)
model.fit(
    addition_dataset(TRAIN_BITS, BATCH_SIZE, seed=SEED),
    steps_per_epoch=STEPS // 5,
    epochs=5,
    verbose=2,
)

## Save and reload the `.keras` file

# `import keras_gru_cell` (done above through its functions) registers the
# cell, so the file reloads with `safe_mode` on and no `custom_objects`.

keras_path = OUTPUT_DIR / "adder.keras"
model.save(keras_path)
reloaded = keras.models.load_model(keras_path)

## Export a SavedModel

# `model.export` traces the model for any batch size and any length, the
# shape of its `keras.Input((None, 2))`, into a SavedModel with one `serve`
# endpoint.

saved_model_path = OUTPUT_DIR / "adder_savedmodel"
reloaded.export(saved_model_path, verbose=False)

## Serve it

# The model reads the two numbers' bits side by side, least significant first,
# and writes one bit of the sum per step, a 1 above 0.5. The test inputs: the
# tutorial's 1024 + 16 at 20 bits, and five random pairs of 100-bit numbers,
# far longer than anything seen in training.


def encode_pairs(pairs, num_bits):
    bits = [[to_bits(a, num_bits), to_bits(b, num_bits)] for a, b in pairs]
    return np.array(bits, dtype="float32").transpose(0, 2, 1)


def decode_sums(outputs):
    return [from_bits(row[:, 0] > 0.5) for row in outputs]


rng = random.Random(SEED)
pairs_20 = [(1024, 16)]
pairs_100 = [(rng.getrandbits(99), rng.getrandbits(99)) for _ in range(5)]
inputs_20 = encode_pairs(pairs_20, 20)
inputs_100 = encode_pairs(pairs_100, 100)

served = tf.saved_model.load(str(saved_model_path))
layer = keras.layers.TFSMLayer(str(saved_model_path), call_endpoint="serve")
servers = {
    ".keras model": lambda x: reloaded.predict(x, verbose=0),
    "SavedModel": lambda x: served.serve(tf.constant(x)).numpy(),
    "TFSMLayer": lambda x: keras.ops.convert_to_numpy(layer(x)),
}

expected_20 = reloaded.predict(inputs_20, verbose=0)
expected_100 = reloaded.predict(inputs_100, verbose=0)
for name, serve in servers.items():
    outputs_20, outputs_100 = serve(inputs_20), serve(inputs_100)
    (total,) = decode_sums(outputs_20)
    print(f"{name:>13}: 1024 + 16 = {total}")
    assert total == 1040, f"{name} computed 1024 + 16 = {total}"
    sums = decode_sums(outputs_100)
    right = sum(s == a + b for s, (a, b) in zip(sums, pairs_100, strict=True))
    print(f"{name:>13}: {right} of {len(pairs_100)} 100-bit sums exact")
    assert right == len(pairs_100), f"{name} got {right} of 5 100-bit sums"
    np.testing.assert_allclose(outputs_20, expected_20, atol=1e-5)
    np.testing.assert_allclose(outputs_100, expected_100, atol=1e-5)

print(f"All three agree; files in {OUTPUT_DIR.resolve()}")

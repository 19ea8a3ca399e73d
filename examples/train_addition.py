"""
Title: Teaching a GRU to add binary numbers of any length
Description: Train Chung et al.'s GRU on short sums, then add 1000-bit numbers.

A recurrent network reads two numbers bit by bit, least significant bit first,
and writes their sum bit by bit, carrying from one step to the next as a
person adding on paper carries from one column to the next. Because the same
cell runs at every step, a model trained on sums of at most 16 bits adds
numbers of any length.

This is the task of a 2017 TensorFlow tutorial, rebuilt with one
`model.fit` call on a `tf.data` pipeline. Expected result: within a few
hundred steps (seconds on a laptop CPU) every held-out sum is right, and the
trained model adds 1024 + 16 = 1040, two random 1000-bit numbers, and
2**1000 - 1 + 1, whose carry runs through a thousand columns, exactly.
Run with `python examples/train_addition.py`.
"""

## Setup

import random

import keras
import numpy as np

from keras_gru_cell.addition import ExactMatch
from keras_gru_cell.addition import addition_dataset
from keras_gru_cell.addition import build_addition_model
from keras_gru_cell.addition import from_bits
from keras_gru_cell.addition import to_bits

SEED = 0
HIDDEN_SIZE = 16
TRAIN_BITS = (8, 16)  # each batch draws its length from this range
BATCH_SIZE = 256
LEARNING_RATE = 0.02
STEPS_PER_EPOCH = 50
EPOCHS = 20
VALIDATION_BITS = 64  # longer than anything seen in training

keras.utils.set_random_seed(SEED)

## The data

# Each batch holds `BATCH_SIZE` sums. `x[i, t]` holds bit `t` of the two
# summands, `y[i, t, 0]` bit `t` of their sum. The stream is infinite and
# fixed by its seed; the validation sums come from a different seed.
train = addition_dataset(TRAIN_BITS, BATCH_SIZE, seed=SEED)
validation = addition_dataset(VALIDATION_BITS, 1000, seed=SEED + 1, num_batches=1)

x, y = next(iter(train))
a, b = from_bits(x[0, :, 0].numpy()), from_bits(x[0, :, 1].numpy())
print(f"First example: {a} + {b} = {from_bits(y[0, :, 0].numpy())}")

## The model

# `Input((None, 2))` -> `RNN(ChungGRUCell(16), return_sequences=True)` ->
# `TimeDistributed(Dense(1))`: one output bit per input step, any length.
# `symmetric_summands` ties the weights of the two summands' bits: a column's
# sum bit and carry depend on a + b alone, and a model that weighs a's bit a
# little differently from b's loses a carry that runs through a long stretch
# of a's ones.
model = build_addition_model(
    HIDDEN_SIZE, output_activation="sigmoid", symmetric_summands=True
)
# The learning rate falls along a cosine to 0.0001 at the last step.
schedule = keras.optimizers.schedules.CosineDecay(
    LEARNING_RATE, decay_steps=EPOCHS * STEPS_PER_EPOCH, alpha=0.0001 / LEARNING_RATE
)
model.compile(
    optimizer=keras.optimizers.Adam(schedule),
    loss="binary_crossentropy",
    metrics=[ExactMatch(), keras.metrics.BinaryAccuracy(name="bit_accuracy")],
)
model.summary()

## Training


# Stop as soon as every held-out 64-bit sum is right.
class StopWhenPerfect(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if logs["val_exact_match"] == 1.0:
            self.model.stop_training = True


model.fit(
    train,
    epochs=EPOCHS,
    steps_per_epoch=STEPS_PER_EPOCH,
    validation_data=validation,
    callbacks=[StopWhenPerfect()],
    shuffle=False,
)

## Adding numbers of any length


def add(a: int, b: int) -> int:
    num_bits = max(a, b).bit_length() + 1
    x = np.array([[to_bits(a, num_bits), to_bits(b, num_bits)]], "float32")
    predicted = model.predict(x.transpose(0, 2, 1), verbose=0)
    return from_bits(int(bit > 0.5) for bit in predicted[0, :, 0])


total = add(1024, 16)
print(f"1024 + 16 = {total}")
rng = random.Random(SEED)
a, b = rng.getrandbits(1000), rng.getrandbits(1000)
exact = add(a, b) == a + b
print(f"Two 1000-bit numbers added exactly: {exact}")
carried = add(2**1000 - 1, 1) == 2**1000
print(f"2**1000 - 1 + 1 carried through 1000 columns: {carried}")
if total != 1040 or not exact or not carried:
    raise SystemExit("The model did not learn to add; see the losses above.")

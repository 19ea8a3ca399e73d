"""An adder in NumPy that stands in for a trained model, with a known flaw.

It adds column by column as on paper, but can be told to drop a carry that
has run through more than `forget_after` columns, or to invent one after
more than `invent_after` columns in a row that each hold one 1 bit and take
in no carry: a model right on every short sum that still fails the long
runs random sums rarely hold.
"""

import types
from pathlib import Path

import numpy as np


class NumpyAdder:
    """Quacks like a trained addition model where the tests need it to."""

    def __init__(
        self,
        forget_after: int | None = None,
        step: int = 0,
        invent_after: int | None = None,
    ):
        self.forget_after = forget_after
        self.invent_after = invent_after
        self.optimizer = types.SimpleNamespace(iterations=np.int64(step))
        self.stop_training = False

    def predict_on_batch(self, x):
        x = np.asarray(x)
        batch, time, _ = x.shape
        out = np.zeros((batch, time, 1), x.dtype)
        carry = np.zeros(batch, int)
        run = np.zeros(batch, int)
        uncarried = np.zeros(batch, int)
        for t in range(time):
            ones = x[:, t, 0].astype(int) + x[:, t, 1].astype(int)
            uncarried = np.where((ones == 1) & (carry == 0), uncarried + 1, 0)
            total = ones + carry
            out[:, t, 0] = total % 2
            carry = total // 2
            run = np.where(carry == 1, run + 1, 0)
            if self.forget_after is not None:
                carry = np.where(run > self.forget_after, 0, carry)
            if self.invent_after is not None:
                carry = np.where(uncarried > self.invent_after, 1, carry)
        return out

    def predict(self, x, batch_size=None, verbose=0):
        return self.predict_on_batch(x)

    def save_weights(self, path):
        # No weights: the file stands for them (see `HeldOutLog.right_path`).
        Path(path).write_text(f"forget_after={self.forget_after}")

    @staticmethod
    def loss(y_true, y_pred):
        return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)

"""Saves a model on one Keras backend, or predicts with every saved one.

Run by tests/addition/test_cross_backend.py under each backend in turn, because Keras
picks its backend once per process: `save FOLDER` writes
`FOLDER/<backend>.keras` and `FOLDER/<backend>.npy` (its predictions on
`FOLDER/inputs.npy`); `load FOLDER` writes `FOLDER/<source>.on.<backend>.npy`
for every other backend's file.
"""

import sys
from pathlib import Path

import keras
import numpy as np

from keras_gru_cell import ChungGRUCell


def main(action, folder):
    backend = keras.backend.backend()
    inputs = np.load(folder / "inputs.npy")

    if action == "save":
        keras.utils.set_random_seed(len(backend))
        model = keras.Sequential(
            [
                keras.Input((None, inputs.shape[-1])),
                keras.layers.Bidirectional(
                    keras.layers.RNN(ChungGRUCell(6), return_sequences=True)
                ),
                keras.layers.RNN(ChungGRUCell(3)),
                keras.layers.Dense(2),
            ]
        )
        model.save(folder / f"{backend}.keras")
        np.save(folder / f"{backend}.npy", model.predict(inputs, verbose=0))
    else:
        for path in sorted(folder.glob("*.keras")):
            if path.stem != backend:
                model = keras.models.load_model(path)
                prediction = model.predict(inputs, verbose=0)
                np.save(folder / f"{path.stem}.on.{backend}.npy", prediction)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))

"""How long Keras's `fit` and `predict` take on TensorFlow, fed arrays or not.

Given NumPy arrays, Keras on TensorFlow builds a `tf.data` pipeline with
autotuning on for each call. This script times the same calls, taking turns,
fed the arrays and fed the same batches through a `tf.data` pipeline with
autotuning off, and prints every time, so that the spread shows: with the
arrays, some calls end only when the autotuning thread's sleep runs out,
whose period doubles from 10 ms, so their times bunch at 10 ms times a power
of two, whatever the work. It is why `recurrent_throughput.py` feeds
TensorFlow's models the pipeline with autotuning off.

    KERAS_BACKEND=tensorflow python benchmarks/tensorflow_input_wait.py
    KERAS_BACKEND=tensorflow python benchmarks/tensorflow_input_wait.py --repeats 30

Writes nothing: it prints one line per feeding and call, the sorted times in
seconds and their median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from keras_gru_cell.chung_gru import ChungGRU

from _environment import cpu_name
from _keras_inputs import keras_inputs


def feedings(x, y, batch: int) -> dict:
    """`fit`'s and `predict`'s data arguments, per way of feeding them."""
    pipeline = keras_inputs(x, y, batch)
    return {
        "arrays": {
            "fit": {"x": x, "y": y, "batch_size": batch, "shuffle": False},
            "predict": {"x": x, "batch_size": batch},
        },
        "tf.data, autotuning off": {
            "fit": pipeline["train"],
            "predict": pipeline["infer"],
        },
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=14)
    args = parser.parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        raise SystemExit("run it with KERAS_BACKEND=tensorflow")
    # The throughput benchmark's large shape: 8 batches of 64 sequences.
    batch, steps, features, units = 64, 100, 32, 256
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8 * batch, steps, features)).astype("float32")
    y = rng.normal(size=(8 * batch, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((steps, features)), ChungGRU(units), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    calls = {}
    for feeding, arguments in feedings(x, y, batch).items():
        calls[feeding, "fit"] = lambda a=arguments["fit"]: model.fit(
            **a, epochs=1, verbose=0
        )
        calls[feeding, "predict"] = lambda a=arguments["predict"]: model.predict(
            **a, verbose=0
        )
    times = {key: [] for key in calls}
    for run in calls.values():
        run()
    for _ in range(args.repeats):
        for key, run in calls.items():
            start = time.perf_counter()
            run()
            times[key].append(time.perf_counter() - start)
    print(f"{os.cpu_count()}-core {cpu_name()}; tensorflow {tf.__version__}")
    for (feeding, call), values in times.items():
        listed = " ".join(f"{value:.2f}" for value in sorted(values))
        median = statistics.median(values)
        print(f"{call:<8} {feeding:<24} median {median:.2f} s; all: {listed}")


if __name__ == "__main__":
    main()

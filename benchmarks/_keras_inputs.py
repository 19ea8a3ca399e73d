"""`fit`'s and `predict`'s data arguments for the benchmarks' Keras models.

Shared by `recurrent_throughput.py` and `tensorflow_input_wait.py`, which
run as `python benchmarks/<name>.py` with this folder on `sys.path`.
"""

from __future__ import annotations

import keras


def keras_inputs(x, y, batch: int) -> dict:
    """`fit`'s (`"train"`) and `predict`'s (`"infer"`) data arguments for one
    epoch over `x` and `y`.

    Given arrays, Keras on TensorFlow feeds them through a `tf.data`
    pipeline with autotuning on, and many calls then returned only when the
    autotuning thread's sleep, whose period doubles each time, ran out: an
    epoch of 0.7 s and one of 0.8 s both took 1.3 s, which hides the models'
    differences. On TensorFlow these are the same batches in a pipeline with
    autotuning off, which does not wait (`tensorflow_input_wait.py` times
    both); on the other backends, the arrays.
    """
    if keras.backend.backend() != "tensorflow":
        return {
            "train": {"x": x, "y": y, "batch_size": batch},
            "infer": {"x": x, "batch_size": batch},
        }
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False

    def pipeline(slices):
        data = tf.data.Dataset.from_tensor_slices(slices)
        return data.batch(batch).with_options(options)

    return {
        # `fit` cannot shuffle a dataset (it warns); shuffling the arrays, as
        # it does elsewhere, costs a millisecond or so an epoch.
        "train": {"x": pipeline((x, y)), "shuffle": False},
        "infer": {"x": pipeline(x)},
    }

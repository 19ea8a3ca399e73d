"""Fits the addition model on one device, then mirrored on two; prints both losses.

Run as a script by tests/addition/test_distribution.py: the number of devices must be
set before the backend starts, so it cannot happen inside the test process.
"""

import json
import os
import sys


def use_two_devices():
    """Splits the CPU into two devices; only possible before the backend starts."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "jax":
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    else:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )


if __name__ == "__main__":
    use_two_devices()

import keras  # noqa: E402

from keras_gru_cell.addition.data import addition_dataset  # noqa: E402
from keras_gru_cell.addition.distribution import distribution_scope  # noqa: E402
from keras_gru_cell.addition.model import build_addition_model  # noqa: E402


def fit(name, initial_weights=None):
    with distribution_scope(name) as replicas:
        keras.utils.set_random_seed(0)
        model = build_addition_model(8)
        if initial_weights is not None:
            model.set_weights(initial_weights)
        weights = model.get_weights()
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        data = addition_dataset(6, 32, seed=5, num_batches=12)
        history = model.fit(data, epochs=2, verbose=0)
    return replicas, weights, history.history["loss"]


if __name__ == "__main__":
    _, start, one_device = fit("none")
    replicas, _, mirrored = fit("mirrored", start)
    json.dump(
        {"replicas": replicas, "one": one_device, "mirrored": mirrored}, sys.stdout
    )

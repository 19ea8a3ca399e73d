"""Data-parallel training over the local devices, with each backend's own engine."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

__all__ = ["DISTRIBUTIONS", "distribution_scope"]

DISTRIBUTIONS = ("none", "mirrored")


@contextlib.contextmanager
def distribution_scope(name: str = "none") -> Iterator[int]:
    """A context in which to build, compile and fit a data-parallel model.

    `"mirrored"` replicates the model on every local device and splits each
    global batch between them: `tf.distribute.MirroredStrategy` on the
    TensorFlow backend, `keras.distribution.DataParallel` on JAX. The
    gradients of the replicas are averaged, so a step on N devices equals a
    step on one device with the same global batch. Build, compile and fit
    the model inside the context.

    Args:
        name: `"none"` (the default: one device) or `"mirrored"`.

    Returns:
        A context manager that yields the number of replicas.

    Raises:
        ValueError: for an unknown `name`, or `"mirrored"` on a backend
            without a data-parallel engine (PyTorch).

    Examples:
        >>> with distribution_scope("none") as replicas:
        ...     print(replicas)
        1
    """
    if name not in DISTRIBUTIONS:
        raise ValueError(
            f"Received an invalid value for argument `distribute`: {name!r}. "
            f"Expected one of {DISTRIBUTIONS}."
        )
    if name == "none":
        yield 1
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # Like MirroredStrategy's own default, but counting every logical
        # CPU device where there is no GPU, not just the first.
        devices = tf.config.list_logical_devices("GPU") or (
            tf.config.list_logical_devices("CPU")
        )
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        with strategy.scope():
            yield strategy.num_replicas_in_sync
    elif backend == "jax":
        devices = keras.distribution.list_devices()
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=devices)
        )
        try:
            yield len(devices)
        finally:
            keras.distribution.set_distribution(previous)
    else:
        raise ValueError(
            f"`distribute={name!r}` needs the TensorFlow or JAX backend; the "
            f"{backend} backend of Keras has no data-parallel engine."
        )

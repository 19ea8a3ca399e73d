"""Data-parallel training with each backend's own engine.

Over the local devices of one process, or over the processes of a run, on one
machine or many: on JAX through `keras.distribution`, on PyTorch through a
`torch.distributed` process group over gloo.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import random
import socket
import time
from collections.abc import Iterator

import keras

__all__ = [
    "DISTRIBUTIONS",
    "connect_processes",
    "distribution_scope",
    "is_process_zero",
    "saving_alone",
    "shared_seed",
]

DISTRIBUTIONS = ("none", "mirrored", "multi-process")

# The backends whose processes can train one model together.
MULTI_PROCESS_BACKENDS = ("jax", "torch")
# How long process 0 waits for the others to join, as JAX's own client does;
# on PyTorch, also the longest wait for a collective.
_JOIN_TIMEOUT = datetime.timedelta(minutes=5)

# Keras's own variables for `keras.distribution.initialize`.
_ADDRESSES = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
_NUM_PROCESSES = "KERAS_DISTRIBUTION_NUM_PROCESSES"
_PROCESS_ID = "KERAS_DISTRIBUTION_PROCESS_ID"


def _setting(value, variable: str, argument: str, parse):
    if value is not None:
        return value
    text = os.environ.get(variable)
    if text is None:
        raise ValueError(
            f"Received no value for argument `{argument}`, and the environment "
            f"variable {variable} is not set."
        )
    try:
        return parse(text)
    except ValueError:
        raise ValueError(
            f"Received an invalid value for the environment variable {variable}: "
            f"{text!r}."
        ) from None


def _host_and_port(coordinator: str) -> tuple[str, int]:
    host, _, port = coordinator.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 2**16:
        raise ValueError(
            f"Received an invalid value for argument `coordinator`: "
            f"{coordinator!r}. Expected HOST:PORT, such as '10.0.0.1:1234'."
        )
    return host.strip("[]"), int(port)


def _wait_for_coordinator(host: str, port: int, timeout: float) -> None:
    """Returns once `host:port` accepts connections; raises after `timeout` s.

    JAX's own client retries for 5 minutes before it fails, and its
    coordinator, process 0, may well start after the others.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=max(left, 0.1)):
                return
        except OSError as error:
            if left <= 0:
                raise ConnectionError(
                    f"Process 0 of the run, the coordinator, did not answer at "
                    f"{host}:{port} within {timeout:g} s ({error.strerror or error})."
                ) from None
        time.sleep(min(0.25, max(left, 0)))


def connect_processes(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout: float = 60.0,
) -> int:
    """Joins this process to a multi-process run on the JAX or PyTorch backend.

    Every process of the run calls it once, before any computation, with the
    same `coordinator` and `num_processes` and its own `process_id`. On JAX
    it then calls `keras.distribution.initialize`, after which
    `keras.distribution.list_devices()` lists the devices of every process;
    on PyTorch it starts the default `torch.distributed` process group, over
    gloo, which `TorchDataParallel` trains over. An argument left `None` is
    read from Keras's own environment variable for it:
    `KERAS_DISTRIBUTION_JOB_ADDRESSES` (its first address is the
    coordinator's), `KERAS_DISTRIBUTION_NUM_PROCESSES` and
    `KERAS_DISTRIBUTION_PROCESS_ID`. A later call does nothing.

    Process 0 serves as the coordinator. On JAX it listens on the
    coordinator's address only, unless `JAX_COORDINATOR_BIND_ADDRESS` says
    otherwise, and JAX's preemption service is turned off: it would take
    SIGTERM for itself, and the training command stops on it at a backup
    instead. On PyTorch it listens on the coordinator's port on every
    interface (`torch.distributed.TCPStore`'s way). Process 0 waits up to 5
    minutes for the others to join.

    Args:
        coordinator: `HOST:PORT` of process 0, reachable from every process.
        num_processes: The number of processes of the run.
        process_id: This process's number, from 0 to `num_processes - 1`.
        timeout: How many seconds a process other than 0 waits for the
            coordinator to answer.

    Returns:
        The number of processes.

    Raises:
        ValueError: For a missing or invalid setting, or a backend other than
            JAX or PyTorch.
        ConnectionError: If the coordinator did not answer within `timeout`
            seconds.
    """
    backend = keras.backend.backend()
    if backend not in MULTI_PROCESS_BACKENDS:
        raise ValueError(
            f"Multi-process training needs the JAX or PyTorch backend of Keras "
            f"(KERAS_BACKEND=jax or torch); received the {backend} backend."
        )
    group = _process_group()
    if group is not None:
        return group[1]
    coordinator = _setting(
        coordinator, _ADDRESSES, "coordinator", lambda text: text.split(",")[0]
    )
    num_processes = _setting(num_processes, _NUM_PROCESSES, "num_processes", int)
    process_id = _setting(process_id, _PROCESS_ID, "process_id", int)
    host, port = _host_and_port(coordinator)
    if num_processes < 1:
        raise ValueError(
            f"Received an invalid value for argument `num_processes`: "
            f"{num_processes}. Expected a positive integer."
        )
    if not 0 <= process_id < num_processes:
        raise ValueError(
            f"Received an invalid value for argument `process_id`: {process_id}. "
            f"Expected an integer from 0 to {num_processes - 1}."
        )
    if process_id != 0:
        _wait_for_coordinator(host, port, timeout)
    if backend == "torch":
        import torch.distributed

        torch.distributed.init_process_group(
            "gloo",
            init_method=f"tcp://{coordinator}",
            world_size=num_processes,
            rank=process_id,
            timeout=_JOIN_TIMEOUT,
        )
        return num_processes
    import jax

    # JAX's default binds the coordinator to every interface.
    os.environ.setdefault("JAX_COORDINATOR_BIND_ADDRESS", coordinator)
    jax.config.update("jax_enable_preemption_service", False)
    keras.distribution.initialize(coordinator, num_processes, process_id)
    return num_processes


def _process_group() -> tuple[int, int] | None:
    """This process's index and the number of processes, once connected.

    `None` outside a multi-process run.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        if jax.distributed.is_initialized():
            return jax.process_index(), jax.process_count()
    elif backend == "torch":
        import torch.distributed

        if torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return None


def is_process_zero() -> bool:
    """Whether this process writes the run's files: process 0, or the only one.

    Returns:
        `False` only in a process other than 0 of a multi-process run.
    """
    group = _process_group()
    return group is None or group[0] == 0


@contextlib.contextmanager
def saving_alone() -> Iterator[None]:
    """A context in which process 0 of a multi-process run saves on its own.

    Saving a model creates Keras variables (a spare optimizer's), and under
    JAX's multi-process distribution every process must join in creating
    each variable; within the context the distribution is suspended, so that
    variables are this process's own. Elsewhere (on PyTorch, a variable is
    always its process's own) it does nothing.

    Returns:
        A context manager.
    """
    if _process_group() is None or keras.backend.backend() != "jax":
        yield
        return
    previous = keras.distribution.distribution()
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(previous)


def shared_seed(seed: int | None = None) -> int:
    """`seed`, or a random one; in a multi-process run, process 0's.

    Args:
        seed: A seed, or `None` to draw one from Python's `random` module.

    Returns:
        The seed, the same in every process.
    """
    if seed is None:
        seed = random.randrange(2**31)
    if _process_group() is None:
        return seed
    if keras.backend.backend() == "torch":
        import torch
        import torch.distributed

        shared = torch.tensor([seed], dtype=torch.int64)
        torch.distributed.broadcast(shared, src=0)
        return int(shared)
    import numpy as np
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int64(seed)))


@contextlib.contextmanager
def distribution_scope(
    name: str = "none",
    *,
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> Iterator[int]:
    """A context in which to build, compile and fit a data-parallel model.

    `"mirrored"` replicates the model on every local device and splits each
    global batch between them: `tf.distribute.MirroredStrategy` on the
    TensorFlow backend, `keras.distribution.DataParallel` on JAX. The
    gradients of the replicas are averaged, so a step on N devices equals a
    step on one device with the same global batch. `"multi-process"` does
    the same over the processes of a run, each running the same program
    with the same global batches and training on its share of every batch
    (the global batch must divide by the number of processes). On JAX,
    Keras shares out the batches over the devices of every process; on
    PyTorch, where `fit` has no such engine, the context only joins the
    process group, and the model to fit is `TorchDataParallel(model)`. The
    processes connect when the first enters the context, unless they
    already are; the model must be saved after the context, in process 0
    only. Build, compile and fit the model inside the context.

    Args:
        name: `"none"` (the default: one device), `"mirrored"` or
            `"multi-process"`.
        coordinator: For `"multi-process"`: `HOST:PORT` of process 0,
            reachable from every process. `None` reads the first address of
            the environment variable `KERAS_DISTRIBUTION_JOB_ADDRESSES`.
        num_processes: For `"multi-process"`: the number of processes. `None`
            reads `KERAS_DISTRIBUTION_NUM_PROCESSES`.
        process_id: For `"multi-process"`: this process's number, from 0 to
            `num_processes - 1`. `None` reads `KERAS_DISTRIBUTION_PROCESS_ID`.

    Returns:
        A context manager that yields the number of replicas.

    Raises:
        ValueError: for an unknown `name`, `"mirrored"` on a backend without
            a data-parallel engine (PyTorch), `"multi-process"` off JAX and
            PyTorch or with a missing or invalid setting, or a setting of processes for
            another `name`.
        ConnectionError: If process 0 did not answer within 60 seconds.

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
    settings = (coordinator, num_processes, process_id)
    if name != "multi-process" and settings != (None, None, None):
        raise ValueError(
            f"Received `coordinator`, `num_processes` or `process_id` with "
            f"`distribute={name!r}`; they are for 'multi-process' only."
        )
    if name == "none":
        yield 1
        return
    backend = keras.backend.backend()
    if name == "multi-process":
        processes = connect_processes(*settings)
        if backend == "torch":
            yield processes
            return
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

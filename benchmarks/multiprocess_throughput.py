"""Training steps per second: 1 process on 2 cores against 2 processes on 1 each.

Trains the addition model on JAX, first in one process allowed both cores
(`--distribute none`), then in two processes connected on 127.0.0.1, each
allowed one core (`--distribute multi-process`), on the same global batches,
and prints the steps per second of each. The configurations take turns for
`--rounds` rounds, so that a shared machine's changing load falls on both
alike; the statistic is the median. Each run warms up for one epoch (the
train step compiles), then times a second one.

On one machine the processes share its memory bandwidth and exchange their
gradients through gloo over TCP, so the second configuration measures the
cost of going multi-process, not a speed-up: the gain comes from adding
machines.

Usage:

    python benchmarks/multiprocess_throughput.py
    python benchmarks/multiprocess_throughput.py \
        --snippet docs/snippets/scaling_throughput.md

Needs two CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from _children import add_child_options
from _children import free_port
from _children import run_together
from _environment import cpu_name

ALL_REDUCES = 100


def _child(args) -> None:
    # Before JAX and TensorFlow start their thread pools.
    os.sched_setaffinity(0, args.cpus)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from keras_gru_cell.addition.data import addition_dataset
    from keras_gru_cell.addition.distribution import distribution_scope
    from keras_gru_cell.addition.model import build_addition_model

    settings = {}
    if args.distribute == "multi-process":
        settings = {
            "coordinator": args.coordinator,
            "num_processes": args.num_processes,
            "process_id": args.process_id,
        }
    with distribution_scope(args.distribute, **settings):
        keras.utils.set_random_seed(0)
        model = build_addition_model(args.hidden)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        data = addition_dataset(args.bits, args.batch_size, seed=0)
        seconds = []

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                seconds.append(time.perf_counter() - self.start)

        model.fit(
            data, epochs=2, steps_per_epoch=args.steps, callbacks=[Timer()], verbose=0
        )
    result = {"steps_per_second": args.steps / seconds[-1]}
    if args.distribute == "multi-process":
        size = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        result["all_reduce_ms"] = _all_reduce_ms(size)
    print(json.dumps(result))


def _all_reduce_ms(size: int) -> float:
    """The time of one all-reduce of `size` floats, a step's gradients alone."""
    import jax
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec

    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("processes",))
    x = jax.make_array_from_process_local_data(
        NamedSharding(mesh, PartitionSpec("processes")),
        np.ones((1, size), np.float32),
    )
    total = jax.jit(
        lambda x: x.sum(axis=0), out_shardings=NamedSharding(mesh, PartitionSpec())
    )
    total(x).block_until_ready()
    start = time.perf_counter()
    for _ in range(ALL_REDUCES):
        total(x).block_until_ready()
    return (time.perf_counter() - start) / ALL_REDUCES * 1000


def _run(children: list[list[str]]) -> dict[str, float]:
    """Runs the children together; returns process 0's measurements."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    return run_together(__file__, children, env)


def _settings(args) -> list[str]:
    return [
        *["--bits", str(args.bits), "--batch-size", str(args.batch_size)],
        *["--hidden", str(args.hidden), "--steps", str(args.steps)],
    ]


def _measure(args) -> tuple[dict[str, float], float]:
    """The median steps per second of each configuration, and of an all-reduce."""
    settings = _settings(args)
    results = {"1 process × 2 cores": [], "2 processes × 1 core": []}
    all_reduces = []
    for _ in range(args.rounds):
        one = _run([[*settings, "--cpus", "0,1", "--distribute", "none"]])
        results["1 process × 2 cores"].append(one["steps_per_second"])
        coordinator = f"127.0.0.1:{free_port()}"
        two = _run(
            [
                [
                    *settings,
                    *["--cpus", str(i), "--distribute", "multi-process"],
                    *["--coordinator", coordinator, "--num-processes", "2"],
                    *["--process-id", str(i)],
                ]
                for i in range(2)
            ]
        )
        results["2 processes × 1 core"].append(two["steps_per_second"])
        all_reduces.append(two["all_reduce_ms"])
    medians = {name: statistics.median(values) for name, values in results.items()}
    return medians, statistics.median(all_reduces)


def _report(args, medians: dict[str, float], all_reduce_ms: float) -> str:
    import jax
    import keras

    one = medians["1 process × 2 cores"]
    lines = [
        f"{cpu_name()}, {os.cpu_count()} CPUs; "
        f"keras {keras.__version__}, jax {jax.__version__}",
        f"addition model, {args.hidden} units, global batch {args.batch_size} "
        f"of {args.bits} bits; median of {args.rounds} rounds of "
        f"{args.steps} timed steps",
        "",
        f"{'configuration':<22} {'steps/s':>8} {'vs 1 process':>13}",
    ]
    for name, value in medians.items():
        lines.append(
            f"{name:<22} {value:>8.1f} {value / one:>12.2f}×  "
            f"({1000 / value:.1f} ms a step)"
        )
    lines.append(
        f"one all-reduce of a step's gradients between the 2 processes: "
        f"{all_reduce_ms:.1f} ms"
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--bits", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--snippet", type=Path, help="also write the report to this Markdown file"
    )
    # The runs' own options.
    add_child_options(parser)
    parser.add_argument("--distribute", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.child:
        _child(args)
        return
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("This benchmark needs two CPU cores.")
    report = _report(args, *_measure(args))
    print(report)
    if args.snippet is not None:
        command = shlex.join(
            ["python", "benchmarks/multiprocess_throughput.py", *sys.argv[1:]]
        )
        args.snippet.write_text(
            "<!-- written by benchmarks/multiprocess_throughput.py -->\n\n"
            f"```console\n$ {command}\n{report}\n```\n"
        )


if __name__ == "__main__":
    main()

"""Which of JAX's two backward passes trains `ChungGRU` faster, shape by shape.

On JAX, `ChungGRU`'s hand-written backward pass forms the weight gradients
in one of two ways. Outside a Keras distribution, each step of its loop adds
its products to every gradient (`loop.accumulating_backward`); under one,
which shards the batch, the loop writes out every step's gradients for large
matmuls over all steps after it (`loop.backward`), one all-reduce each. The
first reads and writes every gradient at each step for 2 * batch FLOPs an
element, so a batch size seemed the natural threshold between them. This
script measures whether one is: for a grid of batch sizes, widths and
lengths, it times `fit` with each pass, each in a process of its own, as a
user's model trains, the two taking turns an epoch at a time, and reports
accumulating's speedup as the median of the rounds' ratios with a 95%
distribution-free interval (`recurrent_throughput.paired_speedup`).

The process that times the pass after the loop makes `jax_loop` take it
the way a distribution does: `keras.distribution.distribution()` returns
something there. No real distribution is set, since one changes more of the
training step than its backward pass. Each process checks, as its models
compile, that its pass is the one that ran. Timed in one process instead,
the two programs taking turns, the passes ran at other speeds: at the long
shape accumulating came out slower or tied.

Memory decides as well as arithmetic. Timed apart, the pass after the loop
runs faster at the long shape (`training_step_profile.py`); in `fit`, one
program with the forward pass, it also keeps every step's gradients, and
the step's temporaries outgrow the block glibc's malloc reuses, so every
step maps them afresh from the kernel. That profile times the layer's
passes so, under a distribution, and measures what each part maps fresh.

To reproduce (writes `benchmarks/results/backward_crossover_jax.json`):

    KERAS_BACKEND=jax python benchmarks/backward_crossover.py
"""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import statistics
import sys
from pathlib import Path

import keras
from recurrent_throughput import RESULTS_DIR
from recurrent_throughput import SHAPES
from recurrent_throughput import TINY_SHAPE
from recurrent_throughput import _data
from recurrent_throughput import _keras_model
from recurrent_throughput import format_paired
from recurrent_throughput import paired_speedup

from keras_gru_cell._fused import loop

import _turns as turns
from _environment import environment

# Each pass, and the function of `loop` that runs it.
PASSES = {"after the loop": "backward", "accumulating": "accumulating_backward"}
# The Benchmarks page's large and long shapes, and around them batch sizes
# from 16 to 128 at two widths and two lengths, and a wider layer.
GRID = (
    *(
        {"batch": batch, "time": 100, "features": 32, "units": units}
        for units in (64, 256)
        for batch in (16, 32, 48, 64, 128)
    ),
    *(
        {"batch": batch, "time": 1000, "features": 8, "units": 64}
        for batch in (16, 32, 64)
    ),
    *(
        {"batch": batch, "time": 100, "features": 32, "units": 512}
        for batch in (32, 64)
    ),
)


def traced_passes(function) -> set[str]:
    """The names of the backward passes that a call of `function` runs."""
    ran = set()

    def recorded(name, original):
        def call(*args, **kwargs):
            ran.add(name)
            return original(*args, **kwargs)

        return call

    originals = {name: getattr(loop, name) for name in PASSES.values()}
    try:
        for name, original in originals.items():
            setattr(loop, name, recorded(name, original))
        function()
    finally:
        for name, original in originals.items():
            setattr(loop, name, original)
    return ran


def _child(pass_name: str, shapes: tuple, batches: int) -> None:
    """Takes `pass_name`, builds a model a shape, then times one epoch of
    the shape whose index each line on stdin names."""
    if pass_name == "after the loop":
        # What `jax_loop` reads to tell whether a distribution is set.
        keras.distribution.distribution = lambda: "after the loop"
    fits = []
    for shape in shapes:
        x, y = _data(shape, batches)
        model = _keras_model("ChungGRU", None, shape)
        fit = functools.partial(
            model.fit,
            x,
            y,
            batch_size=shape["batch"],
            epochs=1,
            verbose=0,
            shuffle=False,
        )
        # The first call traces and compiles: the pass it traced is the one
        # every timed call runs.
        ran = traced_passes(fit)
        if ran != {PASSES[pass_name]}:
            raise SystemExit(f"the {pass_name!r} process ran {sorted(ran)}")
        fits.append(fit)
    turns.serve({str(index): fit for index, fit in enumerate(fits)})


def measure(shapes: tuple, args) -> list[dict]:
    """Seconds per epoch with each pass, by shape, then by pass."""
    argv = ["--batches", str(args.batches), *(["--tiny"] if args.tiny else [])]
    children = {
        name: turns.start(__file__, [*argv, "--child", name], repr(name))
        for name in PASSES
    }
    times = [{name: [] for name in PASSES} for _ in shapes]
    try:
        for round_index in range(args.rounds):
            order = list(children)[:: 1 if round_index % 2 == 0 else -1]
            for index, by_pass in enumerate(times):
                for name in order:
                    by_pass[name].append(turns.timed(children[name], str(index)))
    finally:
        turns.stop(children.values())
    return times


def run(args) -> dict:
    backend = keras.backend.backend()
    if backend != "jax":
        sys.exit(
            "backward_crossover.py times JAX's two backward passes (TensorFlow "
            f"and PyTorch have one); KERAS_BACKEND is {backend!r}."
        )
    shapes = (TINY_SHAPE,) if args.tiny else GRID
    results = []
    for shape, times in zip(shapes, measure(shapes, args), strict=True):
        after, accumulating = (times[name] for name in PASSES)
        speedup = paired_speedup(accumulating, after)
        results.append(
            {
                **shape,
                "ms_per_batch": {
                    name: 1e3 * statistics.median(t) / args.batches
                    for name, t in times.items()
                },
                "accumulating_speedup": speedup,
            }
        )
        print(
            f"batch {shape['batch']:4} steps {shape['time']:5} units "
            f"{shape['units']:4}: accumulating {speedup['median']:.2f}x",
            flush=True,
        )
    return {
        **environment(),
        "settings": {
            "command": shlex.join([f"KERAS_BACKEND={backend}", "python", *sys.argv]),
            "batches_per_round": args.batches,
            "rounds": args.rounds,
            "large_shape": SHAPES["large"],
            "long_shape": SHAPES["long"],
        },
        "results": results,
        "table": format_table(results),
    }


def format_table(results: list[dict]) -> str:
    """One row a shape: each pass's milliseconds a batch and accumulating's
    speedup."""
    lines = [
        "| batch | steps | features | units | after the loop, ms a batch "
        "| accumulating, ms a batch | accumulating's speedup |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results:
        ms = row["ms_per_batch"]
        speedup = format_paired(row["accumulating_speedup"])
        lines.append(
            f"| {row['batch']} | {row['time']:,} | {row['features']} "
            f"| {row['units']} | {ms['after the loop']:,.2f} "
            f"| {ms['accumulating']:,.2f} | {speedup} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=int,
        default=16,
        help="timed rounds, each pass an epoch of every shape a round (default 16)",
    )
    parser.add_argument(
        "--batches", type=int, default=8, help="batches an epoch (default 8)"
    )
    parser.add_argument(
        "--tiny", action="store_true", help="one tiny shape, for a smoke test"
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--child", choices=PASSES, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> dict | None:
    args = parse_args(argv)
    if args.child:
        _child(args.child, (TINY_SHAPE,) if args.tiny else GRID, args.batches)
        return None
    report = run(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"backward_crossover_{keras.backend.backend()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(report["table"])
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()

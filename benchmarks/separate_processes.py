"""`ChungGRU`'s training speed against Keras's built-in GRUs, each model alone
in a process of its own.

`recurrent_throughput.py` times every Keras model of a backend in one
process, taking turns. Timed that way, two of JAX's programs ran at other
speeds than each alone (`backward_crossover.py`), so this script checks the
Benchmarks page's training ratios the way a user's model trains: each model
(`recurrent_throughput.py`'s, on its data) in a Python process of its own,
the processes taking turns an epoch at a time, the first to go alternating,
as `compare_commits.py` times two revisions. Each built-in runs with every
compilation `recurrent_throughput.py` gives it; `ChungGRU` with Keras's
default. The comparison is paired: each round's ratio of the two times, its
median and a distribution-free 95% interval.

To reproduce (each writes `benchmarks/results/separate_processes_<backend>.json`):

    KERAS_BACKEND=jax python benchmarks/separate_processes.py
    KERAS_BACKEND=tensorflow python benchmarks/separate_processes.py
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import keras
from recurrent_throughput import RESULTS_DIR
from recurrent_throughput import SHAPES
from recurrent_throughput import TINY_SHAPE
from recurrent_throughput import _data
from recurrent_throughput import _keras_model
from recurrent_throughput import compile_modes
from recurrent_throughput import paired_speedup

import _turns as turns
from _environment import environment
from _keras_inputs import keras_inputs

CHUNG_GRU = ("ChungGRU", "auto")
BUILTINS = ("GRU(reset_after=False)", "GRU()")


def _shapes(tiny: bool) -> dict:
    return {"tiny": TINY_SHAPE} if tiny else {s: SHAPES[s] for s in ("large", "long")}


def _child(layer: str, jit_compile: str, tiny: bool, batches: int) -> None:
    """Builds `layer`'s model at every shape, then times one training epoch
    of the shape each line on stdin names."""
    fits = {}
    for name, shape in _shapes(tiny).items():
        x, y = _data(shape, batches)
        inputs = keras_inputs(x, y, shape["batch"])["train"]
        model = _keras_model(layer, json.loads(jit_compile), shape)
        fits[name] = lambda m=model, i=inputs: m.fit(**i, epochs=1, verbose=0)
        fits[name]()  # compiles
    turns.serve(fits)


def run(args) -> dict:
    backend = keras.backend.backend()
    builtins = [(b, mode) for b in BUILTINS for mode in compile_modes(backend)]
    argv = ["--batches", str(args.batches), *(["--tiny"] if args.tiny else [])]
    # Every process stays alive through the run, ChungGRU's taking turns
    # with each built-in's in turn.
    children = {
        entry: turns.start(
            __file__, [*argv, "--child", entry[0], json.dumps(entry[1])], str(entry)
        )
        for entry in (CHUNG_GRU, *builtins)
    }
    results = []
    try:
        for shape_name in _shapes(args.tiny):
            for builtin in builtins:
                times = {CHUNG_GRU: [], builtin: []}
                for round_index in range(args.rounds):
                    order = list(times)[:: 1 if round_index % 2 == 0 else -1]
                    for entry in order:
                        times[entry].append(turns.timed(children[entry], shape_name))
                results.append(
                    {
                        "shape": shape_name,
                        "layer": builtin[0],
                        "jit_compile": str(builtin[1]),
                        "chung_gru_speedup": paired_speedup(
                            times[CHUNG_GRU], times[builtin]
                        ),
                    }
                )
                print(format_table(results[-1:]).splitlines()[-1], flush=True)
    finally:
        turns.stop(children.values())
    return {
        **environment(),
        "settings": {
            "command": shlex.join([f"KERAS_BACKEND={backend}", "python", *sys.argv]),
            "batches_per_round": args.batches,
            "rounds": args.rounds,
        },
        "results": results,
        "table": format_table(results),
    }


def format_table(results: list[dict]) -> str:
    """One row a shape and built-in: `ChungGRU`'s training speedup over it."""
    lines = [
        "| shape | built-in | jit_compile | ChungGRU's training speedup [95%] |",
        "|---|---|---|---|",
    ]
    for row in results:
        lines.append(
            f"| {row['shape']} | {row['layer']} | {row['jit_compile']} "
            f"| {turns.interval(row['chung_gru_speedup'])} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=16, help="timed rounds (default 16)"
    )
    parser.add_argument(
        "--batches", type=int, default=8, help="batches an epoch (default 8)"
    )
    parser.add_argument(
        "--tiny", action="store_true", help="one tiny shape, for a smoke test"
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> dict | None:
    args = parse_args(argv)
    if args.child:
        _child(*args.child, args.tiny, args.batches)
        return None
    report = run(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"separate_processes_{keras.backend.backend()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(report["table"])
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()

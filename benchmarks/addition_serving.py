"""Sums per second of the addition model's serving path, before and after.

Times, on the current Keras backend in one run, the two ways a trained
addition model adds: `predict_sums` and the `serve` endpoint of the SavedModel
`keras-gru-cell export` writes, reloaded with `tf.saved_model.load`. Each
runs twice: "before", the model file's own `RNN(ChungGRUCell)` form through
`Model.predict`, and "after", the serving path
(`keras_gru_cell.addition.serving`: the same weights in `ChungGRU`, fed to
`predict_on_batch` batch by batch for `predict_sums`). The timed calls take
turns, so the load of a shared machine falls on all of them alike; read the
speedups of one run.
Exporting needs TensorFlow's or JAX's backend; on another the SavedModel
rows are left out.

Usage:

    KERAS_BACKEND=tensorflow python benchmarks/addition_serving.py
    python benchmarks/addition_serving.py --bits 64 --sums 200 --repeats 2

Writes `benchmarks/results/addition_serving_<backend>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

from keras_gru_cell.addition.data import decode_sums
from keras_gru_cell.addition.data import encode_pairs
from keras_gru_cell.addition.evaluation import load_addition_model
from keras_gru_cell.addition.evaluation import predict_sums
from keras_gru_cell.addition.evaluation import random_pairs
from keras_gru_cell.addition.pretrained import load_pretrained_model
from keras_gru_cell.addition.serving import serving_model

from _environment import environment

RESULTS_DIR = Path(__file__).resolve().parent / "results"
EXPORTING_BACKENDS = ("tensorflow", "jax")


def _predict_sums_before(model):
    """`predict_sums` as it was: the model file's own form."""

    def add(pairs, num_bits):
        x = encode_pairs(pairs, num_bits)
        return decode_sums(model.predict(x, batch_size=2000, verbose=0))

    return add


def _predict_sums_after(model):
    return lambda pairs, num_bits: predict_sums(model, pairs)


def _served(model, folder: Path):
    """The `serve` endpoint of `model` exported to `folder` and reloaded."""
    import tensorflow as tf

    model.export(str(folder), format="tf_saved_model", verbose=0)
    # The endpoint needs the loaded object, which holds its variables, alive.
    loaded = tf.saved_model.load(str(folder))

    def add(pairs, num_bits):
        x = tf.constant(encode_pairs(pairs, num_bits).astype(model.inputs[0].dtype))
        return decode_sums(loaded.serve(x).numpy())

    return add


def measure(paths: dict, pairs: list, num_bits: int, repeats: int, max_seconds):
    """Sums per second of each path, the median of up to `repeats` rounds."""
    expected = paths[next(iter(paths))](pairs, num_bits)
    for name, add in paths.items():
        if add(pairs, num_bits) != expected:
            raise AssertionError(f"{name} adds differently from the others")
    times = {name: [] for name in paths}
    start = time.perf_counter()
    while min(len(t) for t in times.values()) < repeats:
        for name, add in paths.items():
            began = time.perf_counter()
            add(pairs, num_bits)
            times[name].append(time.perf_counter() - began)
        if len(times[name]) >= 2 and time.perf_counter() - start > max_seconds:
            break
    return {name: len(pairs) / statistics.median(t) for name, t in times.items()}


def run_benchmark(args) -> dict:
    model = (
        load_pretrained_model()
        if args.model is None
        else load_addition_model(args.model)
    )
    backend = keras.backend.backend()
    paths = {
        ("predict_sums", "before"): _predict_sums_before(model),
        ("predict_sums", "after"): _predict_sums_after(model),
    }
    with tempfile.TemporaryDirectory() as folder:
        if backend in EXPORTING_BACKENDS:
            paths["SavedModel serve", "before"] = _served(model, Path(folder, "b"))
            paths["SavedModel serve", "after"] = _served(
                serving_model(model), Path(folder, "a")
            )
        results = []
        for num_bits in args.bits:
            pairs = random_pairs(num_bits, args.sums, seed=num_bits)
            rates = measure(paths, pairs, num_bits, args.repeats, args.max_seconds)
            for path in dict.fromkeys(name for name, _ in paths):
                before, after = rates[path, "before"], rates[path, "after"]
                results.append(
                    {
                        "path": path,
                        "num_bits": num_bits,
                        "sums": args.sums,
                        "before_sums_per_s": before,
                        "after_sums_per_s": after,
                        "speedup": after / before,
                    }
                )
                print(
                    f"{path:<18} {num_bits:>5} bits  before {before:10,.0f}/s  "
                    f"after {after:10,.0f}/s  {after / before:6.2f}x",
                    flush=True,
                )
    return {
        **environment("numpy"),
        "settings": {
            "command": f"KERAS_BACKEND={keras.backend.backend()} "
            "python benchmarks/addition_serving.py"
            + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
            "statistic": "median",
            "model": "shipped" if args.model is None else str(args.model),
        },
        "results": results,
        "table": format_table(results),
    }


def format_table(results: list[dict]) -> str:
    lines = [
        "| path | bits | before: sums/s | after: sums/s | speedup |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['path']} | {r['num_bits']:,} | {r['before_sums_per_s']:,.0f} "
        f"| {r['after_sums_per_s']:,.0f} | {r['speedup']:.2f}× |"
        for r in results
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        type=Path,
        help="a .keras addition model (default: the shipped model)",
    )
    parser.add_argument(
        "--bits",
        type=int,
        nargs="+",
        default=[64, 1024],
        help="sum lengths (default: 64 1024)",
    )
    parser.add_argument(
        "--sums", type=int, default=2000, help="sums per timed call (default 2000)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=10,
        help="at most this many timed rounds per length (default 10)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="stop repeating a length after this long, once two rounds are "
        "in (default 60)",
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = run_benchmark(args)
    print("\n" + report["table"])
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"addition_serving_{keras.backend.backend()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")
    return report


if __name__ == "__main__":
    main()

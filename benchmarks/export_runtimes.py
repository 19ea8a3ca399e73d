"""Time per step of exported recurrent models in ONNX Runtime and LiteRT.

Exports, on TensorFlow, `Input((None, 2)) → layer(units, return_sequences=True)
→ Dense(1)` for `ChungGRU` and `RNN(ChungGRUCell)` to ONNX (run in
`onnxruntime`) and `ChungGRU` to LiteRT (run in `ai_edge_litert`'s
interpreter), each for any sequence length; then times each at growing
lengths, taking turns. A time per step that stays flat as the length grows
is a loop linear in the length; one that grows with it, a loop whose every
step costs more than the last (LiteRT's, which rewrites its whole output at
each step: see `keras_gru_cell/_fused/tensorflow_export_loop.py`).

Usage:

    KERAS_BACKEND=tensorflow python benchmarks/export_runtimes.py
    python benchmarks/export_runtimes.py --lengths 100 1000 --batch 1

Writes `benchmarks/results/export_runtimes.json` (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from keras_gru_cell import ChungGRU
from keras_gru_cell import ChungGRUCell

from _environment import environment

RESULTS = Path(__file__).resolve().parent / "results" / "export_runtimes.json"
INPUT_DIM = 2


def _model(layer: str, units: int):
    inputs = keras.Input((None, INPUT_DIM), name="x")
    recurrent = (
        ChungGRU(units, return_sequences=True)
        if layer == "ChungGRU"
        else keras.layers.RNN(ChungGRUCell(units), return_sequences=True)
    )
    model = keras.Model(inputs, keras.layers.Dense(1)(recurrent(inputs)))
    model(np.zeros((1, 3, INPUT_DIM), "float32"))
    return model


def _onnx(model, folder: Path):
    import onnxruntime

    path = folder / f"{model.name}.onnx"
    model.export(str(path), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(path))
    return lambda x: session.run(None, {"x": x})[0]


def _litert(model, folder: Path):
    from ai_edge_litert.interpreter import Interpreter

    path = folder / f"{model.name}.tflite"
    model.export(str(path), format="litert", verbose=False)
    runner = Interpreter(model_path=str(path)).get_signature_runner()
    return lambda x: next(iter(runner(x=x).values()))


def runtimes(units: int, folder: Path) -> dict:
    """Each exported model's run function, keyed by layer and runtime."""
    return {
        ("ChungGRU", "ONNX Runtime"): _onnx(_model("ChungGRU", units), folder),
        ("RNN(ChungGRUCell)", "ONNX Runtime"): _onnx(
            _model("RNN(ChungGRUCell)", units), folder
        ),
        ("ChungGRU", "LiteRT"): _litert(_model("ChungGRU", units), folder),
    }


def measure(units: int, batch: int, lengths: list[int], repeats: int) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        runs = runtimes(units, Path(folder))
        for length in lengths:
            x = np.random.default_rng(0).random((batch, length, INPUT_DIM))
            x = x.astype("float32")
            times = {key: [] for key in runs}
            for run in runs.values():
                run(x)  # warm-up
            for _ in range(repeats):
                for key, run in runs.items():
                    start = time.perf_counter()
                    run(x)
                    times[key].append(time.perf_counter() - start)
            for (layer, runtime), seconds in times.items():
                results.append(
                    {
                        "layer": layer,
                        "runtime": runtime,
                        "length": length,
                        "microseconds_per_step": 1e6
                        * statistics.median(seconds)
                        / length,
                    }
                )
                print(_row(results[-1]), flush=True)
    return results


def _row(result: dict) -> str:
    return (
        f"| {result['layer']} | {result['runtime']} | {result['length']:,} | "
        f"{result['microseconds_per_step']:.1f} |"
    )


def format_table(results: list[dict]) -> str:
    return "\n".join(
        [
            "| layer | runtime | length | µs per step |",
            "|---|---|---:|---:|",
            *map(_row, results),
        ]
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[100, 400, 1600, 6400]
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if keras.backend.backend() != "tensorflow":
        raise SystemExit(
            "export_runtimes.py exports from TensorFlow: run it with "
            f"KERAS_BACKEND=tensorflow, not {keras.backend.backend()!r}."
        )
    results = measure(args.units, args.batch, args.lengths, args.repeats)
    report = {
        **environment("onnxruntime", "ai_edge_litert"),
        "command": " ".join(["python", *sys.argv]),
        "settings": {"units": args.units, "batch": args.batch},
        "results": results,
        "table": format_table(results),
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(report["table"])
    return report


if __name__ == "__main__":
    main()

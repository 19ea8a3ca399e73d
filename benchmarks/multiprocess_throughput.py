"""Scaling out: training throughput of 1 and 2 processes on one machine.

Two kinds of figure, each from runs that take turns for `--rounds` rounds
(so that a shared machine's changing load falls on every configuration
alike), each run a fresh process pinned with `os.sched_setaffinity`:

- Per engine, layer (`ChungGRU`, `RNN(ChungGRUCell)`,
  `GRU(reset_after=False)`) and shape (a compute-heavy one and the
  tutorial's), a `Sequential` of the layer and `Dense(1)` trained with Adam
  on MSE, global sequences per second: weak scaling, 2 processes × 1 core
  with one process's batch each against 1 process × 1 core with that batch;
  and strong scaling, the same 2 processes against 1 process × 1 core with
  their global batch. Ideal: 2×. The engines: `jax`, `model.fit` under
  `keras.distribution`'s `DataParallel` on the JAX backend; and `torch`,
  PyTorch's `DistributedDataParallel` over gloo wrapping the Keras model on
  the PyTorch backend, trained by a PyTorch loop with `torch.optim.Adam`, as
  Keras's guide to distributed training with PyTorch does (`model.fit` has
  no PyTorch data-parallel engine); its 1-process runs use the same loop.
- Per engine, the addition model's default recipe (`TrainingSettings()`,
  what `keras-gru-cell train` trains), steps per second: 2 processes × 1
  core (`--distribute multi-process`, which trains its `ChungGRU` twin:
  under `DataParallel` on JAX, through `TorchDataParallel` on PyTorch)
  against 1 process × 2 cores (`--distribute none`), same global batch.
  Ideal: 1×.

Processes of a run connect on 127.0.0.1, through `keras.distribution`
(`DataParallel` over both) on JAX and `torch.distributed` on PyTorch. Each
`model.fit` run warms up for two epochs of `--steps` steps, then times a
third: on JAX the train step compiles, and may compile again at the second
epoch (with a one-device `DataParallel`, as the metrics' reset changes its
inputs' shardings). The PyTorch DDP loop warms up for `--steps` steps, then
times as many more. Process 0 of each two-process run also times an
all-reduce of the model's gradients alone, with the engine's own
collective; the extra time of a two-process step over the one-process step
with the same rows per process, counted in such all-reduces, says what
limits a figure. Reported per figure: the median throughput of each configuration and
the median of the rounds' ratios.

Usage:

    python benchmarks/multiprocess_throughput.py --rounds 5
    python benchmarks/multiprocess_throughput.py --engines torch --no-addition
    python benchmarks/multiprocess_throughput.py --render-only
    python benchmarks/multiprocess_throughput.py --smoke --output-dir /tmp/smoke

It writes benchmarks/results/multiprocess_throughput.json, and rendered from
that file the snippet docs/snippets/scaling_throughput.md and the chart
docs/assets/scaling_throughput.png, which the Scaling out page shows;
`--render-only` measures nothing and renders both again. `--smoke` runs
tiny shapes for a few steps, in seconds, to check the script: its figures
are marked as such and mean nothing. Needs two CPU cores.
"""

from __future__ import annotations

import argparse
import itertools
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
from _children import join_torch_processes
from _children import report_and_leave_torch_processes
from _children import run_together
from _environment import environment

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "multiprocess_throughput.json"
SNIPPET = ROOT / "docs" / "snippets" / "scaling_throughput.md"
CHART = ROOT / "docs" / "assets" / "scaling_throughput.png"
SCRIPT = "benchmarks/multiprocess_throughput.py"

ENGINES = ("jax", "torch")
ENGINE_NAMES = {"jax": "JAX DataParallel", "torch": "PyTorch DDP"}
LAYERS = ("ChungGRU", "RNN(ChungGRUCell)", "GRU(reset_after=False)")
# `batch` is one process's batch.
SHAPES = {
    "compute-heavy": {"batch": 128, "time": 50, "features": 32, "units": 128},
    "tutorial": {"batch": 100, "time": 5, "features": 2, "units": 16},
}
SMOKE_SHAPES = {"smoke": {"batch": 4, "time": 3, "features": 2, "units": 4}}
ADDITION = "addition model, default recipe"
# What `keras-gru-cell train --distribute multi-process` trains the addition
# model with, per engine.
ADDITION_ENGINE_NAMES = {
    "jax": "JAX DataParallel",
    "torch": "PyTorch TorchDataParallel",
}
ALL_REDUCES = 100

# Each configuration: the cores of each process (one list per process) and
# the global batch as a multiple of one process's batch.
ONE_PROCESS = "1 process × 1 core"
ONE_PROCESS_DOUBLE = "1 process × 1 core, both batches"
TWO_PROCESSES = "2 processes × 1 core"
ONE_PROCESS_TWO_CORES = "1 process × 2 cores"
ONE_PROCESS_TWO_CORES_ENGINE = "1 process × 2 cores, multi-process engine"
LAYER_CONFIGURATIONS = {
    ONE_PROCESS: ([[0]], 1),
    ONE_PROCESS_DOUBLE: ([[0]], 2),
    TWO_PROCESSES: ([[0], [1]], 2),
}
# The addition model's: each process's cores and `--distribute`. A
# multi-process run of one process trains what two processes train (the
# `ChungGRU` twin, through the same engine), on one process's cores.
ADDITION_CONFIGURATIONS = {
    ONE_PROCESS_TWO_CORES: ([[0, 1]], "none"),
    ONE_PROCESS_TWO_CORES_ENGINE: ([[0, 1]], "multi-process"),
    TWO_PROCESSES: ([[0], [1]], "multi-process"),
}


def _layer(name: str, units: int):
    import keras

    from keras_gru_cell import ChungGRU
    from keras_gru_cell import ChungGRUCell

    if name == "ChungGRU":
        return ChungGRU(units)
    if name == "RNN(ChungGRUCell)":
        return keras.layers.RNN(ChungGRUCell(units))
    return keras.layers.GRU(units, reset_after=False)


def _layer_model(args):
    """The layer's model, compiled for `fit` (the PyTorch engine's loop uses
    only its layers), and one global batch."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((args.time, args.features)),
            _layer(args.layer, args.units),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch_size, args.time, args.features), "float32")
    y = rng.standard_normal((args.batch_size, 1), "float32")
    return model, (x, y)


def _addition_model(args):
    import keras

    from keras_gru_cell.addition.training import TrainingSettings
    from keras_gru_cell.addition.training.run import compiled_model
    from keras_gru_cell.addition.training.run import training_data
    from keras_gru_cell.addition.training.run import training_twin

    settings = TrainingSettings(seed=0)
    keras.utils.set_random_seed(0)
    model = compiled_model(settings, metrics=True)
    if args.distribute == "multi-process":
        # What `train_addition_model` trains in a multi-process run.
        model = training_twin(model)
    return model, training_data(settings, 0)[0]


def _torch_child(args) -> None:
    """A layer figure's run on PyTorch: DDP across processes, if several."""
    import torch

    distributed = args.distribute == "multi-process"
    if distributed:
        join_torch_processes(args.coordinator, args.num_processes, args.process_id)
    model, (x, y) = _layer_model(args)
    if distributed:
        rows = slice(args.process_id, None, args.num_processes)
        x, y = x[rows], y[rows]
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    network = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.Adam(model.parameters())

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(network(x), y)
        loss.backward()
        optimizer.step()

    for _ in range(args.steps):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    result = {"steps_per_second": args.steps / (time.perf_counter() - start)}
    if distributed:
        size = sum(p.numel() for p in model.parameters())
        result["all_reduce_ms"] = _all_reduce_ms(size, "torch")
        report_and_leave_torch_processes(result)
    print(json.dumps(result))


def _child(args) -> None:
    # Before JAX, TensorFlow and PyTorch start their thread pools.
    os.sched_setaffinity(0, args.cpus)
    if args.engine == "torch":
        import torch

        torch.set_num_threads(len(args.cpus))
        torch.set_num_interop_threads(1)
        if args.layer is not None:
            _torch_child(args)
            return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from keras_gru_cell.addition.distribution import distribution_scope

    settings = {}
    if args.distribute == "multi-process":
        settings = {
            "coordinator": args.coordinator,
            "num_processes": args.num_processes,
            "process_id": args.process_id,
        }
    with distribution_scope(args.distribute, **settings):
        if args.layer is None:
            model, data = _addition_model(args)
        else:
            import tensorflow as tf

            model, batch = _layer_model(args)
            # A batched dataset: Keras splits each global batch between
            # processes.
            data = tf.data.Dataset.from_tensor_slices(batch)
            data = data.repeat().batch(args.batch_size)
        seconds = []

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                seconds.append(time.perf_counter() - self.start)

        model.fit(
            data, epochs=3, steps_per_epoch=args.steps, callbacks=[Timer()], verbose=0
        )
    result = {"steps_per_second": args.steps / seconds[-1]}
    if args.distribute == "multi-process":
        size = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        result["all_reduce_ms"] = _all_reduce_ms(size, args.engine)
        if args.engine == "torch":
            report_and_leave_torch_processes(result)
    print(json.dumps(result))


def _all_reduce_ms(size: int, engine: str) -> float:
    """The time of one all-reduce of `size` floats, a step's gradients alone,
    with `engine`'s own collective."""
    if engine == "torch":
        import torch

        gradients = torch.ones(size)
        torch.distributed.all_reduce(gradients)
        start = time.perf_counter()
        for _ in range(ALL_REDUCES):
            torch.distributed.all_reduce(gradients)
        return (time.perf_counter() - start) / ALL_REDUCES * 1000
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


def _run(
    cpus: list[list[int]],
    argv: list[str],
    engine: str = "jax",
    distribute: str | None = None,
) -> dict[str, float]:
    """One run: a process per entry of `cpus`, pinned to those cores.

    `distribute` is the runs' `--distribute`; by default "none" for one
    process, "multi-process" for several.
    """
    env = {**os.environ, "KERAS_BACKEND": engine, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    argv = [*argv, "--engine", engine]
    if distribute is None:
        distribute = "none" if len(cpus) == 1 else "multi-process"
    if distribute == "none":
        children = [[*argv, "--cpus", ",".join(map(str, cpus[0]))]]
        children[0] += ["--distribute", "none"]
    else:
        coordinator = f"127.0.0.1:{free_port()}"
        children = [
            [
                *argv,
                *["--cpus", ",".join(map(str, process_cpus))],
                *["--distribute", "multi-process", "--coordinator", coordinator],
                *["--num-processes", str(len(cpus)), "--process-id", str(i)],
            ]
            for i, process_cpus in enumerate(cpus)
        ]
    return run_together(__file__, children, env)


def _figures(
    shapes: dict, layers: list[str], engines: list[str], addition: bool
) -> list[dict]:
    """Every figure to measure: its engine, name and configurations' runs."""
    figures = []
    for engine, (shape_name, shape) in itertools.product(engines, shapes.items()):
        for layer in layers:
            sizes = [
                *["--layer", layer, "--time", str(shape["time"])],
                *["--features", str(shape["features"])],
                *["--units", str(shape["units"])],
            ]
            runs = {
                name: (
                    cpus,
                    [*sizes, "--batch-size", str(times * shape["batch"])],
                    None,
                )
                for name, (cpus, times) in LAYER_CONFIGURATIONS.items()
            }
            figures.append(
                {
                    "engine": engine,
                    "figure": f"{layer}, {shape_name}",
                    "runs": runs,
                }
            )
    if not addition:
        return figures
    figures += [
        {
            "engine": engine,
            "figure": ADDITION,
            "runs": {
                name: (cpus, [], distribute)
                for name, (cpus, distribute) in ADDITION_CONFIGURATIONS.items()
            },
        }
        for engine in engines
    ]
    return figures


def measure(args) -> dict:
    """Runs every configuration of every figure in turn, `args.rounds` times."""
    shapes = SMOKE_SHAPES if args.smoke else {s: SHAPES[s] for s in args.shapes}
    figures = _figures(shapes, args.layers, args.engines, not args.no_addition)
    runs = []
    for round_ in range(args.rounds):
        for figure in figures:
            for configuration, (cpus, argv, distribute) in figure["runs"].items():
                argv = [*argv, "--steps", str(args.steps)]
                result = _run(cpus, argv, figure["engine"], distribute)
                runs.append(
                    {
                        "engine": figure["engine"],
                        "figure": figure["figure"],
                        "configuration": configuration,
                        "round": round_,
                        **result,
                    }
                )
                print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    return {
        "command": shlex.join(["python", SCRIPT, *sys.argv[1:]]),
        "smoke": args.smoke,
        "rounds": args.rounds,
        "steps": args.steps,
        "shapes": shapes,
        "load_average": os.getloadavg()[0],
        **environment(*args.engines),
        "runs": runs,
    }


def _values(
    results: dict, engine: str, figure: str, configuration: str, key: str
) -> list:
    rows = sorted(
        (r for r in results["runs"] if (r["engine"], r["figure"]) == (engine, figure)),
        key=lambda r: r["round"],
    )
    return [r[key] for r in rows if r["configuration"] == configuration]


def summarize(results: dict) -> list[dict]:
    """Per engine and figure: median throughputs, median ratios and the
    limit's figures.

    Throughputs are global sequences per second for the layers, steps per
    second for the addition model; each ratio is the median over rounds of
    that round's ratio.
    """
    rows = []
    for engine, figure in dict.fromkeys(
        (r["engine"], r["figure"]) for r in results["runs"]
    ):

        def values(configuration, key, engine=engine, figure=figure):
            return _values(results, engine, figure, configuration, key)

        def speeds(configuration):
            return values(configuration, "steps_per_second")

        two = speeds(TWO_PROCESSES)
        all_reduce = statistics.median(values(TWO_PROCESSES, "all_reduce_ms"))
        if figure == ADDITION:
            reference = speeds(ONE_PROCESS_TWO_CORES)
            alone = speeds(ONE_PROCESS_TWO_CORES_ENGINE)
            row = {
                "engine": engine,
                "figure": figure,
                "unit": "steps/s",
                ONE_PROCESS_TWO_CORES: statistics.median(reference),
                ONE_PROCESS_TWO_CORES_ENGINE: statistics.median(alone),
                TWO_PROCESSES: statistics.median(two),
                "ratio": statistics.median(
                    t / o for t, o in zip(two, reference, strict=True)
                ),
                # The same model and engine: what the second process adds.
                "engine_ratio": statistics.median(
                    t / o for t, o in zip(two, alone, strict=True)
                ),
            }
            local = alone
        else:
            shape_name = figure.rsplit(", ", 1)[1]
            batch = results["shapes"][shape_name]["batch"]
            one, double = speeds(ONE_PROCESS), speeds(ONE_PROCESS_DOUBLE)
            row = {
                "engine": engine,
                "figure": figure,
                "unit": "sequences/s",
                ONE_PROCESS: statistics.median(one) * batch,
                ONE_PROCESS_DOUBLE: statistics.median(double) * 2 * batch,
                TWO_PROCESSES: statistics.median(two) * 2 * batch,
                # Global sequences per second: 2 batches a step against 1.
                "weak": statistics.median(
                    2 * t / o for t, o in zip(two, one, strict=True)
                ),
                "strong": statistics.median(
                    t / d for t, d in zip(two, double, strict=True)
                ),
            }
            # The same rows per process, so the difference is the cost of
            # being two processes.
            local = one
        step_ms = 1000 / statistics.median(two)
        extra_ms = step_ms - 1000 / statistics.median(local)
        rows.append(
            {
                **row,
                "step_ms": step_ms,
                "extra_ms": extra_ms,
                "all_reduce_ms": all_reduce,
                "extra_all_reduces": extra_ms / all_reduce,
            }
        )
    return rows


def _engine_name(row: dict) -> str:
    names = ADDITION_ENGINE_NAMES if row["figure"] == ADDITION else ENGINE_NAMES
    return names[row["engine"]]


def _limit(row: dict) -> str:
    return (
        f"{_engine_name(row)}, {row['figure']}: {row['extra_ms']:.1f} "
        f"ms of its {row['step_ms']:.1f} ms step more than "
        f"the 1-process step, ≈ {row['extra_all_reduces']:.1f} all-reduces of "
        f"{row['all_reduce_ms']:.2f} ms"
    )


def render(results: dict) -> str:
    """The snippet: how it was measured, the table, and each figure's limit."""
    rows = summarize(results)
    machine = results["machine"]
    versions = results["versions"]
    lines = ["<!-- written by benchmarks/multiprocess_throughput.py -->", ""]
    if results["smoke"]:
        lines += [
            '!!! warning "Smoke run: these figures mean nothing"',
            "    A few steps of tiny shapes, to check that the benchmark runs;",
            "    the real measurement replaces them.",
            "",
        ]
    engines = sorted({row["engine"] for row in rows})
    libraries = ", ".join(f"{name} {versions[name]}" for name in ("keras", *engines))
    lines += [
        f"`{results['command']}`: {machine['cpu']}, {machine['cores']} cores, "
        f"load average {results['load_average']:.1f} at the end; {libraries}; "
        f"median of {results['rounds']} rounds of {results['steps']} timed "
        "steps.",
        "",
        "| engine | layer, shape | 1 process × 1 core | 1 process × 1 core, "
        "both batches | 2 processes × 1 core | weak scaling | strong scaling |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row["figure"] == ADDITION:
            continue
        lines.append(
            f"| {ENGINE_NAMES[row['engine']]} | {row['figure']} | "
            f"{row[ONE_PROCESS]:,.0f} | "
            f"{row[ONE_PROCESS_DOUBLE]:,.0f} | {row[TWO_PROCESSES]:,.0f} | "
            f"**{row['weak']:.2f}×** | **{row['strong']:.2f}×** |"
        )
    shapes = "; ".join(
        f"{name}: {s['batch']} sequences per process, T={s['time']}, "
        f"{s['features']} features, {s['units']} units"
        for name, s in results["shapes"].items()
    )
    lines += [
        "",
        f"Global sequences per second ({shapes}). Ideal for both scalings: 2×.",
        "",
    ]
    additions = [row for row in rows if row["figure"] == ADDITION]
    if additions:
        lines += [
            "| addition model, default recipe, steps per second | "
            "1 process × 2 cores | 2 processes × 1 core | ratio | "
            "1 process × 2 cores, multi-process engine | ratio |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {_engine_name(row)} | {row[ONE_PROCESS_TWO_CORES]:,.1f} | "
            f"{row[TWO_PROCESSES]:,.1f} | **{row['ratio']:.2f}×** | "
            f"{row[ONE_PROCESS_TWO_CORES_ENGINE]:,.1f} | "
            f"**{row['engine_ratio']:.2f}×** |"
            for row in additions
        ]
        lines.append("")
    lines += [
        "What limits each figure: the time a 2-process step takes beyond a "
        "1-process step with the same rows per process (for the addition "
        "model, 1 process × 2 cores of the multi-process engine), counted in "
        "all-reduces of the model's gradients timed alone between the same 2 "
        "processes:",
        "",
    ]
    lines += [f"- {_limit(row)}" for row in rows]
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    """The weak and strong scaling of each layer and shape, and the recipe's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summarize(results)
    layers = [row for row in rows if row["figure"] != ADDITION]
    additions = [row for row in rows if row["figure"] == ADDITION]
    figure, (left, right) = plt.subplots(
        1,
        2,
        figsize=(4 + 1.2 * len(layers) + 0.6 * len(additions), 4.6),
        width_ratios=[4, max(1, len(additions))],
        layout="constrained",
    )
    positions = np.arange(len(layers))
    for offset, key, label in ((-0.2, "weak", "weak"), (0.2, "strong", "strong")):
        left.bar(
            positions + offset, [row[key] for row in layers], 0.4, label=f"{label}"
        )
    left.axhline(2, color="black", linestyle="--", linewidth=1, label="ideal")
    left.set_xticks(
        positions,
        [
            f"{row['engine']}\n"
            + row["figure"].replace(", ", "\n").replace("(", "\n(", 1)
            for row in layers
        ],
        fontsize=7,
    )
    left.set_ylabel("2 processes × 1 core ÷ 1 process × 1 core")
    left.set_title("Global sequences per second")
    # Over the low bars of JAX at the tutorial shape.
    left.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.3, 0.95))
    if not additions:
        right.set_axis_off()
    else:
        positions = np.arange(len(additions))
        for offset, key, label in (
            (-0.2, "ratio", "÷ 1 process\n(--distribute none)"),
            (0.2, "engine_ratio", "÷ 1 process of\nthe same engine"),
        ):
            right.bar(
                positions + offset, [row[key] for row in additions], 0.4, label=label
            )
        right.legend(fontsize=7, loc="lower center")
        right.set_xticks(
            positions,
            [f"{row['engine']}\naddition model\ndefault recipe" for row in additions],
            fontsize=7,
        )
    right.axhline(1, color="black", linestyle="--", linewidth=1)
    right.set_ylabel("2 processes × 1 core ÷ 1 process × 2 cores")
    right.set_title("Steps per second")
    title = "Scaling out on one machine: " + " and ".join(
        ENGINE_NAMES[engine] for engine in sorted({row["engine"] for row in rows})
    )
    if results["smoke"]:
        title += " — SMOKE RUN, not a measurement"
    figure.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny shapes: checks the script"
    )
    parser.add_argument(
        "--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES)
    )
    parser.add_argument(
        "--layers", nargs="+", choices=list(LAYERS), default=list(LAYERS)
    )
    parser.add_argument(
        "--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES)
    )
    parser.add_argument(
        "--no-addition", action="store_true", help="leave out the addition model"
    )
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--output-dir",
        type=Path,
        help="write the results, snippet and chart there instead",
    )
    # The runs' own options.
    add_child_options(parser)
    parser.add_argument("--distribute", help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--layer", help=argparse.SUPPRESS)
    for option in ("--time", "--features", "--units", "--batch-size"):
        parser.add_argument(option, type=int, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> dict | None:
    args = _parser().parse_args(argv)
    if args.child:
        _child(args)
        return None
    paths = (RESULTS, SNIPPET, CHART)
    if args.output_dir is not None:
        paths = tuple(args.output_dir / path.name for path in paths)
    results_path, snippet_path, chart_path = paths
    if not args.render_only:
        if len(os.sched_getaffinity(0)) < 2:
            sys.exit("This benchmark needs two CPU cores.")
        if args.smoke:
            args.steps = min(args.steps, 3)
        _write(results_path, json.dumps(measure(args), indent=1) + "\n")
    results = json.loads(results_path.read_text())
    _write(snippet_path, render(results))
    plot(results, chart_path)
    print(snippet_path.read_text())
    return results


if __name__ == "__main__":
    main()

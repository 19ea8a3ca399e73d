"""Training and inference throughput of ChungGRU against the other GRUs.

Measures, side by side in one run on the current Keras backend, `ChungGRU`,
`RNN(ChungGRUCell)`, `keras.layers.GRU(reset_after=False)` and
`keras.layers.GRU()`, each compiled with the Keras default and with
`jit_compile=True`, and `torch.nn.GRU` when PyTorch is installed. Each model is
the recurrent layer and a `Dense(1)` head trained with Adam on mean squared
error, in a Python process of its own, as a user's model trains; the
processes take turns, one timed epoch each a round. Throughput is the median
over the rounds after a warm-up epoch; peak memory is measured in a fresh
subprocess per layer. The machine is shared and noisy, so read the ratios to
`ChungGRU` of one run, not absolute numbers across runs.

Usage:

    KERAS_BACKEND=jax python benchmarks/recurrent_throughput.py
    python benchmarks/recurrent_throughput.py --shapes large --repeats 3

Writes `benchmarks/results/recurrent_throughput_<backend>.json` and `.png`.
After a change to the chart, `--replot` redraws every backend's `.png` from
its `.json`, measuring nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from keras_gru_cell.chung_gru import ChungGRU
from keras_gru_cell.chung_gru_cell import ChungGRUCell

import _turns as turns
from _environment import environment
from _environment import library_version
from _keras_inputs import keras_inputs

SHAPES = {
    "tutorial": {"batch": 100, "time": 5, "features": 2, "units": 16},
    "large": {"batch": 64, "time": 100, "features": 32, "units": 256},
    "long": {"batch": 16, "time": 1000, "features": 8, "units": 64},
}
TINY_SHAPE = {"batch": 4, "time": 3, "features": 2, "units": 4}
# The head alone on the averaged inputs: what `fit` and `predict` cost with
# no recurrence, the most throughput any recurrent layer could reach.
BASELINE = "no recurrent layer"
LAYERS = {
    "ChungGRU": lambda units: ChungGRU(units),
    "RNN(ChungGRUCell)": lambda units: keras.layers.RNN(ChungGRUCell(units)),
    "GRU(reset_after=False)": lambda units: keras.layers.GRU(units, reset_after=False),
    "GRU()": lambda units: keras.layers.GRU(units),
    BASELINE: lambda units: keras.layers.GlobalAveragePooling1D(),
}
TORCH_GRU = "torch.nn.GRU"
KINDS = ("train", "infer")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def forward_flops(shape: dict) -> float:
    """Multiply-adds of one forward pass over a batch, counted as 2 FLOPs."""
    gates = 3 * shape["units"]
    per_step = 2 * shape["batch"] * gates * (shape["features"] + shape["units"])
    return shape["time"] * per_step


def gemm_rates(sizes: tuple = (1024, 2048), repeats: int = 5) -> dict[str, float]:
    """Best float32 GEMM rate, in FLOP/s, of NumPy's BLAS and of the Keras
    backend's own matmul, at each square size, by `"<library> <size>"`.

    The "% peak" columns divide by the best of them: which library comes
    nearer the hardware differs from machine to machine (on a 2-core AMD
    EPYC, XLA's 2,048 × 2,048 product ran near twice NumPy's rate), and a
    library whose threads wait on another runtime's measures low.
    """
    rates = {}
    for size in sizes:
        a = np.random.default_rng(0).random((size, size), dtype=np.float32)
        on_backend = keras.ops.convert_to_tensor(a)

        def backend_product(t=on_backend):
            product = keras.ops.matmul(t, t)
            # JAX returns before the product is done.
            getattr(product, "block_until_ready", lambda: None)()

        for library, multiply in [
            ("numpy", lambda a=a: a @ a),
            (keras.backend.backend(), backend_product),
        ]:
            multiply()
            best = min(turns.seconds(multiply) for _ in range(repeats))
            rates[f"{library} {size}"] = 2 * size**3 / best
    return rates


def _data(shape: dict, batches: int):
    rng = np.random.default_rng(0)
    size = shape["batch"] * batches
    x = rng.normal(size=(size, shape["time"], shape["features"])).astype("float32")
    y = rng.normal(size=(size, 1)).astype("float32")
    return x, y


def _keras_model(layer_name: str, jit_compile, shape: dict) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((shape["time"], shape["features"])),
            LAYERS[layer_name](shape["units"]),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse", jit_compile=jit_compile)
    return model


def _keras_runs(layer_name: str, jit_compile, shape: dict, batches: int) -> dict:
    """One epoch of `fit` and one `predict` of the layer's model, by kind."""
    x, y = _data(shape, batches)
    inputs = keras_inputs(x, y, shape["batch"])
    model = _keras_model(layer_name, jit_compile, shape)
    return {
        "train": lambda: model.fit(**inputs["train"], epochs=1, verbose=0),
        "infer": lambda: model.predict(**inputs["infer"], verbose=0),
    }


def _environment_for(layer_name: str) -> dict[str, str]:
    """The environment of `layer_name`'s process: this one's, with PyTorch's
    Keras backend for `torch.nn.GRU`, away from another runtime's threads."""
    backend = "torch" if layer_name == TORCH_GRU else keras.backend.backend()
    return {**os.environ, "KERAS_BACKEND": backend}


def _child(layer_name: str, jit_compile, shape: dict, batches: int) -> None:
    """In a process of its own: builds the model, warms each run up, then
    times the run each line on stdin names."""
    if layer_name == TORCH_GRU:
        runs = torch_runs(shape, batches)
    else:
        runs = _keras_runs(layer_name, jit_compile, shape, batches)
    for run in runs.values():
        run()  # compiles
    turns.serve(runs)


def start_model(
    layer_name: str, jit_compile, shape: dict, batches: int
) -> subprocess.Popen:
    """`layer_name`'s model, compiled with `jit_compile`, in a process of its
    own that times an epoch of `batches` batches of `fit` (`"train"`) or of
    `predict` (`"infer"`) at each request (`turns.timed`)."""
    return turns.start(
        __file__,
        [
            *("--child", layer_name, json.dumps(jit_compile)),
            *("--shape-json", json.dumps(shape)),
            *("--batches", str(batches)),
        ],
        f"{layer_name} (jit_compile={jit_compile})",
        env=_environment_for(layer_name),
    )


def measure(entries, shape, batches, repeats, max_seconds, min_rounds):
    """Training and inference sequences/s of each `(layer_name, jit_compile)`,
    and the seconds of each timed round.

    Each model runs in a Python process of its own, as a user's model
    trains: two of JAX's programs timed in one process ran at other speeds
    than each alone (`backward_crossover.py`), and two runtimes' worker
    threads in one process slow PyTorch down by an order of magnitude, so
    `torch.nn.GRU`'s process runs with PyTorch's Keras backend. The
    processes take turns, one timed epoch each per round, the order
    reversing each round, so that the load of a shared machine falls on all
    of them alike, and each round's times can be compared with one another
    (see `paired_speedup`).
    """
    children = {}
    try:
        for entry in entries:
            children[entry] = start_model(*entry, shape, batches)
        times = {entry: {kind: [] for kind in KINDS} for entry in entries}
        start = time.perf_counter()
        for round_index in range(repeats):
            for entry in entries[:: 1 if round_index % 2 == 0 else -1]:
                for kind in KINDS:
                    times[entry][kind].append(turns.timed(children[entry], kind))
            elapsed = time.perf_counter() - start
            if round_index + 1 >= min_rounds and elapsed > max_seconds * len(entries):
                break
    finally:
        turns.stop(children.values())
    sequences = shape["batch"] * batches
    throughput = {
        entry: tuple(sequences / statistics.median(times[entry][k]) for k in KINDS)
        for entry in entries
    }
    return throughput, times


def median_interval(values, confidence: float = 0.95):
    """The median of `values` and a distribution-free confidence interval for it.

    The interval runs from the k-th smallest value to the k-th largest, for
    the largest k at which a Binomial(n, 1/2) count puts at least
    `confidence` between them: with n = 10 at 95%, from the 2nd to the 9th.
    It needs no assumption about the distribution, only independent rounds.
    Returns `(median, low, high)`, with `low` and `high` `None` when n is too
    small for any interval at this confidence (n < 6 at 95%).
    """
    ordered = sorted(values)
    n = len(ordered)
    below = 0.0  # P(Binomial(n, 1/2) <= k - 1): the k-th smallest above the median
    widest = None
    for k in range(1, n // 2 + 1):
        below += math.comb(n, k - 1) / 2**n
        if 1 - 2 * below < confidence:
            break
        widest = k
    median = statistics.median(ordered)
    if widest is None:
        return median, None, None
    return median, ordered[widest - 1], ordered[n - widest]


def paired_speedup(reference_seconds, other_seconds) -> dict:
    """How many times faster the reference ran than the other, round by round.

    Each round's two times were taken within seconds of each other, so their
    ratio cancels the slow drift of a shared machine's load that a ratio of
    two medians keeps; `median_interval` says how far the median ratio can
    be trusted.
    """
    ratios = [
        other / reference
        for reference, other in zip(reference_seconds, other_seconds, strict=True)
    ]
    median, low, high = median_interval(ratios)
    return {"median": median, "low": low, "high": high, "rounds": len(ratios)}


def format_paired(speedup: dict) -> str:
    """A `paired_speedup` as `median× [low, high]`, or `median×` alone when
    too few rounds give an interval."""
    if speedup["low"] is None:
        return f"{speedup['median']:.2f}×"
    return f"{speedup['median']:.2f}× [{speedup['low']:.2f}, {speedup['high']:.2f}]"


def torch_runs(shape: dict, batches: int) -> dict:
    """One training epoch and one inference pass of `torch.nn.GRU` and a
    linear head, by kind, on the Keras models' data."""
    import torch

    torch.manual_seed(0)
    x, y = (torch.from_numpy(a) for a in _data(shape, batches))
    gru = torch.nn.GRU(shape["features"], shape["units"], batch_first=True)
    head = torch.nn.Linear(shape["units"], 1)
    optimizer = torch.optim.Adam([*gru.parameters(), *head.parameters()])
    batch = shape["batch"]

    def forward(inputs):
        _, h = gru(inputs)
        return head(h[0])

    def train_epoch():
        for start in range(0, len(x), batch):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(
                forward(x[start : start + batch]), y[start : start + batch]
            )
            loss.backward()
            optimizer.step()

    def infer_epoch():
        with torch.no_grad():
            for start in range(0, len(x), batch):
                forward(x[start : start + batch])

    return {"train": train_epoch, "infer": infer_epoch}


def _memory_bytes(field: str) -> int:
    """`VmRSS` (resident) or `VmHWM` (its high-water mark) of this process."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields[field].split()[0]) * 1024


def peak_memory_probe(layer_name: str, shape: dict, batches: int) -> int:
    """Peak resident memory added by training, in bytes, in this process.

    Measured from the resident size after the model is built and compiled to
    the high-water mark after a few epochs; run it in a fresh process. Not
    `ru_maxrss`: Linux carries the peak of the process that started this one
    over into it, through the `exec`, so a probe started by a parent that
    holds models reported the parent's peak for every layer.
    """
    if layer_name == TORCH_GRU:
        train = torch_runs(shape, batches)["train"]
    else:
        train = _keras_runs(layer_name, "auto", shape, batches)["train"]
    before = _memory_bytes("VmRSS")
    # Resets the high-water mark to the resident size now.
    Path("/proc/self/clear_refs").write_text("5")
    train()
    train()
    return _memory_bytes("VmHWM") - before


def measure_peak_memory(layer_name: str, shape: dict, batches: int) -> int | None:
    """`peak_memory_probe` in a fresh process, in bytes; `None` if it failed."""
    command = [
        *(sys.executable, __file__, "--memory-probe", layer_name),
        *("--shape-json", json.dumps(shape), "--batches", str(batches)),
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env=_environment_for(layer_name),
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        print(f"  memory probe of {layer_name} failed: {done.stderr[-500:]}")
        return None
    return int(lines[-1])


def _torch_version() -> str | None:
    return library_version("torch")


def compile_modes(backend: str) -> list[str]:
    """`"auto"` is Keras's default; it already means XLA on JAX."""
    if backend == "jax":
        return ["auto"]
    if backend == "torch":
        # jit_compile=True is torch.compile, which takes minutes on a Python
        # time loop of a thousand steps.
        return ["auto"]
    return ["auto", True]


def run_benchmark(args) -> dict:
    backend = keras.backend.backend()
    shapes = {"tiny": TINY_SHAPE} if args.tiny else {s: SHAPES[s] for s in args.shapes}
    rates = gemm_rates((256,) if args.tiny else (1024, 2048))
    peak = max(rates.values())
    results = []
    for shape_name, shape in shapes.items():
        print(f"\n{shape_name}: {shape}", flush=True)
        entries = [
            (name, mode) for name in args.layers for mode in compile_modes(backend)
        ]
        if _torch_version() is not None and not args.no_torch:
            entries.append((TORCH_GRU, None))
        throughput, round_seconds = measure(
            entries,
            shape,
            args.batches,
            args.repeats,
            args.max_seconds,
            args.min_rounds,
        )
        for layer_name, mode in entries:
            train, infer = throughput[layer_name, mode]
            memory = None
            if args.memory and mode in ("auto", None):
                memory = measure_peak_memory(layer_name, shape, args.batches)
            flops = 0.0 if layer_name == BASELINE else forward_flops(shape)
            flops /= shape["batch"]
            paired = {"round_seconds": round_seconds[layer_name, mode]}
            # ChungGRU's speedup over this model: ChungGRU compiled with
            # Keras's default, and ChungGRU compiled as this model is.
            for key, reference in (
                ("chung_gru_speedup", ("ChungGRU", "auto")),
                ("same_compile_speedup", ("ChungGRU", mode)),
            ):
                if reference in round_seconds:
                    paired[key] = {
                        kind: paired_speedup(
                            round_seconds[reference][kind],
                            round_seconds[layer_name, mode][kind],
                        )
                        for kind in KINDS
                    }
            results.append(
                {
                    "shape": shape_name,
                    **shape,
                    "layer": layer_name,
                    "jit_compile": {"auto": "default", True: "True"}.get(mode, "n/a"),
                    "train_seq_per_s": train,
                    "infer_seq_per_s": infer,
                    "train_fraction_of_gemm_peak": 3 * flops * train / peak,
                    "infer_fraction_of_gemm_peak": flops * infer / peak,
                    "peak_memory_mb": None if memory is None else memory / 2**20,
                    **paired,
                }
            )
            print(
                f"  {layer_name:24} jit={mode!s:5} train {train:9.1f}/s  "
                f"infer {infer:9.1f}/s",
                flush=True,
            )
    return {
        **environment("numpy", "torch"),
        "settings": {
            "batches_per_repetition": args.batches,
            "repetitions": args.repeats,
            "statistic": "median sequences/s after one warm-up repetition",
            "processes": "each model in a Python process of its own, the "
            "processes taking turns, one repetition each a round, the order "
            "reversing each round",
            "paired_statistic": "ChungGRU's speedup over each Keras model "
            "(ChungGRU compiled with the default, and as that model is): the "
            "median over rounds of the two times' ratio, with a 95% "
            "distribution-free confidence interval",
            "gemm_peak_gflops": peak / 1e9,
            "gemm_rates_gflops": {name: rate / 1e9 for name, rate in rates.items()},
            "flops_per_training_step": "3x forward (forward, input and weight "
            "gradients)",
            "command": " ".join([f"KERAS_BACKEND={backend}", "python", *sys.argv]),
        },
        "results": results,
    }


def add_ratios(report: dict) -> None:
    """Each result's throughput relative to default-compiled ChungGRU."""
    for row in report["results"]:
        reference = next(
            r
            for r in report["results"]
            if r["shape"] == row["shape"]
            and r["layer"] == "ChungGRU"
            and r["jit_compile"] == "default"
        )
        for kind in ("train", "infer"):
            row[f"{kind}_ratio_to_chung_gru"] = (
                row[f"{kind}_seq_per_s"] / reference[f"{kind}_seq_per_s"]
            )


def format_table(report: dict) -> str:
    header = (
        "| shape | layer | jit_compile | train seq/s | × ChungGRU | % peak "
        "| infer seq/s | × ChungGRU | % peak | peak MB |"
    )
    lines = [header, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["results"]:
        memory = row["peak_memory_mb"]

        def percent(fraction, row=row):
            return "—" if row["layer"] == BASELINE else f"{100 * fraction:.1f}"

        lines.append(
            f"| {row['shape']} | {row['layer']} | {row['jit_compile']} "
            f"| {row['train_seq_per_s']:,.0f} | {row['train_ratio_to_chung_gru']:.2f} "
            f"| {percent(row['train_fraction_of_gemm_peak'])} "
            f"| {row['infer_seq_per_s']:,.0f} | {row['infer_ratio_to_chung_gru']:.2f} "
            f"| {percent(row['infer_fraction_of_gemm_peak'])} "
            f"| {'—' if memory is None else f'{memory:,.0f}'} |"
        )
    return "\n".join(lines)


# Ratios above this are drawn to it, with their value written on the bar, so
# that one outlier (torch.nn.GRU's inference at the tutorial shape) does not
# flatten every other comparison.
RATIO_AXIS_LIMIT = 2.0


def _label(row: dict) -> str:
    return row["layer"] + (" jit" if row["jit_compile"] == "True" else "")


def plot(report: dict, path: Path) -> None:
    """Charts the recurrent layers against each other and against GEMM peak.

    Top: each layer's sequences/s as a multiple of default-compiled
    ChungGRU's, on a linear axis. Bottom: the share of the measured GEMM
    peak each reaches. "no recurrent layer", the head alone and tens of
    times faster, would squeeze every comparison, so it is in the table only.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["results"] if r["layer"] != BASELINE]
    shapes = list(dict.fromkeys(r["shape"] for r in rows))
    labels = list(dict.fromkeys(_label(r) for r in rows))
    # One hue per layer, dark by default and light with jit_compile=True.
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    hues = plt.get_cmap("tab20").colors

    def colour(label):
        jit = label.endswith(" jit")
        return hues[(2 * layers.index(label.removesuffix(" jit")) + jit) % 20]

    def values(label, key):
        found = {r["shape"]: r[key] for r in rows if _label(r) == label}
        return np.array([found.get(shape, np.nan) for shape in shapes])

    figure, axes = plt.subplots(2, 2, figsize=(12, 9), sharex=True)
    width = 0.8 / len(labels)
    centres = np.arange(len(shapes))
    for column, kind in enumerate(("train", "infer")):
        ratio_axis, peak_axis = axes[:, column]
        for index, label in enumerate(labels):
            positions = centres + (index - len(labels) / 2 + 0.5) * width
            ratios = values(label, f"{kind}_ratio_to_chung_gru")
            clipped = np.minimum(ratios, RATIO_AXIS_LIMIT)
            ratio_axis.bar(positions, clipped, width, label=label, color=colour(label))
            for position, ratio in zip(positions, ratios, strict=True):
                if ratio > RATIO_AXIS_LIMIT:
                    ratio_axis.text(
                        position,
                        RATIO_AXIS_LIMIT,
                        f" {ratio:.1f}× ",
                        rotation=90,
                        ha="center",
                        va="top",
                        fontsize=8,
                        color="white",
                        fontweight="bold",
                    )
            peaks = 100 * values(label, f"{kind}_fraction_of_gemm_peak")
            peak_axis.bar(positions, peaks, width, color=colour(label))
        ratio_axis.axhline(1.0, color="black", linewidth=0.8)
        ratio_axis.set_ylim(0, RATIO_AXIS_LIMIT)
        ratio_axis.set_title(
            f"{'training' if kind == 'train' else 'inference'}: throughput ÷ ChungGRU's"
        )
        peak_axis.set_ylim(0, 100)
        peak_axis.set_title(
            f"{'training' if kind == 'train' else 'inference'}: "
            "% of the measured GEMM peak"
        )
        peak_axis.set_xticks(centres, shapes)
        for axis in (ratio_axis, peak_axis):
            axis.grid(axis="y", color="0.85", linewidth=0.6)
            axis.set_axisbelow(True)
    axes[0, 0].set_ylabel("× default-compiled ChungGRU (higher is faster)")
    axes[1, 0].set_ylabel(
        f"% of {report['settings']['gemm_peak_gflops']:.0f} GFLOP/s "
        "(100% = the roofline)"
    )
    # Below the charts, where it hides no bar.
    figure.legend(
        *axes[0, 0].get_legend_handles_labels(),
        loc="lower center",
        ncol=5,
        fontsize=9,
        frameon=False,
    )
    versions = report["versions"]
    figure.suptitle(
        f"Keras {versions['keras']}, {versions['backend']} backend, "
        f"{report['machine']['cores']}-core {report['machine']['cpu']}\n"
        f'("{BASELINE}", the head alone, is in the table only)',
        fontsize=11,
    )
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", nargs="+", choices=sorted(SHAPES), default=list(SHAPES)
    )
    parser.add_argument(
        "--layers", nargs="+", choices=list(LAYERS), default=list(LAYERS)
    )
    parser.add_argument(
        "--batches",
        type=int,
        default=8,
        help="batches per timed repetition (default 8)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=30,
        help="at most this many timed rounds, each model one repetition a "
        "round; fewer once --max-seconds have passed (default 30)",
    )
    parser.add_argument(
        "--min-rounds",
        type=int,
        default=8,
        help="time at least this many rounds, whatever --max-seconds says: "
        "a 95%% interval of a median needs 6 (default 8)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=20.0,
        help="stop once --min-rounds are in and this many seconds per model "
        "have passed (default 20)",
    )
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the peak memory subprocesses",
    )
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="skip torch.nn.GRU even when PyTorch is installed",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="one tiny shape, for a smoke test"
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument(
        "--replot",
        action="store_true",
        help="measure nothing: redraw the chart of every "
        "recurrent_throughput_<backend>.json in --output-dir from it",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--shape-json", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> dict | None:
    args = parse_args(argv)
    if args.memory_probe:
        shape = json.loads(args.shape_json)
        print(peak_memory_probe(args.memory_probe, shape, args.batches))
        return None
    if args.child:
        layer_name, jit_compile = args.child
        _child(
            layer_name,
            json.loads(jit_compile),
            json.loads(args.shape_json),
            args.batches,
        )
        return None
    if args.replot:
        for path in sorted(args.output_dir.glob("recurrent_throughput_*.json")):
            plot(json.loads(path.read_text()), path.with_suffix(".png"))
            print(f"wrote {path.with_suffix('.png')}")
        return None
    report = run_benchmark(args)
    add_ratios(report)
    table = format_table(report)
    print("\n" + table)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = args.output_dir / f"recurrent_throughput_{keras.backend.backend()}"
    report["table"] = table
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, stem.with_suffix(".png"))
    print(f"\nwrote {stem}.json and {stem}.png")
    return report


if __name__ == "__main__":
    main()

"""What each GRU variant does on pixel-by-pixel digits, seed by seed.

The task: scikit-learn's bundled 8×8 handwritten digits (1,797 images, UCI),
read one pixel per step, 64 steps of 1 feature, classified from the last
state: a long, data-poor sequence task nobody here made, available offline.
One fixed stratified split (75% train, 25% test); for each option and seed,
`ChungGRU(UNITS)` and a `Dense(10)` head train with Adam for `--epochs`
epochs, and the test accuracy is taken after every epoch. Reported per
option: the final test accuracy (mean and a 95% t-interval over seeds), its
difference from the baseline paired by seed (same seed, same split and
batch order), and the training steps until the test accuracy first reaches
`TARGET` (median over the seeds that reach it, and how many do). With
`--throughput`, the cost of each option too: every round times a few
training steps of each model in turn, and the ratio to the baseline's time
in the same round is summarized by its median and a distribution-free 95%
interval (`recurrent_throughput.median_interval`).

    python benchmarks/variants_experiment.py --seeds 10 --epochs 40 --throughput
    python benchmarks/variants_experiment.py --seeds 3 --epochs 12 --throughput
    python benchmarks/variants_experiment.py --render-only

Not a test: it trains for minutes. It writes its runs to
benchmarks/results/variants_experiment.json and, rendered from that file, the
table docs/snippets/variants_experiment.md, which the Variants page includes;
`--render-only` trains nothing and renders the table again, as
tests/test_generated_numbers.py does to check it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "variants_experiment.json"
SNIPPET = ROOT / "docs" / "snippets" / "variants_experiment.md"
SCRIPT = "benchmarks/variants_experiment.py"

UNITS = 32
BATCH_SIZE = 64
LEARNING_RATE = 1e-2
TARGET = 0.60
THROUGHPUT_ROUNDS = 8
THROUGHPUT_STEPS = 5

# Each option's `ChungGRU` arguments, as JSON-friendly specs; `initializer`
# entries name a keras_gru_cell initializer class and its arguments.
OPTIONS = {
    "baseline": {},
    "layer_normalization": {"layer_normalization": True},
    "zoneout=0.1": {"zoneout": 0.1},
    "recurrent_dropconnect=0.2": {"recurrent_dropconnect": 0.2},
    "PerGateOrthogonal": {"recurrent_initializer": ["PerGateOrthogonal", {}]},
    "UpdateGateBias(chrono=64)": {
        "bias_initializer": ["UpdateGateBias", {"chrono": 64}]
    },
}


def layer_arguments(spec: dict) -> dict:
    import keras_gru_cell

    return {
        key: getattr(keras_gru_cell, value[0])(**value[1])
        if isinstance(value, list)
        else value
        for key, value in spec.items()
    }


def digits():
    """`(x_train, y_train, x_test, y_test)`, pixels in [0, 1], `(n, 64, 1)`."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    images, labels = load_digits(return_X_y=True)
    sequences = (images / 16.0).astype("float32")[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        sequences, labels, test_size=0.25, stratify=labels, random_state=0
    )
    return x_train, y_train, x_test, y_test


def model_for(spec: dict):
    import keras

    from keras_gru_cell import ChungGRU

    inputs = keras.Input((64, 1))
    outputs = keras.layers.Dense(10)(ChungGRU(UNITS, **layer_arguments(spec))(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(LEARNING_RATE),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def train(spec: dict, seed: int, epochs: int, data) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = data
    model = model_for(spec)
    history = model.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_data=(x_test, y_test),
        verbose=0,
    ).history
    return {"test_accuracy": [round(float(a), 6) for a in history["val_accuracy"]]}


def throughput(data) -> dict:
    """Per option, each round's training-step time over the baseline's."""
    x_train, y_train, _, _ = data
    batch = x_train[:BATCH_SIZE], y_train[:BATCH_SIZE]
    models = {name: model_for(spec) for name, spec in OPTIONS.items()}
    for model in models.values():
        model.train_on_batch(*batch)  # compiles
    ratios = {name: [] for name in OPTIONS}
    for _ in range(THROUGHPUT_ROUNDS):
        seconds = {}
        for name, model in models.items():
            start = time.perf_counter()
            for _ in range(THROUGHPUT_STEPS):
                model.train_on_batch(*batch)
            seconds[name] = time.perf_counter() - start
        for name in OPTIONS:
            ratios[name].append(round(seconds[name] / seconds["baseline"], 4))
    return ratios


def steps_per_epoch(settings: dict) -> int:
    return math.ceil(settings["train_examples"] / settings["batch_size"])


def steps_to_target(accuracy: list[float], settings: dict) -> int | None:
    for epoch, value in enumerate(accuracy, start=1):
        if value >= settings["target"]:
            return epoch * steps_per_epoch(settings)
    return None


# Student's t quantiles t(0.975, df) for df = 1..30, from any table; the
# normal's 1.96 beyond. Rendering needs no SciPy.
T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def mean_interval(values: list[float]) -> tuple[float, float | None]:
    """The mean and the half-width of its 95% t-interval (`None` for n < 2)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None
    df = len(values) - 1
    quantile = T_975[df - 1] if df <= len(T_975) else 1.96
    return mean, quantile * statistics.stdev(values) / math.sqrt(len(values))


def effect(mean: float, half: float | None) -> str:
    """`helps` or `hurts` when the paired interval excludes zero."""
    if half is None or abs(mean) <= half:
        return "no measured effect"
    return "helps" if mean > 0 else "hurts"


def _percent(mean: float, half: float | None) -> str:
    text = f"{100 * mean:.1f}%"
    return text if half is None else f"{text} ± {100 * half:.1f}"


def render(results: dict) -> str:
    """The Variants page's table, from the results file's contents."""
    from recurrent_throughput import median_interval

    settings = results["settings"]
    runs = results["runs"]
    versions = results["environment"]["versions"]
    backend = versions["backend"]
    baseline = {run["seed"]: run["test_accuracy"][-1] for run in runs["baseline"]}
    lines = [
        f"<!-- written by {SCRIPT}; edit that, not this -->",
        "",
        f"`KERAS_BACKEND={backend} {results['command']}`: {len(baseline)} "
        f"seeds, {settings['epochs']} epochs of {steps_per_epoch(settings)} "
        f"steps, Keras {versions['keras']} on {backend} {versions[backend]}, "
        f"{results['environment']['machine']['cpu']}.",
        "",
        "| option | test accuracy | vs baseline (paired) | "
        f"steps to {100 * settings['target']:.0f}% | training step time |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, option_runs in runs.items():
        final = [run["test_accuracy"][-1] for run in option_runs]
        accuracy = _percent(*mean_interval(final))
        if name == "baseline":
            difference = "—"
        else:
            paired = [
                run["test_accuracy"][-1] - baseline[run["seed"]] for run in option_runs
            ]
            mean, half = mean_interval(paired)
            difference = f"{100 * mean:+.1f}" + (
                "" if half is None else f" ± {100 * half:.1f}"
            )
            difference += f" ({effect(mean, half)})"
        reached = [
            steps
            for run in option_runs
            if (steps := steps_to_target(run["test_accuracy"], settings)) is not None
        ]
        steps = (
            f"{statistics.median(reached):.0f} ({len(reached)}/{len(option_runs)})"
            if reached
            else f"never (0/{len(option_runs)})"
        )
        ratios = results.get("throughput", {}).get(name)
        if not ratios:
            cost = "not measured"
        elif name == "baseline":
            cost = "1"
        else:
            median, low, high = median_interval(ratios)
            cost = f"{median:.2f}×" + (
                "" if low is None else f" [{low:.2f}, {high:.2f}]"
            )
        lines.append(f"| `{name}` | {accuracy} | {difference} | {steps} | {cost} |")
    lines += [
        "",
        "Test accuracy: the mean over seeds ± the half-width of its 95% "
        "t-interval; the paired difference in percentage points. Steps: the "
        "median over the seeds that reached the target (how many did). Time: "
        "the median ratio of a training step's time to the baseline's, "
        "measured side by side, [its 95% interval].",
    ]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    """Writes `text` to `path` whole or not at all."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..n-1")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--options", default=",".join(OPTIONS), help="comma-separated OPTIONS keys"
    )
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--render-only", action="store_true")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not args.render_only:
        from _environment import environment

        data = digits()
        settings = {
            "units": UNITS,
            "batch_size": BATCH_SIZE,
            "learning_rate": LEARNING_RATE,
            "target": TARGET,
            "epochs": args.epochs,
            "train_examples": len(data[0]),
            "test_examples": len(data[2]),
        }
        names = args.options.split(",")
        if names[0] != "baseline" or not set(names) <= set(OPTIONS):
            raise SystemExit(
                f"--options must start with baseline and name OPTIONS keys; "
                f"received {args.options!r}."
            )
        runs = {name: [] for name in names}
        for seed in range(args.seeds):
            for name in names:
                started = time.perf_counter()
                run = {"seed": seed, **train(OPTIONS[name], seed, args.epochs, data)}
                runs[name].append(run)
                print(
                    f"{name:28s} seed {seed}: {run['test_accuracy'][-1]:.3f} "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
        results = {
            "command": "python " + " ".join([SCRIPT, *(argv or sys.argv[1:])]),
            "environment": environment("sklearn"),
            "settings": settings,
            "runs": runs,
        }
        if args.throughput:
            results["throughput"] = throughput(data)
        _write(RESULTS, json.dumps(results, indent=1) + "\n")
    _write(SNIPPET, render(json.loads(RESULTS.read_text())))
    print(SNIPPET.read_text())


if __name__ == "__main__":
    main()

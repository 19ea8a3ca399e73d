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
`TARGET` (median over the seeds that reach it, and how many do).

With `--throughput`, the cost of each option too, timed in rounds in which
every model takes its turn, so that a shared machine's load falls on all
alike; each round's ratio is summarized by its median and a
distribution-free 95% interval (`recurrent_throughput.median_interval`).
First a few training steps of each digits model, over the baseline's; then,
at `recurrent_throughput`'s compute-heavy `large` shape, training steps of
`ChungGRU(option)` and of `RNN(ChungGRUCell(option))` for each option that
changes the step: each over its baseline (the option's cost), and the cell's
over the fused layer's (the fused layer's speedup, with the hand-written
backward pass where it covers the option and autodiff of the fused loop
where it does not). `--throughput-only` measures only that, keeping the
accuracy runs of the results file. Time it on TensorFlow or PyTorch: on JAX,
`model.fit` refuses `RNN(ChungGRUCell(zoneout=...))` unless it is unrolled
(the Variants page says why).

With `--task addition`, the package's own task instead: the addition model
(`build_addition_model`, trained by `train_addition_model` with the default
`TrainingSettings` and a seed) with each option set on its cell, and its
exact match on random held-out sums of 64, 256 and 1,024 bits.

    python benchmarks/variants_experiment.py --seeds 10 --epochs 40
    KERAS_BACKEND=tensorflow python benchmarks/variants_experiment.py --throughput-only
    python benchmarks/variants_experiment.py --task addition --seeds 3
    python benchmarks/variants_experiment.py --render-only

Not a test: it trains for minutes. It writes its runs to
benchmarks/results/variants_experiment.json (the addition task's to
variants_addition.json) and, rendered from those files, the tables
docs/snippets/variants_experiment.md and variants_addition.md, which the
Variants page includes; `--render-only` trains nothing and renders the
tables again, as tests/test_generated_numbers.py does to check them.
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
ADDITION_RESULTS = ROOT / "benchmarks" / "results" / "variants_addition.json"
ADDITION_SNIPPET = ROOT / "docs" / "snippets" / "variants_addition.md"
SCRIPT = "benchmarks/variants_experiment.py"

UNITS = 32
BATCH_SIZE = 64
LEARNING_RATE = 1e-2
TARGET = 0.60
THROUGHPUT_ROUNDS = 8
THROUGHPUT_STEPS = 5
# The compute-heavy shape: rounds of a few training steps of each model.
LARGE_ROUNDS = 10
LARGE_STEPS = 3
# `--tiny`: a smoke run's sizes, which time nothing worth reading.
TINY_SHAPE = {"batch": 4, "time": 3, "features": 2, "units": 4}
TINY_ROUNDS = 2
# The addition task: held-out sums of these lengths, this many of each.
ADDITION_BITS = (64, 256, 1024)
ADDITION_SUMS = 1000

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
# The layers timed at the large shape, beside each other for every option.
FUSED, CELLWISE = "ChungGRU", "RNN(ChungGRUCell)"


def changes_the_step(spec: dict) -> bool:
    """Whether an option changes the training step (the initializers do not)."""
    return not any(isinstance(value, list) for value in spec.values())


def backward_pass(spec: dict) -> str:
    """Which backward pass `ChungGRU`, with its default activations, trains
    with under this option."""
    import keras

    from keras_gru_cell._fused import has_hand_written_backward

    hand_written = has_hand_written_backward(
        keras.activations.tanh,
        keras.activations.sigmoid,
        layer_normalization=bool(spec.get("layer_normalization")),
        zoneout=spec.get("zoneout", 0.0),
    )
    return "hand-written" if hand_written else "autodiff of the fused loop"


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


def random_digits():
    """Random data shaped like one batch of `digits()`: a smoke run's, which
    needs no scikit-learn."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((BATCH_SIZE, 64, 1)).astype("float32")
    y = rng.integers(0, 10, BATCH_SIZE)
    return x, y, x, y


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


def throughput(data, names, rounds=THROUGHPUT_ROUNDS, steps=THROUGHPUT_STEPS) -> dict:
    """Per option, each round's digits training-step time over the baseline's."""
    x_train, y_train, _, _ = data
    batch = x_train[:BATCH_SIZE], y_train[:BATCH_SIZE]
    models = {name: model_for(OPTIONS[name]) for name in names}
    for model in models.values():
        model.train_on_batch(*batch)  # compiles
    ratios = {name: [] for name in names}
    for _ in range(rounds):
        seconds = {}
        for name, model in models.items():
            seconds[name] = _timed_steps(model, batch, steps)
        for name in names:
            ratios[name].append(round(seconds[name] / seconds["baseline"], 4))
    return ratios


def _timed_steps(model, batch, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*batch)
    return time.perf_counter() - start


def large_model(kind: str, spec: dict, shape: dict):
    """`kind` (`FUSED` or `CELLWISE`) with the option, and a `Dense(1)` head."""
    import keras

    from keras_gru_cell import ChungGRU
    from keras_gru_cell import ChungGRUCell

    keras.utils.set_random_seed(0)
    arguments = layer_arguments(spec)
    units = shape["units"]
    layer = (
        ChungGRU(units, **arguments)
        if kind == FUSED
        else keras.layers.RNN(ChungGRUCell(units, **arguments))
    )
    model = keras.Sequential(
        [keras.Input((shape["time"], shape["features"])), layer, keras.layers.Dense(1)]
    )
    model.compile("adam", "mse")
    return model


def large_throughput(names, shape: dict, rounds: int, steps: int) -> dict:
    """Each round's seconds for `steps` training steps, per option and layer.

    Every model takes its turn in every round, the fused layer and the cell
    of one option one after the other.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.normal(size=(shape["batch"], shape["time"], shape["features"]))
    batch = x.astype("float32"), rng.normal(size=(shape["batch"], 1)).astype("float32")
    models = {
        (name, kind): large_model(kind, OPTIONS[name], shape)
        for name in names
        for kind in (FUSED, CELLWISE)
    }
    for model in models.values():
        _timed_steps(model, batch, 2)  # compiles and warms up
    seconds = {name: {FUSED: [], CELLWISE: []} for name in names}
    for _ in range(rounds):
        for (name, kind), model in models.items():
            seconds[name][kind].append(round(_timed_steps(model, batch, steps), 6))
    return {"shape": shape, "steps": steps, "seconds": seconds}


def measure_throughput(data, names, *, tiny: bool, command: str) -> dict:
    """The results file's `throughput` section: both measurements."""
    from recurrent_throughput import SHAPES

    from _environment import environment

    timed = [name for name in names if changes_the_step(OPTIONS[name])]
    if tiny:
        digits_timing = throughput(data, names, rounds=TINY_ROUNDS, steps=1)
        large = large_throughput(timed, TINY_SHAPE, TINY_ROUNDS, 1)
    else:
        digits_timing = throughput(data, names)
        large = large_throughput(timed, SHAPES["large"], LARGE_ROUNDS, LARGE_STEPS)
    return {
        "command": command,
        "environment": environment(),
        "digits": digits_timing,
        "large": large,
    }


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
        ratios = results.get("throughput", {}).get("digits", {}).get(name)
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
    if "throughput" in results:
        timing = results["throughput"]
        backend = timing["environment"]["versions"]["backend"]
        lines[-1] += f" Timed by `KERAS_BACKEND={backend} {timing['command']}`."
    if "large" in results.get("throughput", {}):
        lines += ["", *render_throughput(results["throughput"])]
    else:
        lines += [
            "",
            "Not yet timed at the large shape, beside `RNN(ChungGRUCell)`: "
            f"`python {SCRIPT} --throughput-only` does.",
        ]
    return "\n".join(lines) + "\n"


def _ratio(ratios: list[float]) -> str:
    from recurrent_throughput import median_interval

    median, low, high = median_interval(ratios)
    return f"{median:.2f}×" + ("" if low is None else f" [{low:.2f}, {high:.2f}]")


def render_throughput(throughput: dict) -> list[str]:
    """The cost table's lines: each option's step time and the fused speedup."""
    environment = throughput["environment"]
    versions = environment["versions"]
    backend = versions["backend"]
    large = throughput["large"]
    shape = large["shape"]
    seconds = large["seconds"]
    base = seconds["baseline"]
    lines = [
        f"`KERAS_BACKEND={backend} {throughput['command']}`: the step time at "
        f"batch {shape['batch']}, {shape['time']} steps, {shape['features']} "
        f"features, {shape['units']} units, {len(base[FUSED])} rounds of "
        f"{large['steps']} training steps of each model, Keras "
        f"{versions['keras']} on {backend} {versions[backend]}, "
        f"{environment['machine']['cpu']}.",
        "",
        f"| option | `ChungGRU`'s backward pass | `{FUSED}` vs baseline | "
        f"`{CELLWISE}` vs baseline | `{FUSED}`'s speedup over `{CELLWISE}` |",
        "|---|---|---:|---:|---:|",
    ]
    for name, times in seconds.items():
        cost = {
            kind: "1"
            if name == "baseline"
            else _ratio([a / b for a, b in zip(times[kind], base[kind], strict=True)])
            for kind in (FUSED, CELLWISE)
        }
        speedup = _ratio(
            [c / f for f, c in zip(times[FUSED], times[CELLWISE], strict=True)]
        )
        lines.append(
            f"| `{name}` | {backward_pass(OPTIONS[name])} | {cost[FUSED]} | "
            f"{cost[CELLWISE]} | {speedup} |"
        )
    lines += [
        "",
        "Each cell: the median over rounds of a ratio of two times taken in "
        "the same round, [its 95% interval]. Against the baseline: the "
        "option's step time over the same layer's without options (above 1 "
        "costs). Speedup: the cell's step time over the fused layer's with the "
        "same option (above 1, the fused layer is faster). The initializers "
        "change no step and are not timed here.",
    ]
    return lines


def addition_settings(seed: int, tiny: bool):
    """The default `TrainingSettings` with `seed`; a few steps with `tiny`."""
    from keras_gru_cell.addition.training import TrainingSettings

    if tiny:
        return TrainingSettings(
            seed=seed,
            steps=2,
            batch_size=4,
            validation_size=4,
            validation_every=1,
            long_validation_bits=None,
        )
    return TrainingSettings(seed=seed)


def train_addition(spec: dict, seed: int, *, tiny: bool) -> dict:
    """One addition run with the option on its cell, and its held-out scores."""
    import tempfile

    from keras_gru_cell.addition.evaluation import evaluate_addition
    from keras_gru_cell.addition.training import train_addition_model

    with tempfile.TemporaryDirectory() as out_dir:
        result = train_addition_model(
            addition_settings(seed, tiny),
            out_dir,
            verbose=0,
            cell_options=layer_arguments(spec),
        )
    sums = 4 if tiny else ADDITION_SUMS
    return {
        "seed": seed,
        "steps": result.steps,
        "first_perfect_step": result.first_perfect_step,
        "exact_match": {
            str(bits): round(
                evaluate_addition(result.model, bits, sums, seed=0)["exact_match"], 6
            )
            for bits in ADDITION_BITS
        },
    }


def run_addition(names, seeds: int, *, tiny: bool, command: str, save) -> None:
    """Trains every option for each seed in turn, calling `save(results)`
    after each complete seed, so that a stopped run keeps its whole seeds."""
    import dataclasses

    from _environment import environment

    results = {
        "command": command,
        "environment": environment(),
        "settings": dataclasses.asdict(addition_settings(0, tiny)) | {"seed": None},
        "evaluation": {
            "bits": list(ADDITION_BITS),
            "sums": 4 if tiny else ADDITION_SUMS,
        },
        "runs": {name: [] for name in names},
    }
    for seed in range(seeds):
        for name in names:
            started = time.perf_counter()
            run = train_addition(OPTIONS[name], seed, tiny=tiny)
            results["runs"][name].append(run)
            print(
                f"{name:28s} seed {seed}: {run['exact_match']} "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
        save(results)


def render_addition(results: dict) -> str:
    """The Variants page's addition table, from its results file's contents."""
    settings = results["settings"]
    evaluation = results["evaluation"]
    runs = results["runs"]
    versions = results["environment"]["versions"]
    backend = versions["backend"]
    bits = [str(b) for b in evaluation["bits"]]
    longest = bits[-1]
    baseline = {run["seed"]: run["exact_match"][longest] for run in runs["baseline"]}
    low, high = settings["bits"]
    lines = [
        f"<!-- written by {SCRIPT}; edit that, not this -->",
        "",
        f"`KERAS_BACKEND={backend} {results['command']}`: {len(baseline)} "
        f"seeds of the default training ({settings['steps']} steps at most, "
        f"batches of {settings['batch_size']} sums of {low} to {high} bits), "
        f"each scored on {evaluation['sums']:,} random held-out sums of each "
        f"length, Keras {versions['keras']} on {backend} {versions[backend]}, "
        f"{results['environment']['machine']['cpu']}.",
        "",
        "| option | "
        + " | ".join(f"exact match, {int(b):,} bits" for b in bits)
        + f" | vs baseline at {int(longest):,} (paired) | all right at "
        f"{int(longest):,} bits | steps trained |",
        "|---|" + "---:|" * (len(bits) + 3),
    ]
    for name, option_runs in runs.items():
        scores = [
            _percent(*mean_interval([run["exact_match"][b] for run in option_runs]))
            for b in bits
        ]
        if name == "baseline":
            difference = "—"
        else:
            paired = [
                run["exact_match"][longest] - baseline[run["seed"]]
                for run in option_runs
            ]
            mean, half = mean_interval(paired)
            difference = f"{100 * mean:+.1f}" + (
                "" if half is None else f" ± {100 * half:.1f}"
            )
            difference += f" ({effect(mean, half)})"
        steps = statistics.median(run["steps"] for run in option_runs)
        perfect = sum(run["exact_match"][longest] == 1.0 for run in option_runs)
        lines.append(
            f"| `{name}` | {' | '.join(scores)} | {difference} | "
            f"{perfect}/{len(option_runs)} runs | {steps:.0f} |"
        )
    lines += [
        "",
        "Exact match: the share of sums whose every bit is right, the mean "
        "over seeds ± the half-width of its 95% t-interval; the paired "
        "difference in percentage points. All right: the runs whose every "
        "held-out sum of that length was right. Steps: the median number of "
        "training steps taken (training stops early once every held-out sum "
        "has been right at two validations in a row).",
    ]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    """Writes `text` to `path` whole or not at all."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text)
    os.replace(partial, path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("digits", "addition"), default="digits")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..n-1")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--options", default=",".join(OPTIONS), help="comma-separated OPTIONS keys"
    )
    parser.add_argument(
        "--throughput", action="store_true", help="time the options too"
    )
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="time the options, keeping the results file's accuracy runs",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="a smoke run's sizes: tests only"
    )
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument(
        "--results", type=Path, help="the results file (default: the committed one)"
    )
    parser.add_argument(
        "--snippet", type=Path, help="the rendered table (default: the committed one)"
    )
    args = parser.parse_args(argv)
    names = args.options.split(",")
    if names[0] != "baseline" or not set(names) <= set(OPTIONS):
        parser.error(
            f"--options must start with baseline and name OPTIONS keys; "
            f"received {args.options!r}."
        )
    args.names = names
    addition = args.task == "addition"
    if addition and (args.throughput or args.throughput_only):
        parser.error("--throughput and --throughput-only time the digits task.")
    args.results = args.results or (ADDITION_RESULTS if addition else RESULTS)
    args.snippet = args.snippet or (ADDITION_SNIPPET if addition else SNIPPET)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    command = "python " + " ".join([SCRIPT, *(argv or sys.argv[1:])])
    if args.task == "addition":
        if not args.render_only:
            run_addition(
                args.names,
                args.seeds,
                tiny=args.tiny,
                command=command,
                save=lambda results: _write(
                    args.results, json.dumps(results, indent=1) + "\n"
                ),
            )
        _write(args.snippet, render_addition(json.loads(args.results.read_text())))
    elif args.throughput_only:
        results = json.loads(args.results.read_text())
        data = random_digits() if args.tiny else digits()
        results["throughput"] = measure_throughput(
            data, args.names, tiny=args.tiny, command=command
        )
        _write(args.results, json.dumps(results, indent=1) + "\n")
        _write(args.snippet, render(results))
    else:
        if not args.render_only:
            results = train_digits(args, command)
            if "throughput" not in results and args.results.exists():
                # A run of the accuracy alone keeps the timing on file.
                kept = json.loads(args.results.read_text()).get("throughput")
                results |= {"throughput": kept} if kept else {}
            _write(args.results, json.dumps(results, indent=1) + "\n")
        _write(args.snippet, render(json.loads(args.results.read_text())))
        if args.render_only and ADDITION_RESULTS.exists():
            _write(
                ADDITION_SNIPPET,
                render_addition(json.loads(ADDITION_RESULTS.read_text())),
            )
    print(args.snippet.read_text())


def train_digits(args, command: str) -> dict:
    """Every option's accuracy runs on the digits, and their timing if asked."""
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
    runs = {name: [] for name in args.names}
    for seed in range(args.seeds):
        for name in args.names:
            started = time.perf_counter()
            run = {"seed": seed, **train(OPTIONS[name], seed, args.epochs, data)}
            runs[name].append(run)
            print(
                f"{name:28s} seed {seed}: {run['test_accuracy'][-1]:.3f} "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    results = {
        "command": command,
        "environment": environment("sklearn"),
        "settings": settings,
        "runs": runs,
    }
    if args.throughput:
        results["throughput"] = measure_throughput(
            data, args.names, tiny=args.tiny, command=command
        )
    return results


if __name__ == "__main__":
    main()

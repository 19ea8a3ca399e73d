"""How fast and how well `keras-gru-cell train` learns to add, seed by seed.

For each seed, trains the addition model with the default `train` settings
(and, side by side, with `--preset tutorial`, and with the default settings
on the tutorial's 100 fixed 5-bit sums alone), then scores it on 10,000
random held-out sums at each of several lengths, the operands drawn as
Python integers at full width, and on every carry chain up to the longest
length (`2^n-1 + 0`, `2^n-1 + 1` and `2^n-1 + 2^n-1`, the `chains` column).
The criterion (the `ok` column): 100.00% on every row, within 1,000 steps and
30 seconds.
The default settings, trained on sums of at most 32 bits, should meet it
at 64, 256 and 1,024 bits for every seed. With `--backends`, it then trains
the default settings again on each Keras backend named, each in a Python
process of its own, as `KERAS_BACKEND=... keras-gru-cell train` would: the
`fit s` column of that table is what a run costs on each backend, compilation
included.

    python benchmarks/addition_convergence.py                # both presets
    python benchmarks/addition_convergence.py --presets default --seeds 0,1
    python benchmarks/addition_convergence.py --backends tensorflow,jax,torch
    python benchmarks/addition_convergence.py --render-only

Not a test: it takes minutes, and its numbers depend on the machine.

Its output, saved by `python docs/scripts/tutorial_results.py convergence` as
docs/snippets/tutorial_convergence.md, is the record of the last full run:
the tutorial page shows it as it is, and `--render-only` trains nothing and
rewrites the results block of README.md from it (tutorial_results.py does
that after each run), so that the README and the page cannot disagree.
"""

import argparse
import dataclasses
import importlib.metadata
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

from keras_gru_cell.addition.evaluation import CARRY_CHAINS
from keras_gru_cell.addition.evaluation import evaluate_addition
from keras_gru_cell.addition.evaluation import evaluate_carry_chains
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import train_addition_model

from _environment import cpu_name

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "benchmarks/addition_convergence.py"
RECORD = ROOT / "docs" / "snippets" / "tutorial_convergence.md"
README = ROOT / "README.md"
README_BEGIN = f"<!-- begin: written by {SCRIPT} --render-only; edit that, not this -->"
README_END = f"<!-- end: written by {SCRIPT} -->"
# What a run must do to be "ok".
MAX_STEPS = 1000
MAX_SECONDS = 30
ENVIRONMENT_PREFIX = "measured on "
BACKENDS = ("tensorflow", "jax", "torch")
# The default settings trained on the tutorial's own data: how far 100 fixed
# 5-bit sums can carry a model, with the package's optimizer, loss and model.
TUTORIAL_DATA = dataclasses.replace(
    PRESETS["default"],
    bits=5,
    batch_size=100,
    validation_bits=5,
    validation_size=100,
    tutorial_data=True,
)
RUNS = {**PRESETS, "tutorial-data": TUTORIAL_DATA}
"""What `--presets` can name: the command's presets, and the experiment."""
# The preset `--backends` trains on each backend, and its table's title.
BACKENDS_PRESET = "default"
BACKENDS_TITLE = f"--preset {BACKENDS_PRESET} on each backend, in a process of its own"


def _ints(text):
    return [int(part) for part in text.split(",")]


def _backends(text):
    names = [name for name in text.split(",") if name]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown backends {unknown}; choose from {', '.join(BACKENDS)}"
        )
    return names


@dataclasses.dataclass(frozen=True)
class Row:
    """One seed's run: one line of the table."""

    preset: str
    seed: int
    steps: int
    first_perfect: int | None
    fit_seconds: float
    wall_seconds: float
    exact_match: tuple[float, ...]
    ok: bool


def header(lengths, label="preset"):
    """The table's column names; `label` names the first column."""
    width = _label_width(label)
    return (
        f"{label:{width}} {'seed':>4} {'steps':>5} {'1st 100%':>8} {'fit s':>6} "
        f"{'wall s':>6} "
        + " ".join(f"{f'{b}-bit':>8}" for b in lengths)
        + f" {'chains':>8}  ok"
    )


def _label_width(label):
    return max(map(len, RUNS if label == "preset" else BACKENDS))


def format_row(row, backend=None):
    """A row of the presets' table, or of the backends' table with `backend`."""
    first = row.first_perfect if row.first_perfect is not None else "-"
    label, width = (
        (row.preset, _label_width("preset"))
        if backend is None
        else (backend, _label_width("backend"))
    )
    return (
        f"{label:{width}} {row.seed:>4} {row.steps:>5} {first:>8} "
        f"{row.fit_seconds:>6.1f} {row.wall_seconds:>6.1f} "
        + " ".join(f"{score:>8.2%}" for score in row.exact_match)
        + f"  {'yes' if row.ok else 'no'}"
    )


def parse_row(line, num_lengths, preset=None):
    """The inverse of `format_row`, to the precision the table prints.

    A row of the backends' table names its backend where the presets' names
    its preset: give its `preset`.
    """
    label, seed, steps, first, fit, wall, *scores, ok = line.split()
    # One score per length, then the chains'.
    if len(scores) != num_lengths + 1:
        raise ValueError(f"expected {num_lengths + 1} scores in {line!r}")
    return Row(
        preset=label if preset is None else preset,
        seed=int(seed),
        steps=int(steps),
        first_perfect=None if first == "-" else int(first),
        fit_seconds=float(fit),
        wall_seconds=float(wall),
        exact_match=tuple(float(score.rstrip("%")) / 100 for score in scores),
        ok=ok == "yes",
    )


def environment():
    """The machine and the versions a run measures, in one line.

    The backend is the one this process runs, that of the presets' table.
    """
    backend = keras.backend.backend()
    return (
        f"{ENVIRONMENT_PREFIX}a {os.cpu_count()}-core {cpu_name()}; "
        f"python {platform.python_version()}, keras {keras.__version__}, "
        f"{backend} {__import__(backend).__version__}"
    )


def run(preset, seed, lengths, n):
    settings = dataclasses.replace(RUNS[preset], seed=seed)
    with tempfile.TemporaryDirectory() as out_dir:
        start = time.perf_counter()
        result = train_addition_model(settings, out_dir, verbose=0)
        wall = time.perf_counter() - start
    scores = [
        evaluate_addition(result.model, bits, n, seed=10_000 + seed)["exact_match"]
        for bits in lengths
    ]
    # The families each have one sum per length below the longest: their mean
    # is the share of all of them that came out right.
    chains = evaluate_carry_chains(result.model, max(lengths))
    scores.append(
        sum(chains[name]["exact_match"] for name in CARRY_CHAINS) / len(CARRY_CHAINS)
    )
    return Row(
        preset=preset,
        seed=seed,
        steps=result.steps,
        first_perfect=result.first_perfect_step,
        fit_seconds=result.seconds,
        wall_seconds=wall,
        exact_match=tuple(scores),
        ok=all(score == 1.0 for score in scores)
        and result.steps <= MAX_STEPS
        and wall <= MAX_SECONDS,
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="default,tutorial,tutorial-data")
    parser.add_argument("--seeds", type=_ints, default=list(range(10)))
    parser.add_argument("--bits", type=_ints, default=[64, 256, 1024])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument(
        "--backends",
        type=_backends,
        default=[],
        help=(
            f"then train --preset {BACKENDS_PRESET} on each of these Keras "
            f"backends ({','.join(BACKENDS)}), each in a new process"
        ),
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help=f"train nothing; rewrite README.md's results from {RECORD.name}",
    )
    return parser.parse_args(argv)


def inputs(argv=()):
    """Everything besides the package's code that decides a run's results.

    `docs/scripts/tutorial_results.py` records a digest of it with the run's
    output, and the tests check that digest against the current settings.
    """
    args = vars(parse_args(list(argv)))
    del args["render_only"]
    return {
        "arguments": args,
        "presets": {
            name: dataclasses.asdict(RUNS[name]) for name in args["presets"].split(",")
        },
        "ok": {"max_steps": MAX_STEPS, "max_seconds": MAX_SECONDS},
    }


@dataclasses.dataclass(frozen=True)
class Record:
    """A run's output as saved in the docs: its arguments, machine and table."""

    args: argparse.Namespace
    environment: str | None
    lengths: tuple[int, ...]
    rows: tuple[Row, ...]
    backend_rows: tuple[tuple[str, Row], ...]


def read_record(text):
    """Reads back a saved run: the `$ python …` line and what it printed."""
    lines = text.splitlines()
    command = next(line for line in lines if line.startswith("$ "))
    # "$ python benchmarks/addition_convergence.py [arguments]"
    args = parse_args(shlex.split(command)[3:])
    environment = next(
        (line for line in lines if line.startswith(ENVIRONMENT_PREFIX)), None
    )
    head = next(line for line in lines if line.startswith("preset "))
    lengths = tuple(
        int(word[: -len("-bit")]) for word in head.split() if "-bit" in word
    )
    if lengths != tuple(args.bits):
        raise ValueError(f"the table has lengths {lengths}; its command {args.bits}")
    presets = args.presets.split(",")
    table = [line for line in lines if line.split() and line.split()[0] in presets]
    rows = tuple(parse_row(line, len(lengths)) for line in table)
    # A row the table would print differently was not written by this script.
    for line, row in zip(table, rows, strict=True):
        if format_row(row) != line:
            raise ValueError(f"{line!r} is not a row of this script's table")
    if len(rows) != len(presets) * len(args.seeds):
        raise ValueError(
            f"the record has {len(rows)} rows; its command runs "
            f"{len(presets) * len(args.seeds)}"
        )
    backend_rows = []
    if args.backends:
        start = lines.index(header(lengths, label="backend"))
        for line in lines[start + 1 :]:
            if line.split() and line.split()[0] in args.backends:
                row = parse_row(line, len(lengths), preset=BACKENDS_PRESET)
                backend = line.split()[0]
                if format_row(row, backend) != line:
                    raise ValueError(f"{line!r} is not a row of this script's table")
                backend_rows.append((backend, row))
    if len(backend_rows) != len(args.backends) * len(args.seeds):
        raise ValueError(
            f"the record has {len(backend_rows)} rows of backends; its command "
            f"runs {len(args.backends) * len(args.seeds)}"
        )
    return Record(args, environment, lengths, rows, tuple(backend_rows))


def _span(values, form="{:,}", unit=""):
    low, high = (form.format(value) for value in (min(values), max(values)))
    return f"{low}{unit}" if low == high else f"{low}–{high}{unit}"


def _series(words):
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def preset_summary(record, preset):
    """One bullet of the README: what a preset's seeds did, from the table."""
    rows = [row for row in record.rows if row.preset == preset]
    seeds = len(rows)
    firsts = [row.first_perfect for row in rows if row.first_perfect is not None]
    if not firsts:
        first = "its validation sums were never all right"
    else:
        first = f"its validation sums were all right first after step {_span(firsts)}"
        if len(firsts) < seeds:
            first += f" ({seeds - len(firsts)} of {seeds} seeds never)"
    scores = _series(
        f"{_span([row.exact_match[i] * 100 for row in rows], '{:.2f}', '%')} {where}"
        for i, where in enumerate(
            [f"at {bits} bits" for bits in record.lengths]
            + [f"on the carry chains up to {max(record.lengths)} bits"]
        )
    )
    exact = sum(all(score == 1.0 for score in row.exact_match) for row in rows)
    ok = sum(row.ok for row in rows)
    # The experiment is no preset of the command.
    name = f"`--preset {preset}`" if preset in PRESETS else f"`{preset}`"
    return (
        f"- {name}, {seeds} seeds: trained "
        f"{_span([row.steps for row in rows])} steps in "
        f"{_span([row.fit_seconds for row in rows], '{:.1f}')} s of `model.fit`; "
        f"{first}. Exact match on {record.args.n:,} random held-out sums per "
        f"length, and on the carry chains: {scores}. {exact} of {seeds} seeds "
        f"were exact on every row, and "
        f"{ok} of {seeds} also trained within {MAX_STEPS:,} steps and "
        f"{MAX_SECONDS} s (the `ok` column)."
    )


def backends_summary(record):
    """One bullet of the README: the fit time on each backend, from the table."""
    rows = {
        backend: [row for b, row in record.backend_rows if b == backend]
        for backend in record.args.backends
    }
    times = _series(
        f"{_span([row.fit_seconds for row in runs], '{:.1f}')} s on {backend}"
        for backend, runs in rows.items()
    )
    exact = _series(
        str(sum(all(score == 1.0 for score in row.exact_match) for row in runs))
        for runs in rows.values()
    )
    seeds = len(record.args.seeds)
    return (
        f"- `--preset {BACKENDS_PRESET}` again on each backend, in a process of "
        f"its own as `KERAS_BACKEND=... keras-gru-cell train` runs, {seeds} "
        f"seeds: `model.fit`, compilation included, took {times}; {exact} of "
        f"{seeds} seeds were exact on every row."
    )


def readme_results(record):
    """The README's results block, every number from the saved run."""
    lines = [
        preset_summary(record, preset) for preset in record.args.presets.split(",")
    ]
    if record.backend_rows:
        lines.append(backends_summary(record))
    if record.environment is not None:
        lines += ["", f"{record.environment[0].upper()}{record.environment[1:]}."]
    return "\n".join(lines)


def with_block(text, body):
    """`text` with its generated block's content replaced by `body`."""
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"no {README_BEGIN!r} … {README_END!r} block")
    return f"{text[: start + len(README_BEGIN)]}\n{body}\n{text[end:]}"


def readme_with_results(readme_text, record_text):
    """README.md's text with its results block rendered from a saved run."""
    return with_block(readme_text, readme_results(read_record(record_text)))


def render_only():
    README.write_text(readme_with_results(README.read_text(), RECORD.read_text()))
    print(f"wrote the results block of README.md from {RECORD.relative_to(ROOT)}")


def run_on_backend(backend, args):
    """Yields the rows of `--preset default` trained in a new `backend` process."""
    command = [sys.executable, __file__, "--presets", BACKENDS_PRESET]
    command += ["--seeds", ",".join(map(str, args.seeds))]
    command += ["--bits", ",".join(map(str, args.bits)), "-n", str(args.n)]
    environment = {**os.environ, "KERAS_BACKEND": backend}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env=environment
    ) as child:
        for line in child.stdout:
            if line.split() and line.split()[0] == BACKENDS_PRESET:
                yield parse_row(line, len(args.bits))
    if child.returncode:
        raise SystemExit(f"training on {backend} failed: {shlex.join(command)}")


def versions(backends):
    """The backends' library versions, read without importing them."""
    return ", ".join(
        f"{backend} {importlib.metadata.version(backend)}" for backend in backends
    )


def main(argv=None):
    args = parse_args(argv)
    if args.render_only:
        render_only()
        return 0
    print(environment(), flush=True)
    print(header(args.bits))
    print("-" * len(header(args.bits)))
    for preset in args.presets.split(","):
        passed = 0
        for seed in args.seeds:
            row = run(preset, seed, args.bits, args.n)
            passed += row.ok
            print(format_row(row), flush=True)
        print(
            f"{preset}: {passed}/{len(args.seeds)} seeds reach 100% on every "
            f"row within {MAX_STEPS:,} steps and {MAX_SECONDS} s"
        )
    if args.backends:
        print(f"\n{BACKENDS_TITLE}:")
        print(versions(args.backends))
        print(header(args.bits, label="backend"))
        print("-" * len(header(args.bits, label="backend")))
        for backend in args.backends:
            for row in run_on_backend(backend, args):
                print(format_row(row, backend), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

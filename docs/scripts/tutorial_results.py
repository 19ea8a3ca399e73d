"""Runs the tutorial's commands and saves their output for docs/tutorial.md.

Every result the tutorial shows, the loss plots, the accuracy table, the sum
and the side-by-side of the presets, comes from a real run of the project's
own commands, made by this script. Each command's output is written as a
console block to docs/snippets/tutorial_<step>.md, which the page includes,
and the loss plots of the training runs are copied to docs/assets/tutorial/.
Training progress bars are reduced to the lines Keras prints at the end of
each epoch.

Each snippet of a measured output starts with a comment that records a
digest of its inputs: the command line, the defaults of the command that
decide its result, the training preset it starts from and the model file it
reads (see `MEASURED`). `tests/test_generated_numbers.py` recomputes the
digests, so a snippet whose inputs have changed since it was made fails the
tests until its step is run again. After the convergence step, the results block of
README.md is rewritten from the new snippet
(`benchmarks/addition_convergence.py --render-only`).

Run from the repository root, with the package installed; name steps to run
only those (the convergence benchmark takes several minutes on 2 cores):

    python docs/scripts/tutorial_results.py
    python docs/scripts/tutorial_results.py train evaluate add
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from keras_gru_cell.addition.cli.parser import build_parser as cli_parser
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import TrainingSettings

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"
ASSETS = ROOT / "docs" / "assets" / "tutorial"
# Where the training runs write, as a reader's would; ignored by git.
RUNS = ROOT / "runs"
PRETRAINED = ROOT / "keras_gru_cell" / "addition" / "pretrained" / "addition.keras"
CONVERGENCE = ROOT / "benchmarks" / "addition_convergence.py"
SEED = 0
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A progress bar line "12/50 ━━━…" before its epoch is complete.
UNFINISHED = re.compile(r"^\s*(\d+)/(\d+) ")
# The first line of a measured snippet: its step and the digest of its inputs.
STAMP = re.compile(
    r"^<!-- written by docs/scripts/tutorial_results\.py (?P<step>\w+) "
    r"from inputs sha256:(?P<digest>[0-9a-f]{16}) -->$"
)

# The commands whose output the page shows, by step.
TRAIN = ["train", "--seed", str(SEED), "--out", "runs/default"]
TRAIN_TUTORIAL = ["train", "--preset", "tutorial", "--seed", str(SEED)]
TRAIN_TUTORIAL += ["--out", "runs/tutorial"]
EVALUATE = ["evaluate", "--model", "runs/default/model.keras"]
ADD = ["add", "1024", "16"]
# The convergence benchmark's arguments: the default preset's fit time on
# each backend too.
CONVERGENCE_ARGUMENTS = ["--backends", "tensorflow,jax,torch"]


def convergence_benchmark():
    """benchmarks/addition_convergence.py as a module (it is not a package's)."""
    # Its shared `_environment` module sits beside it, as when it runs.
    if str(CONVERGENCE.parent) not in sys.path:
        sys.path.append(str(CONVERGENCE.parent))
    spec = importlib.util.spec_from_file_location("addition_convergence", CONVERGENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def command_inputs(arguments: list[str]) -> dict:
    """What decides a `keras-gru-cell` command's output besides the code."""
    parsed = cli_parser().parse_args(arguments)
    inputs = {"command": arguments}
    if parsed.command == "train":
        inputs["preset"] = dataclasses.asdict(PRESETS[parsed.preset])
    if parsed.command == "evaluate":
        # The command's defaults decide which sums it scores.
        inputs["sums"] = {"bits": parsed.bits, "n": parsed.n, "seed": parsed.seed}
    if parsed.command in ("add", "evaluate"):
        inputs["model"] = model_inputs(parsed.model)
    return inputs


def model_inputs(path: Path | None) -> dict:
    """The shipped model's file, or the inputs of the step that trains one."""
    if path is None:
        return {"sha256": hashlib.sha256(PRETRAINED.read_bytes()).hexdigest()}
    trained_by = {"runs/default/model.keras": TRAIN}[path.as_posix()]
    return command_inputs(trained_by)


MEASURED = {
    "train": lambda: command_inputs(TRAIN),
    "evaluate": lambda: command_inputs(EVALUATE),
    "add": lambda: command_inputs(ADD),
    "train_tutorial": lambda: command_inputs(TRAIN_TUTORIAL),
    "convergence": lambda: convergence_benchmark().inputs(CONVERGENCE_ARGUMENTS),
}
"""The steps that measure, and what decides their results besides the code."""


def inputs_digest(step: str) -> str:
    text = json.dumps(MEASURED[step](), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stamp(step: str) -> str:
    return (
        f"<!-- written by docs/scripts/tutorial_results.py {step} "
        f"from inputs sha256:{inputs_digest(step)} -->"
    )


def epoch_lines(output: str) -> str:
    """Keras's progress output reduced to one line per finished epoch."""
    kept = []
    for line in ANSI.sub("", output).splitlines():
        match = UNFINISHED.match(line)
        if not line.strip() or (match and "val_loss" not in line):
            continue
        kept.append(line.replace("━", ""))
    return "\n".join(kept)


def run(
    step: str,
    arguments: list[str],
    *,
    python_script: bool = False,
    tail: int | None = None,
) -> None:
    """Runs a command from the repository root; writes its output as a snippet.

    With `tail`, only the output's last `tail` lines are kept, after a `...`.
    """
    # The inputs as the run starts, should they change while it runs.
    header = stamp(step)
    if python_script:
        display = shlex.join(["python", *arguments])
        command = [sys.executable, str(ROOT / arguments[0]), *arguments[1:]]
    else:
        display = shlex.join(["keras-gru-cell", *arguments])
        command = ["keras-gru-cell", *arguments]
    print(f"$ {display}", flush=True)
    result = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        check=True,
    )
    output = epoch_lines(result.stdout).splitlines()
    if tail is not None and len(output) > tail:
        output = ["...", *output[-tail:]]
    body = "\n".join(output)
    (SNIPPETS / f"tutorial_{step}.md").write_text(
        f"{header}\n\n```console\n$ {display}\n{body}\n```\n"
    )


def settings_table() -> str:
    """The default and the tutorial presets, field by field, from the code."""
    lines = ["| setting | default | `--preset tutorial` |", "|---|---|---|"]
    for field in dataclasses.fields(TrainingSettings):
        if field.name == "seed":
            continue
        default, tutorial = (
            getattr(PRESETS[name], field.name) for name in ("default", "tutorial")
        )
        lines.append(f"| `{field.name}` | `{default!r}` | `{tutorial!r}` |")
    return "\n".join(lines) + "\n"


def train() -> None:
    run("train", TRAIN)
    (ASSETS / "loss.png").write_bytes((RUNS / "default" / "loss.png").read_bytes())


def train_tutorial() -> None:
    # 100 epochs of 50 iterations: the last two and the summary suffice.
    run("train_tutorial", TRAIN_TUTORIAL, tail=7)
    (ASSETS / "loss_tutorial.png").write_bytes(
        (RUNS / "tutorial" / "loss.png").read_bytes()
    )


def convergence() -> None:
    script = str(CONVERGENCE.relative_to(ROOT))
    run("convergence", [script, *CONVERGENCE_ARGUMENTS], python_script=True)
    # The README summarizes the same run.
    subprocess.run([sys.executable, str(CONVERGENCE), "--render-only"], check=True)


STEPS = {
    "settings": lambda: (SNIPPETS / "tutorial_settings.md").write_text(
        settings_table()
    ),
    "train": train,
    "evaluate": lambda: run("evaluate", EVALUATE),
    "add": lambda: run("add", ADD),
    "train_tutorial": train_tutorial,
    "convergence": convergence,
}


def main(argv: list[str]) -> None:
    unknown = set(argv) - set(STEPS)
    if unknown:
        sys.exit(f"unknown steps {sorted(unknown)}; choose from {list(STEPS)}")
    for directory in (SNIPPETS, ASSETS, RUNS):
        directory.mkdir(parents=True, exist_ok=True)
    for step in argv or STEPS:
        STEPS[step]()
    print("wrote docs/snippets/tutorial_*.md and docs/assets/tutorial/*.png")


if __name__ == "__main__":
    main(sys.argv[1:])

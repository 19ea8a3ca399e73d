"""Runs the tutorial's commands and saves their output for docs/tutorial.md.

Every result the tutorial shows, the loss plots, the accuracy table, the sum
and the side-by-side of the presets, comes from a real run of the project's
own commands, made by this script. Each command's output is written as a
console block to docs/snippets/tutorial_<step>.md, which the page includes,
and the loss plots of the training runs are copied to docs/assets/tutorial/.
Training progress bars are reduced to the lines Keras prints at the end of
each epoch.

Run from the repository root, with the package installed; name steps to run
only those (the convergence benchmark takes several minutes on 2 cores):

    python docs/scripts/tutorial_results.py
    python docs/scripts/tutorial_results.py train evaluate add
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import TrainingSettings

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"
ASSETS = ROOT / "docs" / "assets" / "tutorial"
# Where the training runs write, as a reader's would; ignored by git.
RUNS = ROOT / "runs"
SEED = 0
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# A progress bar line "12/50 ━━━…" before its epoch is complete.
UNFINISHED = re.compile(r"^\s*(\d+)/(\d+) ")


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
        f"```console\n$ {display}\n{body}\n```\n"
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
    run("train", ["train", "--seed", str(SEED), "--out", "runs/default"])
    (ASSETS / "loss.png").write_bytes((RUNS / "default" / "loss.png").read_bytes())


def train_tutorial() -> None:
    arguments = ["train", "--preset", "tutorial", "--seed", str(SEED)]
    # 100 epochs of 50 iterations: the last two and the summary suffice.
    run("train_tutorial", [*arguments, "--out", "runs/tutorial"], tail=7)
    (ASSETS / "loss_tutorial.png").write_bytes(
        (RUNS / "tutorial" / "loss.png").read_bytes()
    )


STEPS = {
    "settings": lambda: (SNIPPETS / "tutorial_settings.md").write_text(
        settings_table()
    ),
    "train": train,
    "evaluate": lambda: run(
        "evaluate", ["evaluate", "--model", "runs/default/model.keras"]
    ),
    "add": lambda: run("add", ["add", "1024", "16"]),
    "train_tutorial": train_tutorial,
    "convergence": lambda: run(
        "convergence", ["benchmarks/addition_convergence.py"], python_script=True
    ),
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

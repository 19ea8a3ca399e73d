"""ChungGRU's training and inference speed at two commits, side by side.

Answers "did this change cost `fit` or `predict` anything?" with one run on
one machine: each revision's `keras_gru_cell` runs in a Python process of its
own (the same harness, the same models, the same batches), both processes
stay alive, and they take turns, one timed epoch each, for `--rounds` rounds,
the first to go alternating, so that a shared machine's load falls on both
alike. The comparison is paired: each round's ratio of the two times, its
median and a distribution-free 95% interval
(`recurrent_throughput.paired_speedup`). The shapes and the model (`ChungGRU`
and a `Dense(1)` head, Adam on mean squared error, the Keras default
compilation) are `recurrent_throughput.py`'s.

Usage:

    KERAS_BACKEND=tensorflow python benchmarks/compare_commits.py e52f57c
    python benchmarks/compare_commits.py v0.2.0 HEAD --shapes large --rounds 10

The first revision is the base; the second (default: the working tree, as it
is now) is compared with it. Writes
`benchmarks/results/compare_commits_<backend>.json` (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
WORKING_TREE = "working tree"
KINDS = ("train", "infer")


def shapes() -> dict:
    """`recurrent_throughput.py`'s shapes, and `tiny` for a smoke run."""
    from recurrent_throughput import SHAPES
    from recurrent_throughput import TINY_SHAPE

    return {**SHAPES, "tiny": TINY_SHAPE}


def _child(shape_names: list[str], batches: int) -> None:
    """Builds the models, then times one epoch per request on stdin."""
    import keras
    from recurrent_throughput import _data
    from recurrent_throughput import _keras_model

    import keras_gru_cell

    from _keras_inputs import keras_inputs
    from _turns import seconds

    runs = {}
    for name in shape_names:
        x, y = _data(shapes()[name], batches)
        inputs = keras_inputs(x, y, shapes()[name]["batch"])
        model = _keras_model("ChungGRU", "auto", shapes()[name])
        runs[name] = {
            "train": lambda m=model, i=inputs: m.fit(**i["train"], epochs=1, verbose=0),
            "infer": lambda m=model, i=inputs: m.predict(**i["infer"], verbose=0),
        }
        for run in runs[name].values():
            run()  # compiles
    print(json.dumps({"package": keras_gru_cell.__file__, "keras": keras.__version__}))
    sys.stdout.flush()
    for line in sys.stdin:
        name, kind = line.split()
        print(seconds(runs[name][kind]), flush=True)


def _package_dir(revision: str, scratch: Path) -> Path:
    """A folder whose `keras_gru_cell` is the package at `revision`."""
    if revision == WORKING_TREE:
        return ROOT
    folder = scratch / revision.replace("/", "_")
    folder.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "keras_gru_cell"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_of(revision: str) -> dict:
    """The commit `revision` names. For the working tree: HEAD's, and whether
    its `keras_gru_cell` differs from that commit's, so that a report says
    which code it timed."""
    if revision == WORKING_TREE:
        return {
            "commit": _git("rev-parse", "HEAD"),
            "package_differs_from_commit": bool(
                _git("status", "--porcelain", "--", "keras_gru_cell")
            ),
        }
    return {"commit": _git("rev-parse", "--verify", f"{revision}^{{commit}}")}


def _start(folder: Path, shape_names: list[str], batches: int):
    environment = {**os.environ, "PYTHONPATH": str(folder)}
    command = [sys.executable, __file__, "--child", "--batches", str(batches)]
    child = subprocess.Popen(
        [*command, "--shapes", *shape_names],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=folder,
    )
    started = json.loads(child.stdout.readline())
    if not started["package"].startswith(str(folder)):
        raise SystemExit(
            f"The child for {folder} imported keras_gru_cell from "
            f"{started['package']}, not from that folder."
        )
    return child


def compare(base: str, head: str, shape_names, batches: int, rounds: int) -> dict:
    from recurrent_throughput import paired_speedup

    import _turns as turns

    results = []
    with tempfile.TemporaryDirectory() as scratch:
        children = {
            revision: _start(
                _package_dir(revision, Path(scratch)), shape_names, batches
            )
            for revision in (base, head)
        }
        try:
            for name in shape_names:
                times = {(r, k): [] for r in children for k in KINDS}
                for round_index in range(rounds):
                    order = list(children)[:: 1 if round_index % 2 == 0 else -1]
                    for kind in KINDS:
                        for revision in order:
                            times[revision, kind].append(
                                turns.timed(children[revision], f"{name} {kind}")
                            )
                sequences = shapes()[name]["batch"] * batches
                for kind in KINDS:
                    results.append(
                        {
                            "shape": name,
                            "kind": kind,
                            "base_seq_per_s": sequences
                            / statistics.median(times[base, kind]),
                            "head_seq_per_s": sequences
                            / statistics.median(times[head, kind]),
                            # Above 1: the head is faster than the base.
                            "speedup": paired_speedup(
                                times[head, kind], times[base, kind]
                            ),
                        }
                    )
                    print(_row(results[-1]), flush=True)
        finally:
            turns.stop(children.values())
    return {
        "base": base,
        "head": head,
        "commits": {"base": commit_of(base), "head": commit_of(head)},
        "results": results,
    }


def _row(result: dict) -> str:
    from recurrent_throughput import format_paired

    return (
        f"| {result['shape']} | {result['kind']} | {result['base_seq_per_s']:,.0f} "
        f"| {result['head_seq_per_s']:,.0f} | {format_paired(result['speedup'])} |"
    )


def _label(report: dict, side: str) -> str:
    """`side`'s revision and the commit it timed: `HEAD (2b6becb)`, or
    `working tree (2b6becb, changed)` where the package was edited."""
    commit = report["commits"][side]
    changed = ", changed" if commit.get("package_differs_from_commit") else ""
    return f"{report[side]} ({commit['commit'][:7]}{changed})"


def format_table(report: dict) -> str:
    return "\n".join(
        [
            f"| shape | ChungGRU | {_label(report, 'base')}: seq/s "
            f"| {_label(report, 'head')}: seq/s | head over base [95%] |",
            "|---|---|---:|---:|---:|",
            *(_row(result) for result in report["results"]),
        ]
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?", help="the revision compared against")
    parser.add_argument("head", nargs="?", default=WORKING_TREE)
    parser.add_argument(
        "--shapes",
        nargs="+",
        default=["tutorial", "large", "long"],
        help="recurrent_throughput.py's shapes, or tiny for a smoke run",
    )
    parser.add_argument("--batches", type=int, default=8, help="batches an epoch")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.child and args.base is None:
        parser.error("the base revision is required")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        _child(args.shapes, args.batches)
        return
    import keras

    from _environment import environment

    report = compare(args.base, args.head, args.shapes, args.batches, args.rounds)
    backend = keras.backend.backend()
    report = {
        **environment("numpy"),
        "command": " ".join([f"KERAS_BACKEND={backend}", "python", *sys.argv]),
        **report,
        "table": format_table(report),
    }
    out = args.out or RESULTS_DIR / f"compare_commits_{backend}.json"
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(report["table"])


if __name__ == "__main__":
    main()

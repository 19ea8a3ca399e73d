"""Scores the shipped addition model and writes the numbers where they are shown.

Evaluates keras_gru_cell/addition/pretrained/addition.keras as
`keras-gru-cell evaluate` would with the arguments below (the same
`evaluate_addition`, the same seed), reads from the file how many training
steps its optimizer took and how many units its GRU has, and writes:

- docs/snippets/pretrained_evaluation.json: those measurements, with the
  sha256 of the model file they are of;
- from that JSON, the results block of
  keras_gru_cell/addition/pretrained/README.md and the shipped-model block
  of README.md.

`tests/test_generated_numbers.py` checks that both blocks are what the JSON
renders to and that the JSON is of the model file and the arguments here.
Run from the repository root after replacing the model, or with
`--render-only` to rewrite the blocks from the JSON without evaluating:

    python docs/scripts/pretrained_report.py
    python docs/scripts/pretrained_report.py --render-only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "docs/scripts/pretrained_report.py"
MODEL = ROOT / "keras_gru_cell" / "addition" / "pretrained" / "addition.keras"
RESULTS = ROOT / "docs" / "snippets" / "pretrained_evaluation.json"
PACKAGE_README = MODEL.parent / "README.md"
README = ROOT / "README.md"
BEGIN = f"<!-- begin: written by {SCRIPT}; edit that, not this -->"
END = f"<!-- end: written by {SCRIPT} -->"
# The evaluation: `keras-gru-cell evaluate`'s seed, on sums far longer than
# the 8 to 32 bits of the default training.
LENGTHS = (5, 8, 16, 64, 256, 1024)
SUMS = 10_000
SEED = 0


def model_sha256() -> str:
    return hashlib.sha256(MODEL.read_bytes()).hexdigest()


def evaluation_command() -> str:
    return (
        f"keras-gru-cell evaluate --model {MODEL.relative_to(ROOT)} "
        f"--bits {','.join(map(str, LENGTHS))} -n {SUMS} --seed {SEED}"
    )


def measure() -> dict:
    import keras

    from keras_gru_cell.addition.evaluation import evaluate_addition
    from keras_gru_cell.addition.evaluation import evaluate_carry_chains
    from keras_gru_cell.addition.pretrained import load_pretrained_model

    model = load_pretrained_model()
    rnn = next(layer for layer in model.layers if hasattr(layer, "cell"))
    results = []
    # The rows of `keras-gru-cell evaluate`: random sums at each length,
    # then the carry chains up to the longest.
    for bits in LENGTHS:
        scores = evaluate_addition(model, bits, SUMS, seed=SEED)
        results.append({"bits": bits, "sums": "random", **scores})
    for name, scores in evaluate_carry_chains(model, max(LENGTHS)).items():
        results.append({"bits": max(LENGTHS), "sums": name, **scores})
    for result in results:
        print(
            f"{result['bits']:>6} bits, {result['sums']}: "
            f"{result['exact_match']:.2%} exact",
            flush=True,
        )
    backend = keras.backend.backend()
    return {
        "model": str(MODEL.relative_to(ROOT)),
        "model_sha256": model_sha256(),
        "units": rnn.cell.units,
        # Saved with the model: the steps `model.fit` took to train it.
        "training_steps": int(model.optimizer.iterations),
        "command": evaluation_command(),
        "lengths": list(LENGTHS),
        "sums": SUMS,
        "seed": SEED,
        "versions": {
            "keras": keras.__version__,
            backend: __import__(backend).__version__,
        },
        "results": results,
    }


def _exact(result: dict) -> bool:
    return result["exact_match"] == 1.0


def package_readme_results(report: dict) -> str:
    """The table of the shipped model's README."""
    versions = ", ".join(f"{name} {v}" for name, v in report["versions"].items())
    lines = [
        f"It has {report['units']} GRU units, and its optimizer took "
        f"{report['training_steps']:,} training steps. `{report['command']}` "
        f"scores it on {report['sums']:,} random sums at each length, then on "
        f"every carry chain up to the longest:",
        "",
        "| bits | sums | exact match | bit accuracy |",
        "|---:|---|---:|---:|",
        *(
            f"| {r['bits']:,} | `{r['sums']}` | {r['exact_match']:.2%} "
            f"| {r['bit_accuracy']:.4%} |"
            for r in report["results"]
        ),
        "",
        f"Measured with {versions}, on the model file with sha256 "
        f"`{report['model_sha256']}`.",
    ]
    return "\n".join(lines)


def _series(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def readme_results(report: dict) -> str:
    """The sentence of README.md on the shipped model."""
    random = [r for r in report["results"] if r["sums"] == "random"]
    chains = [r for r in report["results"] if r["sums"] != "random"]
    exact = [f"{r['bits']:,}" for r in random if _exact(r)]
    inexact = [
        f"{r['exact_match']:.2%} at {r['bits']:,} bits" for r in random if not _exact(r)
    ]
    scores = []
    if exact:
        scores.append(f"is exact on every one at {_series(exact)} bits")
    if inexact:
        scores.append(f"scores {_series(inexact)}")
    chains_right = sum(_exact(r) for r in chains)
    longest = max(r["bits"] for r in report["results"])
    return (
        f"It took {report['training_steps']:,} steps to train, and on "
        f"{report['sums']:,} random sums at each length it {' and '.join(scores)}; "
        f"{chains_right} of the {len(chains)} families of carry chains up to "
        f"{longest:,} bits come out exact "
        f"([its README](keras_gru_cell/addition/pretrained/README.md))."
    )


def with_block(text: str, body: str) -> str:
    """`text` with its generated block's content replaced by `body`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"no {BEGIN!r} … {END!r} block")
    return f"{text[: start + len(BEGIN)]}\n{body}\n{text[end:]}"


def rendered(report: dict) -> dict[Path, str]:
    """Each file that shows the report, with its block rendered from it."""
    return {
        PACKAGE_README: with_block(
            PACKAGE_README.read_text(), package_readme_results(report)
        ),
        README: with_block(README.read_text(), readme_results(report)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--render-only",
        action="store_true",
        help=f"evaluate nothing; rewrite the blocks from {RESULTS.name}",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        report = json.loads(RESULTS.read_text())
    else:
        report = measure()
        RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    for path, text in rendered(report).items():
        path.write_text(text)
        print(f"wrote the results block of {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""How fast and how well `keras-gru-cell train` learns to add, seed by seed.

For each seed, trains the addition model with the default `train` settings
(and, side by side, with `--preset tutorial`), then scores it on 10,000
random held-out sums at each of several lengths, the operands drawn as
Python integers at full width. The default settings should reach 100% at 8,
64 and 256 bits within 1,000 steps and 30 seconds for at least 4 of 5 seeds,
having trained on sums of at most 16 bits.

    python benchmarks/addition_convergence.py                # both presets
    python benchmarks/addition_convergence.py --presets default --seeds 0,1

Not a test: it takes minutes, and its numbers depend on the machine.
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_gru_cell.addition.evaluation import evaluate_addition
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import train_addition_model


def _ints(text):
    return [int(part) for part in text.split(",")]


def run(preset, seed, lengths, n):
    settings = dataclasses.replace(PRESETS[preset], seed=seed)
    with tempfile.TemporaryDirectory() as out_dir:
        start = time.perf_counter()
        result = train_addition_model(settings, out_dir, verbose=0)
        wall = time.perf_counter() - start
    scores = {
        bits: evaluate_addition(result.model, bits, n, seed=10_000 + seed)
        for bits in lengths
    }
    return result, wall, scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="default,tutorial")
    parser.add_argument("--seeds", type=_ints, default=[0, 1, 2, 3, 4])
    parser.add_argument("--bits", type=_ints, default=[8, 64, 256])
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args(argv)

    header = (
        f"{'preset':9} {'seed':>4} {'steps':>5} {'1st 100%':>8} {'fit s':>6} "
        f"{'wall s':>6} " + " ".join(f"{f'{b}-bit':>8}" for b in args.bits) + "  ok"
    )
    print(header)
    print("-" * len(header))
    for preset in args.presets.split(","):
        passed = 0
        for seed in args.seeds:
            result, wall, scores = run(preset, seed, args.bits, args.n)
            ok = (
                all(s["exact_match"] == 1.0 for s in scores.values())
                and result.steps <= 1000
                and wall <= 30
            )
            passed += ok
            first = result.first_perfect_step
            print(
                f"{preset:9} {seed:>4} {result.steps:>5} "
                f"{first if first is not None else '-':>8} "
                f"{result.seconds:>6.1f} {wall:>6.1f} "
                + " ".join(f"{s['exact_match']:>8.2%}" for s in scores.values())
                + f"  {'yes' if ok else 'no'}",
                flush=True,
            )
        print(
            f"{preset}: {passed}/{len(args.seeds)} seeds reach 100% at every "
            f"length within 1,000 steps and 30 s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a training step of `ChungGRU` spends its time, and what the machine allows.

The Benchmarks page times whole training steps; this script splits one
batch's training step into its parts at the large and long shapes, each
timed on its own as a compiled function, and times beside them the floors
the paper's math sets: the recurrent products alone, in the same loop,
without the gates' elementwise math. Every part is reported in milliseconds
per batch and as a share of the measured GEMM peak (the best rate of NumPy's
BLAS and of the backend's own library), so a shortfall names its
place: the products (the machine's small-matrix rate), the loop around them,
the elementwise math, or the rest of `fit`.

On JAX (`KERAS_BACKEND=jax`) the parts are XLA programs:

- `fit`: the whole step, `model.fit` over 8 batches divided by 8
  (`ChungGRU` and a `Dense(1)` head, Adam, mean squared error, Keras's
  default compilation, as on the Benchmarks page);
- the layer's forward and backward passes (`jax.vjp` of the fused loop);
- the forward loop keeping its residuals; the backward pass (its loop and
  the weight-gradient products after it); the backward loop alone;
- floors: the forward's two dependent products a step, `h U_zr` and then
  `(r h) U_h`; the backward's two, `d_h~ U_h^T` and then `d_zr U_zr^T`; one
  product of all three gates a step, `h U`, the structure of `GRU()` and
  `torch.nn.GRU`, whose reset gate acts after the product; and every step's
  recurrent products as one large GEMM, the rate those FLOPs reach outside
  a loop.

On PyTorch (`KERAS_BACKEND=torch`) the parts are eager: `torch.nn.GRU`'s and
`ChungGRU`'s forward and backward passes, and the same floors in PyTorch's
own loop. TensorFlow's fused loop is compiled by the same XLA as JAX's, so
the JAX floors hold for it.

To reproduce (each writes `benchmarks/results/training_step_profile_<backend>.json`):

    KERAS_BACKEND=jax python benchmarks/training_step_profile.py
    KERAS_BACKEND=torch python benchmarks/training_step_profile.py
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
from recurrent_throughput import RESULTS_DIR
from recurrent_throughput import SHAPES
from recurrent_throughput import TINY_SHAPE
from recurrent_throughput import _data
from recurrent_throughput import _keras_model
from recurrent_throughput import _timed
from recurrent_throughput import forward_flops
from recurrent_throughput import gemm_rates

from _environment import environment

PROFILED_SHAPES = ("large", "long")
FORWARD_FLOOR = "floor: forward's two dependent products a step"
BACKWARD_FLOOR = "floor: backward's two dependent products a step"
ONE_PRODUCT_FLOOR = "floor: one product of all gates a step (GRU(), torch.nn.GRU)"
# Batches per timed `fit` call, as in `recurrent_throughput.py`: one call's
# own setup is then shared between them.
FIT_BATCHES = 8


class Part(NamedTuple):
    """One timed part of a training step."""

    label: str
    function: Callable[[], object]
    flops: float  # per batch
    batches: int = 1  # per call of `function`


def recurrent_flops(shape: dict) -> float:
    """FLOPs of one pass of the recurrent products over a batch: `h U`, all gates."""
    return 2 * shape["time"] * shape["batch"] * shape["units"] * 3 * shape["units"]


def _arrays(shape: dict) -> dict:
    """Time-major inputs, weights and a cotangent, seeded, as float32 NumPy."""
    rng = np.random.default_rng(0)
    b, t, d, h = (shape[k] for k in ("batch", "time", "features", "units"))

    def normal(*dims, scale=1.0):
        return (scale * rng.normal(size=dims)).astype("float32")

    return {
        "inputs": normal(t, b, d),
        "kernel": normal(d, 3 * h, scale=d**-0.5),
        "bias": np.zeros(3 * h, "float32"),
        "initial_state": np.zeros((b, h), "float32"),
        "recurrent_kernel": normal(h, 3 * h, scale=h**-0.5),
        "d_states": normal(t, b, h),
        "state": normal(b, h),
    }


def jax_parts(shape: dict) -> dict:
    """Each part of a step at `shape` on JAX, by key."""
    import jax
    import jax.numpy as jnp

    from keras_gru_cell._fused import jax_loop
    from keras_gru_cell._fused import loop

    a = {k: jnp.asarray(v) for k, v in _arrays(shape).items()}
    h = shape["units"]
    u_zr, u_h, u = (
        a["recurrent_kernel"][:, : 2 * h],
        a["recurrent_kernel"][:, 2 * h :],
        a["recurrent_kernel"],
    )
    x, y = _data(shape, FIT_BATCHES)
    model = _keras_model("ChungGRU", None, shape)

    def fused(inputs, recurrent_kernel, kernel):
        return jax_loop.run(
            inputs, a["initial_state"], recurrent_kernel, None, None, kernel, a["bias"]
        )

    @jax.jit
    def layer(inputs, recurrent_kernel, kernel):
        states, pullback = jax.vjp(fused, inputs, recurrent_kernel, kernel)
        return states, pullback(a["d_states"])

    @jax.jit
    def forward(inputs, recurrent_kernel, kernel):
        return loop.forward(
            inputs,
            a["initial_state"],
            recurrent_kernel,
            None,
            None,
            kernel=kernel,
            bias=a["bias"],
        )

    states, (gates, candidates) = forward(a["inputs"], u, a["kernel"])

    @jax.jit
    def backward(d_states, states, gates, candidates):
        d_projected, d_initial, d_recurrent = loop.backward(
            d_states, states, gates, candidates, a["initial_state"], u, None, None
        )
        return (
            d_initial,
            d_recurrent,
            *loop.project_backward(d_projected, a["inputs"], a["kernel"], a["bias"]),
        )

    previous = jnp.concatenate([a["initial_state"][None], states[:-1]])

    @jax.jit
    def backward_loop(d_states, previous, gates, candidates):
        return loop.backward_loop(d_states, previous, gates, candidates, u, None, None)

    # The floors keep a step's products dependent as the GRU's are, with one
    # cheap multiply between them so that the values stay bounded.
    def scan(step, init):
        return jax.lax.scan(lambda c, _: (step(c), None), init, length=shape["time"])[0]

    @jax.jit
    def two_products(state):
        return scan(lambda s: (0.01 * (s @ u_zr)[:, h:]) @ u_h, state)

    @jax.jit
    def two_products_backward(d_state):
        return scan(
            lambda d: 0.01 * (jnp.tile(0.01 * (d @ u_h.T), (1, 2)) @ u_zr.T), d_state
        )

    @jax.jit
    def one_product(state):
        return scan(lambda s: 0.01 * (s @ u)[:, :h], state)

    @jax.jit
    def one_large_gemm(states):
        return jnp.einsum("tbh,hk->tbk", states, u)

    def ready(function, *args):
        return lambda: jax.block_until_ready(function(*args))

    inputs = (a["inputs"], u, a["kernel"])
    residuals = (a["d_states"], states, gates, candidates)
    step = 3 * forward_flops(shape)
    products = recurrent_flops(shape)
    return {
        "fit": Part(
            "fit: the whole training step",
            lambda: model.fit(x, y, batch_size=shape["batch"], verbose=0),
            step,
            FIT_BATCHES,
        ),
        "layer": Part("layer: forward and backward", ready(layer, *inputs), step),
        "forward": Part(
            "forward loop, keeping residuals", ready(forward, *inputs), step / 3
        ),
        "backward": Part(
            "backward: loop and weight products",
            ready(backward, *residuals),
            2 * step / 3,
        ),
        "backward_loop": Part(
            "backward loop alone",
            ready(backward_loop, a["d_states"], previous, gates, candidates),
            products,
        ),
        "forward_floor": Part(FORWARD_FLOOR, ready(two_products, a["state"]), products),
        "backward_floor": Part(
            BACKWARD_FLOOR, ready(two_products_backward, a["state"]), products
        ),
        "one_product_floor": Part(
            ONE_PRODUCT_FLOOR, ready(one_product, a["state"]), products
        ),
        "large_gemm_floor": Part(
            "floor: every step's products as one large GEMM",
            ready(one_large_gemm, states),
            products,
        ),
    }


def torch_parts(shape: dict) -> dict:
    """Each part of a step at `shape` on PyTorch, by key."""
    import torch

    from keras_gru_cell.chung_gru import ChungGRU

    torch.manual_seed(0)
    a = {k: torch.from_numpy(v) for k, v in _arrays(shape).items()}
    h = shape["units"]
    u = a["recurrent_kernel"]
    u_zr, u_h = u[:, : 2 * h], u[:, 2 * h :]
    batch_major = a["inputs"].transpose(0, 1).contiguous().requires_grad_()
    d_states = a["d_states"].transpose(0, 1).contiguous()
    builtin = torch.nn.GRU(shape["features"], h, batch_first=True)
    chung = ChungGRU(h, return_sequences=True)
    chung.build(tuple(batch_major.shape))

    def builtin_step():
        outputs, _ = builtin(batch_major)
        outputs.backward(d_states)

    def chung_step():
        chung(batch_major).backward(d_states)

    def loop(step, init):
        with torch.no_grad():
            for _ in range(shape["time"]):
                init = step(init)
        return init

    def two_products():
        return loop(lambda s: (0.01 * (s @ u_zr)[:, h:]) @ u_h, a["state"])

    def two_products_backward():
        return loop(
            lambda d: 0.01 * ((0.01 * (d @ u_h.T)).repeat(1, 2) @ u_zr.T), a["state"]
        )

    def one_product():
        return loop(lambda s: 0.01 * (s @ u)[:, :h], a["state"])

    step = 3 * forward_flops(shape)
    products = recurrent_flops(shape)
    return {
        "builtin": Part("torch.nn.GRU: forward and backward", builtin_step, step),
        "layer": Part("ChungGRU: forward and backward", chung_step, step),
        "forward_floor": Part(FORWARD_FLOOR, two_products, products),
        "backward_floor": Part(BACKWARD_FLOOR, two_products_backward, products),
        "one_product_floor": Part(ONE_PRODUCT_FLOOR, one_product, products),
    }


PARTS = {"jax": jax_parts, "torch": torch_parts}


def measure(parts: dict, min_rounds: int, max_seconds: float) -> dict:
    """Median seconds of each part, the parts taking turns round by round so
    that a shared machine's load falls on all of them alike."""
    for part in parts.values():
        part.function()
    times = {name: [] for name in parts}
    start = time.perf_counter()
    while (
        len(next(iter(times.values()))) < min_rounds
        or time.perf_counter() - start < max_seconds
    ):
        for name, part in parts.items():
            times[name].append(_timed(part.function))
    return {name: (statistics.median(t), len(t)) for name, t in times.items()}


def run(args) -> dict:
    backend = keras.backend.backend()
    if backend not in PARTS:
        sys.exit(
            f"training_step_profile.py profiles JAX and PyTorch; KERAS_BACKEND is "
            f"{backend!r} (TensorFlow's fused loop is XLA's, as JAX's is)."
        )
    shapes = {"tiny": TINY_SHAPE} if args.tiny else {s: SHAPES[s] for s in args.shapes}
    rates = gemm_rates((256,) if args.tiny else (1024, 2048))
    peak = max(rates.values())
    results = []
    for shape_name, shape in shapes.items():
        parts = PARTS[backend](shape)
        timed = measure(parts, args.min_rounds, args.max_seconds)
        for key, (seconds, rounds) in timed.items():
            part = parts[key]
            flops = part.flops
            seconds /= part.batches
            results.append(
                {
                    "shape": shape_name,
                    "part": key,
                    "label": part.label,
                    "ms_per_batch": 1e3 * seconds,
                    "gflop": flops / 1e9,
                    "fraction_of_gemm_peak": flops / seconds / peak,
                    "rounds": rounds,
                }
            )
            print(
                f"{shape_name:6} {part.label:62} {1e3 * seconds:9.2f} ms "
                f"{100 * flops / seconds / peak:5.1f}% of the GEMM peak",
                flush=True,
            )
    return {
        **environment(),
        "settings": {
            "command": shlex.join([f"KERAS_BACKEND={backend}", "python", *sys.argv]),
            "shapes": shapes,
            "gemm_peak_gflops": peak / 1e9,
            "gemm_rates_gflops": {name: rate / 1e9 for name, rate in rates.items()},
        },
        "results": results,
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", nargs="+", choices=PROFILED_SHAPES, default=list(PROFILED_SHAPES)
    )
    parser.add_argument(
        "--min-rounds",
        type=int,
        default=10,
        help="time every part at least this many times (default 10)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=30.0,
        help="keep taking rounds until this many seconds per shape (default 30)",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="one tiny shape, for a smoke test"
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = run(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"training_step_profile_{keras.backend.backend()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()

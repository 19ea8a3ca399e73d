"""Where a training step of `ChungGRU` spends its time, and what the machine allows.

The Benchmarks page times whole training steps; this script splits one
batch's training step into its parts at the large and long shapes, each
timed on its own as a compiled function, and times beside them the floors
the paper's math sets: the recurrent products alone, in the same loop,
without the gates' elementwise math. Every part is reported in milliseconds
per batch and as a share of the measured GEMM peak (the best rate of NumPy's
BLAS and of the backend's own library, before the parts are timed and
after), so a shortfall names its place: the products (the machine's
small-matrix rate), the loop around them, the elementwise math, or the rest
of `fit`.

On JAX (`KERAS_BACKEND=jax`) and TensorFlow (`KERAS_BACKEND=tensorflow`) the
parts are XLA programs, each backend's own XLA:

- `fit`: the whole step, `model.fit` over 8 batches divided by 8
  (`ChungGRU` and a `Dense(1)` head, Adam, mean squared error, Keras's
  default compilation), in a process of its own, as on the Benchmarks page;
- the layer's forward and backward passes (the weights' gradients, as in
  `fit`);
- the forward loop keeping its residuals; the backward pass `fit` runs (on
  JAX a loop that adds each step's share of the weight gradients; on
  TensorFlow the loop, then the weight products over all steps at once) and
  its loop alone; on JAX also the backward pass that runs under a Keras
  distribution instead (its loop, then the weight products), timed apart and
  in one program with the forward pass, as `fit` would run it;
- floors: the forward's two dependent products a step, `h U_zr` and then
  `(r h) U_h`; the backward's two, `d_h~ U_h^T` and then `d_zr U_zr^T`; one
  product of all three gates a step, `h U`, the structure of `GRU()` and
  `torch.nn.GRU`, whose reset gate acts after the product; and every step's
  recurrent products as one large GEMM, the rate those FLOPs reach outside
  a loop.

It also records, from the compiled program's text, what runs the forward
loop's products: XLA's own dot, or a library XLA hands them to (YNNPACK,
XNNPACK, oneDNN); and, for every part, the memory its process maps fresh
from the kernel a batch (its minor page faults, from `/proc`). XLA's CPU
runtime allocates a program's temporaries as one block each call, and glibc
maps a block larger than `GLIBC_MMAP_CEILING` fresh every time (mallopt(3),
`M_MMAP_THRESHOLD`): every page of it then faults in again, and the same
arithmetic takes longer in one large program than in its parts.

On PyTorch (`KERAS_BACKEND=torch`) the parts are eager: `torch.nn.GRU`'s and
`ChungGRU`'s forward and backward passes, each in a process of its own, and
the same floors in PyTorch's own loop. In one process the two passes shared
a heap, and each one's fresh memory depended on what the other had freed.

To reproduce (each writes `benchmarks/results/training_step_profile_<backend>.json`):

    KERAS_BACKEND=jax python benchmarks/training_step_profile.py
    KERAS_BACKEND=tensorflow python benchmarks/training_step_profile.py
    KERAS_BACKEND=torch python benchmarks/training_step_profile.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
from backward_crossover import traced_passes
from keras import ops
from recurrent_throughput import RESULTS_DIR
from recurrent_throughput import SHAPES
from recurrent_throughput import TINY_SHAPE
from recurrent_throughput import _data
from recurrent_throughput import forward_flops
from recurrent_throughput import gemm_rates
from recurrent_throughput import start_model

import _turns as turns
from _environment import environment

PROFILED_SHAPES = ("large", "long")
FORWARD_FLOOR = "floor: forward's two dependent products a step"
BACKWARD_FLOOR = "floor: backward's two dependent products a step"
ONE_PRODUCT_FLOOR = "floor: one product of all gates a step (GRU(), torch.nn.GRU)"
# Products of each library and size timed before the parts and again after:
# the best of them all is the peak. On a shared machine the best of a few, at
# one moment, moved by a quarter between runs.
GEMM_REPEATS = 10
# What marks, in a compiled XLA program's text, a product that XLA hands to
# a library; an unmarked `dot` runs in XLA's own code.
LIBRARY_MARKERS = {
    "__ynn_fusion": "YNNPACK",
    "__xnn_fusion": "XNNPACK",
    "__onednn": "oneDNN",
}
# Batches per timed `fit` call, as in `recurrent_throughput.py`: one call's
# own setup is then shared between them.
FIT_BATCHES = 8
# The largest block glibc's malloc takes back into its own heap on 64-bit
# Linux, the top of `M_MMAP_THRESHOLD`'s range (mallopt(3)): a freed block
# above it goes back to the kernel, and the next one is mapped afresh.
GLIBC_MMAP_CEILING = 32 * 2**20


class Part(NamedTuple):
    """One timed part of a training step."""

    label: str
    function: Callable[[], object]
    flops: float  # per batch
    batches: int = 1  # per call of `function`
    pid: int | None = None  # the process that runs it, if not this one


def recurrent_flops(shape: dict) -> float:
    """FLOPs of one pass of the recurrent products over a batch: `h U`, all gates."""
    return 2 * shape["time"] * shape["batch"] * shape["units"] * 3 * shape["units"]


def _arrays(shape: dict) -> dict:
    """Time-major inputs, weights and a cotangent, seeded, as float32 NumPy.

    Like those of `fit` on the Benchmarks page: its inputs, Keras's default
    initializers (Glorot-uniform kernel, orthogonal recurrent kernel, zero
    bias), and the gradient of a loss on the last state alone, which the
    backward loop carries back through every step. The loops' speed depends
    on the values: with arbitrary weights, the layer's passes took longer
    than the whole `fit` step they are part of.
    """
    rng = np.random.default_rng(0)
    b, t, d, h = (shape[k] for k in ("batch", "time", "features", "units"))
    inputs, _ = _data(shape, 1)
    limit = (6 / (d + 3 * h)) ** 0.5
    orthogonal, _ = np.linalg.qr(rng.normal(size=(3 * h, h)))
    d_last = rng.normal(size=(b, h)).astype("float32")
    d_states = np.zeros((t, b, h), "float32")
    d_states[-1] = d_last
    return {
        "inputs": np.ascontiguousarray(inputs.transpose(1, 0, 2)),
        "kernel": rng.uniform(-limit, limit, size=(d, 3 * h)).astype("float32"),
        "bias": np.zeros(3 * h, "float32"),
        "initial_state": np.zeros((b, h), "float32"),
        "recurrent_kernel": orthogonal.T.astype("float32"),
        "d_states": d_states,
        "d_last": d_last,
        "state": rng.normal(size=(b, h)).astype("float32"),
    }


def _forward_loop(inputs, initial_state, recurrent_kernel, kernel, bias):
    """The layer's forward loop, each step projecting its own inputs, as in
    `fit` of a model that reads the last state: that state and the
    residuals."""
    from keras_gru_cell._fused import loop

    states, residuals = loop.forward(
        inputs, initial_state, recurrent_kernel, None, None, kernel=kernel, bias=bias
    )
    return states[-1], residuals


def _forward_loop_arguments(shape: dict) -> tuple:
    """`_forward_loop`'s arguments at `shape`, from `_arrays`."""
    a = _arrays(shape)
    names = ("inputs", "initial_state", "recurrent_kernel", "kernel", "bias")
    return tuple(a[name] for name in names)


def _fit(shape: dict, children: list) -> Part:
    """`fit`'s whole step for `ChungGRU`, default-compiled, in a process of
    its own as on the Benchmarks page (`recurrent_throughput.measure` says
    why); this process times each request, its round trip included, and
    adds the child to `children` for the caller to stop."""
    child = start_model("ChungGRU", "auto", shape, FIT_BATCHES)
    children.append(child)
    return Part(
        "fit: the whole training step",
        lambda: turns.timed(child, "train"),
        3 * forward_flops(shape),
        FIT_BATCHES,
        child.pid,
    )


def _floors(arrays: dict, states, shape: dict, jit, ready) -> dict:
    """The floors at `shape`, in `keras.ops`, each compiled by `jit` and
    waited for by `ready`, by key; `states` are every step's, `(time, batch,
    units)`, for the one large GEMM.

    They keep a step's products dependent as the GRU's are, with one cheap
    multiply between them so that the values stay bounded; as in the layer's
    loops, the weights are sliced and transposed before the loop.
    """
    h = shape["units"]
    u = arrays["recurrent_kernel"]
    u_zr, u_h = u[:, : 2 * h], u[:, 2 * h :]

    def repeat(step, init):
        return ops.fori_loop(0, shape["time"], lambda _, carry: step(carry), init)

    def two_products(state, u_zr, u_h):
        return repeat(
            lambda s: ops.matmul(0.01 * ops.matmul(s, u_zr)[:, h:], u_h), state
        )

    def two_products_backward(d_state, u_zr, u_h):
        u_zr_t, u_h_t = ops.transpose(u_zr), ops.transpose(u_h)
        return repeat(
            lambda d: (
                0.01 * ops.matmul(ops.tile(0.01 * ops.matmul(d, u_h_t), (1, 2)), u_zr_t)
            ),
            d_state,
        )

    def one_product(state, u):
        return repeat(lambda s: 0.01 * ops.matmul(s, u)[:, :h], state)

    def one_large_gemm(states, u):
        return ops.einsum("tbh,hk->tbk", states, u)

    state = arrays["state"]
    products = recurrent_flops(shape)
    return {
        "forward_floor": Part(
            FORWARD_FLOOR, ready(jit(two_products), state, u_zr, u_h), products
        ),
        "backward_floor": Part(
            BACKWARD_FLOOR,
            ready(jit(two_products_backward), state, u_zr, u_h),
            products,
        ),
        "one_product_floor": Part(
            ONE_PRODUCT_FLOOR, ready(jit(one_product), state, u), products
        ),
        "large_gemm_floor": Part(
            "floor: every step's products as one large GEMM",
            ready(jit(one_large_gemm), states, u),
            products,
        ),
    }


def _passes(
    functions: tuple, backward_label: str, ready, arguments: tuple, residuals, shape
) -> dict:
    """The layer's passes at `shape`, by key, each waited for by `ready`:
    `functions` are the layer's forward and backward passes, its forward
    loop and its backward pass, which take `arguments` (the inputs, initial
    state and weights) after the cotangent of the last state and the residuals,
    respectively; that cotangent is the residuals' first item."""
    layer, forward, backward = functions
    step = 3 * forward_flops(shape)
    return {
        "layer": Part(
            "layer: forward and backward",
            ready(layer, *arguments, residuals[0]),
            step,
        ),
        "forward": Part(
            "forward loop, keeping residuals", ready(forward, *arguments), step / 3
        ),
        "backward": Part(
            backward_label, ready(backward, residuals, *arguments), 2 * step / 3
        ),
    }


def jax_parts(shape: dict) -> dict:
    """Each part of a step at `shape` on JAX, by key."""
    import jax
    import jax.numpy as jnp

    from keras_gru_cell._fused import jax_loop
    from keras_gru_cell._fused import loop

    a = {k: jnp.asarray(v) for k, v in _arrays(shape).items()}
    u = a["recurrent_kernel"]

    # Every array is an argument: XLA folds an array a function closes over
    # into its program as a constant, which made a loop that slices one each
    # step slower than it runs in `fit`.
    initial_state, bias = a["initial_state"], a["bias"]

    # As in `fit`, the gradients are the weights', not the inputs'. Each call
    # makes a function of its own, with a compilation cache of its own.
    def make_layer():
        @jax.jit
        def layer(inputs, initial_state, recurrent_kernel, kernel, bias, d_last):
            def fused(*weights):
                return jax_loop.run(
                    inputs,
                    initial_state,
                    weights[0],
                    None,
                    None,
                    *weights[1:],
                    last_only=True,
                )

            last, pullback = jax.vjp(fused, recurrent_kernel, kernel, bias)
            return last, pullback(d_last)

        return layer

    layer = make_layer()
    forward = jax.jit(_forward_loop)
    arguments = (a["inputs"], initial_state, u, a["kernel"], bias)
    _, (previous, gates, candidates) = forward(*arguments)
    residuals = (a["d_last"], previous, gates, candidates)

    @jax.jit
    def backward(residuals, inputs, initial_state, recurrent_kernel, kernel, bias):
        _, *gradients = loop.accumulating_backward(
            *residuals,
            recurrent_kernel,
            None,
            None,
            inputs,
            kernel,
            bias,
        )
        return gradients

    @jax.jit
    def backward_distributed(
        residuals, inputs, initial_state, recurrent_kernel, kernel, bias
    ):
        d_projected, *gradients = loop.backward(
            *residuals, recurrent_kernel, None, None
        )
        _, *weights = loop.project_backward(d_projected, inputs, kernel, bias)
        return *gradients, *weights

    @jax.jit
    def backward_loop(d_last, previous, gates, candidates, recurrent_kernel):
        return loop.backward_loop(
            d_last, previous, gates, candidates, recurrent_kernel, None, None
        )

    def ready(function, *args):
        return lambda: jax.block_until_ready(function(*args))

    passes = _passes(
        (layer, forward, backward),
        "backward loop, adding each step's weight products",
        ready,
        arguments,
        residuals,
        shape,
    )
    # `jax_loop` picks its backward pass as it traces, so the first call,
    # under a one-device distribution, fixes the pass of every later one.
    layer_distributed = make_layer()
    distribution = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()[:1]
    )
    with distribution.scope():
        ran = traced_passes(ready(layer_distributed, *arguments, residuals[0]))
    if ran != {"backward"}:
        raise SystemExit(f"under a distribution, the layer ran {sorted(ran)}")
    return {
        **passes,
        "layer_distributed": Part(
            "layer under a distribution: forward and backward",
            ready(layer_distributed, *arguments, residuals[0]),
            passes["layer"].flops,
        ),
        "backward_distributed": Part(
            "backward under a distribution: loop, then weight products",
            ready(backward_distributed, residuals, *arguments),
            passes["backward"].flops,
        ),
        "backward_loop": Part(
            "that backward loop alone",
            ready(backward_loop, a["d_last"], previous, gates, candidates, u),
            recurrent_flops(shape),
        ),
        **_floors(a, previous, shape, jax.jit, ready),
    }


def tensorflow_parts(shape: dict) -> dict:
    """Each part of a step at `shape` on TensorFlow, by key."""
    import tensorflow as tf

    from keras_gru_cell._fused import loop
    from keras_gru_cell._fused import tensorflow_loop

    a = {k: tf.constant(v) for k, v in _arrays(shape).items()}
    u = a["recurrent_kernel"]
    arguments = (a["inputs"], a["initial_state"], u, a["kernel"], a["bias"])
    # The compiled loops `fit` runs, from the cache the layer reads.
    forward = tensorflow_loop._xla_compiled(tensorflow_loop._forward_to_last_state)
    backward_loop = tensorflow_loop._xla_compiled(loop.backward_loop)

    # As in `fit`: a graph that calls the compiled loops, and the gradients
    # of the weights, not of the inputs.
    @tf.function
    def layer(inputs, initial_state, recurrent_kernel, kernel, bias, d_last):
        weights = (recurrent_kernel, kernel, bias)
        with tf.GradientTape() as tape:
            tape.watch(weights)
            last = tensorflow_loop.run(
                *(inputs, initial_state, recurrent_kernel, None, None, kernel, bias),
                training=True,
                last_only=True,
            )
        return last, tape.gradient(last, weights, output_gradients=d_last)

    def forward_pass(inputs, initial_state, recurrent_kernel, kernel, bias):
        return forward(
            inputs,
            initial_state,
            recurrent_kernel,
            None,
            None,
            residuals=True,
            kernel=kernel,
            bias=bias,
        )

    _, (previous, gates, candidates) = forward_pass(*arguments)
    residuals = (a["d_last"], previous, gates, candidates)

    @tf.function
    def backward(residuals, inputs, initial_state, recurrent_kernel, kernel, bias):
        d_projected, *gradients = loop.backward(
            *residuals, recurrent_kernel, None, None, loop=backward_loop
        )
        _, *weights = loop.project_backward(d_projected, inputs, kernel, bias)
        return *gradients, *weights

    def ready(function, *args):
        # TensorFlow's eager calls return once their results are computed.
        return lambda: function(*args)

    return {
        **_passes(
            (layer, forward_pass, backward),
            "backward: loop, then weight products",
            ready,
            arguments,
            residuals,
            shape,
        ),
        "backward_loop": Part(
            "that backward loop alone",
            ready(
                backward_loop,
                a["d_last"],
                previous,
                gates,
                candidates,
                u,
                None,
                None,
            ),
            recurrent_flops(shape),
        ),
        **_floors(
            a, previous, shape, lambda f: tf.function(f, jit_compile=True), ready
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


# PyTorch's parts that each run in a process of their own (`torch_layers_apart`).
TORCH_LAYERS = ("builtin", "layer")


def torch_layers_apart(shape_name: str, parts: dict, children: list) -> dict:
    """`torch_parts`'s layer passes, each run by a child process that serves
    it alone (`--torch-layer`), by key; this process times each request, its
    round trip included, and adds the children to `children` for the caller
    to stop."""
    apart = {}
    for key in TORCH_LAYERS:
        shape_argv = ["--tiny"] if shape_name == "tiny" else ["--shapes", shape_name]
        child = turns.start(
            __file__,
            ["--torch-layer", key, *shape_argv],
            parts[key].label,
            {**os.environ, "KERAS_BACKEND": "torch"},
        )
        children.append(child)
        apart[key] = parts[key]._replace(
            function=lambda child=child, key=key: turns.timed(child, key),
            pid=child.pid,
        )
    return apart


PARTS = {"jax": jax_parts, "tensorflow": tensorflow_parts, "torch": torch_parts}


def products_library(compiled: str) -> str:
    """What runs the products of a compiled XLA program, from its text."""
    found = [name for marker, name in LIBRARY_MARKERS.items() if marker in compiled]
    return " and ".join(found) or "XLA's own dot"


def jax_forward_loop_text(shape: dict) -> str:
    """The compiled text of the layer's forward loop at `shape` on JAX."""
    import jax

    lowered = jax.jit(_forward_loop).lower(*_forward_loop_arguments(shape))
    return lowered.compile().as_text()


def tensorflow_forward_loop_text(shape: dict) -> str:
    """The compiled text of the layer's forward loop at `shape` on
    TensorFlow."""
    import tensorflow as tf

    forward = tf.function(_forward_loop, jit_compile=True)
    arguments = map(tf.constant, _forward_loop_arguments(shape))
    return forward.experimental_get_compiler_ir(*arguments)(stage="optimized_hlo")


# The backends whose loops XLA compiles, and the compiled text of each one's.
FORWARD_LOOP_TEXTS = {
    "jax": jax_forward_loop_text,
    "tensorflow": tensorflow_forward_loop_text,
}
# PyTorch's profile times the layers' passes beside `torch.nn.GRU`'s, not `fit`.
FIT_BACKENDS = ("jax", "tensorflow")


def minor_faults(pid: int | None = None) -> int:
    """The minor page faults process `pid` (this one by default) has taken,
    the tenth field of its `/proc/<pid>/stat`."""
    stat = Path(f"/proc/{pid or 'self'}/stat").read_text()
    # The second field, the command's name, may hold spaces; it ends at the
    # last parenthesis, and the third field follows it.
    return int(stat.rpartition(")")[2].split()[7])


class Measured(NamedTuple):
    """One part's medians over the rounds."""

    seconds: float  # a call
    faults: float  # minor page faults a call, in the process that ran it
    rounds: int


def measure(parts: dict, min_rounds: int, max_seconds: float) -> dict:
    """Each part's `Measured`, the parts taking turns round by round so that
    a shared machine's load falls on all of them alike."""
    for part in parts.values():
        part.function()
    times = {name: [] for name in parts}
    faults = {name: [] for name in parts}
    start = time.perf_counter()
    while (
        len(next(iter(times.values()))) < min_rounds
        or time.perf_counter() - start < max_seconds
    ):
        for name, part in parts.items():
            before = minor_faults(part.pid)
            times[name].append(turns.seconds(part.function))
            faults[name].append(minor_faults(part.pid) - before)
    return {
        name: Measured(
            statistics.median(times[name]), statistics.median(faults[name]), len(t)
        )
        for name, t in times.items()
    }


def run(args) -> dict:
    backend = keras.backend.backend()
    if backend not in PARTS:
        sys.exit(
            f"training_step_profile.py profiles {', '.join(PARTS)}; KERAS_BACKEND "
            f"is {backend!r}."
        )
    shapes = _shapes(args)
    sizes = (256,) if args.tiny else (1024, 2048)
    rates = gemm_rates(sizes, GEMM_REPEATS)
    timed = {}
    for shape_name, shape in shapes.items():
        children = []
        try:
            parts = PARTS[backend](shape)
            if backend in FIT_BACKENDS:
                parts = {"fit": _fit(shape, children), **parts}
            else:
                parts |= torch_layers_apart(shape_name, parts, children)
            timed[shape_name] = parts, measure(parts, args.min_rounds, args.max_seconds)
        finally:
            turns.stop(children)
    later = gemm_rates(sizes, GEMM_REPEATS)
    rates = {name: max(rate, later[name]) for name, rate in rates.items()}
    peak = max(rates.values())
    results = []
    page_mib = resource.getpagesize() / 2**20
    for shape_name, (parts, times) in timed.items():
        for key, (seconds, faults, rounds) in times.items():
            part = parts[key]
            flops = part.flops
            seconds /= part.batches
            fresh_mib = faults * page_mib / part.batches
            results.append(
                {
                    "shape": shape_name,
                    "part": key,
                    "label": part.label,
                    "ms_per_batch": 1e3 * seconds,
                    "gflop": flops / 1e9,
                    "fraction_of_gemm_peak": flops / seconds / peak,
                    "fresh_mib_per_batch": fresh_mib,
                    "rounds": rounds,
                }
            )
            print(
                f"{shape_name:6} {part.label:62} {1e3 * seconds:9.2f} ms "
                f"{100 * flops / seconds / peak:5.1f}% of the GEMM peak "
                f"{fresh_mib:7.1f} MiB mapped fresh",
                flush=True,
            )
    report = {
        **environment(),
        "settings": {
            "command": shlex.join([f"KERAS_BACKEND={backend}", "python", *sys.argv]),
            "shapes": shapes,
            "gemm_peak_gflops": peak / 1e9,
            "gemm_rates_gflops": {name: rate / 1e9 for name, rate in rates.items()},
            "gemm_timing": f"the best of {GEMM_REPEATS} products before the parts "
            f"were timed and {GEMM_REPEATS} after",
            "glibc_mmap_ceiling_mib": GLIBC_MMAP_CEILING / 2**20,
        },
        "results": results,
    }
    if backend in FORWARD_LOOP_TEXTS:
        report["settings"]["forward_loop_products"] = {
            name: products_library(FORWARD_LOOP_TEXTS[backend](shape))
            for name, shape in shapes.items()
        }
    return report


def _shapes(args) -> dict:
    """The shapes to profile, by name."""
    return {"tiny": TINY_SHAPE} if args.tiny else {s: SHAPES[s] for s in args.shapes}


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
    # A child's part: one of PyTorch's layer passes at one shape, served.
    parser.add_argument("--torch-layer", choices=TORCH_LAYERS, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.torch_layer:
        [shape] = _shapes(args).values()
        turns.serve({args.torch_layer: torch_parts(shape)[args.torch_layer].function})
        return {}
    report = run(args)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"training_step_profile_{keras.backend.backend()}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()

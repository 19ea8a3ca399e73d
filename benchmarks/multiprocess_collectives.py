"""The cost of a collective between 2 JAX processes on one CPU: a minimal case.

Pure JAX, no Keras. Two processes, each pinned to its own core and holding
one CPU device, connected by `jax.distributed.initialize` on 127.0.0.1, time
three jitted programs on a batch sharded between them:

- `all-reduce`: one all-reduce of 1,000 floats, a small model's gradients;
- `RNN gradient`: the gradient of a tanh RNN over `--steps` steps, by JAX's
  autodiff of `lax.scan`; the partitioner all-reduces the weight gradient
  inside the backward loop, once per step, as it does for Keras's `RNN` and
  `GRU` layers;
- `RNN gradient, reduced once`: the same gradient, the weight gradient
  formed after the loop from the per-step terms, so one all-reduce in all
  (as `ChungGRU`'s backward pass does).

Beside them, one process on one core runs the same programs on its share
of the batch, without collectives: the time a perfect exchange would cost.
Two references, not JAX: `all-reduce, PyTorch gloo`, the same 1,000 floats
all-reduced by `torch.distributed` over its own build of gloo, between two
processes pinned the same way (one process: a group of one); and `TCP round
trip`, one byte there and back between the JAX processes, from Python.
Besides the mean time a call, each program reports the median call, and
the share of the wall time that the busiest thread other than the main one
spent on the CPU (from `/proc`): a thread that busy-waits for the other
process holds its process's only core until the kernel's scheduler tick,
whose length the report states when the kernel says it
(`/proc/config.gz`).
Each configuration runs `--rounds` times, taking turns with the others, so
that a loaded machine's changing load falls on all alike; the statistic is
the median. `--xla-flags` and `--collectives` (JAX's
`jax_cpu_collectives_implementation`) set what the two processes run with.

Usage:

    python benchmarks/multiprocess_collectives.py
    python benchmarks/multiprocess_collectives.py --no-pin
    python benchmarks/multiprocess_collectives.py \\
        --xla-flags=--xla_cpu_multi_thread_eigen=false

Needs two CPU cores.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shlex
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

from _children import add_child_options
from _children import free_port
from _children import join_torch_processes
from _children import report_and_leave_torch_processes
from _children import run_together
from _environment import cpu_name

REPEATS = 50
# Floats in the lone all-reduce: a small model's gradients.
ALL_REDUCE_SIZE = 1000
TORCH_ALL_REDUCE = "all-reduce, PyTorch gloo"


def _programs(steps: int, batch: int, units: int):
    """`{name: (function, arguments)}`, each over a batch of `batch` rows per device."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
    rows = NamedSharding(mesh, P(None, "batch"))
    replicated = NamedSharding(mesh, P())
    rng = np.random.default_rng(jax.process_index())
    local = rng.standard_normal((steps, batch, units)).astype(np.float32)
    inputs = jax.make_array_from_process_local_data(rows, local)
    weights = jax.device_put(
        np.random.default_rng(0).standard_normal((units, units)).astype(np.float32)
        / units**0.5,
        replicated,
    )
    gradients = jax.make_array_from_process_local_data(
        NamedSharding(mesh, P("batch")), np.ones((1, ALL_REDUCE_SIZE), np.float32)
    )

    def states(weights, inputs):
        def step(h, x):
            h = jnp.tanh(h @ weights + x)
            return h, h

        return jax.lax.scan(step, jnp.zeros(inputs.shape[1:]), inputs)[1]

    def loss(weights, inputs):
        return jnp.sum(states(weights, inputs) ** 2)

    def reduced_once(weights, inputs):
        # The same gradient by hand: the per-step terms from a backward
        # loop, the weight gradient from them after it.
        hs = states(weights, inputs)
        previous = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]])

        def step(d_next, h):
            d_h = 2 * h + d_next
            d_z = d_h * (1 - h * h)
            return d_z @ weights.T, d_z

        _, d_z = jax.lax.scan(step, jnp.zeros_like(hs[0]), hs, reverse=True)
        return jnp.tensordot(previous, d_z, axes=([0, 1], [0, 1]))

    return {
        "all-reduce": (
            jax.jit(lambda g: g.sum(axis=0), out_shardings=replicated),
            (gradients,),
        ),
        "RNN gradient": (
            jax.jit(jax.grad(loss), out_shardings=replicated),
            (weights, inputs),
        ),
        "RNN gradient, reduced once": (
            jax.jit(reduced_once, out_shardings=replicated),
            (weights, inputs),
        ),
    }


def _timed_calls(call) -> dict[str, float]:
    """`REPEATS` calls of `call`: mean and median ms, busiest thread's share."""
    call()
    calls = []
    before = _thread_cpu_seconds()
    start = time.perf_counter()
    for _ in range(REPEATS):
        call_start = time.perf_counter()
        call()
        calls.append(time.perf_counter() - call_start)
    wall = time.perf_counter() - start
    after = _thread_cpu_seconds()
    main_thread = threading.main_thread().native_id
    busiest = max(
        (after[tid] - before.get(tid, 0.0) for tid in after if tid != main_thread),
        default=0.0,
    )
    return {
        "ms": wall / REPEATS * 1000,
        "median_ms": statistics.median(calls) * 1000,
        "busiest_thread": busiest / wall,
    }


def _torch_child(args) -> None:
    """The reference: the same all-reduce through PyTorch's own gloo."""
    import torch

    torch.set_num_threads(1)
    join_torch_processes(args.coordinator, args.num_processes, args.process_id)
    gradients = torch.ones(ALL_REDUCE_SIZE)
    result = _timed_calls(lambda: torch.distributed.all_reduce(gradients))
    report_and_leave_torch_processes({TORCH_ALL_REDUCE: {**result, "all_reduces": 1}})


def _child(args) -> None:
    if not args.no_pin:
        os.sched_setaffinity(0, args.cpus)
    if args.torch:
        _torch_child(args)
        return
    import jax
    import numpy as np

    if args.collectives:
        jax.config.update("jax_cpu_collectives_implementation", args.collectives)
    if args.no_async_dispatch:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    if args.num_processes > 1:
        jax.distributed.initialize(
            args.coordinator, args.num_processes, args.process_id
        )
    programs = _programs(args.steps, args.batch, args.units)
    by_autodiff, by_hand = (
        np.asarray(function(*arguments))
        for name, (function, arguments) in programs.items()
        if name.startswith("RNN")
    )
    np.testing.assert_allclose(by_hand, by_autodiff, rtol=1e-4, atol=1e-4)
    result = {}
    for name, (function, arguments) in programs.items():
        text = function.lower(*arguments).compile().as_text()
        result[name] = {
            **_timed_calls(lambda f=function, a=arguments: f(*a).block_until_ready()),
            "all_reduces": _all_reduces_a_call(text, args.steps),
        }
    if args.num_processes > 1:
        result["TCP round trip"] = {"ms": _round_trip_ms(args), "all_reduces": 0}
    print(json.dumps(result))


def _thread_cpu_seconds() -> dict[int, float]:
    """CPU seconds of each live thread of this process.

    From `schedstat`, in nanoseconds, where the kernel keeps it; otherwise
    from `stat`, in clock ticks (10 ms on most kernels), too coarse for the
    few milliseconds that 50 fast calls take.
    """
    nanoseconds = Path("/proc/self/schedstat").exists()
    ticks_a_second = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for tid in os.listdir("/proc/self/task"):
        task = Path(f"/proc/self/task/{tid}")
        try:
            if nanoseconds:
                # The first field: time on the CPU.
                on_cpu = int((task / "schedstat").read_text().split()[0])
                seconds[int(tid)] = on_cpu / 1e9
                continue
            stat = (task / "stat").read_text()
        except FileNotFoundError:  # The thread has ended.
            continue
        # utime and stime, the 14th and 15th fields; the name may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / ticks_a_second
    return seconds


def _kernel_tick_ms() -> float | None:
    """The scheduler tick of the running kernel, where it says (`CONFIG_HZ`)."""
    try:
        config = gzip.decompress(Path("/proc/config.gz").read_bytes()).decode()
    except OSError:
        return None
    match = re.search(r"^CONFIG_HZ=(\d+)$", config, re.MULTILINE)
    return 1000 / int(match.group(1)) if match else None


def _all_reduces_a_call(hlo: str, steps: int) -> int:
    """All-reduces one call runs: those of a loop's body once a step."""
    bodies = set(re.findall(r"body=%([\w.-]+)", hlo))
    count, in_body = 0, False
    for line in hlo.splitlines():
        if not line.startswith(" ") and line.endswith("{"):
            in_body = line.split()[0].lstrip("%") in bodies
        elif " all-reduce(" in line or " all-reduce-start(" in line:
            count += steps if in_body else 1
    return count


def _round_trip_ms(args) -> float:
    """One small message there and back between the processes, over TCP
    from Python: what the machine itself takes to wake the other process."""
    host, port = args.coordinator.rsplit(":", 1)
    port = int(port) + 1
    if args.process_id == 0:
        with socket.create_server((host, port)) as server:
            peer = server.accept()[0]
    else:
        for _ in range(100):
            try:
                peer = socket.create_connection((host, port))
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
    with peer:
        peer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        start = time.perf_counter()
        for _ in range(10 * REPEATS):
            if args.process_id == 0:
                peer.sendall(b"x")
                peer.recv(1)
            else:
                peer.sendall(peer.recv(1))
        return (time.perf_counter() - start) / (10 * REPEATS) * 1000


def _run(children: list[list[str]], xla_flags: str | None) -> dict:
    """Runs the children together; returns process 0's measurements."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    if xla_flags:
        env["XLA_FLAGS"] = xla_flags
    return run_together(__file__, children, env)


def _measure(args) -> dict[str, dict[str, float]]:
    shape = [
        *["--steps", str(args.steps), "--batch", str(args.batch)],
        *["--units", str(args.units)],
    ]
    if args.collectives:
        shape += ["--collectives", args.collectives]
    shape += ["--no-pin"] * args.no_pin
    shape += ["--no-async-dispatch"] * args.no_async_dispatch
    runs = {"1 process × 1 core": [], "2 processes × 1 core": []}
    for _ in range(args.rounds):
        for configuration, num_processes in zip(runs, (1, 2), strict=True):
            for engine in ([], ["--torch"]):
                coordinator = f"127.0.0.1:{free_port()}"
                children = [
                    [
                        *shape,
                        *engine,
                        *["--cpus", str(i), "--coordinator", coordinator],
                        *["--num-processes", str(num_processes)],
                        *["--process-id", str(i)],
                    ]
                    for i in range(num_processes)
                ]
                result = _run(children, args.xla_flags)
                if engine:
                    runs[configuration][-1].update(result)
                else:
                    runs[configuration].append(result)
    return {
        configuration: {
            name: {
                **{
                    key: statistics.median(r[name][key] for r in results)
                    for key in ("ms", "median_ms", "busiest_thread")
                    # The TCP round trip has no per-call times.
                    if key in measured
                },
                "all_reduces": measured["all_reduces"],
            }
            for name, measured in results[0].items()
        }
        for configuration, results in runs.items()
    }


def _report(args, medians) -> str:
    import jax

    one, two = medians["1 process × 1 core"], medians["2 processes × 1 core"]
    settings = [
        f"XLA_FLAGS={args.xla_flags or '(none)'}",
        f"collectives: {args.collectives or 'default (gloo)'}",
        "each process on every core" if args.no_pin else "one core a process",
    ]
    if args.no_async_dispatch:
        settings.append("no async dispatch")
    tick = _kernel_tick_ms()
    lines = [
        f"jax {jax.__version__}, {os.cpu_count()} CPUs ({cpu_name()}), load average "
        f"{os.getloadavg()[0]:.1f} at the end; {'; '.join(settings)}",
        f"{args.steps} steps, {args.batch} rows a process, {args.units} units; "
        f"median of {args.rounds} rounds of {REPEATS} calls; the kernel's "
        f"scheduler tick: {'unknown' if tick is None else f'{tick:g} ms'}",
        "",
        f"{'program':<28} {'all-reduces':>11} {'1 process':>10} "
        f"{'2 processes':>12} {'ratio':>7} {'median call':>12} {'busiest thread':>15}",
    ]
    for name, measured in two.items():
        alone = f"{one[name]['ms']:>8.2f}ms" if name in one else f"{'—':>10}"
        ratio = f"{measured['ms'] / one[name]['ms']:>6.1f}×" if name in one else ""
        median_call = (
            f"{measured['median_ms']:.2f}ms" if "median_ms" in measured else "—"
        )
        busiest = (
            f"{measured['busiest_thread']:.0%}" if "busiest_thread" in measured else "—"
        )
        lines.append(
            f"{name:<28} {measured['all_reduces']:>11} {alone} "
            f"{measured['ms']:>10.2f}ms {ratio:>7} {median_call:>12} {busiest:>15}"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--xla-flags", help="XLA_FLAGS for every process")
    parser.add_argument(
        "--collectives", help="jax_cpu_collectives_implementation: gloo, mpi"
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="let every process use every core"
    )
    parser.add_argument(
        "--no-async-dispatch",
        action="store_true",
        help="set jax_cpu_enable_async_dispatch to False",
    )
    parser.add_argument(
        "--snippet", type=Path, help="also write the report to this Markdown file"
    )
    # The runs' own options.
    add_child_options(parser)
    parser.add_argument("--torch", action="store_true", help=argparse.SUPPRESS)
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.child:
        _child(args)
        return
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("This benchmark needs two CPU cores.")
    report = _report(args, _measure(args))
    print(report)
    if args.snippet is not None:
        command = shlex.join(
            ["python", "benchmarks/multiprocess_collectives.py", *sys.argv[1:]]
        )
        args.snippet.write_text(
            "<!-- written by benchmarks/multiprocess_collectives.py -->\n\n"
            f"```console\n$ {command}\n{report}\n```\n"
        )


if __name__ == "__main__":
    main()

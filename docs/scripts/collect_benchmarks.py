"""Turns the benchmark scripts' JSON and PNG files into the Benchmarks page's content.

`benchmarks/recurrent_throughput.py` writes
`benchmarks/results/recurrent_throughput_<backend>.json` and `.png` on each
backend it runs on, and `benchmarks/addition_serving.py`
`benchmarks/results/addition_serving_<backend>.json`. This script copies each
chart to docs/assets/benchmarks/ and writes docs/snippets/benchmarks.md: per
backend, the machine, the versions and the command of the run, the chart, a
summary of training and inference against the speed targets, and the full
table; then the addition model's serving figures, before and after the
serving path; docs/benchmarks.md includes it.
Nothing here is measured: every number comes from the JSON files.

Run from the repository root after the benchmarks:

    python docs/scripts/collect_benchmarks.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
ASSETS = ROOT / "docs" / "assets" / "benchmarks"
SNIPPET = ROOT / "docs" / "snippets" / "benchmarks.md"
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
BUILTIN_LAYERS = {"GRU(reset_after=False)", "GRU()"}
TORCH_GRU = "torch.nn.GRU"
CELLWISE = "RNN(ChungGRUCell)"
PAPERS_BUILTIN = "GRU(reset_after=False)"
BASELINE = "no recurrent layer"
NO_RESULTS = """!!! info "No results yet"
    Run `python benchmarks/recurrent_throughput.py` (with `KERAS_BACKEND` set
    to each backend), then `python docs/scripts/collect_benchmarks.py`: the
    tables and charts of each backend appear here.
"""


def speedup(
    row: dict, kind: str, paired_key: str = "chung_gru_speedup"
) -> tuple[float, float | None, float | None]:
    """`(median, low, high)`: how many times faster `ChungGRU` ran than `row`.

    The paired per-round statistic and its 95% interval that the run
    recorded as `paired_key` (against default-compiled `ChungGRU`, or
    against `ChungGRU` compiled as the row is); `low` and `high` are `None`
    when too few rounds give an interval.
    """
    paired = row[paired_key][kind]
    return paired["median"], paired["low"], paired["high"]


def format_speedup(value: tuple) -> str:
    median, low, high = value
    if low is None:
        return f"{median:.2f}×"
    return f"{median:.2f}× [{low:.2f}–{high:.2f}]"


def verdict(value: tuple, target: float) -> str:
    """Met, missed, or a tie with the target within the measurement's interval."""
    median, low, high = value
    if low is None:
        return "met" if median >= target else "missed"
    if low >= target:
        return "met"
    if high < target:
        return "missed"
    return "tie"


def _shape_rows(report: dict) -> dict[str, list[dict]]:
    shapes = {}
    for row in report["results"]:
        shapes.setdefault(row["shape"], []).append(row)
    return shapes


def _chung(rows: list[dict], jit_compile: str = "default") -> dict | None:
    return next(
        (
            r
            for r in rows
            if r["layer"] == "ChungGRU" and r["jit_compile"] == jit_compile
        ),
        None,
    )


def against(rows, kind, layers, jit_compile=None) -> tuple[tuple, dict] | None:
    """`ChungGRU`'s speedup over the row of `layers` it leads by least.

    With `jit_compile` None, default-compiled `ChungGRU` against every
    compilation of `layers`; otherwise `ChungGRU` against `layers`, both
    compiled with that `jit_compile`.
    """
    chung = _chung(rows, jit_compile or "default")
    candidates = [
        r
        for r in rows
        if r["layer"] in layers and jit_compile in (None, r["jit_compile"])
    ]
    if chung is None or not candidates:
        return None
    key = "chung_gru_speedup" if jit_compile is None else "same_compile_speedup"
    values = [(speedup(r, kind, key), r) for r in candidates]
    return min(values, key=lambda value_row: value_row[0][0])


def summary_table(report: dict) -> str:
    """Where default-compiled ChungGRU stands against the targets, per shape."""
    lines = [
        "| shape | ChungGRU train seq/s | train ÷ fastest built-in Keras GRU "
        "| ChungGRU infer seq/s | infer ÷ fastest built-in Keras GRU "
        "| infer ÷ fastest GRU(reset_after=False), the paper's math "
        "| infer ÷ RNN(ChungGRUCell), both default-compiled "
        "| ceiling: no recurrent layer ÷ that GRU, train "
        "| ÷ torch.nn.GRU train | ÷ torch.nn.GRU infer "
        "| peak MB: ChungGRU / built-in GRU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for shape, rows in _shape_rows(report).items():
        chung = _chung(rows)
        fastest_builtin = against(rows, "train", BUILTIN_LAYERS)
        baseline = max(
            (r for r in rows if r["layer"] == BASELINE),
            key=lambda r: r["train_seq_per_s"],
            default=None,
        )
        if fastest_builtin is None or baseline is None:
            ceiling = "—"
        else:
            builtin_rate = fastest_builtin[1]["train_seq_per_s"]
            ceiling = f"{baseline['train_seq_per_s'] / builtin_rate:.2f}×"

        def cell(kind, layers, jit_compile=None, rows=rows):
            found = against(rows, kind, layers, jit_compile)
            if found is None:
                return "—"
            value, row = found
            if row["layer"] == TORCH_GRU or jit_compile is not None:
                return format_speedup(value)
            return (
                f"{format_speedup(value)} "
                f"({row['layer']}, jit_compile={row['jit_compile']})"
            )

        memories = [
            r["peak_memory_mb"]
            for r in rows
            if r["layer"] in BUILTIN_LAYERS and r["peak_memory_mb"] is not None
        ]
        memory = (
            "—"
            if chung["peak_memory_mb"] is None or not memories
            else f"{chung['peak_memory_mb']:,.0f} / {min(memories):,.0f}"
        )
        lines.append(
            f"| {shape} | {chung['train_seq_per_s']:,.0f} "
            f"| {cell('train', BUILTIN_LAYERS)} "
            f"| {chung['infer_seq_per_s']:,.0f} "
            f"| {cell('infer', BUILTIN_LAYERS)} "
            f"| {cell('infer', {PAPERS_BUILTIN})} "
            f"| {cell('infer', {CELLWISE}, 'default')} "
            f"| {ceiling} | {cell('train', {TORCH_GRU})} "
            f"| {cell('infer', {TORCH_GRU})} "
            f"| {memory} |"
        )
    return "\n".join(lines)


class Target(NamedTuple):
    """One of issues #16's and #27's speed targets for `ChungGRU`."""

    name: str
    kind: str
    layers: frozenset
    speedup: float
    shapes: frozenset | None = None
    backends: frozenset | None = None
    # Against `layers` compiled as `ChungGRU` is, once per compilation;
    # otherwise default-compiled `ChungGRU` against any compilation.
    same_compile: bool = False


# Issue #27's target for training against the fastest built-in Keras GRU.
TRAINING_TARGET = 1.2
TARGETS = (
    Target(
        "inference ≥ 1.0× the fastest built-in Keras GRU",
        "infer",
        frozenset(BUILTIN_LAYERS),
        1.0,
    ),
    Target(
        "inference ≥ 1.0× RNN(ChungGRUCell)",
        "infer",
        frozenset({CELLWISE}),
        1.0,
        same_compile=True,
    ),
    Target(
        "training ≥ 1.2× the fastest built-in Keras GRU",
        "train",
        frozenset(BUILTIN_LAYERS),
        TRAINING_TARGET,
        shapes=frozenset({"large", "long"}),
        backends=frozenset({"tensorflow", "jax"}),
    ),
    Target(
        "training ≥ 1.0× torch.nn.GRU, set for the best backend",
        "train",
        frozenset({TORCH_GRU}),
        1.0,
        shapes=frozenset({"large", "long"}),
    ),
    Target(
        "inference ≥ 1.0× torch.nn.GRU, set for the best backend",
        "infer",
        frozenset({TORCH_GRU}),
        1.0,
        shapes=frozenset({"large", "long"}),
    ),
)


# Issue #27's target for default-compiled `ChungGRU`'s training, as a share
# of the run's GEMM peak, at these shapes.
PEAK_TARGET = 0.5
PEAK_SHAPES = frozenset({"large"})


def targets_table(report: dict) -> str:
    """Each target, per shape: met, missed, or a tie within the interval."""
    backend = report["versions"]["backend"]
    shapes = _shape_rows(report)

    def heading(shape):
        rounds = _chung(shapes[shape])["chung_gru_speedup"]["infer"]["rounds"]
        return f"{shape} ({rounds} rounds)"

    lines = [
        "| target | " + " | ".join(map(heading, shapes)) + " |",
        "|---|" + "---|" * len(shapes),
    ]
    for target in TARGETS:
        if target.backends is not None and backend not in target.backends:
            continue
        compilations = [None]
        if target.same_compile:
            compilations = list(
                dict.fromkeys(
                    r["jit_compile"]
                    for r in report["results"]
                    if r["layer"] == "ChungGRU"
                )
            )
        for jit_compile in compilations:
            name = target.name
            if jit_compile is not None:
                name += f", both jit_compile={jit_compile}"
            cells = []
            for shape, rows in shapes.items():
                found = against(rows, target.kind, target.layers, jit_compile)
                if found is None or (
                    target.shapes is not None and shape not in target.shapes
                ):
                    cells.append("—")
                    continue
                value = found[0]
                cells.append(
                    f"{verdict(value, target.speedup)}: {format_speedup(value)}"
                )
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = []
    for shape, rows in shapes.items():
        fraction = _chung(rows)["train_fraction_of_gemm_peak"]
        met = "met" if fraction > PEAK_TARGET else "missed"
        cells.append(f"{met}: {100 * fraction:.1f}%" if shape in PEAK_SHAPES else "—")
    lines.append(
        f"| training above {PEAK_TARGET:.0%} of the measured GEMM peak | "
        + " | ".join(cells)
        + " |"
    )
    return "\n".join(lines)


def gemm_peak_text(settings: dict) -> str:
    """The GEMM peak a run's "% peak" divides by, and where it comes from."""
    text = f"Measured float32 GEMM peak: {settings['gemm_peak_gflops']:,.0f} GFLOP/s"
    rates = settings.get("gemm_rates_gflops")
    if not rates:
        return f"{text} (NumPy's BLAS, 1,024 × 1,024)."
    each = ", ".join(f"{name}: {rate:,.0f}" for name, rate in rates.items())
    timing = settings.get("gemm_timing")
    return f"{text}, the best of square products by library and size ({each})" + (
        f"; each {timing}." if timing else "."
    )


def load_text(machine: dict) -> str:
    """How busy the machine was as the run ended, where the run recorded it."""
    load = machine.get("load_average")
    if not load:
        return ""
    one, five, fifteen = load
    niceness = machine.get("niceness")
    priority = f", run at niceness {niceness}" if niceness else ""
    return (
        f", load average {one:.1f}, {five:.1f} and {fifteen:.1f} over the last "
        f"1, 5 and 15 minutes of the run{priority}"
    )


def limits_text(report: dict, profile: dict | None) -> list[str]:
    """What limits training, shape by shape, as lines of Markdown: the
    speedup the throughput `report` measured against the fastest built-in,
    beside the shares of the step that the backend's training-step
    `profile`, a run of its own, measured; none without a profile."""
    if profile is None:
        return []
    shapes = _shape_rows(report)
    lines = [
        "What limits training, from the shares of the step that this "
        "backend's [training-step profile](#where-a-training-steps-time-goes) "
        "measured in a run of its own, beside this table's speedups:",
        "",
    ]
    for shape, part in profile_parts(profile).items():
        if "builtin" in part:
            sentences = [] if shape not in PEAK_SHAPES else [eager_peak_text(part)]
        else:
            found = shape in shapes and against(shapes[shape], "train", BUILTIN_LAYERS)
            if not found:
                return []
            limits = step_limits(part)
            sentences = training_limit_sentences(found[0], limits)
            if shape in PEAK_SHAPES:
                sentences.append(
                    f"With nothing but its products at their floors, the layer "
                    f"would reach {100 * limits.floor_share:.0f}% of the GEMM "
                    f"peak: {peak_clause(limits.floor_share > PEAK_TARGET)}"
                )
        if sentences:
            lines.append(f"- **{shape}**: " + " ".join(sentences))
    return [*lines, ""]


def training_limit_sentences(speedup: tuple, limits: StepLimits) -> list[str]:
    """The training target at one shape, from the page's `speedup` over the
    fastest built-in and the profile's `limits`."""
    beyond = (
        f"Beyond their products' floors, `ChungGRU`'s loops take "
        f"{100 * limits.excess_of_fit:.0f}% of its step"
    )
    shorter = 1 - speedup[0] / TRAINING_TARGET
    if verdict(speedup, TRAINING_TARGET) == "met":
        return [f"The training target is met. {beyond}."]
    if shorter <= 0:
        return [
            "The training target is a tie: the median speedup is above it, "
            f"and its interval holds it. {beyond}."
        ]
    return [
        f"{TRAINING_TARGET}× the fastest built-in asks for a step "
        f"{100 * shorter:.0f}% shorter than now.",
        f"{beyond}: "
        + (
            "the paper's products leave room for the target, and the loops' "
            "time beyond them is what misses it."
            if limits.excess_of_fit > shorter
            else "the paper's products at their floors, with the rest of the "
            "step as it is, leave the target out of reach."
        ),
    ]


def peak_clause(products_reach_target: bool) -> str:
    """Whether the products alone, at their floors, would reach the GEMM
    peak target, as the end of a sentence."""
    if products_reach_target:
        return f"the time beyond the products keeps the layer under {PEAK_TARGET:.0%}."
    return f"the products alone fall short of {PEAK_TARGET:.0%}."


def eager_peak_text(part: dict) -> str:
    """What keeps PyTorch's eager training under half the GEMM peak, from one
    shape's profile rows, by part."""

    def fraction(key):
        return part[key]["fraction_of_gemm_peak"]

    floors = min(fraction("forward_floor"), fraction("backward_floor"))
    return (
        f"In PyTorch's own loop the forward's and the backward's products at "
        f"their floors run at {100 * fraction('forward_floor'):.0f}% and "
        f"{100 * fraction('backward_floor'):.0f}% of the GEMM peak, where "
        f"`ChungGRU`'s forward and backward passes run at "
        f"{100 * fraction('layer'):.0f}% and `torch.nn.GRU`'s at "
        f"{100 * fraction('builtin'):.0f}%: {peak_clause(floors > PEAK_TARGET)}"
    )


def profile_parts(report: dict) -> dict[str, dict[str, dict]]:
    """A training-step profile's rows, by shape, then by part."""
    parts = {shape: {} for shape in report["settings"]["shapes"]}
    for row in report["results"]:
        parts[row["shape"]][row["part"]] = row
    return parts


def profile_for(backend: str) -> dict | None:
    """The backend's training-step profile, if one was committed."""
    path = RESULTS / f"training_step_profile_{backend}.json"
    return json.loads(path.read_text()) if path.exists() else None


def backend_section(report: dict, chart: str) -> str:
    versions = report["versions"]
    backend = versions["backend"]
    machine = report["machine"]
    settings = report["settings"]
    version_text = ", ".join(
        f"{name} {version}"
        for name, version in versions.items()
        if name != "backend" and version
    )
    return "\n".join(
        [
            f"## {BACKEND_NAMES.get(backend, backend)} backend",
            "",
            f"Measured with `{settings['command']}` on a {machine['cores']}-core "
            f"{machine['cpu']} ({machine['platform']}){load_text(machine)}; "
            f"{version_text}. "
            f"Statistic: {settings['statistic']}, "
            f"{settings['batches_per_repetition']} batches per repetition; "
            f"{settings['processes']}. " + gemm_peak_text(settings),
            "",
            "![Throughput relative to ChungGRU, and as a share of the GEMM peak, "
            f"on the {backend} backend]({chart})",
            "",
            "Default-compiled `ChungGRU` against the targets (above 1× means "
            "`ChungGRU` is faster):",
            "",
            summary_table(report),
            "",
            "Speedups are `ChungGRU`'s over the other model. In square brackets: a 95% "
            "confidence interval of the median speedup over the paired rounds, "
            "distribution-free (from order statistics); a comparison of fewer "
            "than six rounds has none. "
            "Against each target, a speedup whose interval holds the target is "
            "a tie:",
            "",
            targets_table(report),
            "",
            *limits_text(report, profile_for(backend)),
            f'??? note "All measurements, {BACKEND_NAMES.get(backend, backend)}"',
            "",
            *(f"    {line}" for line in report["table"].splitlines()),
            "",
        ]
    )


def measured_with(command: str, report: dict) -> str:
    """The sentence that says how, where and with what a run was measured."""
    versions = report["versions"]
    backend = versions["backend"]
    machine = report["machine"]
    return (
        f"Measured with `{command}` on a {machine['cores']}-core "
        f"{machine['cpu']}{load_text(machine)}; Keras {versions['keras']}, "
        f"{backend} {versions[backend]}."
    )


def subsection(report: dict, command: str, text: str, *body: str) -> str:
    """A backend's `###` section: how it was measured, `text`, then `body`."""
    backend = report["versions"]["backend"]
    return "\n".join(
        [
            f"### {BACKEND_NAMES.get(backend, backend)}",
            "",
            f"{measured_with(command, report)} {text}",
            "",
            *body,
            "",
        ]
    )


def serving_section(report: dict) -> str:
    """The addition model's serving path, before and after, on one backend."""
    settings = report["settings"]
    return subsection(
        report,
        settings["command"],
        f"Statistic: {settings['statistic']}. "
        "Before: the model file's `RNN(ChungGRUCell)` form; after: the "
        "serving path, the same weights in `ChungGRU` (and, for "
        "`predict_sums`, `predict_on_batch` in place of `predict`).",
        report["table"],
    )


def comparison_section(report: dict) -> str:
    """`ChungGRU` at this release against an earlier commit, on one backend."""
    return subsection(
        report,
        report["command"],
        "Each revision in a process of its own, taking turns; the last column "
        "is the median over the rounds of the two times' ratio, [a 95% "
        "distribution-free interval]: above 1, the later code is faster.",
        report["table"],
    )


def profile_table(report: dict) -> str:
    """Each part's milliseconds a batch and share of the GEMM peak, per shape,
    and the memory its process mapped fresh a batch where the profile
    recorded it."""
    shapes = list(report["settings"]["shapes"])
    fresh = records_fresh_memory(report)
    rows = {}
    for row in report["results"]:
        rows.setdefault(row["label"], {})[row["shape"]] = row
    columns = ("ms a batch", "% peak", *(("MiB mapped fresh",) if fresh else ()))
    lines = [
        "| part | "
        + " | ".join(f"{shape}: " + " | ".join(columns) for shape in shapes)
        + " |",
        "|---|" + "---:|" * len(columns) * len(shapes),
    ]
    for label, by_shape in rows.items():
        cells = [
            f"{r['ms_per_batch']:,.2f} | {100 * r['fraction_of_gemm_peak']:.1f}"
            + (f" | {r['fresh_mib_per_batch']:,.1f}" if fresh else "")
            for r in map(by_shape.get, shapes)
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class StepLimits(NamedTuple):
    """What one shape's profile says a training step could reach."""

    weight_floor_ms: float  # the weight products at the rate of one large GEMM
    floor_share: float  # the layer's share of the peak, products at their floors
    excess_ms: float  # the loops' time beyond their products at their floors
    excess_of_fit: float  # that time as a share of `fit`'s whole step


def step_limits(part: dict) -> StepLimits:
    """`StepLimits` from one shape's profile rows of JAX or TensorFlow, by part.

    The backward pass `fit` runs is `backward`; its weight products are the
    FLOPs that pass has beyond its loop's (on JAX, the pass that forms them
    after its loop is `backward_distributed`)."""

    def ms(key):
        return part[key]["ms_per_batch"]

    after_loop = part.get("backward_distributed", part["backward"])
    weight_gflop = after_loop["gflop"] - part["backward_loop"]["gflop"]
    large_rate = part["large_gemm_floor"]["gflop"] / ms("large_gemm_floor")
    weight_floor_ms = weight_gflop / large_rate
    floor_ms = ms("forward_floor") + ms("backward_floor") + weight_floor_ms
    excess_ms = (
        ms("forward")
        - ms("forward_floor")
        + ms("backward")
        - ms("backward_floor")
        - weight_floor_ms
    )
    return StepLimits(
        weight_floor_ms,
        part["layer"]["fraction_of_gemm_peak"] * ms("layer") / floor_ms,
        excess_ms,
        excess_ms / ms("fit"),
    )


def profile_findings(report: dict) -> list[str]:
    """What the profile says, shape by shape, as sentences with its numbers."""
    findings = []
    for shape, part in profile_parts(report).items():

        def ms(key, part=part):
            return part[key]["ms_per_batch"]

        products = (
            f"two dependent products a step take {ms('forward_floor'):,.1f} ms, "
            f"{ms('forward_floor') / ms('one_product_floor'):.2f}× as long as one "
            "product of all gates a step, the structure of `GRU()` and "
            "`torch.nn.GRU`, whose reset gate acts after the product"
        )
        if "fit" not in part:
            findings.append(
                f"- **{shape}**: `torch.nn.GRU`'s forward and backward passes take "
                f"{ms('builtin'):,.1f} ms a batch, `ChungGRU`'s {ms('layer'):,.1f} "
                f"ms; in PyTorch's own loop, {products}."
            )
            continue
        limits = step_limits(part)
        if "backward_distributed" in part:
            weight_ms = ms("backward_distributed") - ms("backward_loop")
            backward = (
                f"the backward loop, with each step's weight products, "
                f"{ms('backward'):,.1f} ms where its two dependent products take "
                f"{ms('backward_floor'):,.1f} ms. Under a distribution the "
                f"backward pass takes {ms('backward_distributed'):,.1f} ms: its "
                f"loop {ms('backward_loop'):,.1f} ms, and the weight products "
                f"after it {weight_ms:,.1f} ms"
            )
        else:
            weight_ms = ms("backward") - ms("backward_loop")
            backward = (
                f"the backward loop {ms('backward_loop'):,.1f} ms where its two "
                f"dependent products take {ms('backward_floor'):,.1f} ms, and the "
                f"weight products after it {weight_ms:,.1f} ms"
            )
        sentences = [
            f"`fit` takes {ms('fit'):,.1f} ms a batch "
            f"({100 * part['fit']['fraction_of_gemm_peak']:.1f}% of the GEMM "
            f"peak), of which the layer's forward and backward passes "
            f"take {ms('layer'):,.1f} ms.",
            f"The forward loop takes {ms('forward'):,.1f} ms where its products "
            f"alone take {ms('forward_floor'):,.1f} ms; {backward}, which would "
            f"take {limits.weight_floor_ms:,.1f} ms at the rate of one large GEMM.",
            f"With nothing but the products, each at its floor, the layer would "
            f"reach {100 * limits.floor_share:.0f}% of the peak.",
            f"Beyond their products at their floors, the loops take "
            f"{limits.excess_ms:,.1f} ms, {100 * limits.excess_of_fit:.0f}% of "
            "`fit`'s step: the gates' elementwise math, the loops' reads and "
            "writes, and the weight products above the rate of one large GEMM.",
            f"In XLA's loop, {products}{products_library_clause(report, shape)}.",
            *one_program_sentences(report, part),
        ]
        findings.append(f"- **{shape}**: " + " ".join(sentences))
    return findings


def one_program_sentences(report: dict, part: dict) -> list[str]:
    """How JAX's backward pass under a distribution runs in one program with
    the forward pass, as `fit` would run it, against its parts timed apart,
    and what its process mapped fresh, where the profile recorded both."""
    if "layer_distributed" not in part or not records_fresh_memory(report):
        return []

    def ms(key):
        return part[key]["ms_per_batch"]

    def fresh(key):
        return part[key]["fresh_mib_per_batch"]

    apart = ms("forward") + ms("backward_distributed")
    ceiling = report["settings"]["glibc_mmap_ceiling_mib"]
    largest_apart = max(fresh("forward"), fresh("backward_distributed"))
    return [
        f"In one program with the forward pass, as `fit` would run it, the "
        f"backward pass under a distribution makes the layer's passes take "
        f"{ms('layer_distributed'):,.1f} ms, against {apart:,.1f} ms for the "
        f"two timed apart and {ms('layer'):,.1f} ms with the backward pass "
        f"`fit` runs; that program's process maps "
        f"{fresh('layer_distributed'):,.1f} MiB fresh from the kernel a call, "
        f"where its parts, timed apart, map {largest_apart:,.1f} MiB at most. "
        "XLA allocates a program's temporaries as one block a call, and glibc "
        f"maps a block above {ceiling:,.0f} MiB afresh every time, each page "
        "faulting in again."
    ]


def records_fresh_memory(report: dict) -> bool:
    """Whether a training-step profile counted the memory each part's
    process mapped fresh, which it records with glibc's ceiling."""
    return "glibc_mmap_ceiling_mib" in report["settings"]


def products_library_clause(report: dict, shape: str) -> str:
    """What ran the compiled forward loop's products at `shape`, as the end
    of a sentence, where the profile recorded it."""
    library = report["settings"].get("forward_loop_products", {}).get(shape)
    return f"; the compiled loop runs them with {library}" if library else ""


def profile_section(report: dict) -> str:
    """Where a training step's time goes on one backend."""
    settings = report["settings"]
    return subsection(
        report,
        settings["command"],
        "Statistic: the median over rounds in which the parts take turns. "
        + gemm_peak_text(settings),
        profile_table(report),
        "",
        *profile_findings(report),
    )


def crossover_findings(report: dict) -> str:
    """How often accumulating won and lost, at the page's own shapes and at
    the smallest batch timed."""

    def interval(row):
        speedup = row["accumulating_speedup"]
        return format_speedup((speedup["median"], speedup["low"], speedup["high"]))

    rows = report["results"]
    speedups = [row["accumulating_speedup"] for row in rows]
    faster = sum(1 for s in speedups if s["low"] is not None and s["low"] > 1)
    slower = sum(1 for s in speedups if s["high"] is not None and s["high"] < 1)
    keys = ("batch", "time", "features", "units")
    named = [
        f"at the {name} shape {interval(row)}"
        for name in ("large", "long")
        for row in rows
        if all(row[k] == report["settings"][f"{name}_shape"][k] for k in keys)
    ]
    smallest = min(row["batch"] for row in rows)
    at_smallest = [
        f"{interval(row)} at {row['time']:,} steps and {row['units']} units"
        for row in rows
        if row["batch"] == smallest
    ]
    return (
        f"Accumulating was faster at {faster} of {len(rows)} shapes and slower "
        f"at {slower} (a tie is an interval that holds 1); "
        + ", ".join(named)
        + f". At {smallest} sequences a batch it was "
        + ", ".join(at_smallest)
        + "."
    )


def crossover_section(report: dict) -> str:
    """Where each of JAX's two backward passes trains faster."""
    settings = report["settings"]

    def span(key):
        values = sorted({row[key] for row in report["results"]})
        return f"{values[0]:,} to {values[-1]:,}"

    return subsection(
        report,
        settings["command"],
        f"Batches of {span('batch')} sequences, {span('units')} units and "
        f"{span('time')} steps. "
        f"Each pass runs in a process of its own, the two taking turns an "
        f"epoch of {settings['batches_per_round']} batches at a time for "
        f"{settings['rounds']} rounds; the speedup is the median of the "
        "rounds' ratios of the two epochs' times, [a 95% distribution-free "
        "interval]: above 1, accumulating is faster.",
        report["table"],
        "",
        crossover_findings(report),
    )


def crossover_files() -> list[Path]:
    return sorted(RESULTS.glob("backward_crossover_*.json"))


def profile_files() -> list[Path]:
    return sorted(RESULTS.glob("training_step_profile_*.json"))


def comparison_files() -> list[Path]:
    return sorted(RESULTS.glob("compare_commits_*.json"))


def serving_files() -> list[Path]:
    return sorted(RESULTS.glob("addition_serving_*.json"))


def result_files() -> list[Path]:
    return sorted(RESULTS.glob("recurrent_throughput_*.json"))


def snippet_text() -> str:
    """The snippet, rendered from the result files as they are now.

    `tests/test_generated_numbers.py` compares it with the committed snippet.
    """
    sections = [
        backend_section(
            json.loads(path.read_text()),
            f"assets/benchmarks/{path.with_suffix('.png').name}",
        )
        for path in result_files()
    ]
    serving = [serving_section(json.loads(p.read_text())) for p in serving_files()]
    if serving:
        sections += ["## Serving the addition model", "", *serving]
    profiles = [profile_section(json.loads(p.read_text())) for p in profile_files()]
    if profiles:
        sections += [
            "## Where a training step's time goes",
            "",
            "`benchmarks/training_step_profile.py` times the parts of one "
            "batch's training step of `ChungGRU` at the large and long shapes, "
            "each on its own, and beside them the floors the paper's math "
            "sets: its recurrent products alone, in the same loop, and as one "
            "large GEMM. Each part's share of the GEMM rate counts its own "
            "FLOPs (a floor's: the recurrent products of one pass).",
            "",
            *profiles,
        ]
    crossovers = [
        crossover_section(json.loads(p.read_text())) for p in crossover_files()
    ]
    if crossovers:
        sections += [
            "## Which backward pass",
            "",
            "On JAX, `ChungGRU`'s backward pass forms the weight gradients in "
            "one of two ways: outside a Keras distribution, each step of its "
            "loop adds its products to every gradient; under one, the loop "
            "writes out every step's gradients for large products after it. "
            "The first reads and writes every gradient at each step, for two "
            "FLOPs an element per sequence in the batch. "
            "`benchmarks/backward_crossover.py` times `fit` with each: where "
            "each would pay, and why no batch size alone picks between them.",
            "",
            *crossovers,
        ]
    comparisons = [
        comparison_section(json.loads(p.read_text())) for p in comparison_files()
    ]
    if comparisons:
        sections += [
            "## Against an earlier commit",
            "",
            "`benchmarks/compare_commits.py` times default-compiled `ChungGRU` "
            "at two commits side by side: what a change cost `fit` and "
            "`predict`, or gained.",
            "",
            *comparisons,
        ]
    return "\n".join(sections or [NO_RESULTS])


def main() -> None:
    reports = result_files()
    # Charts of runs whose JSON is gone must not linger on the page.
    shutil.rmtree(ASSETS, ignore_errors=True)
    ASSETS.mkdir(parents=True)
    SNIPPET.parent.mkdir(parents=True, exist_ok=True)
    for path in reports:
        chart = path.with_suffix(".png")
        shutil.copyfile(chart, ASSETS / chart.name)
    SNIPPET.write_text(snippet_text())
    print(f"wrote {SNIPPET.relative_to(ROOT)} from {len(reports)} result files")


if __name__ == "__main__":
    main()

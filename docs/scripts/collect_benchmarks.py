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

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
ASSETS = ROOT / "docs" / "assets" / "benchmarks"
SNIPPET = ROOT / "docs" / "snippets" / "benchmarks.md"
BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
BUILTIN_LAYERS = {"GRU(reset_after=False)", "GRU()"}
TORCH_GRU = "torch.nn.GRU"
CELLWISE = "RNN(ChungGRUCell)"
BASELINE = "no recurrent layer"
NO_RESULTS = """!!! info "No results yet"
    Run `python benchmarks/recurrent_throughput.py` (with `KERAS_BACKEND` set
    to each backend), then `python docs/scripts/collect_benchmarks.py`: the
    tables and charts of each backend appear here.
"""


def _best(rows, kind, layers):
    candidates = [r for r in rows if r["layer"] in layers]
    return max(candidates, key=lambda r: r[f"{kind}_seq_per_s"], default=None)


def summary_table(report: dict) -> str:
    """Where default-compiled ChungGRU stands against the targets, per shape."""
    lines = [
        "| shape | ChungGRU train seq/s | train ÷ fastest built-in Keras GRU "
        "| ChungGRU infer seq/s | infer ÷ fastest built-in Keras GRU "
        "| infer ÷ RNN(ChungGRUCell) "
        "| ceiling: no recurrent layer ÷ that GRU, train "
        "| ÷ torch.nn.GRU train | ÷ torch.nn.GRU infer "
        "| peak MB: ChungGRU / built-in GRU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    shapes = dict.fromkeys(r["shape"] for r in report["results"])
    for shape in shapes:
        rows = [r for r in report["results"] if r["shape"] == shape]
        chung = next(
            r
            for r in rows
            if r["layer"] == "ChungGRU" and r["jit_compile"] == "default"
        )
        builtin = _best(rows, "train", BUILTIN_LAYERS)
        baseline = _best(rows, "train", {BASELINE})
        ceiling = (
            "—"
            if builtin is None or baseline is None
            else f"{baseline['train_seq_per_s'] / builtin['train_seq_per_s']:.2f}×"
        )
        torch_rows = [r for r in rows if r["layer"] == TORCH_GRU]
        torch = torch_rows[0] if torch_rows else None

        def ratio(row, kind, chung=chung):
            if row is None:
                return "—"
            return f"{chung[f'{kind}_seq_per_s'] / row[f'{kind}_seq_per_s']:.2f}×"

        def against_fastest(kind, layers, rows=rows):
            row = _best(rows, kind, layers)
            if row is None:
                return "—"
            return (
                f"{ratio(row, kind)} ({row['layer']}, jit_compile={row['jit_compile']})"
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
            f"| {against_fastest('train', BUILTIN_LAYERS)} "
            f"| {chung['infer_seq_per_s']:,.0f} "
            f"| {against_fastest('infer', BUILTIN_LAYERS)} "
            f"| {against_fastest('infer', {CELLWISE})} "
            f"| {ceiling} | {ratio(torch, 'train')} | {ratio(torch, 'infer')} "
            f"| {memory} |"
        )
    return "\n".join(lines)


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
            f"{machine['cpu']} ({machine['platform']}); {version_text}. "
            f"Statistic: {settings['statistic']}, "
            f"{settings['batches_per_repetition']} batches per repetition. "
            f"Measured float32 GEMM peak: "
            f"{settings['gemm_peak_gflops']:,.0f} GFLOP/s.",
            "",
            f"![Throughput relative to ChungGRU on the {backend} backend]({chart})",
            "",
            "Default-compiled `ChungGRU` against the targets (above 1× means "
            "`ChungGRU` is faster):",
            "",
            summary_table(report),
            "",
            f'??? note "All measurements, {BACKEND_NAMES.get(backend, backend)}"',
            "",
            *(f"    {line}" for line in report["table"].splitlines()),
            "",
        ]
    )


def serving_section(report: dict) -> str:
    """The addition model's serving path, before and after, on one backend."""
    versions = report["versions"]
    backend = versions["backend"]
    machine = report["machine"]
    settings = report["settings"]
    return "\n".join(
        [
            f"### {BACKEND_NAMES.get(backend, backend)}",
            "",
            f"Measured with `{settings['command']}` on a {machine['cores']}-core "
            f"{machine['cpu']}; Keras {versions['keras']}, {backend} "
            f"{versions[backend]}. Statistic: {settings['statistic']}. "
            "Before: the model file's `RNN(ChungGRUCell)` form; after: the "
            "serving path, the same weights in `ChungGRU`.",
            "",
            report["table"],
            "",
        ]
    )


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

"""Every measured number in the README and the docs is the measuring script's.

A README cannot include files, so the scripts that measure write their
numbers into blocks of it between markers. These tests render each block
again from the data it was written from, and fail when the file says
anything else. They also fail when a generated snippet is older than what it
describes, where that is cheap to know: a snippet rendered from committed
data is rendered again, and a snippet of a measurement records a digest of
its inputs (arguments, settings, model file), which is recomputed here. No
timestamps: a fresh clone has none worth trusting. Nothing is measured or
trained.
"""

import dataclasses
import functools
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS = ROOT / "docs" / "snippets"


@functools.cache
def script(path):
    """A script of the repository, imported as a module."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convergence():
    return script("benchmarks/addition_convergence.py")


def pretrained_report():
    return script("docs/scripts/pretrained_report.py")


def tutorial_results():
    return script("docs/scripts/tutorial_results.py")


def collect_benchmarks():
    return script("docs/scripts/collect_benchmarks.py")


def test_readme_convergence_results_are_rendered_from_the_tutorial_snippet():
    readme = (ROOT / "README.md").read_text()
    record = convergence().RECORD.read_text()

    expected = convergence().readme_with_results(readme, record)

    assert readme == expected, (
        "README.md's convergence results differ from "
        "docs/snippets/tutorial_convergence.md: run "
        "`python benchmarks/addition_convergence.py --render-only`"
    )


def test_convergence_record_reads_back_what_the_benchmark_prints():
    module = convergence()
    rows = [
        # One score per length, then the carry chains'.
        module.Row("default", 0, 200, 150, 6.5, 8.5, (1.0, 1.0, 1.0), True),
        module.Row("default", 1, 250, None, 7.5, 40.5, (1.0, 0.9999, 0.99), False),
    ]
    printed = [
        module.environment(),
        module.header([8, 256]),
        "-" * 20,
        *map(module.format_row, rows),
        "default: 1/2 seeds reach 100% at every length",
    ]
    command = "python benchmarks/addition_convergence.py --presets default"
    command += " --seeds 0,1 --bits 8,256"
    text = "\n".join(["<!-- a stamp -->", "", "```console", f"$ {command}", *printed])

    record = module.read_record(text)
    summary = module.readme_results(record)

    assert list(map(module.format_row, record.rows)) == printed[3:5]
    assert record.lengths == (8, 256)
    assert "trained 200–250 steps in 6.5–7.5 s" in summary
    assert "99.99–100.00% at 256 bits" in summary
    assert "99.00–100.00% on the carry chains up to 256 bits" in summary
    assert "1 of 2 seeds were exact on every row, and 1 of 2" in summary
    assert "(1 of 2 seeds never)" in summary
    assert summary.endswith(f"{printed[0][0].upper()}{printed[0][1:]}.")


def test_convergence_record_reads_back_the_fit_time_on_each_backend():
    module = convergence()
    rows = [module.Row("default", 0, 200, 150, 2.5, 3.5, (1.0, 1.0), True)]
    timed = {"tensorflow": 2.4, "jax": 3.1}
    printed = [
        module.header([8]),
        *map(module.format_row, rows),
        "",
        f"{module.BACKENDS_TITLE}:",
        "tensorflow 2.21.0, jax 0.10.2",
        module.header([8], label="backend"),
        "-" * 20,
        *(
            module.format_row(dataclasses.replace(rows[0], fit_seconds=s), backend)
            for backend, s in timed.items()
        ),
    ]
    command = "python benchmarks/addition_convergence.py --presets default"
    command += " --seeds 0 --bits 8 --backends tensorflow,jax"
    text = "\n".join(["```console", f"$ {command}", *printed])

    record = module.read_record(text)
    summary = module.readme_results(record)

    assert record.rows == tuple(rows)
    assert [(b, row.fit_seconds) for b, row in record.backend_rows] == list(
        timed.items()
    )
    assert "took 2.4 s on tensorflow and 3.1 s on jax; 1 and 1 of 1" in summary


def test_readme_blocks_on_the_shipped_model_are_rendered_from_its_evaluation():
    report = json.loads(pretrained_report().RESULTS.read_text())

    for path, expected in pretrained_report().rendered(report).items():
        assert path.read_text() == expected, (
            f"{path.relative_to(ROOT)} differs from what "
            f"{pretrained_report().RESULTS.name} renders to: run "
            f"`python docs/scripts/pretrained_report.py --render-only`"
        )


def test_shipped_model_evaluation_is_of_the_shipped_model_file():
    report = json.loads(pretrained_report().RESULTS.read_text())

    assert report["model_sha256"] == pretrained_report().model_sha256(), (
        "addition.keras changed since it was evaluated: run "
        "`python docs/scripts/pretrained_report.py`"
    )


def test_shipped_model_evaluation_scored_the_lengths_and_sums_the_script_sets():
    module = pretrained_report()
    report = json.loads(module.RESULTS.read_text())

    assert (report["lengths"], report["sums"], report["seed"]) == (
        list(module.LENGTHS),
        module.SUMS,
        module.SEED,
    )
    random = [result for result in report["results"] if result["sums"] == "random"]
    assert [result["bits"] for result in random] == report["lengths"]
    assert report["command"] == module.evaluation_command()


def test_settings_snippet_is_the_presets_as_the_code_defines_them():
    snippet = (SNIPPETS / "tutorial_settings.md").read_text()

    assert snippet == tutorial_results().settings_table(), (
        "run `python docs/scripts/tutorial_results.py settings`"
    )


def test_benchmarks_snippet_and_charts_are_the_result_files_rendered():
    module = collect_benchmarks()

    assert module.SNIPPET.read_text() == module.snippet_text(), (
        "run `python docs/scripts/collect_benchmarks.py`"
    )
    charts = {path.with_suffix(".png") for path in module.result_files()}
    assert {path.name for path in module.ASSETS.glob("*.png")} == {
        chart.name for chart in charts
    }
    for chart in charts:
        assert (module.ASSETS / chart.name).read_bytes() == chart.read_bytes()


@pytest.mark.parametrize("page", ["docs/benchmarks.md", "benchmarks/README.md"])
def test_shape_table_is_the_shapes_the_benchmark_results_are_of(page):
    shapes = {}
    for path in collect_benchmarks().result_files():
        for row in json.loads(path.read_text())["results"]:
            dims = [row[key] for key in ("batch", "time", "features", "units")]
            shapes[row["shape"]] = dims
    table = {}
    for line in (ROOT / page).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] in shapes and len(cells) == 5:
            table[cells[0]] = [int(cell) for cell in cells[1:]]

    assert table == shapes


@pytest.mark.parametrize(
    "step",
    [
        "add",
        "train",
        "evaluate",
        "train_tutorial",
        "convergence",
    ],
)
def test_measured_snippet_was_made_from_the_current_inputs(step):
    module = tutorial_results()
    first_line = (SNIPPETS / f"tutorial_{step}.md").read_text().partition("\n")[0]

    stamp = module.STAMP.match(first_line)

    assert stamp is not None, f"tutorial_{step}.md records no inputs"
    assert stamp["step"] == step
    assert stamp["digest"] == module.inputs_digest(step), (
        f"the inputs of tutorial_{step}.md changed since it was made: run "
        f"`python docs/scripts/tutorial_results.py {step}`"
    )


def test_every_measured_snippet_is_checked_here():
    checked = {"add", "train", "evaluate", "train_tutorial", "convergence"}

    assert set(tutorial_results().MEASURED) == checked


def test_a_target_inside_the_speedups_interval_is_a_tie():
    verdict = collect_benchmarks().verdict

    assert verdict((1.10, 1.02, 1.20), 1.0) == "met"
    assert verdict((1.10, 0.98, 1.20), 1.0) == "tie"
    assert verdict((0.90, 0.80, 0.95), 1.0) == "missed"
    # Without an interval (fewer than six rounds), the median decides.
    assert verdict((1.25, None, None), 1.2) == "met"
    assert verdict((1.15, None, None), 1.2) == "missed"


def test_targets_table_marks_training_against_torch_and_half_the_gemm_peak():
    module = collect_benchmarks()

    def row(shape, layer, train_speedup, fraction=None):
        median, low, high = train_speedup
        paired = {"median": median, "low": low, "high": high, "rounds": 10}
        return {
            "shape": shape,
            "layer": layer,
            "jit_compile": "default" if layer == "ChungGRU" else "n/a",
            "train_fraction_of_gemm_peak": fraction,
            "chung_gru_speedup": {"train": paired, "infer": paired},
        }

    report = {
        "versions": {"backend": "jax"},
        "results": [
            row("large", "ChungGRU", (1.0, 1.0, 1.0), 0.55),
            row("large", "torch.nn.GRU", (0.91, 0.88, 0.95)),
            row("long", "ChungGRU", (1.0, 1.0, 1.0), 0.2),
            row("long", "torch.nn.GRU", (2.0, 1.9, 2.1)),
        ],
    }

    rows = {
        cells[0]: cells[1:]
        for line in module.targets_table(report).splitlines()
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }

    assert rows["training ≥ 1.0× torch.nn.GRU, set for the best backend"] == [
        "missed: 0.91× [0.88–0.95]",
        "met: 2.00× [1.90–2.10]",
    ]
    # Half the peak is the target at the large shape only.
    assert rows["training above 50% of the measured GEMM peak"] == ["met: 55.0%", "—"]


def step_profile():
    """One shape's training-step profile rows, by part: `fit` takes 100 ms,
    and its loops 20 ms beyond their products at their floors (forward
    20 - 15; backward 40 - 20 - 5, its weight products' 1 GFLOP at the large
    GEMM's 0.2 GFLOP a millisecond)."""

    def part(ms, gflop=1.0, fraction=0.0):
        return {"ms_per_batch": ms, "gflop": gflop, "fraction_of_gemm_peak": fraction}

    return {
        "fit": part(100),
        "layer": part(60, fraction=0.3),
        "forward": part(20),
        "backward": part(40, gflop=3.0),
        "backward_loop": part(30, gflop=2.0),
        "forward_floor": part(15),
        "backward_floor": part(20),
        "large_gemm_floor": part(10, gflop=2.0),
    }


def test_step_limits_count_the_loops_time_beyond_their_products_floors():
    limits = collect_benchmarks().step_limits(step_profile())

    assert limits.weight_floor_ms == pytest.approx(5.0)
    assert limits.excess_ms == pytest.approx(20.0)
    assert limits.excess_of_fit == pytest.approx(0.2)
    # The layer's 60 ms at 30% of the peak, in the products' 15 + 20 + 5 ms.
    assert limits.floor_share == pytest.approx(0.45)


@pytest.mark.parametrize(
    ("train_speedup", "says"),
    [
        # 1.2x asks for a step 1 - 1.08 / 1.2 = 10% shorter: less than the 20%.
        (
            (1.08, 1.05, 1.11),
            "asks for a step 10% shorter than now. Beyond their products' "
            "floors, `ChungGRU`'s loops take 20% of its step: the paper's "
            "products leave room for the target",
        ),
        # 1 - 0.9 / 1.2 = 25% shorter: more than the loops' 20%.
        (
            (0.90, 0.85, 0.95),
            "step: the paper's products at their floors, with the rest of the "
            "step as it is, leave the target out of reach",
        ),
        ((1.30, 1.25, 1.35), "**large**: The training target is met. Beyond"),
        ((1.21, 1.18, 1.25), "**large**: The training target is a tie: the median"),
    ],
)
def test_limits_text_sets_the_speedup_beside_the_loops_share_of_the_step(
    train_speedup, says
):
    median, low, high = train_speedup
    paired = {"median": median, "low": low, "high": high, "rounds": 10}
    report = {
        "results": [
            {"shape": "large", "layer": "ChungGRU", "jit_compile": "default"},
            {
                "shape": "large",
                "layer": "GRU()",
                "jit_compile": "True",
                "chung_gru_speedup": {"train": paired},
            },
        ]
    }
    profile = {
        "settings": {"shapes": {"large": {}}},
        "results": [
            {"shape": "large", "part": key, **row}
            for key, row in step_profile().items()
        ],
    }

    *_, text, _ = collect_benchmarks().limits_text(report, profile)

    assert says in text
    assert text.endswith(
        "the layer would reach 45% of the GEMM peak: the products alone fall "
        "short of 50%."
    )


@pytest.mark.parametrize(
    ("recorded", "ending"),
    [
        ({"large": "YNNPACK"}, "product; the compiled loop runs them with YNNPACK."),
        # A profile from before the library was recorded.
        (None, "whose reset gate acts after the product."),
    ],
)
def test_profile_findings_name_what_ran_the_loops_products_where_recorded(
    recorded, ending
):
    rows = {
        **step_profile(),
        "one_product_floor": {"ms_per_batch": 10, "fraction_of_gemm_peak": 0.0},
    }
    settings = {"shapes": {"large": {}}}
    if recorded is not None:
        settings["forward_loop_products"] = recorded
    report = {
        "settings": settings,
        "results": [
            {"shape": "large", "part": key, **row} for key, row in rows.items()
        ],
    }

    (finding,) = collect_benchmarks().profile_findings(report)

    assert finding.endswith(ending)


def jax_profile(fresh):
    """A JAX profile of `step_profile`'s shape with the one-program part: the
    forward pass 20 ms and the backward under a distribution 25 ms apart, 60
    in one program; with `fresh`, the MiB each part's process mapped."""
    rows = {
        **step_profile(),
        "one_product_floor": {"ms_per_batch": 10, "fraction_of_gemm_peak": 0.0},
        "layer_distributed": {"ms_per_batch": 60, "fraction_of_gemm_peak": 0.0},
        "backward_distributed": {
            "ms_per_batch": 25,
            "gflop": 3.0,
            "fraction_of_gemm_peak": 0.0,
        },
    }
    settings = {"shapes": {"large": {}}}
    if fresh:
        settings["glibc_mmap_ceiling_mib"] = 32.0
        for key, row in rows.items():
            row["fresh_mib_per_batch"] = 40.0 if key == "layer_distributed" else 0.5
    return {
        "settings": settings,
        "results": [
            {"shape": "large", "part": key, "label": key, **row}
            for key, row in rows.items()
        ],
    }


def test_profile_findings_set_one_programs_time_and_fresh_memory_beside_its_parts():
    (finding,) = collect_benchmarks().profile_findings(jax_profile(fresh=True))

    assert finding.endswith(
        "the backward pass under a distribution makes the layer's passes take "
        "60.0 ms, against 45.0 ms for the two timed apart and 60.0 ms with the "
        "backward pass `fit` runs; that program's process maps 40.0 MiB fresh "
        "from the kernel a call, where its parts, timed apart, map 0.5 MiB at "
        "most. XLA allocates a program's temporaries as one block a call, and "
        "glibc maps a block above 32 MiB afresh every time, each page faulting "
        "in again."
    )


def test_a_profile_without_fresh_memory_has_neither_its_column_nor_its_sentence():
    collect = collect_benchmarks()
    old = jax_profile(fresh=False)

    (finding,) = collect.profile_findings(old)
    header = collect.profile_table(old).splitlines()[0]

    assert "fresh" not in finding
    assert header == "| part | large: ms a batch | % peak |"
    assert collect.profile_table(jax_profile(fresh=True)).splitlines()[:3] == [
        "| part | large: ms a batch | % peak | MiB mapped fresh |",
        "|---|---:|---:|---:|",
        "| fit | 100.00 | 0.0 | 0.5 |",
    ]


@pytest.mark.parametrize(
    ("floor_fraction", "says"),
    [
        (0.6, "the time beyond the products keeps the layer under 50%."),
        (0.45, "the products alone fall short of 50%."),
    ],
)
def test_eager_peak_text_says_whether_the_products_alone_reach_half_the_peak(
    floor_fraction, says
):
    def part(fraction):
        return {"fraction_of_gemm_peak": fraction}

    text = collect_benchmarks().eager_peak_text(
        {
            "forward_floor": part(floor_fraction),
            "backward_floor": part(0.7),
            "layer": part(0.38),
            "builtin": part(0.45),
        }
    )

    assert f"run at {100 * floor_fraction:.0f}% and 70% of the GEMM peak" in text
    assert "`ChungGRU`'s forward and backward passes run at 38%" in text
    assert text.endswith(says)


def variants_experiment():
    return script("benchmarks/variants_experiment.py")


@pytest.mark.parametrize(
    ("render", "results", "snippet"),
    [
        ("render", "RESULTS", "SNIPPET"),
        ("render_addition", "ADDITION_RESULTS", "ADDITION_SNIPPET"),
    ],
)
def test_variants_tables_are_rendered_from_the_committed_results(
    render, results, snippet
):
    module = variants_experiment()
    results, snippet = getattr(module, results), getattr(module, snippet)

    expected = getattr(module, render)(json.loads(results.read_text()))

    assert snippet.read_text() == expected, (
        f"{snippet.relative_to(ROOT)} differs from {results.relative_to(ROOT)}: "
        "run `python benchmarks/variants_experiment.py --render-only`"
    )


def test_variants_table_counts_steps_and_intervals_as_it_says():
    module = variants_experiment()
    settings = {"train_examples": 100, "batch_size": 32, "target": 0.8}

    assert module.steps_to_target([0.5, 0.79, 0.8, 0.9], settings) == 3 * 4
    assert module.steps_to_target([0.5, 0.79], settings) is None
    mean, half = module.mean_interval([0.7, 0.8, 0.9])
    # t(0.975, 2) = 4.303; the standard deviation is 0.1.
    assert (round(mean, 6), round(half, 6)) == (0.8, round(4.303 * 0.1 / 3**0.5, 6))
    assert module.mean_interval([0.7])[1] is None
    assert module.effect(0.02, 0.01) == "helps"
    assert module.effect(-0.02, 0.01) == "hurts"
    assert module.effect(0.02, 0.03) == "no measured effect"


def test_scaling_snippet_and_chart_are_rendered_from_the_committed_results():
    module = script("benchmarks/multiprocess_throughput.py")

    expected = module.render(json.loads(module.RESULTS.read_text()))

    assert module.SNIPPET.read_text() == expected, (
        "docs/snippets/scaling_throughput.md differs from "
        "benchmarks/results/multiprocess_throughput.json: run "
        "`python benchmarks/multiprocess_throughput.py --render-only`"
    )
    assert module.CHART.stat().st_size > 0

"""Smoke runs of the benchmark scripts at a tiny size.

The benchmarks are scripts, not tests: these only prove that they run and
write complete reports, never how fast anything is.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "recurrent_throughput.py"


def load_script(name: str):
    """The script `benchmarks/<name>.py`, imported as a module."""
    spec = importlib.util.spec_from_file_location(name, SCRIPT.with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(name: str, argv: list[str], output_dir: Path, backend: str) -> None:
    """Runs `benchmarks/<name>.py` on `backend`, writing into `output_dir`."""
    subprocess.run(
        [
            sys.executable,
            str(SCRIPT.with_name(f"{name}.py")),
            *argv,
            *["--output-dir", str(output_dir)],
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


@pytest.fixture(scope="module")
def benchmark():
    return load_script("recurrent_throughput")


@pytest.mark.slow
def test_tiny_run_writes_a_report_with_ratios_to_chung_gru(benchmark, tmp_path):
    layers = ["ChungGRU", "GRU()", "no recurrent layer"]
    argv = ["--tiny", "--no-memory", "--repeats", "2", "--batches", "1"]

    report = benchmark.main([*argv, "--layers", *layers, "--output-dir", str(tmp_path)])

    written = json.loads(next(tmp_path.glob("recurrent_throughput_*.json")).read_text())
    assert written["results"] == report["results"]
    assert {row["layer"] for row in written["results"]} == {*layers, "torch.nn.GRU"}
    # Every model, torch.nn.GRU's too, took its turn in each round.
    for row in written["results"]:
        for kind in ("train", "infer"):
            assert len(row["round_seconds"][kind]) == 2
            assert row["chung_gru_speedup"][kind]["rounds"] == 2
    reference = next(r for r in written["results"] if r["layer"] == "ChungGRU")
    assert reference["train_ratio_to_chung_gru"] == 1.0
    for row in written["results"]:
        assert row["train_seq_per_s"] > 0
        assert row["infer_seq_per_s"] > 0
    assert written["versions"]["keras"]
    assert written["machine"]["cores"] >= 1
    rates = written["settings"]["gemm_rates_gflops"]
    assert set(rates) == {"numpy 256", f"{keras.backend.backend()} 256"}
    assert written["settings"]["gemm_peak_gflops"] == max(rates.values())
    assert next(tmp_path.glob("recurrent_throughput_*.png")).stat().st_size > 0
    # The baseline does no recurrent arithmetic: it has no share of the peak.
    assert "| no recurrent layer | default |" in written["table"]
    baseline_row = next(
        line for line in written["table"].splitlines() if "no recurrent" in line
    )
    assert baseline_row.count("| — |") == 2


@pytest.mark.slow
def test_peak_memory_probe_leaves_out_the_peak_of_the_process_that_starts_it(
    benchmark,
):
    # Linux's ru_maxrss would carry this half gigabyte into the probe.
    resident = np.ones(2**27, dtype=np.float32)

    added = benchmark.measure_peak_memory(
        "no recurrent layer", benchmark.TINY_SHAPE, batches=1
    )

    assert 0 < added < resident.nbytes / 4


def test_replot_redraws_each_chart_from_its_report_alone(benchmark, tmp_path):
    for report in benchmark.RESULTS_DIR.glob("recurrent_throughput_*.json"):
        shutil.copyfile(report, tmp_path / report.name)

    assert benchmark.main(["--replot", "--output-dir", str(tmp_path)]) is None
    reports = {path.stem for path in tmp_path.glob("*.json")}
    assert reports
    assert {path.stem for path in tmp_path.glob("*.png")} == reports


def test_flop_count_matches_the_issue_for_the_large_shape(benchmark):
    # One training batch at B64 T100 D32 H256 is about 8.5 GFLOP (3x forward).
    flops = 3 * benchmark.forward_flops(benchmark.SHAPES["large"])

    assert flops == pytest.approx(8.49e9, rel=1e-3)


@pytest.mark.parametrize(
    ("rounds", "ranks"),
    # Published ranks of the distribution-free 95% interval of a median.
    [(6, (1, 6)), (10, (2, 9)), (20, (6, 15)), (30, (10, 21))],
)
def test_median_interval_runs_between_the_tabulated_order_statistics(
    benchmark, rounds, ranks
):
    values = np.random.default_rng(rounds).permutation(np.arange(1.0, rounds + 1))

    median, low, high = benchmark.median_interval(list(values))

    assert median == (rounds + 1) / 2
    assert (low, high) == ranks


def test_median_interval_has_none_below_six_rounds(benchmark):
    assert benchmark.median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, None, None)


def test_median_interval_covers_the_median_at_least_as_often_as_it_says(benchmark):
    rng = np.random.default_rng(0)
    samples = rng.lognormal(size=(4000, 12))  # median 1, skewed like timings

    covered = [
        low <= 1.0 <= high
        for _, low, high in map(benchmark.median_interval, samples.tolist())
    ]

    # 12 rounds give a 96.1% interval; 3 standard errors of 4000 draws below.
    assert np.mean(covered) >= 0.961 - 3 * np.sqrt(0.961 * 0.039 / 4000)


def test_paired_speedup_is_each_rounds_ratio_of_the_two_times(benchmark):
    reference = [1.0, 2.0, 4.0, 1.0, 3.0, 2.0, 1.0, 5.0]
    other = [2 * t for t in reference]

    speedup = benchmark.paired_speedup(reference, other)

    assert speedup == {"median": 2.0, "low": 2.0, "high": 2.0, "rounds": 8}


@pytest.mark.slow
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="it times TensorFlow's input"
)
def test_input_wait_script_times_both_feedings(capsys):
    module = load_script("tensorflow_input_wait")

    module.main(["--repeats", "2"])

    lines = capsys.readouterr().out.splitlines()
    assert "tensorflow" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["fit", "predict"] * 2
    for line in lines[1:]:
        assert len(line.split("all:")[1].split()) == 2


@pytest.mark.slow
def test_commit_comparison_times_both_revisions_in_turn_and_names_their_commits(
    tmp_path,
):
    script = SCRIPT.with_name("compare_commits.py")
    out = tmp_path / "comparison.json"
    argv = ["HEAD", "--shapes", "tiny", "--rounds", "2", "--batches", "1"]

    subprocess.run(
        [sys.executable, str(script), *argv, "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )

    report = json.loads(out.read_text())
    assert (report["base"], report["head"]) == ("HEAD", "working tree")
    head = subprocess.run(
        ["git", "-C", str(SCRIPT.parent), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert report["commits"]["base"] == {"commit": head}
    assert report["commits"]["head"]["commit"] == head
    assert isinstance(report["commits"]["head"]["package_differs_from_commit"], bool)
    assert f"HEAD ({head[:7]}): seq/s" in report["table"]
    assert [(r["shape"], r["kind"]) for r in report["results"]] == [
        ("tiny", "train"),
        ("tiny", "infer"),
    ]
    for result in report["results"]:
        assert result["base_seq_per_s"] > 0
        assert result["head_seq_per_s"] > 0
        assert result["speedup"]["median"] > 0
    assert (
        report["machine"]["load_average"] is None
        or len(report["machine"]["load_average"]) == 3
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "parts"),
    [
        (
            "jax",
            {
                "fit",
                "layer",
                "layer_distributed",
                "forward",
                "backward",
                "backward_distributed",
                "backward_loop",
                "forward_floor",
                "backward_floor",
                "one_product_floor",
                "large_gemm_floor",
            },
        ),
        (
            "tensorflow",
            {
                "fit",
                "layer",
                "forward",
                "backward",
                "backward_loop",
                "forward_floor",
                "backward_floor",
                "one_product_floor",
                "large_gemm_floor",
            },
        ),
        (
            "torch",
            {
                "builtin",
                "layer",
                "forward_floor",
                "backward_floor",
                "one_product_floor",
            },
        ),
    ],
)
def test_step_profile_times_every_part_and_its_share_of_the_best_gemm_rate(
    tmp_path, backend, parts
):
    argv = ["--tiny", "--min-rounds", "2", "--max-seconds", "0"]

    run_script("training_step_profile", argv, tmp_path, backend)

    report = json.loads(
        (tmp_path / f"training_step_profile_{backend}.json").read_text()
    )
    assert {row["part"] for row in report["results"]} == parts
    # XLA's backends say what ran their compiled loop's products; PyTorch's
    # loop is eager.
    libraries = report["settings"].get("forward_loop_products", {})
    assert set(libraries) == ({"tiny"} if backend != "torch" else set())
    rates = report["settings"]["gemm_rates_gflops"]
    assert set(rates) == {"numpy 256", f"{backend} 256"}
    # The peak is the best library's rate, whichever that is on the machine.
    assert report["settings"]["gemm_peak_gflops"] == max(rates.values())
    for row in report["results"]:
        assert row["rounds"] >= 2
        seconds = row["ms_per_batch"] / 1e3
        assert row["fraction_of_gemm_peak"] == pytest.approx(
            row["gflop"] / seconds / max(rates.values())
        )
        assert row["fresh_mib_per_batch"] >= 0


@pytest.mark.slow
def test_step_profile_runs_each_pytorch_layer_pass_in_a_process_of_its_own():
    profile = load_script("training_step_profile")
    parts = {key: profile.Part(key, None, 1.0) for key in profile.TORCH_LAYERS}
    children = []
    try:
        apart = profile.torch_layers_apart("tiny", parts, children)

        pids = {part.pid for part in apart.values()}
        assert len(pids) == len(profile.TORCH_LAYERS)
        assert os.getpid() not in pids
        # Each child runs its pass on request and says how long it took.
        assert all(part.function() > 0 for part in apart.values())
    finally:
        profile.turns.stop(children)


def test_step_profile_counts_the_recurrent_products_of_one_pass():
    profile = load_script("training_step_profile")
    shape = {"batch": 64, "time": 100, "features": 32, "units": 256}

    # h (64x256) times U (256x768), two FLOPs a multiply-add, every step.
    assert profile.recurrent_flops(shape) == 100 * 2 * 64 * 256 * 768


def test_step_profile_counts_the_page_faults_of_touching_fresh_memory():
    profile = load_script("training_step_profile")
    before = profile.minor_faults(os.getpid())

    # Above glibc's ceiling, NumPy's buffer is mapped afresh; writing it
    # faults its pages in, however large the kernel makes them.
    np.ones(2 * profile.GLIBC_MMAP_CEILING, np.uint8)

    assert profile.minor_faults() > before


def test_step_profile_tells_a_library_call_from_xlas_own_dot():
    profile = load_script("training_step_profile")
    own = "%dot.8 = f32[64,256]{1,0} dot(%p.1, %p.2), lhs_contracting_dims={1}"
    handed = (
        "%ynn_fusion = f32[64,256]{1,0} fusion(%p.1, %p.2), kind=kCustom, "
        'backend_config={"fusion_config":{"kind":"__ynn_fusion"}}'
    )

    assert profile.products_library(own) == "XLA's own dot"
    assert profile.products_library(f"{own}\n{handed}") == "YNNPACK"


def test_crossover_times_fit_with_each_backward_pass_in_its_own_process(tmp_path):
    # Each process checks that its pass is the one its models ran.
    argv = ["--tiny", "--rounds", "2", "--batches", "1"]

    run_script("backward_crossover", argv, tmp_path, "jax")

    report = json.loads((tmp_path / "backward_crossover_jax.json").read_text())
    (row,) = report["results"]
    assert set(row["ms_per_batch"]) == {"after the loop", "accumulating"}
    assert row["accumulating_speedup"]["rounds"] == 2
    assert report["table"].count("\n") == 2


def multiprocess_throughput():
    return load_script("multiprocess_throughput")


def scaling_results(module, layer_speeds, addition_speeds, all_reduce_ms):
    """Results of rounds in which each configuration ran at the given steps/s."""
    runs = []
    for figure, speeds in [("ChungGRU, smoke", layer_speeds), *addition_speeds]:
        for configuration, values in speeds.items():
            for round_, value in enumerate(values):
                run = {
                    "engine": "jax",
                    "figure": figure,
                    "configuration": configuration,
                    "round": round_,
                    "steps_per_second": value,
                }
                if configuration == module.TWO_PROCESSES:
                    run["all_reduce_ms"] = all_reduce_ms
                runs.append(run)
    return {
        "command": "python benchmarks/multiprocess_throughput.py --smoke",
        "smoke": True,
        "rounds": 3,
        "steps": 3,
        "shapes": module.SMOKE_SHAPES,
        "load_average": 1.0,
        "machine": {"cpu": "CPU", "cores": 2},
        "versions": {"keras": "3", "jax": "0", "torch": "1"},
        "runs": runs,
    }


def test_scaling_ratios_are_medians_of_each_rounds_ratio_in_global_sequences():
    m = multiprocess_throughput()
    layer = {
        m.ONE_PROCESS: [100.0, 50.0, 200.0],
        m.ONE_PROCESS_DOUBLE: [60.0, 20.0, 100.0],
        m.TWO_PROCESSES: [90.0, 60.0, 50.0],
    }
    addition = {
        m.ONE_PROCESS_TWO_CORES: [400.0, 100.0, 250.0],
        m.ONE_PROCESS_TWO_CORES_ENGINE: [200.0, 100.0, 100.0],
        m.TWO_PROCESSES: [100.0, 50.0, 50.0],
    }
    results = scaling_results(m, layer, [(m.ADDITION, addition)], all_reduce_ms=2.0)
    batch = m.SMOKE_SHAPES["smoke"]["batch"]

    chung, recipe = m.summarize(results)

    # Each round's two-process step holds twice one process's rows.
    assert chung["weak"] == pytest.approx(np.median([1.8, 2.4, 0.5]))
    assert chung["strong"] == pytest.approx(np.median([1.5, 3.0, 0.5]))
    assert chung[m.ONE_PROCESS] == pytest.approx(100.0 * batch)
    assert chung[m.TWO_PROCESSES] == pytest.approx(60.0 * 2 * batch)
    # 1000/60 ms against 1000/100 ms: 6.67 ms more, 3.33 all-reduces of 2 ms.
    assert chung["extra_ms"] == pytest.approx(1000 / 60 - 10)
    assert chung["extra_all_reduces"] == pytest.approx((1000 / 60 - 10) / 2)
    assert recipe["ratio"] == pytest.approx(np.median([0.25, 0.5, 0.2]))
    assert recipe["engine_ratio"] == pytest.approx(np.median([0.5, 0.5, 0.5]))
    # Against one process of the same engine: 1000/50 ms against 1000/100 ms.
    assert recipe["extra_ms"] == pytest.approx(20 - 10)


def test_scaling_summarizes_each_engine_apart():
    m = multiprocess_throughput()
    layer = {
        m.ONE_PROCESS: [100.0],
        m.ONE_PROCESS_DOUBLE: [50.0],
        m.TWO_PROCESSES: [25.0],
    }
    results = scaling_results(m, layer, [], all_reduce_ms=2.0)
    # The same figure on PyTorch, twice as fast with 2 processes.
    results["runs"] += [
        {**run, "engine": "torch", "steps_per_second": 4 * run["steps_per_second"]}
        if run["configuration"] == m.TWO_PROCESSES
        else {**run, "engine": "torch"}
        for run in results["runs"]
    ]

    jax_row, torch_row = m.summarize(results)

    assert (jax_row["engine"], torch_row["engine"]) == ("jax", "torch")
    assert jax_row["weak"] == pytest.approx(0.5)
    assert torch_row["weak"] == pytest.approx(2.0)
    assert "| PyTorch DDP | ChungGRU, smoke |" in m.render(results)


def test_scaling_snippet_says_a_smoke_run_means_nothing():
    m = multiprocess_throughput()
    layer = {
        name: [10.0] for name in (m.ONE_PROCESS, m.ONE_PROCESS_DOUBLE, m.TWO_PROCESSES)
    }
    addition = {
        m.ONE_PROCESS_TWO_CORES: [4.0],
        m.ONE_PROCESS_TWO_CORES_ENGINE: [8.0],
        m.TWO_PROCESSES: [2.0],
    }
    results = scaling_results(m, layer, [(m.ADDITION, addition)], all_reduce_ms=1.0)

    smoke = m.render(results)
    real = m.render({**results, "smoke": False})

    assert "Smoke run: these figures mean nothing" in smoke
    assert "Smoke run" not in real
    assert (
        "| JAX DataParallel | ChungGRU, smoke | 40 | 80 | 80 | **2.00×** | **1.00×** |"
        in real
    )
    assert "| JAX DataParallel | 4.0 | 2.0 | **0.50×** | 8.0 | **0.25×** |" in real


@pytest.mark.slow
@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="two processes need two cores"
)
@pytest.mark.parametrize("engine", ["jax", "torch"])
def test_a_two_process_run_reports_its_steps_and_an_all_reduce(engine):
    module = multiprocess_throughput()
    shape = module.SMOKE_SHAPES["smoke"]
    argv = [
        *["--layer", "ChungGRU", "--time", str(shape["time"])],
        *["--features", str(shape["features"]), "--units", str(shape["units"])],
        *["--batch-size", str(2 * shape["batch"]), "--steps", "2"],
    ]

    result = module._run([[0], [1]], argv, engine)

    assert result["steps_per_second"] > 0
    assert result["all_reduce_ms"] > 0


@pytest.fixture(scope="module")
def variants():
    return load_script("variants_experiment")


@pytest.mark.slow
def test_variants_timing_alone_keeps_the_accuracy_runs(variants, tmp_path):
    results, table = tmp_path / "results.json", tmp_path / "table.md"
    shutil.copyfile(variants.RESULTS, results)
    options = "baseline,zoneout=0.1,PerGateOrthogonal"
    argv = ["--throughput-only", "--tiny", "--options", options]

    variants.main([*argv, "--results", str(results), "--snippet", str(table)])

    before = json.loads(variants.RESULTS.read_text())
    after = json.loads(results.read_text())
    assert after["runs"] == before["runs"]
    timing = after["throughput"]
    assert set(timing["digits"]) == set(options.split(","))
    # The initializers change no step: the large shape times the others.
    seconds = timing["large"]["seconds"]
    assert set(seconds) == {"baseline", "zoneout=0.1"}
    for layers in seconds.values():
        assert set(layers) == {variants.FUSED, variants.CELLWISE}
        for times in layers.values():
            assert len(times) == variants.TINY_ROUNDS
            assert all(t > 0 for t in times)
    assert table.read_text() == variants.render(after)
    assert "| `zoneout=0.1` | autodiff of the fused loop |" in table.read_text()


@pytest.mark.slow
def test_variants_addition_task_scores_each_option_at_each_length(variants, tmp_path):
    results, table = tmp_path / "results.json", tmp_path / "table.md"
    argv = ["--task", "addition", "--tiny", "--seeds", "1"]
    options = ["--options", "baseline,recurrent_dropconnect=0.2"]

    variants.main([*argv, *options, "--results", str(results), "--snippet", str(table)])

    written = json.loads(results.read_text())
    for runs in written["runs"].values():
        (run,) = runs
        assert run["steps"] == written["settings"]["steps"] == 2
        assert set(run["exact_match"]) == {"64", "256", "1024"}
        assert all(0.0 <= score <= 1.0 for score in run["exact_match"].values())
    assert table.read_text() == variants.render_addition(written)


@pytest.mark.slow
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="it exports from TensorFlow"
)
def test_export_runtimes_times_every_export_at_every_length(tmp_path):
    module = load_script("export_runtimes")
    out = tmp_path / "runtimes.json"
    argv = ["--units", "2", "--batch", "1", "--lengths", "3", "5", "--repeats", "1"]

    module.main([*argv, "--out", str(out)])

    written = json.loads(out.read_text())
    runs = [(r["layer"], r["runtime"], r["length"]) for r in written["results"]]
    assert sorted(runs) == sorted(
        (layer, runtime, length)
        for layer, runtime in [
            ("ChungGRU", "ONNX Runtime"),
            ("RNN(ChungGRUCell)", "ONNX Runtime"),
            ("ChungGRU", "LiteRT"),
        ]
        for length in (3, 5)
    )
    assert all(r["microseconds_per_step"] > 0 for r in written["results"])


@pytest.mark.slow
@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="two processes need two cores"
)
def test_collectives_script_reports_each_programs_median_call_and_busiest_thread(
    tmp_path,
):
    snippet = tmp_path / "collectives.md"
    arguments = ["--rounds", "1", "--steps", "2", "--batch", "4", "--units", "4"]
    subprocess.run(
        [
            sys.executable,
            str(SCRIPT.with_name("multiprocess_collectives.py")),
            *arguments,
            *["--snippet", str(snippet)],
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )

    lines = snippet.read_text().splitlines()
    assert "scheduler tick:" in next(line for line in lines if "rounds of" in line)
    rows = {
        line[:28].strip(): line[28:].split()
        for line in lines
        if line.startswith(("all-reduce", "RNN gradient", "TCP round trip"))
    }
    assert set(rows) == {
        "all-reduce",
        "RNN gradient",
        "RNN gradient, reduced once",
        "TCP round trip",
        "all-reduce, PyTorch gloo",
    }
    # all-reduces, 1 process, 2 processes, ratio, median call, busiest thread.
    assert rows["RNN gradient"][0] == "2"
    assert rows["all-reduce, PyTorch gloo"][0] == "1"
    for name in (
        "all-reduce",
        "RNN gradient",
        "RNN gradient, reduced once",
        "all-reduce, PyTorch gloo",
    ):
        median_call, busiest = rows[name][-2:]
        assert median_call.endswith("ms")
        assert float(median_call[:-2]) > 0
        # Without `schedstat`, CPU time counts in clock ticks: a short run can
        # round past 100%.
        assert busiest.endswith("%")
        assert int(busiest[:-1]) >= 0
    assert rows["TCP round trip"][-2:] == ["—", "—"]

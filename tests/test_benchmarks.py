"""Smoke runs of the benchmark scripts at a tiny size.

The benchmarks are scripts, not tests: these only prove that they run and
write complete reports, never how fast anything is.
"""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "recurrent_throughput.py"


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("recurrent_throughput", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_tiny_run_writes_a_report_with_ratios_to_chung_gru(benchmark, tmp_path):
    layers = ["ChungGRU", "GRU()", "no recurrent layer"]
    argv = ["--tiny", "--no-memory", "--no-torch", "--repeats", "1", "--batches", "1"]

    report = benchmark.main([*argv, "--layers", *layers, "--output-dir", str(tmp_path)])

    written = json.loads(next(tmp_path.glob("recurrent_throughput_*.json")).read_text())
    assert written["results"] == report["results"]
    assert {row["layer"] for row in written["results"]} == set(layers)
    reference = next(r for r in written["results"] if r["layer"] == "ChungGRU")
    assert reference["train_ratio_to_chung_gru"] == 1.0
    for row in written["results"]:
        assert row["train_seq_per_s"] > 0
        assert row["infer_seq_per_s"] > 0
    assert written["versions"]["keras"]
    assert written["machine"]["cores"] >= 1
    assert next(tmp_path.glob("recurrent_throughput_*.png")).stat().st_size > 0
    # The baseline does no recurrent arithmetic: it has no share of the peak.
    assert "| no recurrent layer | default |" in written["table"]
    baseline_row = next(
        line for line in written["table"].splitlines() if "no recurrent" in line
    )
    assert baseline_row.count("| — |") == 2


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
    script = SCRIPT.with_name("tensorflow_input_wait.py")
    spec = importlib.util.spec_from_file_location("tensorflow_input_wait", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    module.main(["--repeats", "2"])

    lines = capsys.readouterr().out.splitlines()
    assert "tensorflow" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["fit", "predict"] * 2
    for line in lines[1:]:
        assert len(line.split("all:")[1].split()) == 2


@pytest.mark.slow
def test_commit_comparison_times_both_revisions_in_turn(tmp_path):
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

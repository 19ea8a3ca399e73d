"""A smoke run of the throughput benchmark at a tiny size.

The benchmark is a script, not a test: this only proves that it runs and
writes a complete report, never how fast anything is.
"""

import importlib.util
import json
from pathlib import Path

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


def test_flop_count_matches_the_issue_for_the_large_shape(benchmark):
    # One training batch at B64 T100 D32 H256 is about 8.5 GFLOP (3x forward).
    flops = 3 * benchmark.forward_flops(benchmark.SHAPES["large"])

    assert flops == pytest.approx(8.49e9, rel=1e-3)

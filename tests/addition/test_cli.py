"""Tests of the `keras-gru-cell` command line."""

import re
import shutil
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gru_cell.addition.cli import main

# TensorFlow's C++ runtime logs these at start-up on its own; they are not ours.
_TENSORFLOW_LOG = re.compile(
    r"^(WARNING: All log messages before absl|[IWE]\d{4} |To enable the following)"
)


def _run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _assert_one_line_error(status, err, pattern):
    assert status != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("keras-gru-cell: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def test_add_with_the_shipped_model_gives_1040_for_1024_plus_16(capsys):
    status, out, _ = _run(capsys, "add", "1024", "16")
    assert status == 0
    assert out.strip() == "1024 + 16 = 1040 (right)"


@pytest.mark.parametrize("num_bits", [100, 1000])
def test_add_with_the_shipped_model_is_exact_for_long_numbers(capsys, num_bits):
    rng = np.random.default_rng(num_bits)
    a = int.from_bytes(rng.bytes(num_bits // 8 + 1), "little") % 2**num_bits
    b = int.from_bytes(rng.bytes(num_bits // 8 + 1), "little") % 2**num_bits
    status, out, _ = _run(capsys, "add", str(a), str(b))
    assert status == 0
    assert out.strip() == f"{a} + {b} = {a + b} (right)"


@pytest.mark.slow
def test_train_for_a_few_steps_writes_its_three_files(capsys, tmp_path):
    status, out, _ = _run(
        capsys,
        "train",
        "--steps",
        "3",
        "--bits",
        "3:6",
        "--batch-size",
        "8",
        "--hidden",
        "4",
        "--seed",
        "1",
        "--out",
        str(tmp_path),
    )
    assert status == 0
    assert "Seed 1: trained 3 steps" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "history.csv",
        "loss.png",
        "model.keras",
    ]
    model = keras.models.load_model(tmp_path / "model.keras")
    assert model.get_layer("gru").cell.units == 4


def test_evaluate_prints_a_table_of_scores_per_length(capsys):
    shipped = str(_shipped_model_path())
    status, out, _ = _run(capsys, "evaluate", "--model", shipped, "--bits", "5,40")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["bits", "exact", "match", "bit", "accuracy"]
    assert [line.split() for line in lines[1:]] == [
        ["5", "100.00%", "100.0000%"],
        ["40", "100.00%", "100.0000%"],
    ]


def test_evaluate_counts_wrong_sums(capsys, tmp_path):
    # An untrained model is wrong about most sums; the table must say so.
    model = keras.Sequential(
        [keras.Input((None, 2)), keras.layers.Dense(1, kernel_initializer="zeros")]
    )
    model.save(tmp_path / "zeros.keras")
    status, out, _ = _run(
        capsys, "evaluate", "--model", str(tmp_path / "zeros.keras"), "--bits", "8"
    )
    assert status == 0
    _, exact, bits = out.strip().splitlines()[1].split()
    # It predicts 0 everywhere: right only for 0 + 0, about 1 in 2**14 pairs.
    assert float(exact.rstrip("%")) < 1
    assert 40 < float(bits.rstrip("%")) < 60


def test_export_writes_a_saved_model_with_the_keras_models_outputs(capsys, tmp_path):
    shipped = _shipped_model_path()
    status, _, _ = _run(
        capsys, "export", "--model", str(shipped), "--out", str(tmp_path / "served")
    )
    assert status == 0
    served = tf.saved_model.load(str(tmp_path / "served"))
    model = keras.models.load_model(shipped)
    for batch, length in ((3, 17), (17, 3)):
        x = np.random.default_rng(0).integers(0, 2, (batch, length, 2)).astype("f4")
        np.testing.assert_allclose(
            served.serve(tf.constant(x)), model.predict(x, verbose=0), atol=1e-6
        )
    assert [p.name for p in tmp_path.iterdir()] == ["served"]


def _shipped_model_path():
    from importlib import resources

    return resources.files("keras_gru_cell.addition.pretrained") / "addition.keras"


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["add", "-5", "3"], "non-negative integer.*'-5'"),
        (["add", "1.5", "3"], "integer.*'1.5'"),
        (["add", "abc", "3"], "integer.*'abc'"),
        (["add", "1"], "required.*B"),
        (["train", "--bits", "1"], "--bits.*at least 2.*'1'"),
        (["train", "--bits", "9:4"], "--bits.*LOW <= HIGH"),
        (["train", "--steps", "0"], "--steps.*positive.*'0'"),
        (["train", "--hidden", "-2"], "--hidden.*positive.*'-2'"),
        (["train", "--lr", "nan"], "--lr.*positive"),
        (["evaluate", "--model", "m.keras", "--bits", "8,1"], "--bits.*'1'"),
        (["evaluate", "--model", "m.keras", "-n", "0"], "-n.*'0'"),
        (["multiply", "2", "3"], "invalid choice: 'multiply'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_give_one_line_on_stderr(capsys, argv, pattern):
    status, _, err = _run(capsys, *argv)
    _assert_one_line_error(status, err, pattern)


def test_a_missing_model_file_gives_one_line(capsys, tmp_path):
    status, _, err = _run(capsys, "add", "1", "2", "--model", str(tmp_path / "no"))
    _assert_one_line_error(status, err, "no model file at")


def test_a_corrupted_model_file_gives_one_line(capsys, tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    status, _, err = _run(capsys, "evaluate", "--model", str(path))
    _assert_one_line_error(status, err, "cannot load a Keras model from")


def test_a_model_that_is_not_an_adder_gives_one_line(capsys, tmp_path):
    path = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    status, _, err = _run(capsys, "add", "1", "2", "--model", str(path))
    _assert_one_line_error(status, err, "not an addition model")


def test_export_refuses_to_overwrite_a_folder(capsys, tmp_path):
    out = tmp_path / "served"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    status, _, err = _run(
        capsys, "export", "--model", str(_shipped_model_path()), "--out", str(out)
    )
    _assert_one_line_error(status, err, "already exists")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"


def test_train_refuses_an_out_path_that_is_a_file(capsys, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"user data")
    status, _, err = _run(capsys, "train", "--steps", "2", "--out", str(path))
    _assert_one_line_error(status, err, "not a folder")
    assert path.read_bytes() == b"user data"


def test_bad_train_arguments_leave_earlier_results_untouched(capsys, tmp_path):
    (tmp_path / "model.keras").write_bytes(b"earlier model")
    status, _, err = _run(capsys, "train", "--hidden", "0", "--out", str(tmp_path))
    _assert_one_line_error(status, err, "--hidden")
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    assert (tmp_path / "model.keras").read_bytes() == b"earlier model"


@pytest.mark.slow
def test_compare_builtin_reports_the_largest_differences(capsys):
    status, out, _ = _run(
        capsys,
        "train",
        "--compare-builtin",
        "--steps",
        "5",
        "--bits",
        "4",
        "--batch-size",
        "4",
        "--seed",
        "0",
    )
    assert status == 0
    differences = re.findall(r"difference\|.*: (\S+)", out)
    assert len(differences) == 2
    assert all(float(value) < 1e-5 for value in differences)


@pytest.mark.slow
def test_the_installed_command_adds_and_fails_without_a_traceback(tmp_path):
    command = shutil.which("keras-gru-cell")
    assert command is not None
    result = subprocess.run(
        [command, "add", "1024", "16"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == "1024 + 16 = 1040 (right)"

    result = subprocess.run(
        [command, "add", "1", "2", "--model", str(tmp_path / "missing.keras")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    ours = [
        line for line in result.stderr.splitlines() if not _TENSORFLOW_LOG.match(line)
    ]
    assert len(ours) == 1
    assert ours[0].startswith("keras-gru-cell: error: no model file at")

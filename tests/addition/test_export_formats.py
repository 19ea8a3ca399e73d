"""`keras-gru-cell export --format onnx|litert`: the exported adder adds in
ONNX Runtime and LiteRT's interpreter, and a failed export leaves nothing."""

import random
from importlib import resources

import keras
import pytest

from keras_gru_cell.addition import export_formats
from keras_gru_cell.addition.cli import export as export_command
from keras_gru_cell.addition.data import decode_sums
from keras_gru_cell.addition.data import encode_pairs
from tests.addition.cli_runs import assert_usage_error
from tests.addition.cli_runs import run_cli


def _shipped_model_path():
    return resources.files("keras_gru_cell.addition.pretrained") / "addition.keras"


def _export(capsys, out, fmt):
    """`keras-gru-cell export` of the shipped model to `out` in `fmt`."""
    return run_cli(
        capsys,
        "export",
        *("--model", str(_shipped_model_path())),
        *("--out", str(out), "--format", fmt),
    )


def _sums_in_runtime(path, fmt, pairs, num_bits):
    """The exported adder's sums of `pairs`, run in the format's own runtime."""
    x = encode_pairs(pairs, num_bits)
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path))
        (predictions,) = session.run(None, {"summand_bits": x})
    else:
        from ai_edge_litert.interpreter import Interpreter

        runner = Interpreter(model_path=str(path)).get_signature_runner()
        (predictions,) = runner(summand_bits=x).values()
    return decode_sums(predictions)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("onnx", "adder.onnx"),
        ("litert", "adder.tflite"),
    ],
)
def test_the_exported_adder_adds_in_its_runtime(capsys, tmp_path, fmt, name):
    out = tmp_path / name
    status, printed, err = _export(capsys, out, fmt)
    assert status == 0, err
    assert str(out) in printed
    assert [p.name for p in tmp_path.iterdir()] == [name]

    rng = random.Random(0)
    a, b = rng.getrandbits(1000) | 1 << 999, rng.getrandbits(1000) | 1 << 999
    assert _sums_in_runtime(out, fmt, [(1024, 16)], 12) == [1040]
    assert _sums_in_runtime(out, fmt, [(1024, 16), (a, b)], 1001) == [1040, a + b]


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_export_refuses_to_overwrite_a_file(capsys, tmp_path, fmt):
    out = tmp_path / "adder"
    out.write_text("mine")
    status, _, err = _export(capsys, out, fmt)
    assert_usage_error(status, err, "already exists; choose a new file name")
    assert out.read_text() == "mine"


def test_an_unknown_format_is_one_line(capsys, tmp_path):
    status, _, err = _export(capsys, tmp_path / "adder", "tflite")
    assert_usage_error(status, err, "argument --format: invalid choice: 'tflite'")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "backend", "needs"),
    [
        ("onnx", "jax", "KERAS_BACKEND=tensorflow"),
        ("onnx", "torch", "KERAS_BACKEND=tensorflow"),
        ("litert", "jax", "KERAS_BACKEND=tensorflow"),
        ("litert", "torch", "KERAS_BACKEND=tensorflow"),
    ],
)
def test_a_format_the_backend_cannot_export_for_any_length_is_refused(
    tmp_path, fmt, backend, needs
):
    with pytest.raises(ValueError, match=f"--format {fmt} needs {needs}"):
        export_formats.check_export(tmp_path / "adder", fmt, backend)


def test_check_export_names_the_formats_for_an_unknown_one(tmp_path):
    with pytest.raises(ValueError, match="one of saved_model, onnx, litert; got 'pb'"):
        export_formats.check_export(tmp_path / "adder", "pb")


@pytest.mark.parametrize("fmt", ["saved_model", "onnx", "litert"])
def test_a_failed_export_leaves_nothing_behind(capsys, tmp_path, monkeypatch, fmt):
    def export(model, filepath, **kwargs):
        # Something written, then a failure, as a converter may do.
        with open(filepath, "w") as file:
            file.write("half")
        raise RuntimeError("converter failed")

    monkeypatch.setattr(keras.Model, "export", export)
    status, _, err = _export(capsys, tmp_path / "out" / "adder", fmt)
    assert status == 1
    (line,) = err.strip().splitlines()
    assert "RuntimeError: converter failed" in line
    assert list((tmp_path / "out").iterdir()) == []


def test_the_clis_copy_of_the_formats_agrees():
    # The CLI keeps a copy so that parsing needs no TensorFlow.
    assert export_command.FORMATS == export_formats.FORMATS

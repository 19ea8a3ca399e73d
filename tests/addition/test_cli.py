"""Tests of the `keras-gru-cell` command line."""

import argparse
import dataclasses
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_gru_cell
from keras_gru_cell.addition import data
from keras_gru_cell.addition import evaluation
from keras_gru_cell.addition.cli import add as add_command
from keras_gru_cell.addition.cli import main
from keras_gru_cell.addition.cli import options
from keras_gru_cell.addition.cli import train as train_command
from keras_gru_cell.addition.cli.parser import build_parser
from keras_gru_cell.addition.distribution import DISTRIBUTIONS
from keras_gru_cell.addition.distribution import MULTI_PROCESS_BACKENDS
from keras_gru_cell.addition.training import PRESETS
from keras_gru_cell.addition.training import TrainingSettings
from keras_gru_cell.addition.training import settings as settings_module
from keras_gru_cell.addition.training.run import compiled_model
from tests.addition.cli_runs import assert_usage_error
from tests.addition.cli_runs import run_cli

ROOT = Path(__file__).resolve().parents[2]
_INTERNAL_ERROR = re.compile(
    r"^keras-gru-cell: internal error: (?P<error>.+) "
    r"\(rerun with --debug for the traceback\)$"
)


def _shipped_model_path():
    from importlib import resources

    return resources.files("keras_gru_cell.addition.pretrained") / "addition.keras"


def _installed_command(tmp_path, *argv):
    """Runs the installed `keras-gru-cell` as a user's shell would.

    Without TF_CPP_MIN_LOG_LEVEL, which the test set-up sets for itself and
    a user's shell has not, and from a folder of its own.
    """
    command = shutil.which("keras-gru-cell")
    assert command is not None
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(
        [command, *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )


# What the commands do.


def test_add_with_the_shipped_model_gives_1040_for_1024_plus_16(capsys):
    status, out, _ = run_cli(capsys, "add", "1024", "16")
    assert status == 0
    assert out.strip() == "1024 + 16 = 1040 (right)"


@pytest.mark.parametrize("num_bits", [100, 1000])
def test_add_with_the_shipped_model_is_exact_for_long_numbers(capsys, num_bits):
    rng = np.random.default_rng(num_bits)
    a = int.from_bytes(rng.bytes(num_bits // 8 + 1), "little") % 2**num_bits
    b = int.from_bytes(rng.bytes(num_bits // 8 + 1), "little") % 2**num_bits
    status, out, _ = run_cli(capsys, "add", str(a), str(b))
    assert status == 0
    assert out.strip() == f"{a} + {b} = {a + b} (right)"


@pytest.mark.slow
def test_train_for_a_few_steps_writes_its_three_files(capsys, tmp_path):
    status, out, _ = run_cli(
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


def test_evaluate_prints_a_row_per_length_then_the_carry_chains(capsys):
    shipped = str(_shipped_model_path())
    status, out, _ = run_cli(capsys, "evaluate", "--model", shipped, "--bits", "5,40")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["bits", "sums", "exact", "match", "bit", "accuracy"]
    assert [line.split() for line in lines[1:]] == [
        ["5", "random", "100.00%", "100.0000%"],
        ["40", "random", "100.00%", "100.0000%"],
        ["40", "2^n-1", "+", "0", "100.00%", "100.0000%"],
        ["40", "2^n-1", "+", "1", "100.00%", "100.0000%"],
        ["40", "2^n-1", "+", "2^n-1", "100.00%", "100.0000%"],
    ]


def test_evaluate_counts_wrong_sums(capsys, tmp_path):
    # An untrained model is wrong about most sums; the table must say so.
    model = keras.Sequential(
        [keras.Input((None, 2)), keras.layers.Dense(1, kernel_initializer="zeros")]
    )
    model.save(tmp_path / "zeros.keras")
    status, out, _ = run_cli(
        capsys, "evaluate", "--model", str(tmp_path / "zeros.keras"), "--bits", "8"
    )
    assert status == 0
    _, _, exact, bits = out.strip().splitlines()[1].split()
    # It predicts 0 everywhere: right only for 0 + 0, about 1 in 2**14 pairs.
    assert float(exact.rstrip("%")) < 1
    assert 40 < float(bits.rstrip("%")) < 60


def test_export_writes_a_saved_model_with_the_keras_models_outputs(capsys, tmp_path):
    shipped = _shipped_model_path()
    status, _, _ = run_cli(
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


@pytest.mark.slow
def test_compare_builtin_reports_the_largest_differences(capsys):
    status, out, _ = run_cli(
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


# Quiet: TensorFlow's C++ start-up log never reaches the terminal.


def _noisy_device_search(monkeypatch, *, fails=False):
    """Makes TensorFlow's first device search write to fd 2, as its C++ does."""
    searches = []
    search = tf.config.list_physical_devices

    def list_physical_devices(*args, **kwargs):
        searches.append(args)
        if len(searches) == 1:
            os.write(2, b"I0000 cudart_stub.cc:31] Could not find cuda drivers\n")
            if fails:
                raise RuntimeError("no devices")
        return search(*args, **kwargs)

    monkeypatch.setattr(tf.config, "list_physical_devices", list_physical_devices)


def test_tensorflows_start_up_log_is_hidden_and_stderr_comes_back(capfd, monkeypatch):
    _noisy_device_search(monkeypatch)
    status = main(["add", "3", "4"])
    os.write(2, b"stderr works again\n")
    out, err = capfd.readouterr()
    assert status == 0
    assert out == "3 + 4 = 7 (right)\n"
    assert err == "stderr works again\n"


def test_an_error_raised_while_tensorflow_is_silenced_is_still_shown(
    capfd, monkeypatch
):
    _noisy_device_search(monkeypatch, fails=True)
    status = main(["add", "3", "4"])
    out, err = capfd.readouterr()
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert _INTERNAL_ERROR.match(lines[0])["error"] == "RuntimeError: no devices"


def test_debug_leaves_tensorflows_start_up_log_visible(capfd, monkeypatch):
    _noisy_device_search(monkeypatch)
    status = main(["--debug", "add", "3", "4"])
    _, err = capfd.readouterr()
    assert status == 0
    assert "Could not find cuda drivers" in err


def test_tensorflows_log_level_is_set_unless_the_user_chose_one(capsys, monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert main(["add", "3", "4"]) == 0
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert main(["add", "3", "4"]) == 0
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["add", "3", "4"],
        ["evaluate", "--model", "{shipped}", "--bits", "5", "-n", "10"],
        ["export", "--model", "{shipped}", "--out", "served"],
        [
            *["train", "--steps", "2", "--bits", "3:5", "--batch-size", "4"],
            *["--hidden", "4", "--seed", "1", "--out", "run"],
        ],
        ["--help"],
        ["--version"],
    ],
    ids=["add", "evaluate", "export", "train", "help", "version"],
)
def test_the_installed_command_writes_nothing_on_stderr(tmp_path, command):
    shipped = str(_shipped_model_path())
    result = _installed_command(
        tmp_path, *(part.format(shipped=shipped) for part in command)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout
    if command[0] == "add":
        assert result.stdout == "3 + 4 = 7 (right)\n"


@pytest.mark.slow
def test_the_installed_command_reports_a_missing_model_in_one_line(tmp_path):
    result = _installed_command(
        tmp_path, "add", "1", "2", "--model", tmp_path / "missing.keras"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("keras-gru-cell: error: no model file at")
    assert len(result.stderr.splitlines()) == 1, result.stderr


# Help and version.


def _subparsers(parser):
    (commands,) = (
        action
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    return commands.choices


def _every_argument():
    parser = build_parser()
    for name, command in [("", parser), *_subparsers(parser).items()]:
        for action in command._actions:
            if not isinstance(
                action, argparse._HelpAction | argparse._SubParsersAction
            ):
                yield name, action


@pytest.mark.parametrize(
    ("command", "action"),
    list(_every_argument()),
    ids=lambda value: value if isinstance(value, str) else value.dest,
)
def test_every_argument_says_what_it_is_and_its_default(command, action):
    assert len(action.help or "") > 15, action
    if action.required or not action.option_strings:
        return  # Nothing to default to.
    if isinstance(action, argparse._VersionAction):
        return
    assert "(default: " in action.help
    if action.default not in (None, False):
        assert "%(default)s" in action.help


@pytest.mark.parametrize(
    ("option", "field"),
    [
        ("--bits", "bits"),
        ("--hidden", "hidden_size"),
        ("--steps", "steps"),
        ("--batch-size", "batch_size"),
        ("--lr", "learning_rate"),
        ("--loss", "loss"),
    ],
)
def test_train_help_gives_each_presets_value(option, field):
    (action,) = (
        action
        for action in _subparsers(build_parser())["train"]._actions
        if option in action.option_strings
    )

    def shown(preset):
        value = getattr(PRESETS[preset], field)
        return ":".join(map(str, value)) if isinstance(value, tuple) else str(value)

    assert f"(default: {shown('default')}" in action.help
    if shown("tutorial") != shown("default"):
        assert f"or {shown('tutorial')} with --preset tutorial)" in action.help


def test_version_prints_the_package_version(capsys):
    status, out, err = run_cli(capsys, "--version")
    assert status == 0
    assert out == f"keras-gru-cell {keras_gru_cell.__version__}\n"
    assert err == ""


@pytest.mark.parametrize("command", [[], ["train"], ["add"], ["evaluate"], ["export"]])
def test_help_exits_0_with_the_usage(capsys, command):
    status, out, _ = run_cli(capsys, *command, "--help")
    assert status == 0
    assert out.startswith(f"usage: {' '.join(['keras-gru-cell', *command])} ")


def test_the_documented_help_is_what_the_command_prints(monkeypatch):
    # docs/scripts/cli_reference.py writes the snippet at 80 columns.
    monkeypatch.setenv("COLUMNS", "80")
    snippet = (ROOT / "docs" / "snippets" / "cli_help.md").read_text()
    parser = build_parser()
    for command in [parser, *_subparsers(parser).values()]:
        assert f"$ {command.prog} --help\n{command.format_help()}" in snippet


def test_the_clis_copies_of_package_constants_agree():
    # The CLI keeps copies so that parsing needs no TensorFlow.
    assert train_command.DISTRIBUTIONS == DISTRIBUTIONS
    assert train_command.MULTI_PROCESS_BACKENDS == MULTI_PROCESS_BACKENDS
    assert options.MAX_BITS == data.MAX_NUM_BITS
    TrainingSettings(seed=train_command.MAX_TRAINING_SEED)
    with pytest.raises(ValueError, match="`seed`"):
        TrainingSettings(seed=train_command.MAX_TRAINING_SEED + 1)


def test_train_help_states_where_the_default_learning_rate_falls_to():
    train = _subparsers(build_parser())["train"]
    action = next(a for a in train._actions if "--lr" in a.option_strings)

    assert f"to {PRESETS['default'].final_learning_rate} at the last step" in (
        action.help
    )


def test_the_cli_imports_no_tensorflow_before_silencing_it():
    # Parent packages that import nothing stand in for `keras_gru_cell` and
    # `keras_gru_cell.addition`, so that only the CLI's own imports count.
    package = Path(keras_gru_cell.__file__).parent
    code = f"""
import sys, types
for name, path in [("keras_gru_cell", {str(package)!r}),
                   ("keras_gru_cell.addition", {str(package / "addition")!r})]:
    sys.modules[name] = types.ModuleType(name)
    sys.modules[name].__path__ = [path]
from keras_gru_cell.addition.cli.parser import build_parser
build_parser().parse_args(["train", "--bits", "3:5", "--seed", "1"])
print(sorted({{m.split(".")[0] for m in sys.modules}} & {{"tensorflow", "keras"}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_cli_and_the_launcher_depend_one_way():
    # The launcher imports the CLI; the CLI shares the launcher's signal
    # handling through `_keras_gru_cell_process`, which imports neither.
    code = """
import sys
import _keras_gru_cell_process
print(sorted(m for m in sys.modules if m.startswith(("keras", "_keras_gru_cell"))))
from keras_gru_cell.addition import cli
print("_keras_gru_cell_launcher" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.stdout.splitlines() == ["['_keras_gru_cell_process']", "False"]


# Errors the user can cause: one line, status 2.


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["add", "-5", "3"], "`A`.*non-negative integer.*got -5"),
        (["add", "1.5", "3"], "`A`.*integer.*got '1.5'"),
        (["add", "abc", "3"], "`A`.*integer.*got 'abc'"),
        (["add", "1"], "required.*B"),
        (["train", "--bits", "1"], "`--bits`.*at least 2.*got 1"),
        (["train", "--bits", "9:4"], "`--bits`.*LOW <= HIGH.*'9:4'"),
        (["train", "--bits", "3:"], "`--bits`.*got ''"),
        (["train", "--bits", "3000000000"], "`--bits`.*at most 2147483647"),
        (["train", "--steps", "0"], "`--steps`.*positive.*got 0"),
        (["train", "--hidden", "-2"], "`--hidden`.*positive.*got -2"),
        (["train", "--lr", "nan"], "`--lr`.*positive.*got nan"),
        (["train", "--seed", "2147483648"], r"`--seed`.*\[0, 2147483647\]"),
        (["train", "--loss", "hinge"], "--loss.*invalid choice: 'hinge'"),
        (["evaluate", "--model", "m.keras", "--bits", "8,1"], "`--bits`.*got 1"),
        (["evaluate", "--model", "m.keras", "-n", "0"], "`-n`.*got 0"),
        (["evaluate", "--model", "m.keras", "--seed", "x"], "`--seed`.*got 'x'"),
        (["export", "--model", "m.keras"], "required.*--out"),
        (["multiply", "2", "3"], "invalid choice: 'multiply'"),
        (["--no-such-flag", "add", "1", "2"], "unrecognized.*--no-such-flag"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(capsys, argv, pattern):
    status, _, err = run_cli(capsys, *argv)
    assert_usage_error(status, err, pattern)


def test_a_missing_model_file_gives_one_line(capsys, tmp_path):
    status, _, err = run_cli(capsys, "add", "1", "2", "--model", str(tmp_path / "no"))
    assert_usage_error(status, err, "no model file at")


def test_a_corrupted_model_file_gives_one_line(capsys, tmp_path):
    path = tmp_path / "broken.keras"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    status, _, err = run_cli(capsys, "evaluate", "--model", str(path))
    assert_usage_error(status, err, "cannot load a Keras model from")


def test_a_model_that_is_not_an_adder_gives_one_line(capsys, tmp_path):
    path = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    status, _, err = run_cli(capsys, "add", "1", "2", "--model", str(path))
    assert_usage_error(status, err, "not an addition model")


def test_export_refuses_to_overwrite_a_folder(capsys, tmp_path):
    out = tmp_path / "served"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    status, _, err = run_cli(
        capsys, "export", "--model", str(_shipped_model_path()), "--out", str(out)
    )
    assert_usage_error(status, err, "already exists")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"


def test_train_into_an_interrupted_run_of_another_size_is_a_usage_error(
    capsys, tmp_path
):
    backup = tmp_path / "run" / ".resume" / "backup.weights.h5"
    backup.parent.mkdir(parents=True)
    wider = dataclasses.replace(PRESETS["default"], hidden_size=8)
    compiled_model(wider, metrics=False).save_weights(backup)

    status, _, err = run_cli(
        capsys, "train", "--hidden", "4", "--steps", "2", "--out", str(tmp_path / "run")
    )

    assert_usage_error(status, err, r"holds an interrupted run.*delete")


def test_train_refuses_an_out_path_that_is_a_file(capsys, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"user data")
    status, _, err = run_cli(capsys, "train", "--steps", "2", "--out", str(path))
    assert_usage_error(status, err, "not a folder")
    assert path.read_bytes() == b"user data"


def test_bad_train_arguments_leave_earlier_results_untouched(capsys, tmp_path):
    (tmp_path / "model.keras").write_bytes(b"earlier model")
    status, _, err = run_cli(capsys, "train", "--hidden", "0", "--out", str(tmp_path))
    assert_usage_error(status, err, "--hidden")
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    assert (tmp_path / "model.keras").read_bytes() == b"earlier model"


def _folder_argv(command, folder, out_dir):
    if command == "export":
        return ["export", "--model", str(_shipped_model_path()), "--out", folder]
    if command == "train --tensorboard":
        out = str(out_dir / "run")
        return ["train", "--steps", "2", "--out", out, "--tensorboard", folder]
    return ["train", "--steps", "2", "--out", folder]


@pytest.mark.parametrize("command", ["export", "train", "train --tensorboard"])
def test_a_folder_that_cannot_be_created_gives_one_line(capsys, tmp_path, command):
    # Below a file: no folder can be made there, even by root.
    (tmp_path / "a file").write_text("mine")
    folder = str(tmp_path / "a file" / "run")
    status, _, err = run_cli(capsys, *_folder_argv(command, folder, tmp_path))
    option = "--tensorboard" if "tensorboard" in command else "--out"
    assert_usage_error(
        status, err, f"{option} '{re.escape(folder)}' cannot be created or written"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["a file"]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux's /proc")
@pytest.mark.parametrize("command", ["export", "train"])
def test_an_out_folder_in_proc_gives_one_line(capsys, tmp_path, command):
    status, _, err = run_cli(capsys, *_folder_argv(command, "/proc/x", tmp_path))
    assert_usage_error(status, err, "--out '/proc/x' cannot be created or written")


def test_train_without_tensorboard_installed_says_so_in_one_line(
    capsys, tmp_path, monkeypatch
):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "tensorboard" else find_spec(name, *args),
    )
    out = tmp_path / "run"
    status, _, err = run_cli(
        capsys, "train", "--out", str(out), "--tensorboard", str(tmp_path / "tb")
    )
    assert_usage_error(status, err, "--tensorboard.*pip install tensorboard")
    assert list(tmp_path.iterdir()) == []


def test_mirrored_on_a_backend_without_data_parallel_engine_gives_one_line(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    out = tmp_path / "run"
    status, _, err = run_cli(
        capsys, "train", "--distribute", "mirrored", "--out", str(out)
    )
    assert_usage_error(status, err, "--distribute.*no data-parallel engine")
    assert not out.exists()


def test_a_value_the_training_settings_refuse_is_a_usage_error(
    capsys, tmp_path, monkeypatch
):
    # The options' own checks cover TrainingSettings today; a check it gains
    # must still reach the user as a usage error.
    monkeypatch.setattr(settings_module, "LOSSES", ("mse", "quadratic"))
    out = tmp_path / "run"
    status, _, err = run_cli(capsys, "train", "--loss", "bce", "--out", str(out))
    assert_usage_error(status, err, "`loss`.*'bce'")
    assert not out.exists()


# Defects: one line naming the error, status 1; --debug shows the traceback.


def _broken_predict_sums(monkeypatch):
    def predict_sums(model, pairs):
        raise ValueError("a bug deep inside")

    monkeypatch.setattr(evaluation, "predict_sums", predict_sums)


def test_an_unexpected_value_error_is_an_internal_error_not_a_usage_error(
    capsys, monkeypatch
):
    _broken_predict_sums(monkeypatch)
    status, out, err = run_cli(capsys, "add", "1", "2")
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert _INTERNAL_ERROR.match(lines[0])["error"] == "ValueError: a bug deep inside"


def test_an_internal_error_with_many_lines_is_shown_in_one(capsys, monkeypatch):
    def predict_sums(model, pairs):
        raise RuntimeError("first line\nsecond line")

    monkeypatch.setattr(evaluation, "predict_sums", predict_sums)
    status, _, err = run_cli(capsys, "add", "1", "2")
    assert status == 1
    (line,) = err.splitlines()
    assert _INTERNAL_ERROR.match(line)["error"] == "RuntimeError: first line"


def test_debug_shows_the_traceback_of_an_unexpected_error(capsys, monkeypatch):
    _broken_predict_sums(monkeypatch)
    status, _, err = run_cli(capsys, "--debug", "add", "1", "2")
    assert status == 1
    assert err.startswith("Traceback (most recent call last):")
    assert "in predict_sums" in err
    assert err.strip().splitlines()[-1] == "ValueError: a bug deep inside"


def test_debug_does_not_turn_usage_errors_into_tracebacks(capsys):
    status, _, err = run_cli(capsys, "--debug", "add", "-1", "2")
    assert_usage_error(status, err, "`A`")


def test_ctrl_c_in_the_command_run_as_a_function_gives_one_line_and_130(
    capsys, monkeypatch
):
    # The installed command ends at the signal itself (tests/addition/
    # test_signals.py); `main` called as a function sees KeyboardInterrupt.
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(add_command, "run", interrupted)
    status, _, err = run_cli(capsys, "add", "1", "2")

    assert status == 130
    assert err.splitlines() == ["keras-gru-cell: interrupted"]

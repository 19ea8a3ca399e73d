"""Real signals sent to real `keras-gru-cell train` processes, at many moments.

Each case interrupts a run, checks how it ended (status, stderr, the history
kept for resuming), then reruns the same command and checks that it ends
exactly where an uninterrupted run ends: the same history and, bit for bit,
the same weights.

Every child starts with SIGINT and SIGTERM at their default dispositions,
whatever this test process inherited: a shell starts background jobs with
SIGINT ignored, and the command rightly leaves an ignored SIGINT ignored.
"""

import contextlib
import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import keras
import numpy as np
import pytest

# Registers the addition model's classes, so that its files load.
import keras_gru_cell.addition  # noqa: F401

# CI runs the cases marked `every_backend` on JAX and PyTorch too (see
# .ci/run), and every case on TensorFlow: the slow ones take minutes on each
# backend, and what they add is the moment a signal lands, not the backend.
EVERY_BACKEND = pytest.mark.every_backend

SCRIPT = Path(__file__).with_name("signalled_command.py")
# Four epochs of 50 steps, a history row and a backup at the end of each. A
# small learning rate keeps the held-out sums wrong, so the run never stops
# early.
STEPS = 200
TRAIN = [
    "train",
    *["--steps", str(STEPS), "--lr", "0.0003", "--seed", "5"],
    *["--batch-size", "16"],
]
TIMEOUT = 300

GRACEFUL = (
    "interrupted: stopping at the end of this epoch, after its backup; "
    "Ctrl-C again to stop now"
)
BOTH_SIGNALS = pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=lambda signum: signum.name
)
RESUMABLE = "keras-gru-cell: interrupted; run the same command again to resume training"


@contextlib.contextmanager
def _default_dispositions():
    """SIGINT and SIGTERM as a child should start with them.

    A handler becomes the default across `exec`, while an ignored signal
    stays ignored. (`preexec_fn` would set them in the child, but forks a
    multithreaded JAX.)
    """
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
        signal.SIGTERM: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _command():
    command = shutil.which("keras-gru-cell")
    assert command is not None
    return command


def _start(argv):
    # As from a user's shell, without the TF_CPP_MIN_LOG_LEVEL that the test
    # set-up sets for itself.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    with _default_dispositions():
        return subprocess.Popen(
            [str(arg) for arg in argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )


def _train(out, argv=TRAIN):
    process = _start([_command(), *argv, "--out", out])
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr


def _steps(path):
    with open(path, newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _assert_resumable(out):
    """The kept history has a row per epoch up to the last backup, no gap."""
    steps = _steps(out / ".resume" / "history.csv")
    assert steps == list(range(50, 50 * len(steps) + 1, 50))


def _assert_resumes_to(out, reference):
    _train(out)
    assert _rows(out / "history.csv") == _rows(reference / "history.csv")
    resumed = keras.models.load_model(out / "model.keras")
    expected = keras.models.load_model(reference / "model.keras")
    for a, b in zip(resumed.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (out / ".resume").exists()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    _train(out)
    return out


def _interrupt_at(moment, signum, argv):
    process = _start([sys.executable, SCRIPT, moment, signum.name, *argv])
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert "Traceback" not in stderr, stderr
    return process.returncode, stderr.strip().splitlines()


# The moments at which a signal lets training reach the end of its epoch, back
# up, and stop.
_GRACEFUL_MOMENTS = ["compile", "training", "validation", "backup"]


def _signal_cases(moments, fast):
    """Every moment with each signal; `fast` runs without the `slow` mark."""
    return [
        pytest.param(
            moment,
            signum,
            marks=EVERY_BACKEND if (moment, signum) in fast else pytest.mark.slow,
            id=f"{moment}-{signum.name}",
        )
        for moment in moments
        for signum in (signal.SIGINT, signal.SIGTERM)
    ]


@pytest.mark.parametrize(
    ("moment", "signum"),
    _signal_cases(
        _GRACEFUL_MOMENTS,
        fast={("training", signal.SIGINT), ("validation", signal.SIGTERM)},
    ),
)
def test_a_signal_during_training_stops_after_the_epochs_backup_and_resumes(
    tmp_path, reference, moment, signum
):
    status, lines = _interrupt_at(moment, signum, [*TRAIN, "--out", tmp_path])

    assert status == 128 + signum
    assert lines == [GRACEFUL, RESUMABLE]
    _assert_resumable(tmp_path)
    assert _steps(tmp_path / ".resume" / "history.csv")[-1] < STEPS
    _assert_resumes_to(tmp_path, reference)


@pytest.mark.slow
@pytest.mark.skipif(
    keras.backend.backend() == "torch", reason="PyTorch has no mirrored training"
)
def test_mirrored_training_stops_and_resumes_the_same_way(tmp_path):
    mirrored = [*TRAIN, "--distribute", "mirrored"]
    status, lines = _interrupt_at(
        "training", signal.SIGTERM, [*mirrored, "--out", tmp_path / "run"]
    )

    assert status == 128 + signal.SIGTERM
    assert lines == [GRACEFUL, RESUMABLE]
    _assert_resumable(tmp_path / "run")
    _train(tmp_path / "run", mirrored)
    _train(tmp_path / "reference", mirrored)
    assert _rows(tmp_path / "run" / "history.csv") == _rows(
        tmp_path / "reference" / "history.csv"
    )


@pytest.mark.slow
@BOTH_SIGNALS
def test_a_second_signal_stops_at_once_and_the_last_backup_resumes(
    tmp_path, reference, signum
):
    status, lines = _interrupt_at("twice", signum, [*TRAIN, "--out", tmp_path])

    assert status == 128 + signum
    assert lines == [GRACEFUL, "interrupted again: stopped now"]
    # Stopped within the second epoch: the backup is the first epoch's.
    assert _steps(tmp_path / ".resume" / "history.csv") == [50]
    _assert_resumes_to(tmp_path, reference)


@pytest.mark.slow
@BOTH_SIGNALS
def test_a_signal_while_the_model_is_written_leaves_a_run_that_finishes(
    tmp_path, reference, signum
):
    status, lines = _interrupt_at("saving", signum, [*TRAIN, "--out", tmp_path])

    assert status == 128 + signum
    assert lines == [RESUMABLE]
    assert not (tmp_path / "model.keras").exists()
    assert _steps(tmp_path / ".resume" / "history.csv")[-1] == STEPS
    _assert_resumes_to(tmp_path, reference)


@pytest.mark.slow
@BOTH_SIGNALS
def test_a_signal_after_the_work_is_done_leaves_it_done(tmp_path, reference, signum):
    status, lines = _interrupt_at("finished", signum, [*TRAIN, "--out", tmp_path])

    assert status == 128 + signum
    assert lines == ["keras-gru-cell: interrupted"]
    assert _rows(tmp_path / "history.csv") == _rows(reference / "history.csv")
    assert not (tmp_path / ".resume").exists()


def _caught_signals(pid):
    """The signals `pid` has handlers for, from its /proc status."""
    with open(f"/proc/{pid}/status") as f:
        mask = next(line for line in f if line.startswith("SigCgt:")).split()[1]
    return {signum for signum in range(1, 65) if int(mask, 16) >> (signum - 1) & 1}


@EVERY_BACKEND
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@BOTH_SIGNALS
def test_a_signal_during_start_up_ends_the_command_in_one_line(tmp_path, signum):
    process = _start([_command(), *TRAIN, "--out", tmp_path / "run"])
    # SIGTERM is caught once the entry point has set its handlers, the first
    # thing it does; its imports then take seconds.
    deadline = time.monotonic() + 60
    while signal.SIGTERM not in _caught_signals(process.pid):
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.001)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=TIMEOUT)

    assert process.returncode == 128 + signum
    assert stderr.splitlines() == ["keras-gru-cell: interrupted"]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_killed_train_resumes_from_its_last_backup(tmp_path, reference):
    process = _start([_command(), *TRAIN, "--out", tmp_path])
    log = tmp_path / ".resume" / "history.csv"
    deadline = time.monotonic() + TIMEOUT
    while not (log.exists() and _steps(log)):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.kill()
    process.communicate(timeout=TIMEOUT)

    assert process.returncode == -signal.SIGKILL
    _assert_resumable(tmp_path)
    _assert_resumes_to(tmp_path, reference)


@pytest.mark.parametrize(
    ("argv", "moment", "signum"),
    [
        pytest.param(["add", "1", "2"], "predicting", signal.SIGINT),
        pytest.param(
            ["evaluate", "--bits", "8,16", "-n", "100"],
            "predicting",
            signal.SIGTERM,
            marks=EVERY_BACKEND,
        ),
        pytest.param(["export"], "exporting", signal.SIGINT),
        pytest.param(["export"], "exporting", signal.SIGTERM, marks=pytest.mark.slow),
    ],
    ids=["add-SIGINT", "evaluate-SIGTERM", "export-SIGINT", "export-SIGTERM"],
)
def test_other_commands_stop_at_the_first_signal_and_leave_nothing_half_written(
    tmp_path, argv, moment, signum
):
    model = resources.files("keras_gru_cell.addition.pretrained") / "addition.keras"
    argv = [*argv, "--model", model]
    if argv[0] == "export":
        argv += ["--out", tmp_path / "saved_model"]
    status, lines = _interrupt_at(moment, signum, argv)

    assert status == 128 + signum
    assert lines == ["keras-gru-cell: interrupted"]
    assert list(tmp_path.iterdir()) == []

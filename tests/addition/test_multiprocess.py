"""Real `keras-gru-cell train` processes training one model, on each engine.

Each process of a run is a real command on 127.0.0.1, with one CPU device:
on JAX connected by `keras.distribution.initialize`, on PyTorch by a
`torch.distributed` group over gloo. The runs are compared with one process
of the same backend training on the same global batches. The children are
started with their own `KERAS_BACKEND` whatever this suite's backend, so
these tests run in the default TensorFlow suite. Every wait has a timeout,
and nothing waits on a moment: a child is killed only once the file it must
have written exists.
"""

import csv
import shutil
import signal
import sys
import time
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

# Registers the addition model's classes, so that its files load.
import keras_gru_cell.addition  # noqa: F401
from keras_gru_cell.addition.cli import main
from keras_gru_cell.addition.distribution import connect_processes
from keras_gru_cell.addition.distribution import distribution_scope
from tests.addition.processes import TIMEOUT
from tests.addition.processes import child_env
from tests.addition.processes import finish
from tests.addition.processes import free_port
from tests.addition.processes import start
from tests.asserts import tolerance

# One epoch of 50 steps, then 10 more: a backup at step 50, a history row at
# steps 50 and 60. A small learning rate keeps the held-out sums wrong, so
# the run never stops early.
STEPS, BATCH, BITS, HIDDEN = 60, 16, 6, 8
TRAIN = [
    "train",
    *["--steps", str(STEPS), "--batch-size", str(BATCH), "--bits", f"3:{BITS}"],
    *["--hidden", str(HIDDEN), "--lr", "0.0003", "--seed", "5"],
]
STALLED = Path(__file__).with_name("stalled_command.py")
# Splitting a global batch between processes only reorders the float32 sums
# of each step's gradients: over the batch's sums and bits, and through the
# recurrence's steps of `HIDDEN` units; the differences add up over the steps.
TOLERANCE = tolerance("float32", STEPS * (BATCH * BITS + BITS * HIDDEN))
ENGINES = ["jax", "torch"]


def _command():
    command = shutil.which("keras-gru-cell")
    assert command is not None
    return command


def _start(argv, log, env, command=None):
    return start([*(command or [_command()]), *argv], log, env)


def _run_processes(out, engine, num_processes, *, by_environment=False, first=None):
    """Starts a run's processes; returns them with their stderr files.

    `first`, if set, is the command that process 0 runs instead of
    `keras-gru-cell`.
    """
    coordinator = f"127.0.0.1:{free_port()}"
    processes = []
    for process_id in range(num_processes):
        argv = [*TRAIN, "--distribute", "multi-process", "--out", out]
        settings = [coordinator, num_processes, process_id]
        if by_environment:
            variables = ("JOB_ADDRESSES", "NUM_PROCESSES", "PROCESS_ID")
            env = child_env(
                engine,
                **{
                    f"KERAS_DISTRIBUTION_{name}": str(value)
                    for name, value in zip(variables, settings, strict=True)
                },
            )
        else:
            env = child_env(engine)
            options = ("--coordinator", "--num-processes", "--process-id")
            argv += [x for pair in zip(options, settings, strict=True) for x in pair]
        log = Path(out).parent / f"{Path(out).name}-{process_id}.log"
        command = first if process_id == 0 else None
        processes.append((_start(argv, log, env, command), log))
    return processes


def _train(out, engine, num_processes=1, **kwargs):
    if num_processes == 1:
        process = _start([*TRAIN, "--out", out], f"{out}.log", child_env(engine))
        started = [(process, f"{out}.log")]
    else:
        started = _run_processes(out, engine, num_processes, **kwargs)
    for process, log in started:
        status, stderr = finish(process, log)
        assert status == 0, stderr[-3000:]


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _assert_same_training(out, reference):
    rows, expected = _rows(out / "history.csv"), _rows(reference / "history.csv")
    assert [r["step"] for r in rows] == [r["step"] for r in expected]
    for row, expected_row in zip(rows, expected, strict=True):
        assert row.keys() == expected_row.keys()
        np.testing.assert_allclose(
            [float(row[k]) for k in row if k != "step"],
            [float(expected_row[k]) for k in row if k != "step"],
            **TOLERANCE,
        )
    trained = keras.models.load_model(out / "model.keras")
    one = keras.models.load_model(reference / "model.keras")
    for a, b in zip(trained.get_weights(), one.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE)
    assert not (out / ".resume").exists()


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    return request.param


@pytest.fixture(scope="module")
def one_process(tmp_path_factory, engine):
    out = tmp_path_factory.mktemp(f"one-process-{engine}") / "run"
    _train(out, engine)
    return out


def test_two_processes_train_as_one_process_does(tmp_path, engine, one_process):
    _train(tmp_path / "run", engine, 2)

    _assert_same_training(tmp_path / "run", one_process)
    # The processes trained the model's `ChungGRU` twin; the file keeps the
    # addition model's form.
    saved = keras.models.load_model(tmp_path / "run" / "model.keras")
    assert type(saved.get_layer("gru")) is keras.layers.RNN
    # Process 0 alone wrote the run's files.
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "history.csv",
        "loss.png",
        "model.keras",
    ]


@pytest.mark.slow
def test_four_processes_set_by_kerass_variables_train_as_one_process_does(
    tmp_path, engine, one_process
):
    _train(tmp_path / "run", engine, 4, by_environment=True)

    _assert_same_training(tmp_path / "run", one_process)


@pytest.mark.slow
def test_a_run_killed_midway_resumes_from_process_zeros_backup(
    tmp_path, engine, one_process
):
    out, marker = tmp_path / "run", tmp_path / "backed-up"
    started = _run_processes(out, engine, 2, first=[sys.executable, STALLED, marker])
    deadline = time.monotonic() + TIMEOUT
    while not marker.exists() and time.monotonic() < deadline:
        assert all(p.poll() is None for p, _ in started)
        time.sleep(0.1)
    assert marker.exists()
    # Process 0, the coordinator, stalled after its backup at step 50: the
    # others end at once without it. (On JAX, a process other than 0 killed
    # leaves the rest blocked until JAX's heartbeat times out, about 100 s.)
    started[0][0].send_signal(signal.SIGKILL)
    for process, log in started:
        status, stderr = finish(process, log)
        assert status != 0, stderr[-3000:]
    if engine == "torch":
        # The survivor names what happened and what to do, in one line.
        lines = stderr.strip().splitlines()
        assert status == 2, stderr[-3000:]
        assert lines[-1].startswith(
            "keras-gru-cell: error: A process of the group stopped or stopped answering"
        ), stderr[-3000:]
        assert lines[-1].endswith("to resume from the last backup.")
    assert not (out / "model.keras").exists()
    # The backup is the addition model's, as a one-process run writes it.
    with h5py.File(out / ".resume" / "backup.weights.h5") as backup:
        assert "layers/rnn/cell/vars/0" in backup

    _train(out, engine, 2)

    _assert_same_training(out, one_process)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_process_that_cannot_reach_the_coordinator_fails_in_one_line(
    tmp_path, engine
):
    coordinator = f"127.0.0.1:{free_port()}"
    argv = [
        *TRAIN,
        *["--distribute", "multi-process", "--coordinator", coordinator],
        *["--num-processes", "2", "--process-id", "1", "--connect-timeout", "1"],
        *["--out", tmp_path / "run"],
    ]
    process = _start(argv, tmp_path / "stderr", child_env(engine))
    status, stderr = finish(process, tmp_path / "stderr")

    lines = stderr.strip().splitlines()
    assert status == 2
    assert lines[-1].startswith(
        f"keras-gru-cell: error: Process 0 of the run, the coordinator, did not "
        f"answer at {coordinator} within 1 s"
    ), stderr
    assert not (tmp_path / "run").exists()


# Run in this process, on the suite's backend: the refusals come first.
@pytest.mark.every_backend
@pytest.mark.skipif(keras.backend.backend() in ENGINES, reason="JAX and PyTorch run it")
def test_multi_process_is_refused_on_tensorflow_in_one_line(capsys, tmp_path):
    status = main(
        [
            *TRAIN,
            *["--distribute", "multi-process", "--coordinator", "127.0.0.1:1"],
            *["--num-processes", "2", "--process-id", "0"],
            *["--out", str(tmp_path / "run")],
        ]
    )

    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert lines == [
        "keras-gru-cell: error: --distribute 'multi-process' needs the JAX or "
        "PyTorch backend: run it with KERAS_BACKEND=jax or torch (the "
        f"{keras.backend.backend()} backend is in use)"
    ]
    assert not (tmp_path / "run").exists()


@pytest.mark.every_backend
def test_process_options_need_multi_process(capsys, tmp_path):
    status = main([*TRAIN, "--process-id", "1", "--out", str(tmp_path / "run")])

    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert lines == [
        "keras-gru-cell: error: --process-id needs --distribute multi-process"
    ]
    assert not (tmp_path / "run").exists()


@pytest.mark.every_backend
def test_process_settings_are_refused_for_another_distribution():
    with (
        pytest.raises(ValueError, match=r"`coordinator`.*'mirrored'"),
        distribution_scope("mirrored", coordinator="127.0.0.1:1"),
    ):
        pass


@pytest.mark.every_backend
@pytest.mark.skipif(keras.backend.backend() in ENGINES, reason="they connect")
def test_connecting_processes_on_tensorflow_is_refused_naming_the_backends():
    with pytest.raises(ValueError, match="KERAS_BACKEND=jax or torch"):
        connect_processes("127.0.0.1:1", 2, 0)

"""Data-parallel training gives the losses of a one-device run."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_gru_cell.addition.cli import main
from keras_gru_cell.addition.distribution import distribution_scope
from keras_gru_cell.addition.training import TrainingSettings
from keras_gru_cell.addition.training import train_addition_model

# Runs on every Keras backend in CI, not only TensorFlow (see .ci/run).
pytestmark = pytest.mark.every_backend

SCRIPT = Path(__file__).with_name("distributed_fit.py")


@pytest.mark.slow
@pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="Keras has no data-parallel engine on the PyTorch backend.",
)
def test_mirrored_fit_on_two_devices_matches_one_device():
    result = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=SCRIPT.parent.parent,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    losses = json.loads(result.stdout.strip().splitlines()[-1])

    assert losses["replicas"] == 2
    # Splitting the batch only reorders float32 sums.
    np.testing.assert_allclose(losses["mirrored"], losses["one"], rtol=1e-5)
    assert losses["one"][-1] < losses["one"][0]


def test_no_distribution_is_one_replica():
    with distribution_scope("none") as replicas:
        assert replicas == 1


def test_unknown_distribution_is_rejected_naming_the_argument():
    with (
        pytest.raises(ValueError, match=r"`distribute`: 'multi-gpu'"),
        distribution_scope("multi-gpu"),
    ):
        pass


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="runs the TensorFlow strategy in this process; JAX is covered above",
)
def test_train_command_trains_mirrored_and_saves_a_plain_model(capsys, tmp_path):
    status = main(
        [
            "train",
            "--distribute",
            "mirrored",
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
        ]
    )

    assert status == 0, capsys.readouterr().err
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert restored.get_layer("gru").cell.units == 4


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="PyTorch only")
def test_train_command_refuses_mirrored_on_torch_in_one_line(capsys, tmp_path):
    out = tmp_path / "run"
    status = main(["train", "--distribute", "mirrored", "--out", str(out)])

    lines = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(lines) == 1
    assert "no data-parallel engine" in lines[0]
    assert not out.exists()


def test_training_with_an_unknown_distribution_writes_nothing(tmp_path):
    settings = TrainingSettings(bits=3, steps=1, batch_size=2, seed=0)

    with pytest.raises(ValueError, match="`distribute`"):
        train_addition_model(settings, tmp_path / "run", distribute="multi-gpu")
    assert not (tmp_path / "run").exists()

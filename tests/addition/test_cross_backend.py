"""A `.keras` file saved under one Keras backend predicts the same under the others."""

import os
import subprocess
import sys
from itertools import permutations
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("cross_backend_models.py")
BACKENDS = ("tensorflow", "jax", "torch")


def run_under(backend, action, folder):
    subprocess.run(
        [sys.executable, str(SCRIPT), action, str(folder)],
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=SCRIPT.parent.parent,
        check=True,
        timeout=300,
    )


@pytest.mark.slow
def test_models_saved_on_each_backend_predict_the_same_on_the_others(tmp_path):
    inputs = np.random.default_rng(0).normal(size=(3, 7, 4)).astype("float32")
    np.save(tmp_path / "inputs.npy", inputs)
    for backend in BACKENDS:
        run_under(backend, "save", tmp_path)
    for backend in BACKENDS:
        run_under(backend, "load", tmp_path)

    for source, target in permutations(BACKENDS, 2):
        np.testing.assert_allclose(
            np.load(tmp_path / f"{source}.on.{target}.npy"),
            np.load(tmp_path / f"{source}.npy"),
            atol=1e-5,
            err_msg=f"saved on {source}, loaded on {target}",
        )

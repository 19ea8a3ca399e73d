"""Every script in examples/ runs to the end and reaches the result it states.

Each example checks its own result (it raises if the outcome differs from the
one its header promises), so running it in a fresh Python process, as a user
would, is the test; the lines below pin what each one prints. Every script in
the folder is run, so a new example is covered as soon as it is added. The
examples are sized to run in seconds to a minute; starting TensorFlow in a
new process dominates, hence the `slow` marker.
"""

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
EXPECTED_LINES = {
    "drop_in_replacement.py": [
        "Largest difference between the two models' predictions",
        "One more epoch",
    ],
    "train_addition.py": [
        "1024 + 16 = 1040",
        "Two 1000-bit numbers added exactly: True",
    ],
    "export_and_serve.py": [
        f"{form}: {result}"
        for form in (".keras model", "SavedModel", "TFSMLayer")
        for result in ("1024 + 16 = 1040", "5 of 5 100-bit sums exact")
    ],
}
# Serving a SavedModel with keras.layers.TFSMLayer needs the TensorFlow backend.
TENSORFLOW_ONLY = {"export_and_serve.py"}


def example_params():
    params = []
    for path in EXAMPLES:
        marks = [pytest.mark.slow]
        if path.name in TENSORFLOW_ONLY:
            marks.append(
                pytest.mark.skipif(
                    keras.backend.backend() != "tensorflow",
                    reason="needs the TensorFlow backend",
                )
            )
        params.append(pytest.param(path, id=path.name, marks=marks))
    return params


@pytest.mark.parametrize("example", example_params())
def test_example_runs_to_its_stated_result(example, tmp_path):
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    for line in EXPECTED_LINES.get(example.name, []):
        assert line in result.stdout

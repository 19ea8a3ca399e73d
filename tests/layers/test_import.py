"""`import keras_gru_cell` costs nothing beyond Keras: no TensorFlow, no matplotlib.

Each check runs in a fresh interpreter, since this one has imported everything
the other tests need. Keras 3.15 itself imports matplotlib when it is
installed (`keras/src/visualization/plot_image_gallery.py`), so the checks
compare with what `import keras` alone loads.
"""

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "matplotlib")

SCRIPT = f"""
import json, sys
import keras
def heavy():
    return {{m for m in sys.modules if m.split(".")[0] in {HEAVY!r}}}
with_keras = heavy()
import keras_gru_cell
with_package = heavy()
import numpy as np
layer = keras_gru_cell.ChungGRU(3, return_sequences=True)
layer(np.zeros((2, 4, 5), "float32"))
with_a_call = heavy()
print(json.dumps({{
    "by_package": sorted(with_package - with_keras),
    "by_call": sorted(with_a_call - with_package),
    "tensorflow": any(m.split(".")[0] == "tensorflow" for m in with_a_call),
}}))
"""

BACKENDS = ["jax", "torch", "tensorflow"]


def imported_in_a_fresh_process(backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_the_layers_import_and_run_without_loading_more_than_keras(backend):
    loaded = imported_in_a_fresh_process(backend)

    assert loaded["by_package"] == []
    assert loaded["by_call"] == []
    if backend != "tensorflow":
        assert not loaded["tensorflow"]

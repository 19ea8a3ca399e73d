"""Test set-up shared by the test suite and the docstring examples."""

import os

# Keep TensorFlow's C++ start-up chatter out of test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# float64 tests need 64-bit types, which JAX disables by default.
os.environ.setdefault("JAX_ENABLE_X64", "1")

import keras
import numpy as np
import pytest

# The fused loop's per-backend modules import their backend's library, which
# need not be installed; they hold no doctests for `--doctest-modules` to find.
collect_ignore_glob = ["keras_gru_cell/_fused/*_loop.py"]


@pytest.fixture(autouse=True)
def _seed_everything():
    """Every test and doctest starts from the same Python, NumPy and backend seed."""
    keras.utils.set_random_seed(1337)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["keras"] = keras

"""The Keras backends a test that starts fresh interpreters runs on.

Such a test costs seconds per interpreter (importing Keras and its backend),
so the test command runs it on this run's backend (``KERAS_BACKEND``,
TensorFlow by default) and marks the other installed backends slow: CI's
runs with ``--slow`` cover them all.
"""

import importlib.util

import keras
import pytest

#: The installed backends sknoise trains on.
INSTALLED = [
    name for name in ("tensorflow", "jax") if importlib.util.find_spec(name) is not None
]


def each_backend():
    """``INSTALLED`` as parameters, all but this run's backend marked slow."""
    current = keras.backend.backend()
    return [
        pytest.param(name, marks=() if name == current else pytest.mark.slow)
        for name in INSTALLED
    ]

"""Process settings for the whole test run: the tests and the doctests.

This file sits at the repository root, outside the shipped package, so that it
applies to ``tests/`` and to the docstring Examples in ``sknoise/`` alike.
Tests own their process, so they may set these; the library never does.
"""

import importlib.util
import os

import pytest

# Keep TensorFlow's C++ logging to warnings and up.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
# Draw figures off screen, so that plotting doctests need no display.
os.environ.setdefault("MPLBACKEND", "Agg")

#: What the Examples of ``sknoise.onnx`` run: the ``onnx`` extra.
ONNX_EXTRA = ("skl2onnx", "onnxruntime")


def pytest_collection_modifyitems(config, items):
    # The Examples of sknoise.onnx show the serving path as a user writes it,
    # importing skl2onnx and onnxruntime; without them, they are skipped.
    missing = [name for name in ONNX_EXTRA if importlib.util.find_spec(name) is None]
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"needs the onnx extra ({', '.join(missing)})")
    for item in items:
        if item.name.startswith("sknoise.onnx."):
            item.add_marker(skip)

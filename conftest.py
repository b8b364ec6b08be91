"""Process settings for the whole test run, the tests and the doctests, and
which tests it skips: the slow ones unless asked, the ONNX Examples
without the ``onnx`` extra.

This file sits at the repository root, outside the shipped package, so that it
applies to ``tests/`` and to the docstring Examples in ``sknoise/`` alike.
Tests own their process, so they may set these; the library never does.
"""

import atexit
import importlib.util
import os
import shutil
import tempfile

import pytest

# Keep TensorFlow's C++ logging to warnings and up.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
# Draw figures off screen, so that plotting doctests need no display.
os.environ.setdefault("MPLBACKEND", "Agg")
# sknoise's compilation cache, on by default, in a folder of this run's
# rather than the user's: the workers (pytest-xdist's and the tests' fresh
# interpreters inherit it) share the loops compiled once, and the next run
# starts as cold as a new machine.
if "SKNOISE_COMPILATION_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="sknoise-test-cache-")
    os.environ["SKNOISE_COMPILATION_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)


def pytest_addoption(parser):
    parser.addoption(
        "--slow",
        action="store_true",
        help="also run the tests marked slow (CI does)",
    )


#: What the Examples of ``sknoise.onnx`` run: the ``onnx`` extra.
ONNX_EXTRA = ("skl2onnx", "onnxruntime")


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked slow unless ``--slow`` is given (each covers in
    depth what a lighter test already covers, and CI runs them all), and
    the Examples of ``sknoise.onnx`` without the ``onnx`` extra."""
    missing = [name for name in ONNX_EXTRA if importlib.util.find_spec(name) is None]
    slow = pytest.mark.skip(reason="slow: run with --slow (CI does)")
    no_onnx = pytest.mark.skip(reason=f"needs the onnx extra ({', '.join(missing)})")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--slow"):
            item.add_marker(slow)
        if missing and item.name.startswith("sknoise.onnx."):
            item.add_marker(no_onnx)

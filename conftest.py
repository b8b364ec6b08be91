"""Process settings for the whole test run: the tests and the doctests.

This file sits at the repository root, outside the shipped package, so that it
applies to ``tests/`` and to the docstring Examples in ``sknoise/`` alike.
Tests own their process, so they may set these; the library never does.
"""

import os

# Keep TensorFlow's C++ logging to warnings and up.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
# Draw figures off screen, so that plotting doctests need no display.
os.environ.setdefault("MPLBACKEND", "Agg")

"""Import Keras (and scikeras) without TensorFlow's start-up chatter.

TensorFlow 2.21 writes a handful of informational lines straight to the
process's stderr file descriptor while it is imported and when it first looks
for devices. They are written before absl's logging is initialised, so
``TF_CPP_MIN_LOG_LEVEL`` does not silence them, and the library must not set
environment variables for its user anyway. Instead, stderr is captured at the
file-descriptor level for the duration of the import (and of the Keras
training call, where tf.data prints one more such line), the known-benign lines
are dropped and everything else is written back, so real warnings and errors
still reach the user.
"""

import contextlib
import importlib.util
import logging
import os
import re
import sys
import tempfile

# Lines TensorFlow prints on every import on a CPU-only machine. Each pattern
# is matched against one line of the captured output.
_BENIGN_LINES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"^I\d{4} .*\] oneDNN custom operations are on"),
    re.compile(r"^I\d{4} .*\] Could not find cuda drivers on your machine"),
    re.compile(r"^I\d{4} .*\] This TensorFlow binary is optimized to use available"),
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow"),
    # tf.data, on the first Keras fit: TensorFlow's own graph carries an
    # attribute its runtime does not know; TensorFlow ignores it, as it says.
    re.compile(r"^E\d{4} .*\] NodeDef mentions attribute use_unbounded_threadpool"),
    # XLA, when it compiles sknoise's training loop for the first time.
    re.compile(r"^I\d{4} .*\] XLA service .* initialized for platform Host"),
    re.compile(r"^I\d{4} .*\]   StreamExecutor \[\d+\]: Host, Default Version"),
    re.compile(r"^I\d{4} .*\] disabling MLIR crash reproducer"),
    re.compile(r"^I\d{4} .*\] Compiled cluster using XLA!"),
)
# Only expected, hence only dropped, when the same capture also reported that
# the machine has no CUDA driver at all.
_NO_DRIVER = re.compile(r"Could not find cuda drivers on your machine")
_CUINIT_FAILURE = re.compile(r"^E\d{4} .*\] failed call to cuInit")


def filter_tensorflow_noise(text):
    """Return ``text`` without TensorFlow's known start-up lines."""
    no_driver = bool(_NO_DRIVER.search(text))
    kept = []
    for line in text.splitlines(keepends=True):
        if any(pattern.search(line) for pattern in _BENIGN_LINES):
            continue
        if no_driver and _CUINIT_FAILURE.search(line):
            continue
        kept.append(line)
    return "".join(kept)


class _RetracingFilter(logging.Filter):
    """Drop TensorFlow's tf.function retracing warning.

    Every fit builds a new network, so Keras traces a new training function
    per fit by design; in a grid search TensorFlow then warns about "excessive
    retracing", advice that does not apply and that the user cannot act on.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _filtered_stderr_descriptor():
    """Capture fd 2, then replay it through :func:`filter_tensorflow_noise`."""
    try:
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        # No real file descriptor (e.g. some notebook front ends): nothing
        # printed at the C level would reach the user through sys.stderr.
        yield
        return
    sys.stderr.flush()
    saved_fd = os.dup(stderr_fd)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), stderr_fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, stderr_fd)
            os.close(saved_fd)
            capture.seek(0)
            remainder = filter_tensorflow_noise(
                capture.read().decode("utf-8", errors="replace")
            )
            if remainder:
                sys.stderr.write(remainder)
                sys.stderr.flush()


@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TensorFlow's known-benign output for the duration of a block.

    Not thread-safe: it swaps the process-wide stderr descriptor.
    """
    tensorflow_logger = logging.getLogger("tensorflow")
    retracing_filter = _RetracingFilter()
    tensorflow_logger.addFilter(retracing_filter)
    try:
        with _filtered_stderr_descriptor():
            yield
    finally:
        tensorflow_logger.removeFilter(retracing_filter)


def import_keras():
    """Import and return ``keras``, quietly the first time.

    The backend is whatever the user selected with ``KERAS_BACKEND`` (or
    Keras' own configuration); this function never chooses one.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with quiet_tensorflow():
        import keras

        # TensorFlow is imported whatever the backend: scikeras imports it
        # (when installed) for its seeding helpers, so it is better done here,
        # under the filter.
        if importlib.util.find_spec("tensorflow") is not None:
            import tensorflow as tf

            # The first device query is what prints the cuInit failure on a
            # machine without CUDA; do it now, inside the filter.
            tf.config.list_physical_devices()
    return keras

"""Fitting in threads: no lost stderr, and the results of serial fits.

The stderr checks run in a subprocess, which the parent reads at the file
descriptor level: that is where a library swapping fd 2 loses output.
"""

import subprocess
import sys
import textwrap

HEADER = """\
import os, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from sknoise import NoisyMLPClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(24, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)
"""


def _run(body):
    """Run ``HEADER + body`` in a fresh interpreter; return its stdout and
    stderr."""
    result = subprocess.run(
        [sys.executable, "-c", HEADER + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def test_stderr_still_reaches_the_terminal_after_fits_in_threads():
    _, stderr = _run(
        """
        def fit(args):
            loop, seed = args
            return NoisyMLPClassifier(
                nodes=4, epochs=3, training_loop=loop, random_state=seed
            ).fit(X, y)

        jobs = [(loop, seed) for loop in ("compiled", "keras") for seed in (0, 1)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(fit, jobs))
        os.write(2, b"fd line after the threads\\n")
        print("sys.stderr line after the threads", file=sys.stderr, flush=True)
        """
    )
    assert "fd line after the threads\n" in stderr
    assert "sys.stderr line after the threads\n" in stderr


def test_stderr_written_during_a_fit_is_not_held_back():
    # The callback ends the process in the middle of the fit: a line held
    # back until the fit ends would never be written.
    _, stderr = _run(
        """
        import keras

        class WriteThenDie(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                os.write(2, b"fd line during the fit\\n")
                sys.stderr.write("sys.stderr line during the fit\\n")
                sys.stderr.flush()
                os._exit(0)

        NoisyMLPClassifier(nodes=4, epochs=3, callbacks=[WriteThenDie()]).fit(X, y)
        """
    )
    assert "fd line during the fit\n" in stderr
    assert "sys.stderr line during the fit\n" in stderr

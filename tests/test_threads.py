"""Fitting in threads: no lost stderr, and the results of serial fits.

The stderr checks run in a subprocess, which the parent reads at the file
descriptor level: that is where a library swapping fd 2 loses output.
"""

import importlib.util
import json
import os
import random
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from sknoise import NoisyMLPClassifier
from sknoise._threads import ONE_THREAD_XLA, available_cpus
from tests._backends import each_backend

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)

HEADER = """\
import os, sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from sknoise import NoisyMLPClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(24, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)
"""


#: The variables that limit NumPy's BLAS, and so (through sknoise) the
#: backend's threads.
BLAS_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _run(body, env=None, argv=(), without=()):
    """Run ``HEADER + body`` in a fresh interpreter, with ``env`` added to
    this one's environment and the variables ``without`` names removed;
    return its stdout and stderr."""
    environment = {k: v for k, v in os.environ.items() if k not in without}
    result = subprocess.run(
        [sys.executable, "-c", HEADER + textwrap.dedent(body), *argv],
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
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


def _fit(loop, seed, **params):
    return NoisyMLPClassifier(
        nodes=4, epochs=3, batch_size=8, training_loop=loop, random_state=seed,
        **params,
    ).fit(X, y)  # fmt: skip


@pytest.mark.parametrize("loop", ["compiled", "keras"])
def test_fits_in_threads_equal_serial_fits(loop):
    seeds = range(4)
    serial = [_fit(loop, seed).predict_proba(X) for seed in seeds]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda seed: _fit(loop, seed), seeds))
    for expected, clf in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(clf.predict_proba(X), expected)


def _global_draws():
    """One draw from each global random stream a user might rely on."""
    import tensorflow as tf

    return (
        random.random(),
        np.random.rand(),  # noqa: NPY002
        float(tf.random.uniform(())),
        float(tf.random.uniform((), seed=7)),
    )


def _seed_globally(seed):
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    tf.random.set_seed(seed)


@pytest.mark.parametrize("loop", ["compiled", "keras"])
def test_a_fit_leaves_the_global_random_streams_alone(loop):
    _seed_globally(0)
    _global_draws()
    _fit(loop, 1)
    after_a_fit = _global_draws()
    _seed_globally(0)
    _global_draws()
    assert _global_draws() == after_a_fit


@pytest.mark.parametrize("loop", ["compiled", "keras"])
def test_a_fit_sets_no_tensorflow_global_seed(loop):
    import tensorflow as tf

    tf.random.set_seed(None)
    _fit(loop, 0)
    assert tf.compat.v1.get_seed(None) == (None, None)


# Seeding the Keras loop from state saved with the model also makes a copy
# continue exactly like the original, as the compiled loop does.
@pytest.mark.parametrize("shuffle", [True, "batch"])
def test_a_pickled_copy_continues_the_keras_loop_like_the_original(shuffle):
    import pickle

    clf = _fit("keras", 0, warm_start=True, fit__shuffle=shuffle)
    copy = pickle.loads(pickle.dumps(clf))
    clf.fit(X, y)
    copy.fit(X, y)
    np.testing.assert_array_equal(copy.predict_proba(X), clf.predict_proba(X))


# ---------------------------------------------------------------------------
# Thread limits: the one NumPy's BLAS has reaches the backend's pools
# ---------------------------------------------------------------------------
LIMIT_PROBE = """
import json, os
import jaxlib.xla_client as xla_client

# XLA reads XLA_FLAGS when JAX makes its CPU client: record them then.
seen = {}
make_cpu_client = xla_client.make_cpu_client

def recording(*args, **kwargs):
    seen["XLA_FLAGS"] = os.environ.get("XLA_FLAGS")
    return make_cpu_client(*args, **kwargs)

xla_client.make_cpu_client = recording
from threadpoolctl import threadpool_limits
from sknoise import _threads
how = sys.argv[1]
with threadpool_limits(1 if how == "threadpoolctl" else None):
    NoisyMLPClassifier(nodes=3, epochs=1).fit(X, y)
import keras

report = {"applied": _threads.applied_limit, "xla": seen.get("XLA_FLAGS"),
          "after": os.environ.get("XLA_FLAGS")}
if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    report["tensorflow"] = tf.config.threading.get_intra_op_parallelism_threads()
print(json.dumps(report))
"""


@pytest.mark.parametrize("backend", each_backend())
@pytest.mark.parametrize("how", ["OMP_NUM_THREADS", "threadpoolctl", "no limit"])
def test_a_blas_thread_limit_reaches_the_backend(how, backend):
    if importlib.util.find_spec("jaxlib") is None:
        pytest.skip("the probe reads JAX's client creation")
    env = {"KERAS_BACKEND": backend}
    if how == "OMP_NUM_THREADS":
        env["OMP_NUM_THREADS"] = "1"
    # Only the case's limit: none inherited from this process (a Dask
    # cluster's nanny, for one, sets OMP_NUM_THREADS=1 in its parent).
    stdout, _ = _run(LIMIT_PROBE, env=env, argv=[how], without=BLAS_LIMITS)
    report = json.loads(stdout.splitlines()[-1])
    limited = how != "no limit" and available_cpus() > 1
    assert report["applied"] == (1 if limited else None)
    # The user's environment is as it was.
    assert report["after"] is None
    if backend == "jax":
        assert report["xla"] == (ONE_THREAD_XLA if limited else None)
    else:
        assert report["tensorflow"] == (1 if limited else 0)


def _backend_threads(estimator, X, y):
    """A scorer that reports the limit sknoise applied in the worker."""
    from sknoise import _threads

    return _threads.applied_limit or 0


@pytest.mark.skipif(available_cpus() < 2, reason="joblib limits nothing on 1 CPU")
def test_joblib_workers_start_the_backend_with_their_share_of_the_cpus():
    from sklearn.model_selection import cross_val_score

    scores = cross_val_score(
        NoisyMLPClassifier(nodes=3, epochs=1, random_state=0),
        X,
        y,
        cv=2,
        n_jobs=2,
        scoring=_backend_threads,
    )
    # loky gives each of two workers half the CPUs (at least one).
    assert list(scores) == [max(1, available_cpus() // 2)] * 2

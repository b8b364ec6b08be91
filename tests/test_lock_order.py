"""No two threads wait for each other: the lock order of sknoise._backend.

The process's first import of Keras takes sknoise's start-up lock and
Python's import locks (of Keras, and of ``sknoise._layers``, which Keras'
post-import hook imports). Whatever else runs at that moment -- a loaded
estimator's ``model_`` or ``export_model()``, a user's ``import keras``,
predictions -- must take those locks in the same order, or both threads
wait forever. Each pair runs in a fresh interpreter (Keras is imported once
per process), the second action starting as soon as the first has begun
importing Keras, and every wait has a timeout: a regression fails, with
the threads' stacks, instead of hanging the test run.
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sknoise import NoisyMLPClassifier
from tests._backends import each_backend

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)

# The child's common part: the data, a saved estimator, the actions, and a
# runner that joins threads with a timeout and reports their stacks if any
# is still waiting. Reports go to stdout: while Keras is first imported,
# descriptor 2 is captured.
COMMON = """
import importlib.abc, json, os, pickle, sys, threading, time, traceback, warnings
import numpy as np
from sknoise import NoisyMLPClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)
with open(sys.argv[1], "rb") as handle:
    SAVED = handle.read()
EXPECTED = np.load(sys.argv[2])

caught = []
warnings.simplefilter("always")
warnings.showwarning = lambda message, *args, **kwargs: caught.append(str(message))


def act(action):
    if action == "fit":
        NoisyMLPClassifier(nodes=2, epochs=1, random_state=0).fit(X, y)
        return "fitted"
    if action == "keras fit":
        NoisyMLPClassifier(
            nodes=2, epochs=1, random_state=0, training_loop="keras"
        ).fit(X, y)
        return "fitted"
    if action == "model_":
        return len(pickle.loads(SAVED).model_.layers)
    if action == "export_model":
        return len(pickle.loads(SAVED).export_model().layers)
    if action == "predict":
        loaded = pickle.loads(SAVED)
        return all(
            np.array_equal(loaded.predict_proba(X), EXPECTED) for _ in range(50)
        )
    if action == "import keras":
        import keras

        # Registered before the user's import returns, whoever imports.
        return keras.saving.get_registered_object("sknoise>GaussianNoise") is not None
    raise ValueError(action)


def run_together(actions, *, before=None, timeout=120):
    # Start the threads together; ``before[i]``, if any, is an event thread
    # i waits for (with a timeout) before it acts. Returns the results, or
    # exits the process reporting the stacks of the threads still waiting.
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def work(i, action):
        try:
            barrier.wait(timeout)
            if before and before[i] is not None:
                before[i].wait(timeout)
            results[i] = act(action)
        except BaseException:
            results[i] = "error: " + traceback.format_exc()

    threads = [
        threading.Thread(target=work, args=(i, action), daemon=True)
        for i, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    waiting = [t.ident for t in threads if t.is_alive()]
    if waiting:
        frames = sys._current_frames()
        stacks = ["".join(traceback.format_stack(frames[i])) for i in waiting]
        print(json.dumps({"hung": stacks}), flush=True)
        os._exit(0)
    return results
"""

# The first action starts alone; the second starts as soon as the process's
# first import of Keras has begun (in whichever thread): then the first
# import is under way, holding its locks, while the second takes its own.
RACE = """
keras_import_started = threading.Event()


class WatchKerasImport(importlib.abc.MetaPathFinder):
    # Only watches: returns None, so that the usual finders import Keras.
    def find_spec(self, name, path=None, target=None):
        if name == "keras":
            keras_import_started.set()
        return None


sys.meta_path.insert(0, WatchKerasImport())
first, second = sys.argv[3], sys.argv[4]
results = run_together([first, second], before=[None, keras_import_started])
print(json.dumps({"results": results, "warnings": caught,
                  "started": keras_import_started.is_set()}), flush=True)
"""


def _saved(tmp_path):
    """A fitted estimator pickled, and its probabilities, in ``tmp_path``."""
    clf = NoisyMLPClassifier(nodes=3, epochs=2, random_state=0).fit(X, y)
    (tmp_path / "clf.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "proba.npy", clf.predict_proba(X))
    return [tmp_path / "clf.pkl", tmp_path / "proba.npy"]


def _run(script, backend, *argv):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    assert "hung" not in report, "threads still waiting:\n" + "\n".join(report["hung"])
    return report


EXPECTED = {
    "fit": "fitted",
    "model_": 5,  # features, hidden, hidden noise, activation, output
    "export_model": 3,
    "predict": True,
    "import keras": True,
}


@pytest.mark.parametrize("backend", each_backend())
@pytest.mark.parametrize(
    "first, second",
    [
        # The deadlock and the registration race found, and a user's import:
        # the test command runs these; CI (--slow) every order.
        ("fit", "model_"),
        ("import keras", "model_"),
        ("fit", "import keras"),
        *(
            pytest.param(*pair, marks=pytest.mark.slow)
            for pair in [
                ("model_", "fit"),
                ("fit", "export_model"),
                ("import keras", "fit"),
                ("model_", "import keras"),
                ("fit", "predict"),
            ]
        ),
    ],
)
def test_an_action_during_the_first_import_of_keras_waits_for_no_one(
    backend, first, second, tmp_path
):
    report = _run(COMMON + RACE, backend, *_saved(tmp_path), first, second)
    assert report["started"]
    assert report["results"] == [EXPECTED[first], EXPECTED[second]]
    assert report["warnings"] == []


@pytest.mark.parametrize("backend", each_backend())
def test_fits_loads_and_exports_at_once_after_the_first_fit(backend, tmp_path):
    # Keras imported: the locks of the later first times (TensorFlow started
    # for serialisation on JAX, scikeras, compiled loops built, networks
    # loaded), in rounds of all of them at once.
    report = _run(
        COMMON
        + """
act("fit")
actions = ["fit", "keras fit", "model_", "export_model", "predict"]
rounds = [run_together(actions) for _ in range(3)]
print(json.dumps({"rounds": rounds, "warnings": caught}), flush=True)
""",
        backend,
        *_saved(tmp_path),
    )
    expected = ["fitted", "fitted", 5, 3, True]
    assert report["rounds"] == [expected] * 3
    assert report["warnings"] == []

"""Processes that do not train load no Keras (issue 21).

``import sknoise`` (and ``import sknoise.onnx``, which leaves skl2onnx and
onnx to the conversion), the estimators' parameters and representations, and
a fitted estimator loaded from a file and predicting, run in NumPy and
scikit-learn alone: each is tried in a fresh interpreter on every installed
Keras backend, which reports the heavy modules it ended up with. Training,
and reading the training network ``model_``, load Keras (and only what the
fit's path needs).
"""

import json
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from tests._backends import INSTALLED, each_backend
from tests._recordings import assert_close_to_recording

HEAVY = ("keras", "tensorflow", "jax", "scikeras", "skl2onnx", "onnx", "onnxruntime")
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)).astype("float32")
y = np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)]
Y_REG = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]])
FAST = {"nodes": (6, 4), "epochs": 3, "random_state": 0}

# Appended to each script: the heavy modules the process loaded, and what
# the script put in ``result``, as the last line of its output.
REPORT = f"""
import json as _json, sys as _sys
print(_json.dumps({{"loaded": [m for m in {HEAVY!r} if m in _sys.modules],
                    "result": result}}))
"""


def run_fresh(script, backend, *argv, **environment):
    """Run ``script`` in a fresh interpreter on ``backend``, with
    ``environment`` added to this one's; its report."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.update(environment)
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script) + REPORT, *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


@pytest.mark.parametrize("backend", each_backend())
def test_import_parameters_and_reprs_load_no_keras(backend):
    report = run_fresh(
        """
        import numpy as np
        from sklearn.base import clone
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.utils._param_validation import InvalidParameterError
        import sknoise
        import sknoise.onnx
        from sknoise import NoisyMLPClassifier

        clf = NoisyMLPClassifier(nodes=(8, 4), noise_site="input+hidden",
                                 optimizer__beta_1=0.8)
        clf.set_params(noise_amount=0.2, optimizer__beta_2=0.99)
        params = clone(clf).get_params()
        html = make_pipeline(StandardScaler(), clf)._repr_html_()
        try:
            clf.set_params(epochs=0).fit(np.zeros((4, 2)), [0, 1, 0, 1])
        except InvalidParameterError as error:
            message = str(error)
        result = {"repr": repr(clf), "noise_amount": params["noise_amount"],
                  "beta_2": params["optimizer__beta_2"],
                  "html": "NoisyMLPClassifier" in html, "message": message}
        """,
        backend,
    )
    assert report["loaded"] == []
    result = report["result"]
    assert result["repr"].startswith("NoisyMLPClassifier(epochs=0, nodes=(8, 4)")
    assert result["noise_amount"] == 0.2 and result["beta_2"] == 0.99
    assert result["html"]
    assert (
        "'epochs' parameter of NoisyMLPClassifier must be an int" in (result["message"])
    )


SERVE = """
import pickle, sys
import numpy as np

data = np.load(sys.argv[1])
X = data[:, :3].astype("float32")
result = {}
for fmt, path in zip(sys.argv[2::2], sys.argv[3::2]):
    if fmt == "skops":
        import skops.io as sio
        model = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    elif fmt == "joblib":
        import joblib
        model = joblib.load(path)
    else:
        model = pickle.load(open(path, "rb"))
    served = {"predict": np.asarray(model.predict(X)).tolist(),
              "score": model.score(X, model.predict(X)),
              "coefs": [c.tolist() for c in model.coefs_],
              "intercepts": [b.tolist() for b in model.intercepts_],
              "n_layers": model.n_layers_, "out_activation": model.out_activation_,
              "loss_curve": model.loss_curve_, "n_iter": model.n_iter_}
    if hasattr(model, "classes_"):
        served["classes"] = model.classes_.tolist()
        served["proba"] = model.predict_proba(X).tolist()
        served["log_proba"] = model.predict_log_proba(X).tolist()
    result[fmt] = served
"""


def _save(estimator, fmt, path):
    if fmt == "skops":
        import skops.io as sio

        sio.dump(estimator, path)
    elif fmt == "joblib":
        joblib.dump(estimator, path)
    else:
        path.write_bytes(pickle.dumps(estimator))


# One format of each kind, each with another estimator; one fresh process
# loads them all.
SAVED = {
    "joblib": lambda: NoisyMLPClassifier(**FAST).fit(X, y),
    "pickle": lambda: NoisyMLPRegressor(**FAST).fit(X, Y_REG),
    "skops": lambda: NoisyMLPClassifier(**FAST).fit(X, np.digitize(X[:, 1], [0])),
}


@pytest.mark.parametrize("backend", each_backend())
def test_a_loaded_estimator_predicts_without_keras(backend, tmp_path):
    pytest.importorskip("skops.io")
    estimators, argv = {}, [tmp_path / "data.npy"]
    for fmt, make in SAVED.items():
        estimators[fmt] = make()
        path = tmp_path / f"model.{fmt}"
        _save(estimators[fmt], fmt, path)
        argv += [fmt, path]
    np.save(tmp_path / "data.npy", np.column_stack([X, np.zeros(len(X))]))
    report = run_fresh(SERVE, backend, *argv)
    assert report["loaded"] == []
    for fmt, estimator in estimators.items():
        result = report["result"][fmt]
        # Bit for bit what the fitting process predicts (JSON keeps float64).
        assert result["predict"] == np.asarray(estimator.predict(X)).tolist()
        assert result["coefs"] == [c.tolist() for c in estimator.coefs_]
        assert result["intercepts"] == [b.tolist() for b in estimator.intercepts_]
        assert result["n_layers"] == 4 == estimator.n_layers_
        assert result["score"] == 1.0
        assert result["loss_curve"] == estimator.loss_curve_
        if hasattr(estimator, "classes_"):
            assert result["classes"] == estimator.classes_.tolist()
            assert result["proba"] == estimator.predict_proba(X).tolist()
            assert result["log_proba"] == estimator.predict_log_proba(X).tolist()


@pytest.mark.parametrize("backend", each_backend())
def test_a_fit_loads_what_its_training_loop_needs_and_no_more(backend):
    report = run_fresh(
        """
        import sys
        import numpy as np
        from sknoise import NoisyMLPClassifier

        X = np.random.default_rng(0).normal(size=(20, 2))
        y = [0, 1] * 10
        clf = NoisyMLPClassifier(nodes=4, epochs=2, random_state=0).fit(X, y)
        heavy = ("keras", "tensorflow", "jax", "scikeras")
        result = {"compiled fit": [m for m in heavy if m in sys.modules]}
        clf.set_params(training_loop="keras").fit(X, y)
        """,
        backend,
    )
    # The compiled loop needs Keras and its backend: what ``import keras``
    # loads (TensorFlow imports JAX itself where it is installed).
    keras_alone = run_fresh("import keras\nresult = None", backend)["loaded"]
    assert backend in keras_alone and "scikeras" not in keras_alone
    assert report["result"]["compiled fit"] == keras_alone
    # Keras' own fit goes through scikeras, which imports TensorFlow.
    assert set(report["loaded"]) == {*keras_alone, "tensorflow", "scikeras"}


@pytest.mark.parametrize("backend", each_backend())
@pytest.mark.parametrize(
    "keras_first", [False, True], ids=["sknoise-first", "keras-first"]
)
def test_a_saved_training_network_loads_in_keras_after_import_sknoise(
    backend, keras_first, tmp_path
):
    clf = NoisyMLPClassifier(
        nodes=5, noise_site="input+hidden+weights", dropout=0.1, epochs=2
    ).fit(X, y)
    clf.model_.save(tmp_path / "model.keras")
    np.save(tmp_path / "X.npy", X)
    imports = ["import keras", "import sknoise"]
    report = run_fresh(
        "\n".join(imports[::-1] if not keras_first else imports)
        + """
import sys
import numpy as np
model = keras.saving.load_model(sys.argv[1])
outputs = model(np.load(sys.argv[2]), training=False)
result = {"outputs": keras.ops.convert_to_numpy(outputs).tolist(),
          "layers": [type(layer).__module__ for layer in model.layers]}
""",
        backend,
        tmp_path / "model.keras",
        tmp_path / "X.npy",
    )
    assert "sknoise._layers" in report["result"]["layers"]
    np.testing.assert_allclose(
        np.asarray(report["result"]["outputs"]), clf._forward(X), rtol=1e-5, atol=1e-6
    )


def _kernels(model):
    """The kernels of a Keras network's Dense layers, in order."""
    dense = [layer for layer in model.layers if hasattr(layer, "kernel")]
    return [np.asarray(layer.kernel.numpy()) for layer in dense]


def test_reading_model_loads_the_saved_network_once_across_threads():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert "model_" not in vars(restored)
    models, barrier = [], threading.Barrier(4)

    def read():
        barrier.wait()
        models.append(restored.model_)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(models) == 4 and all(model is models[0] for model in models)
    for kernel, weights in zip(restored.coefs_, _kernels(models[0]), strict=True):
        np.testing.assert_array_equal(kernel, weights)
    # Saved again, the loaded network travels as it came.
    again = pickle.loads(pickle.dumps(restored))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_threads_predict_alike_from_a_loaded_estimator():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    expected = clf.predict_proba(X)
    results, barrier = [], threading.Barrier(4)

    def predict():
        barrier.wait()
        results.append(restored.predict_proba(X))

    threads = [threading.Thread(target=predict) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    for result in results:
        np.testing.assert_array_equal(result, expected)
    assert "model_" not in vars(restored)


def test_a_failed_fresh_fit_of_a_loaded_estimator_leaves_it_unfitted():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    with pytest.raises(ValueError, match="only one class"):
        restored.fit(X, ["yes"] * len(X))
    for name in ("model_", "coefs_", "classes_", "n_layers_"):
        assert not hasattr(restored, name), name
    with pytest.raises(NotFittedError):
        restored.predict(X)
    with pytest.raises(NotFittedError):
        restored.export_model()


def test_the_mlp_weight_attributes_are_read_only_views_of_the_network():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(3, 6), (6, 4), (4, 1)]
    assert [b.shape for b in clf.intercepts_] == [(6,), (4,), (1,)]
    assert clf.n_layers_ == 4
    for kernel, weights in zip(clf.coefs_, _kernels(clf.model_), strict=True):
        np.testing.assert_array_equal(kernel, weights)
    with pytest.raises(ValueError, match="read-only"):
        clf.coefs_[0][0, 0] = 1.0
    unfitted = clone(clf)
    assert not hasattr(unfitted, "coefs_") and not hasattr(unfitted, "intercepts_")


def test_the_keras_constraint_reads_a_partly_imported_keras(monkeypatch):
    # Another thread's ``import keras`` has put the module in sys.modules
    # but not defined its classes yet: validation must not fail on that,
    # and must see the classes once they are defined.
    import types

    from sknoise._sklearn_compat import KerasInstance

    keras = types.ModuleType("keras")
    monkeypatch.setitem(sys.modules, "keras", keras)
    constraint = KerasInstance("callbacks.Callback")
    assert not constraint.is_satisfied_by(object())
    keras.callbacks = types.SimpleNamespace(Callback=type("Callback", (), {}))
    assert constraint.is_satisfied_by(keras.callbacks.Callback())
    assert not constraint.is_satisfied_by(object())


@pytest.mark.parametrize("backend", each_backend())
def test_keras_imported_in_a_thread_while_sknoise_imports_it_has_the_layers(backend):
    # The thread that runs Keras' import registers the layers before any
    # other thread's ``import keras`` returns, whoever started first.
    report = run_fresh(
        """
        import threading, time
        import sknoise
        from sknoise._backend import import_keras

        sknoise_thread = threading.Thread(target=import_keras)
        sknoise_thread.start()
        time.sleep(0.05)
        import keras

        registered = keras.saving.get_registered_object("sknoise>GaussianNoise")
        sknoise_thread.join()
        result = registered is not None
        """,
        backend,
    )
    assert report["result"] is True


@pytest.mark.skipif("jax" not in INSTALLED, reason="the cache is JAX's")
def test_a_bad_cache_setting_warns_in_sknoise_fits_not_the_users_import_of_keras():
    # The cache only saves compile time: its variable naming no usable
    # directory costs a warning, once, that says what to change, not the fits
    # (a file: tests/test_compilation_cache.py).
    setting = "/proc/sknoise-cannot-write-here"
    report = run_fresh(
        """
        import warnings
        import numpy as np
        import sknoise

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import keras  # registers the layers; applies nothing
        at_import = [str(w.message) for w in caught]
        X, fitted = np.zeros((4, 1)), []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for nodes in (2, 3):  # two compiled loops
                sknoise.NoisyMLPClassifier(nodes=nodes, epochs=1).fit(X, [0, 1] * 2)
                fitted.append(nodes)
        result = {"at import": at_import, "fitted": fitted,
                  "warnings": [str(w.message) for w in caught
                               if issubclass(w.category, RuntimeWarning)]}
        """,
        "jax",
        SKNOISE_COMPILATION_CACHE=str(setting),
    )
    result = report["result"]
    assert result["at import"] == []
    assert result["fitted"] == [2, 3]
    [message] = result["warnings"]
    assert f"SKNOISE_COMPILATION_CACHE={str(setting)!r}" in message
    assert "compiles without the cache" in message
    assert "SKNOISE_COMPILATION_CACHE=0" in message


def test_an_unsupported_backend_is_refused_before_training_and_still_predicts(
    tmp_path,
):
    # Keras' numpy backend needs no install (torch, openvino would be refused
    # alike): a fit, a Keras-loop fit, a partial_fit and a continued fit are
    # refused at once, before any network or loop module is loaded, while the
    # loaded estimator predicts as where it was trained.
    clf = NoisyMLPClassifier(**FAST, warm_start=True).fit(X, y)
    (tmp_path / "clf.pkl").write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    report = run_fresh(
        """
        import pickle, sys
        import numpy as np
        from sknoise import NoisyMLPClassifier, NoisyMLPRegressor

        with open(sys.argv[1], "rb") as handle:
            loaded = pickle.load(handle)
        X = np.load(sys.argv[2])
        labels = loaded.predict(X)
        attempts = [
            lambda: NoisyMLPClassifier(epochs=500).fit(X, labels),
            lambda: NoisyMLPRegressor(training_loop="keras").fit(X, X[:, 0]),
            lambda: NoisyMLPClassifier().partial_fit(X, labels, classes=["no", "yes"]),
            lambda: loaded.fit(X, labels),  # warm_start: a continued fit
        ]
        errors = []
        for attempt in attempts:
            try:
                attempt()
            except RuntimeError as error:
                errors.append(str(error))
        modules = ("sknoise._network", "sknoise._compiled", "sknoise._keras_loop")
        result = {"errors": errors, "proba": loaded.predict_proba(X).tolist(),
                  "n_iter": loaded.n_iter_,
                  "built": [m for m in modules if m in sys.modules]}
        """,
        "numpy",
        tmp_path / "clf.pkl",
        tmp_path / "X.npy",
    )
    result = report["result"]
    assert len(result["errors"]) == 4
    for message in result["errors"]:
        assert "KERAS_BACKEND='numpy'" in message
        assert "Keras runs on 'numpy'" in message
        assert "Keras backends 'tensorflow', 'jax' only" in message
    assert result["built"] == []
    assert result["proba"] == clf.predict_proba(X).tolist()
    assert result["n_iter"] == clf.n_iter_


# A classifier saved by the release before models loaded lazily (trained on
# JAX): its file layout is the same, so it predicts without Keras too.
PREVIOUS = Path(__file__).parent / "data" / "classifier_0.1.0.dev0_c756586"


@pytest.mark.parametrize("backend", each_backend())
def test_a_file_of_the_previous_release_predicts_without_keras(backend):
    script = """
        import sys, warnings
        import joblib, numpy as np

        data = np.load(sys.argv[1] + ".npz")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # another scikit-learn version
            model = joblib.load(sys.argv[1] + ".joblib")
        proba = model.predict_proba(data["X"]).tolist()
        heavy = [m for m in ("keras", "tensorflow", "jax") if m in sys.modules]
        result = {"proba": proba, "heavy": heavy}
        if sys.argv[2] == "continue":
            model.fit(data["X"], data["y"])
            result["n_iter"] = model.n_iter_
        """
    # Training continues on the backend that trained it.
    then = "continue" if backend == "jax" else "stop"
    result = run_fresh(script, backend, PREVIOUS, then)["result"]
    # Recorded on another machine: equal to float32 rounding (see
    # tests/_recordings.py).
    assert_close_to_recording(result["proba"], np.load(f"{PREVIOUS}.npz")["proba"])
    assert result["heavy"] == []
    if backend == "jax":
        assert result["n_iter"] == 10

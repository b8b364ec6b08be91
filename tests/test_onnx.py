"""Serving with ONNX: Keras' export of ``export_model()``, run in
onnxruntime as the estimator predicts (issue 31).

Everything here needs the ``onnx`` extra, which CI installs; without it the
tests are skipped.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import is_classifier

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from sknoise._backend import import_keras

onnxruntime = pytest.importorskip("onnxruntime")

#: The issue's bound on any difference from predict / predict_proba.
TOLERANCE = 1e-6
FAST = {"nodes": (8, 5), "epochs": 5, "learning_rate": 0.01, "random_state": 0}
rng = np.random.default_rng(0)
# Not standardised, so that a pipeline's scaler has something to do.
X = (rng.normal(size=(80, 4)) * [1, 2, 0.5, 3] + [0, 1, -1, 2]).astype(np.float32)
score = X[:, 0] - X[:, 1] / 2
# Sparse X: half the entries zero.
X_SPARSE = sp.csr_matrix(np.where(rng.random(X.shape) < 0.5, 0, X))

#: name -> (estimator class, target): every kind of output the network has.
TARGETS = {
    "binary, int labels": (NoisyMLPClassifier, (score > 0).astype(int)),
    "binary, string labels": (
        NoisyMLPClassifier,
        np.where(score > 0, "spam", "ham"),
    ),
    "multiclass, int labels": (
        NoisyMLPClassifier,
        np.digitize(score, [-1, 0, 1]) * 10 - 5,
    ),
    "multiclass, string labels": (
        NoisyMLPClassifier,
        np.array(["low", "mid", "high"])[np.digitize(score, [-0.5, 0.5])],
    ),
    "multilabel": (
        NoisyMLPClassifier,
        np.column_stack([score > 0, X[:, 2] > -1, X[:, 3] > 2]).astype(int),
    ),
    "regression, 1 output": (NoisyMLPRegressor, score),
    "regression, 2 outputs": (NoisyMLPRegressor, np.column_stack([score, X[:, 2]])),
}
#: The cases run both dense and sparse-fitted.
ON_SPARSE = ("binary, string labels", "multiclass, int labels", "regression, 1 output")


def fit(case, sparse=False, **params):
    Estimator, target = TARGETS[case]
    return Estimator(**{**FAST, **params}).fit(X_SPARSE if sparse else X, target)


def expected(estimator, X):
    """What the ONNX graphs must give for X: ``predict_proba``, or a
    regressor's ``predict`` as (n_samples, n_outputs)."""
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.predict(X).reshape(X.shape[0], -1)


def run(model_bytes, X):
    """All outputs of the ONNX model for the (dense) features X."""
    session = onnxruntime.InferenceSession(
        model_bytes, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


# -- Keras' export ------------------------------------------------------------
def keras_export_outputs(model, path, X, **export_options):
    """The network's outputs for X in onnxruntime, after ``model.export(path,
    format="onnx")``."""
    model.export(path, format="onnx", verbose=False, **export_options)
    (outputs,) = run(path.read_bytes(), X)
    return outputs


def as_predicted(estimator, outputs):
    # A binary classifier's network has one sigmoid unit, p, the positive
    # class's probability; predict_proba's columns are (1 - p, p).
    if is_classifier(estimator) and outputs.shape[1] == 1:
        return np.column_stack([1 - outputs[:, 0], outputs[:, 0]])
    return outputs


@pytest.fixture(scope="module")
def keras_exporter():
    # Keras exports through tf2onnx on TensorFlow and jax2onnx on JAX.
    backend = import_keras().backend.backend()
    exporter = {"tensorflow": "tf2onnx", "jax": "jax2onnx"}.get(backend)
    if exporter is None:
        pytest.skip(f"Keras exports no ONNX on the {backend} backend")
    pytest.importorskip(exporter)


@pytest.mark.parametrize(
    "case, sparse",
    [(case, False) for case in TARGETS] + [(case, True) for case in ON_SPARSE],
    ids=lambda value: value if isinstance(value, str) else f"sparse={value}",
)
def test_keras_onnx_export_predicts_as_the_estimator(
    keras_exporter, tmp_path, case, sparse
):
    estimator = fit(case, sparse)
    # A sparse fit's exported model takes the same rows dense.
    X_fit, X_dense = (X_SPARSE, X_SPARSE.toarray()) if sparse else (X, X)
    model = estimator.export_model()
    outputs = keras_export_outputs(model, tmp_path / "model.onnx", X_dense)
    wanted = expected(estimator, X_fit)
    assert np.abs(as_predicted(estimator, outputs) - wanted).max() <= TOLERANCE


@pytest.mark.parametrize("case", ["multiclass, string labels", "regression, 2 outputs"])
def test_keras_onnx_export_after_save_and_load(keras_exporter, tmp_path, case):
    keras = import_keras()
    estimator = fit(case)
    estimator.export_model().save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    # A loaded model has never been called: Keras needs its input signature.
    outputs = keras_export_outputs(
        loaded, tmp_path / "model.onnx", X, input_signature=loaded.inputs
    )
    assert np.abs(as_predicted(estimator, outputs) - expected(estimator, X)).max() <= (
        TOLERANCE
    )

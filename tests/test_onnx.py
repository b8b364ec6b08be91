"""Serving with ONNX: Keras' export of ``export_model()``, and skl2onnx's
conversion through :mod:`sknoise.onnx`, run in onnxruntime as the estimator
predicts (issue 31).

Everything here needs the ``onnx`` extra, which CI installs; without it the
tests are skipped.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from sknoise._backend import import_keras
from sknoise._config import ACTIVATIONS

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


# -- skl2onnx -----------------------------------------------------------------
@pytest.fixture(scope="module")
def skl2onnx():
    skl2onnx = pytest.importorskip("skl2onnx")
    from sknoise.onnx import register_converters

    register_converters()
    return skl2onnx


def probabilities(outputs, classes, zipmap):
    """The probabilities of skl2onnx's classifier outputs as an array: a
    tensor (zipmap=False), a list of dicts (True) or a column per class
    ("columns")."""
    if zipmap == "columns":
        return np.column_stack(outputs[1:])
    if zipmap:
        return np.array([[row[c] for c in classes.tolist()] for row in outputs[1]])
    return outputs[1]


def convert(skl2onnx, model, X_sample=X, **options):
    """``model`` in ONNX; a classifier's probabilities as a tensor unless
    ``options`` say otherwise."""
    if is_classifier(model):
        estimator = model[-1] if isinstance(model, Pipeline) else model
        options = {id(estimator): {"zipmap": False, **options}}
    return skl2onnx.to_onnx(model, X_sample[:1], options=options or None)


def check(onx, model, X_fit, X_onnx=None, *, zipmap=False, nocl=False, relative=False):
    """Whether the ONNX graph ``onx`` gives, for ``X_onnx`` (by default
    ``X_fit``, dense), the labels and probabilities (or predictions) of
    ``model`` for ``X_fit``, within TOLERANCE (``relative``: times the
    largest prediction); returns the graph's outputs."""
    X_onnx = X_fit if X_onnx is None else X_onnx
    outputs = run(onx.SerializeToString(), X_onnx)
    if not is_classifier(model):
        (predictions,) = outputs
        wanted = expected(model, X_fit)
        assert predictions.shape == wanted.shape
        assert predictions.dtype == X_onnx.dtype
        scale = max(1.0, np.abs(wanted).max()) if relative else 1.0
        assert np.abs(predictions - wanted).max() <= TOLERANCE * scale
        return outputs
    labels = outputs[0]
    wanted = model.predict(X_fit)
    if nocl:
        wanted = np.searchsorted(model.classes_, wanted)
    assert labels.shape == wanted.shape
    assert labels.tolist() == wanted.tolist()
    proba = probabilities(outputs, model.classes_, zipmap)
    assert np.abs(proba - expected(model, X_fit)).max() <= TOLERANCE
    return outputs


@pytest.mark.parametrize("case", TARGETS)
def test_skl2onnx_pipeline_predicts_as_the_estimator(skl2onnx, case):
    Estimator, target = TARGETS[case]
    pipeline = Pipeline([("scale", StandardScaler()), ("mlp", Estimator(**FAST))])
    pipeline.fit(X, target)
    check(convert(skl2onnx, pipeline), pipeline, X)


@pytest.mark.parametrize("case", TARGETS)
def test_skl2onnx_converts_the_estimator_alone(skl2onnx, case):
    estimator = fit(case)
    check(convert(skl2onnx, estimator), estimator, X)


CLASSIFIERS = [case for case in TARGETS if TARGETS[case][0] is NoisyMLPClassifier]


@pytest.mark.parametrize("case", CLASSIFIERS)
@pytest.mark.parametrize("zipmap", [True, "columns"])
def test_skl2onnx_zipmap_options(skl2onnx, case, zipmap):
    estimator = fit(case)
    onx = skl2onnx.to_onnx(estimator, X[:1], options={"zipmap": zipmap})
    check(onx, estimator, X, zipmap=zipmap)


@pytest.mark.parametrize("case", ON_SPARSE)
def test_skl2onnx_sparse_fitted_estimator_takes_dense_features(skl2onnx, case):
    estimator = fit(case, sparse=True)
    check(convert(skl2onnx, estimator), estimator, X_SPARSE, X_SPARSE.toarray())


def test_every_hidden_activation_has_an_onnx_form():
    from sknoise.onnx import _ONNX_ACTIVATIONS

    assert ACTIVATIONS <= _ONNX_ACTIVATIONS


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("case", ["multiclass, string labels", "regression, 2 outputs"])
def test_skl2onnx_converts_every_hidden_activation(skl2onnx, activation, case):
    estimator = fit(case, activation=activation)
    # Wide pre-activations too, so that every branch of each activation is
    # taken (and softplus far from 0, where log(1 + exp(x)) overflows); the
    # regressor's predictions then reach tens, where float32 steps by 2e-6.
    X_wide = np.concatenate([X, X * 20])
    check(convert(skl2onnx, estimator), estimator, X_wide, relative=True)


def test_skl2onnx_class_indices_with_nocl(skl2onnx):
    estimator = fit("multiclass, string labels")
    check(convert(skl2onnx, estimator, nocl=True), estimator, X, nocl=True)


def test_skl2onnx_output_class_labels(skl2onnx):
    estimator = fit("binary, string labels")
    onx = convert(skl2onnx, estimator, output_class_labels=True)
    outputs = check(onx, estimator, X)
    assert outputs[2].tolist() == estimator.classes_.tolist()


@pytest.mark.parametrize("case", ["multiclass, int labels", "regression, 1 output"])
def test_skl2onnx_float64_features_give_float64_outputs(skl2onnx, case):
    estimator = fit(case)
    X64 = X.astype(np.float64)
    outputs = check(convert(skl2onnx, estimator, X64), estimator, X64)
    assert outputs[-1].dtype == np.float64


def test_skl2onnx_refuses_an_activation_it_cannot_write(skl2onnx):
    # The converter reads the hidden activation from the parameter, as
    # scikit-learn's MLP converter does; set after the fit, it is unknown.
    estimator = fit("regression, 1 output").set_params(activation="mish")
    with pytest.raises(ValueError, match="'mish' has no ONNX form"):
        convert(skl2onnx, estimator)


def test_skl2onnx_refuses_labels_onnx_cannot_hold(skl2onnx):
    days = np.array(["2026-01-01", "2026-12-31"], dtype="datetime64[D]")
    labels = days[(score > 0).astype(int)]
    estimator = NoisyMLPClassifier(**FAST).fit(X, labels)
    with pytest.raises(ValueError, match="ONNX labels are int64 or strings"):
        convert(skl2onnx, estimator)


def test_skl2onnx_refuses_features_of_another_width(skl2onnx):
    from skl2onnx.common.data_types import FloatTensorType

    estimator = fit("regression, 1 output")
    with pytest.raises(ValueError, match="takes 4 features"):
        skl2onnx.convert_sklearn(
            estimator, initial_types=[("X", FloatTensorType([None, 3]))]
        )


def test_registering_twice_changes_nothing(skl2onnx):
    from sknoise.onnx import register_converters

    register_converters()
    estimator = fit("binary, int labels")
    check(convert(skl2onnx, estimator), estimator, X)

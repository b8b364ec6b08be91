"""Everyday use: NumPy inference, multilabel targets, the MLP's attributes,
dtypes and exported models (issue 15)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.metrics import r2_score

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from sknoise._backend import import_keras

keras = import_keras()

FAST = {"nodes": 8, "epochs": 5, "batch_size": 16, "random_state": 0}
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)
Y_MULTI = np.column_stack([y, (X[:, 1] > 0), (X[:, 0] + X[:, 2] > 0)]).astype(int)


def _keras_outputs(estimator, X):
    return keras.ops.convert_to_numpy(estimator.model_(X, training=False))


def _assert_numpy_inference_equals_the_keras_forward_pass(estimator):
    ours = estimator._forward(X)
    theirs = _keras_outputs(estimator, X)
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6 * scale)


# Every hidden activation, in two hidden layers with noise and dropout
# around them; every output head, with the default activation. (The head and
# the hidden activation meet only in the last hidden layer's outputs.)
@pytest.mark.parametrize(
    "activation", ["relu", "tanh", "sigmoid", "elu", "selu", "gelu", "softplus",
                   "swish", "linear"],
)  # fmt: skip
def test_numpy_inference_computes_every_hidden_activation_as_keras(activation):
    estimator = NoisyMLPRegressor(
        **{**FAST, "nodes": (8, 4)},
        activation=activation,
        noise_site="input+hidden",
        dropout=0.1,
    ).fit(X, X[:, :2])
    _assert_numpy_inference_equals_the_keras_forward_pass(estimator)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NoisyMLPClassifier(**FAST).fit(X, y),
        lambda: NoisyMLPClassifier(**FAST, noise_site="activation").fit(
            X, np.digitize(X[:, 1], [-0.5, 0.5])
        ),
        lambda: NoisyMLPClassifier(**FAST).fit(X, Y_MULTI),
    ],
    ids=["binary", "multiclass", "multilabel"],
)
def test_numpy_inference_computes_every_head_as_keras(make):
    _assert_numpy_inference_equals_the_keras_forward_pass(make())


def test_a_row_predicts_alike_alone_and_in_a_batch():
    clf = NoisyMLPClassifier(**{**FAST, "nodes": 64}).fit(X, y)
    big = rng.normal(size=(1000, 3)).astype("float32")
    full = clf.predict_proba(big)
    for i in (0, 31, 32, 999):
        one = clf.predict_proba(big[i : i + 1])
        np.testing.assert_array_equal(one, full[i : i + 1])


# -- multilabel -------------------------------------------------------------
def test_multilabel_classification():
    clf = NoisyMLPClassifier(**{**FAST, "epochs": 60}, learning_rate=0.05)
    clf.fit(X, Y_MULTI)
    predicted = clf.predict(X)
    assert predicted.shape == Y_MULTI.shape and set(np.unique(predicted)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y_MULTI.shape and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.out_activation_ == "logistic"
    assert clf.score(X, Y_MULTI) > 0.5  # subset accuracy, as scikit-learn's
    assert (predicted == Y_MULTI).mean() > 0.8


def test_multilabel_partial_fit_early_stopping_and_refusals():
    clf = NoisyMLPClassifier(**FAST)
    clf.partial_fit(X, Y_MULTI)  # no classes needed: the columns are the labels
    clf.partial_fit(X, Y_MULTI)
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match="indicator matrix with 3 columns"):
        clf.partial_fit(X, Y_MULTI[:, :2])
    with pytest.raises(ValueError, match="indicator matrix with 3 columns"):
        clf.partial_fit(X, y)
    stopped = NoisyMLPClassifier(**FAST, early_stopping=True).fit(X, Y_MULTI)
    assert len(stopped.validation_scores_) == stopped.n_iter_
    with pytest.raises(ValueError, match="class_weight"):
        NoisyMLPClassifier(**FAST, class_weight={0: 2.0}).fit(X, Y_MULTI)
    binary = NoisyMLPClassifier(**FAST, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="1-D array of class labels"):
        binary.fit(X, Y_MULTI)


# -- predict_log_proba, attributes, dtypes ----------------------------------
def test_predict_log_proba_is_the_log_of_predict_proba():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    expected = np.log(clf.predict_proba(X))
    np.testing.assert_array_equal(clf.predict_log_proba(X), expected)


def test_the_mlp_attributes_have_scikit_learn_meanings():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    assert clf.loss_curve_ == clf.history_["loss"]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.n_iter_ == 5 and clf.t_ == 5 * len(X)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    clf.partial_fit(X[:20], y[:20])
    assert clf.t_ == 5 * len(X) + 20 and len(clf.loss_curve_) == 6
    multiclass = NoisyMLPClassifier(**FAST).fit(X, np.digitize(X[:, 1], [-0.5, 0.5]))
    assert multiclass.out_activation_ == "softmax"

    stopped = NoisyMLPClassifier(**{**FAST, "epochs": 30}, early_stopping=True)
    stopped.fit(X, y)
    assert stopped.best_loss_ is None
    assert stopped.validation_scores_ == stopped.history_["val_accuracy"]
    assert stopped.best_validation_score_ == max(stopped.validation_scores_)


def test_a_regressor_validation_score_is_r2():
    Y = np.column_stack([X[:, 0] * 2, X[:, 1] - X[:, 2]])
    reg = NoisyMLPRegressor(
        **{**FAST, "epochs": 40}, learning_rate=0.02, early_stopping=True,
        n_iter_no_change=3,
    ).fit(X[:40], Y[:40], validation_data=(X[40:], Y[40:]))  # fmt: skip
    assert reg.out_activation_ == "identity"
    assert len(reg.validation_scores_) == reg.n_iter_
    # Early stopping restored the best epoch, whose score is the model's R².
    r2 = r2_score(Y[40:], reg.predict(X[40:]), multioutput="variance_weighted")
    assert reg.best_validation_score_ == pytest.approx(r2, abs=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_follow_the_input_dtype_as_scikit_learn(dtype):
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    reg = NoisyMLPRegressor(**FAST).fit(X, X[:, 0])
    inputs = X.astype(dtype)
    assert clf.predict_proba(inputs).dtype == dtype
    assert clf.predict_log_proba(inputs).dtype == dtype
    assert reg.predict(inputs).dtype == dtype
    assert clf.predict(inputs).dtype == y.dtype


# -- export -------------------------------------------------------------------
def test_an_exported_model_loads_without_sknoise(tmp_path):
    clf = NoisyMLPClassifier(
        **FAST, noise_site="input+hidden+weights", dropout=0.2, alpha=0.01
    ).fit(X, np.digitize(X[:, 1], [-0.5, 0.5]))
    exported = clf.export_model()
    assert all(type(layer).__module__.startswith("keras.") for layer in exported.layers)
    path = tmp_path / "model.keras"
    exported.save(path)
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import keras
        model = keras.saving.load_model({str(path)!r})
        assert "sknoise" not in sys.modules
        np.save({str(tmp_path / "out.npy")!r}, np.asarray(model(np.load(
            {str(tmp_path / "X.npy")!r}), training=False)))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    outputs = np.load(tmp_path / "out.npy")
    expected = clf._forward(X)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        outputs / outputs.sum(axis=1, keepdims=True), clf.predict_proba(X), atol=1e-6
    )

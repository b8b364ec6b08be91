"""Bad input and bad parameters get clear errors, never a Keras traceback."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from sknoise._noise import resolve_noise_sites

FAST = {"nodes": 4, "epochs": 1, "random_state": 0}
rng = np.random.default_rng(0)
X = rng.normal(size=(20, 3))
y = np.array([0, 1] * 10)


def _with(value, row=0, col=0):
    bad = X.copy()
    bad[row, col] = value
    return bad


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
@pytest.mark.parametrize(
    "X_bad, error, match",
    [
        (_with(np.nan), ValueError, "Input X contains NaN"),
        (_with(np.inf), ValueError, "Input X contains infinity"),
        (sp.csr_matrix(X), TypeError, "Sparse data was passed"),
        (X[:, 0], ValueError, "Expected a 2-dimensional container|Expected 2D"),
        (X[:0], ValueError, "0 sample"),
        (X[:, :0], ValueError, "0 feature"),
    ],
    ids=["nan", "inf", "sparse", "1d", "no-rows", "no-features"],
)
def test_bad_X_is_rejected_in_fit(Estimator, X_bad, error, match):
    y_bad = y[: X_bad.shape[0]] if X_bad.ndim == 2 else y
    with pytest.raises(error, match=match):
        Estimator(**FAST).fit(X_bad, y_bad)


def test_single_class_is_rejected():
    with pytest.raises(ValueError, match="only one class"):
        NoisyMLPClassifier(**FAST).fit(X, np.zeros(20))


def test_continuous_target_is_rejected_by_the_classifier():
    with pytest.raises(ValueError, match="Unknown label type"):
        NoisyMLPClassifier(**FAST).fit(X, rng.normal(size=20))


def test_nan_in_y_is_rejected():
    with pytest.raises(ValueError, match="Input y contains NaN"):
        NoisyMLPRegressor(**FAST).fit(X, np.where(y == 1, np.nan, 0.0))


def test_missing_y_is_rejected():
    with pytest.raises(ValueError, match="requires y to be passed"):
        NoisyMLPClassifier(**FAST).fit(X, None)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"noise_site": "output"}, "'noise_site' parameter must be"),
        ({"noise_site": "input+bias"}, "'noise_site' parameter must be"),
        ({"noise_site": ()}, "'noise_site' parameter must be"),
        ({"noise_amount": -0.1}, "'noise_amount' parameter .* must be a float"),
        ({"nodes": 0}, "'nodes' parameter"),
        ({"nodes": (10, 0)}, "'nodes' parameter"),
        ({"nodes": ()}, "'nodes' parameter"),
        ({"nodes": (10, 2.5)}, "'nodes' parameter"),
        ({"activation": "softmaxx"}, "'activation' parameter"),
        ({"optimizer": "adamm"}, "'optimizer' parameter"),
        ({"learning_rate": 0}, "'learning_rate' parameter"),
        ({"epochs": 0}, "'epochs' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"optimizer": dict}, "'optimizer' parameter .* Got the class dict"),
        ({"model__units": 3}, r"unknown parameters \['model__units'\]"),
    ],
)
def test_bad_parameters_are_named_in_the_error(params, match):
    with pytest.raises(ValueError, match=match):
        NoisyMLPClassifier(**{**FAST, **params}).fit(X, y)


@pytest.mark.parametrize("nodes", [1.5, "10", True])
def test_non_integer_nodes_are_rejected(nodes):
    with pytest.raises((TypeError, ValueError), match="'nodes' parameter"):
        NoisyMLPClassifier(**{**FAST, "nodes": nodes}).fit(X, y)


def test_noise_site_of_wrong_type():
    with pytest.raises((TypeError, ValueError), match="'noise_site' parameter"):
        NoisyMLPClassifier(**{**FAST, "noise_site": 3}).fit(X, y)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, ()),
        ("hidden", ("hidden",)),
        ("hidden+input", ("input", "hidden")),
        (" input + activation ", ("input", "activation")),
        (("activation", "input", "input"), ("input", "activation")),
        (["hidden"], ("hidden",)),
    ],
)
def test_noise_site_forms_are_canonicalised(value, expected):
    assert resolve_noise_sites(value) == expected


def test_set_params_with_unknown_key_is_rejected():
    with pytest.raises(ValueError, match="Invalid parameter 'colour'"):
        NoisyMLPClassifier().set_params(colour="red")


def test_predict_before_fit_raises_not_fitted():
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(NoisyMLPClassifier(), method)(X)


def test_wrong_feature_count_at_predict():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but NoisyMLPClassifier"):
        clf.predict(X[:, :2])


def test_validation_data_must_be_a_pair():
    with pytest.raises(ValueError, match="validation_data must be a pair"):
        NoisyMLPClassifier(**FAST).fit(X, y, validation_data=X)


def test_a_failed_first_fit_leaves_the_estimator_unfitted():
    clf = NoisyMLPClassifier(**FAST)
    with pytest.raises(ValueError):
        clf.fit(X, y, validation_data=(X[:, :2], y))
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_a_failed_refit_does_not_leave_the_previous_model_answering():
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError):
        clf.fit(X, y, validation_data=(X[:, :2], y))
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_partial_fit_with_labels_of_another_kind():
    clf = NoisyMLPClassifier(**FAST).partial_fit(
        X, np.where(y == 1, "a", "b"), classes=["a", "b"]
    )
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X, y)

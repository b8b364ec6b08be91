"""Bad input and bad parameters get clear errors, never a Keras traceback."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

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
        (sp.csr_matrix(_with(np.nan)), ValueError, "Input X contains NaN"),
        (X[:, 0], ValueError, "Expected a 2-dimensional container|Expected 2D"),
        (X[:0], ValueError, "0 sample"),
        (X[:, :0], ValueError, "0 feature"),
    ],
    ids=["nan", "inf", "sparse-nan", "1d", "no-rows", "no-features"],
)
def test_bad_X_is_rejected_in_fit(Estimator, X_bad, error, match):
    y_bad = y[: X_bad.shape[0]] if X_bad.ndim == 2 else y
    with pytest.raises(error, match=match):
        Estimator(**FAST).fit(X_bad, y_bad)


def _one_line(text):
    return " ".join(text.split())


@pytest.mark.parametrize(
    "fit",
    [
        lambda clf: clf.fit(X, ["spam"] * 20),
        lambda clf: clf.partial_fit(X, ["spam"] * 20, classes=["spam"]),
    ],
    ids=["fit", "partial_fit"],
)
def test_a_single_class_is_rejected_with_the_documented_message(fit):
    # scikit-learn's MLPClassifier fits one class (and predicts it
    # everywhere); sknoise refuses, and the docs say so in these words.
    with pytest.raises(ValueError, match="only one class") as error:
        fit(NoisyMLPClassifier(**FAST))
    message = _one_line(str(error.value))
    assert "DummyClassifier" in message
    how_to = Path(__file__).parents[1] / "docs" / "how_to.rst"
    assert message in _one_line(how_to.read_text())
    assert message in _one_line(NoisyMLPClassifier.__doc__)


def test_continuous_target_is_rejected_by_the_classifier():
    with pytest.raises(ValueError, match="Unknown label type"):
        NoisyMLPClassifier(**FAST).fit(X, rng.normal(size=20))


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
        ({"noise_type": "uniform"}, "'noise_type' parameter .*'multiplicative'"),
        (
            {"noise_site": "labels", "noise_amount": 1.5},
            r"'noise_amount' parameter .* \[0, 1\] with noise_site 'labels'",
        ),
        ({"alpha": -1.0}, "'alpha' parameter .* range \\[0"),
        ({"l1": -0.1}, "'l1' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter .* range \\[0.0, 1.0\\)"),
        ({"max_norm": 0.0}, "'max_norm' parameter .* None"),
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


# What a user of scikit-learn's MLP (or of Keras) types, and what the error
# for it must suggest.
OTHER_NAMES = [
    ("hidden_layer_sizes", (10,), "scikit-learn's name for 'nodes'"),
    ("max_iter", 5, "scikit-learn's name for 'epochs'"),
    ("learning_rate_init", 0.01, "scikit-learn's name for 'learning_rate'"),
    ("solver", "adam", "scikit-learn's name for 'optimizer'"),
    ("momentum", 0.9, "optimizer='sgd' with 'optimizer__momentum'"),
    ("nesterovs_momentum", True, "optimizer='sgd' with 'optimizer__nesterov'"),
    ("beta_1", 0.8, "'optimizer__beta_1'"),
    ("beta_2", 0.99, "'optimizer__beta_2'"),
    ("epsilon", 1e-7, "'optimizer__epsilon'"),
    ("shuffle", False, "'fit__shuffle'"),
    ("power_t", 0.5, "a Keras schedule as 'optimizer__learning_rate'"),
    ("max_fun", 100, "solver='lbfgs' only"),
    ("lr", 0.1, "'learning_rate'"),
    ("l2", 0.1, "use 'alpha', the L2 penalty"),
    ("patience", 3, "'n_iter_no_change'"),
    ("min_delta", 0.01, "'tol'"),
    ("validation_split", 0.2, "'validation_fraction'"),
    ("seed", 0, "use 'random_state'"),
    ("random_seed", 0, "use 'random_state'"),
    ("dropout_rate", 0.1, "use 'dropout'"),
    # Typos: of a constructor name, of one of the names above, of a route.
    ("epoch", 3, "did you mean 'epochs'?"),
    ("n_epochs", 3, "did you mean 'epochs'?"),
    ("batchsize", 8, "did you mean 'batch_size'?"),
    ("hidden_layer_size", (10,), "(100, 50) (taking it for 'hidden_layer_sizes')"),
    ("optimiser__beta_1", 0.8, "did you mean 'optimizer__beta_1'?"),
    ("optimizer_beta_1", 0.8, "did you mean 'optimizer__beta_1'?"),
    ("callback__patience", 2, "did you mean 'callbacks__patience'?"),
]


@pytest.mark.parametrize("name, value, advice", OTHER_NAMES, ids=lambda v: str(v))
def test_an_unknown_parameter_gets_a_suggestion_in_fit(name, value, advice):
    with pytest.raises(ValueError, match="unknown parameters") as error:
        NoisyMLPClassifier(**FAST, **{name: value}).fit(X, y)
    assert f"{name!r}: " in str(error.value)
    assert advice in str(error.value)
    # Still said: where extra keyword parameters go.
    assert "must be routed to one of" in str(error.value)


@pytest.mark.parametrize("name, value, advice", OTHER_NAMES, ids=lambda v: str(v))
def test_an_unknown_parameter_gets_a_suggestion_in_set_params(name, value, advice):
    # As a grid search over a pipeline sets them.
    with pytest.raises(ValueError, match="Invalid parameter") as error:
        NoisyMLPRegressor().set_params(nodes=3, **{name: value})
    assert advice in str(error.value)
    # Only the unknown name gets advice.
    assert "'nodes':" not in str(error.value)


def test_an_unknown_parameter_with_nothing_close_gets_no_suggestion():
    with pytest.raises(ValueError, match=r"unknown parameters \['colour'\]") as error:
        NoisyMLPClassifier(**FAST, colour="red").fit(X, y)
    assert "'colour':" not in str(error.value)
    with pytest.raises(ValueError, match="Invalid parameter 'colour'") as error:
        NoisyMLPClassifier().set_params(colour="red")
    assert "'colour':" not in str(error.value)


@pytest.mark.parametrize(
    "name, value, advice",
    [
        ("activation", "logistic", "scikit-learn's 'logistic' is 'sigmoid' here"),
        ("activation", "identity", "scikit-learn's 'identity' is 'linear' here"),
        ("optimizer", "lbfgs", "Keras has no L-BFGS"),
        ("learning_rate", "constant", "leave it None (0.001) or give a float"),
        ("learning_rate", "invscaling", "InverseTimeDecay"),
        ("learning_rate", "adaptive", "keras.callbacks.ReduceLROnPlateau()"),
    ],
)
def test_a_value_of_scikit_learns_mlp_gets_a_suggestion(name, value, advice):
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter") as error:
        NoisyMLPClassifier(**{**FAST, name: value}).fit(X, y)
    assert advice in str(error.value)


def test_value_advice_is_for_the_parameter_the_error_names():
    # epochs=0 is reported first; learning_rate's advice would mislead.
    with pytest.raises(InvalidParameterError, match="'epochs' parameter") as error:
        NoisyMLPClassifier(**{**FAST, "epochs": 0, "learning_rate": "adaptive"}).fit(
            X, y
        )
    assert "ReduceLROnPlateau" not in str(error.value)


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


# ----------------------------------------------------------------------
# The robustness matrix beyond the core cases
# ----------------------------------------------------------------------
@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_object_dtype_X_of_numbers_is_converted(Estimator):
    model = Estimator(**FAST).fit(X.astype(object), y)
    np.testing.assert_array_equal(model.predict(X.astype(object)), model.predict(X))


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_object_dtype_X_of_strings_is_rejected(Estimator):
    X_text = X.astype(str).astype(object)
    X_text[0, 0] = "a"
    with pytest.raises(ValueError, match="could not convert string to float"):
        Estimator(**FAST).fit(X_text, y)


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_nan_in_y_is_rejected(Estimator):
    y_nan = y.astype(float)
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        Estimator(**FAST).fit(X, y_nan)
    assert not hasattr(Estimator(**FAST), "model_")


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_predict_on_zero_rows_is_a_clear_error(Estimator):
    model = Estimator(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="0 sample"):
        model.predict(X[:0])


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_huge_features_give_a_clear_error_or_a_finite_model(Estimator):
    # Finite in float32, but the network's sums may overflow. A classifier's
    # sigmoid and clipped cross-entropy can keep training finite; a
    # regressor's squared error overflows. Never a network of NaNs.
    model = Estimator(**{**FAST, "epochs": 5})
    try:
        model.fit(X * 1e30, y)
    except ValueError as error:
        assert "Training diverged" in str(error) and "standardise" in str(error)
        assert not hasattr(model, "model_")
    else:
        assert all(np.isfinite(w).all() for w in model.model_.get_weights())
        assert np.isfinite(model.predict(X * 1e30).astype(float)).all()


def test_overflowing_regression_is_a_clear_error_and_leaves_no_model():
    model = NoisyMLPRegressor(**FAST)
    with pytest.raises(ValueError, match=r"Training diverged.*standardise"):
        model.fit(X * 1e30, y)
    assert not hasattr(model, "model_")


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_features_beyond_float32_are_rejected(Estimator):
    with pytest.raises(ValueError, match="too large"):
        Estimator(**FAST).fit(X * 1e300, y)


def test_diverging_partial_fit_rolls_back_to_the_previous_network():
    reg = NoisyMLPRegressor(**FAST).partial_fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError, match="Training diverged"):
        reg.partial_fit(X * 1e30, y)
    np.testing.assert_array_equal(reg.predict(X), before)
    assert reg.n_iter_ == 1
    assert len(reg.history_["loss"]) == 1


def test_partial_fit_with_an_unseen_class_is_rejected_and_harmless():
    clf = NoisyMLPClassifier(**FAST).partial_fit(X, y, classes=[0, 1])
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match=r"labels \['2'\] that are not among"):
        clf.partial_fit(X, np.where(y == 1, 2, 0))
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize(
    "Estimator, X_fit, y_fit, reason",
    [
        (NoisyMLPClassifier, X, ["a", "b"] * 9 + ["a", "c"],
         "class 'c' has a single sample"),
        (NoisyMLPClassifier, X, [0, 1, 2] * 6 + [0, 1],
         "test_size = 2 should be greater or equal to the number of classes = 3"),
        (NoisyMLPRegressor, X[:1], [1.0], "the resulting train set will be empty"),
    ],
    ids=["a class of one", "fewer held out than classes", "one sample"],
)  # fmt: skip
def test_an_impossible_early_stopping_hold_out_names_the_parameters(
    Estimator, X_fit, y_fit, reason
):
    with pytest.raises(ValueError) as error:
        Estimator(**FAST, early_stopping=True).fit(X_fit, y_fit)
    message = str(error.value)
    assert message.startswith(
        f"early_stopping=True holds out validation_fraction=0.1 of the "
        f"{len(y_fit)} samples"
    )
    assert reason in message
    assert "validation_data=(X_val, y_val)" in message
    assert "early_stopping=False" in message

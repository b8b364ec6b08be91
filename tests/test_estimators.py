"""Behaviour of the estimators inside scikit-learn's tooling."""

import pickle

import cloudpickle
import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import make_circles
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor

FAST = {"nodes": 16, "epochs": 5, "learning_rate": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def circles():
    X, y = make_circles(n_samples=100, noise=0.1, random_state=1)
    return X.astype("float32"), y


@pytest.fixture(scope="module")
def fitted(circles):
    X, y = circles
    return NoisyMLPClassifier(**FAST).fit(X, y)


def test_estimator_types_are_recognised():
    assert is_classifier(NoisyMLPClassifier())
    assert not is_regressor(NoisyMLPClassifier())
    assert is_regressor(NoisyMLPRegressor())
    assert not is_classifier(NoisyMLPRegressor())


def test_grid_search_cv5_uses_stratified_folds(circles):
    X, y = circles
    assert isinstance(check_cv(5, y, classifier=True), StratifiedKFold)
    # Sorted labels: unstratified, unshuffled KFold would hand some folds a
    # single class to train on, which the classifier refuses.
    order = np.argsort(y, kind="stable")
    search = GridSearchCV(
        NoisyMLPClassifier(**{**FAST, "epochs": 1}),
        {"noise_amount": [0.1]},
        cv=5,
        error_score="raise",
    )
    search.fit(X[order], y[order])
    assert search.cv_results_["mean_test_score"].shape == (1,)


def test_pipeline_in_cross_val_score(circles):
    X, y = circles
    pipeline = make_pipeline(StandardScaler(), NoisyMLPClassifier(**FAST))
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))


def test_grid_search_over_nodes_noise_and_sites(circles):
    X, y = circles
    grid = {
        "nodes": [4, (4, 4)],
        "noise_amount": [0.0, 0.2],
        "noise_site": ["hidden", "input+hidden", ("input", "activation"), None],
    }
    search = GridSearchCV(
        NoisyMLPClassifier(**{**FAST, "epochs": 1}), grid, cv=2, error_score="raise"
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 16
    assert search.best_estimator_.noise_sites_ in {
        (),
        ("hidden",),
        ("input", "hidden"),
        ("input", "activation"),
    }


def test_clone_keeps_parameters_including_routed_ones():
    clf = NoisyMLPClassifier(nodes=(8, 4), noise_site="input", optimizer__beta_1=0.8)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert copy.get_params()["optimizer__beta_1"] == 0.8


@pytest.mark.parametrize(
    "dumps, loads",
    [
        (pickle.dumps, pickle.loads),
        (cloudpickle.dumps, cloudpickle.loads),
    ],
)
def test_pickle_round_trip_gives_identical_probabilities(fitted, circles, dumps, loads):
    X, _ = circles
    restored = loads(dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, fitted.classes_)


def test_joblib_round_trip(fitted, circles, tmp_path):
    X, _ = circles
    joblib.dump(fitted, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_inference_is_deterministic_but_training_is_noisy(fitted, circles):
    X, _ = circles
    np.testing.assert_array_equal(fitted.predict_proba(X), fitted.predict_proba(X))
    # The same network is noisy when asked to behave as in training.
    first = keras.ops.convert_to_numpy(fitted.model_(X, training=True))
    second = keras.ops.convert_to_numpy(fitted.model_(X, training=True))
    assert not np.array_equal(first, second)


def test_noise_changes_what_is_learned(circles):
    X, y = circles
    quiet = NoisyMLPClassifier(**{**FAST, "noise_amount": 0.0}).fit(X, y)
    noisy = NoisyMLPClassifier(**{**FAST, "noise_amount": 1.0}).fit(X, y)
    assert not np.allclose(quiet.predict_proba(X), noisy.predict_proba(X))


def _layer_sequence(model):
    return [(layer.name, type(layer).__name__) for layer in model.layers[1:]]


@pytest.mark.parametrize(
    "site, expected",
    [
        (
            "input",
            [
                ("input_noise", "GaussianNoise"),
                ("hidden_1", "Dense"),
                ("hidden_2", "Dense"),
            ],
        ),
        (
            "hidden",
            [
                ("hidden_1", "Dense"),
                ("hidden_noise_1", "GaussianNoise"),
                ("activation_1", "Activation"),
                ("hidden_2", "Dense"),
                ("hidden_noise_2", "GaussianNoise"),
                ("activation_2", "Activation"),
            ],
        ),
        (
            "activation",
            [
                ("hidden_1", "Dense"),
                ("activation_noise_1", "GaussianNoise"),
                ("hidden_2", "Dense"),
                ("activation_noise_2", "GaussianNoise"),
            ],
        ),
        (
            ("hidden", "input"),
            [
                ("input_noise", "GaussianNoise"),
                ("hidden_1", "Dense"),
                ("hidden_noise_1", "GaussianNoise"),
                ("activation_1", "Activation"),
                ("hidden_2", "Dense"),
                ("hidden_noise_2", "GaussianNoise"),
                ("activation_2", "Activation"),
            ],
        ),
        (None, [("hidden_1", "Dense"), ("hidden_2", "Dense")]),
    ],
)
def test_each_site_places_noise_where_documented(circles, site, expected):
    X, y = circles
    clf = NoisyMLPClassifier(
        **{
            **FAST,
            "epochs": 1,
            "nodes": (6, 5),
            "noise_site": site,
            "noise_amount": 0.3,
        }
    ).fit(X, y)
    model = clf.model_
    assert _layer_sequence(model) == [*expected, ("output", "Dense")]
    for layer in model.layers:
        if isinstance(layer, keras.layers.GaussianNoise):
            assert layer.stddev == pytest.approx(0.3)
        if layer.name.startswith("hidden_") and isinstance(layer, keras.layers.Dense):
            # With pre-activation noise the Dense must stay linear; otherwise
            # the activation is the Dense's own.
            wanted = "linear" if "hidden" in clf.noise_sites_ else "relu"
            assert layer.activation.__name__ == wanted


def test_zero_noise_builds_no_noise_layer(circles):
    X, y = circles
    clf = NoisyMLPClassifier(**{**FAST, "epochs": 1, "noise_amount": 0.0}).fit(X, y)
    assert not any(
        isinstance(lay, keras.layers.GaussianNoise) for lay in clf.model_.layers
    )


def test_random_state_makes_fits_identical(circles):
    X, y = circles
    params = {**FAST, "batch_size": 8}
    first = NoisyMLPClassifier(**params).fit(X, y).predict_proba(X)
    second = NoisyMLPClassifier(**params).fit(X, y).predict_proba(X)
    other = NoisyMLPClassifier(**{**params, "random_state": 1}).fit(X, y)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other.predict_proba(X))


def test_random_state_instance_is_consumed_like_scikit_learn(circles):
    X, y = circles
    rng = np.random.RandomState(0)
    clf = NoisyMLPClassifier(**{**FAST, "epochs": 1, "random_state": rng})
    first = clf.fit(X, y).predict_proba(X)
    second = clf.fit(X, y).predict_proba(X)
    assert not np.array_equal(first, second)


def test_string_labels_multiclass(circles):
    X, _ = circles
    y = np.array(["low", "mid", "high", "mid"] * 25)
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 3)
    # float32 input gives float32 probabilities, as scikit-learn's MLP;
    # float64 input gives rows that sum to one in float64.
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-6)
    proba = clf.predict_proba(X.astype(np.float64))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert list(clf.classes_) == ["high", "low", "mid"]
    assert set(clf.predict(X)) <= set(clf.classes_)
    assert clf.model_.layers[-1].units == 3


def test_binary_string_labels_and_proba_columns(circles):
    X, y = circles
    labels = np.where(y == 1, "inner", "outer")
    clf = NoisyMLPClassifier(**FAST).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 2)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_regressor_single_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -1.0, 0.5])
    single = NoisyMLPRegressor(**FAST).fit(X, y)
    assert single.predict(X).shape == (60,)
    assert single.predict(X).dtype == np.float64
    Y = np.column_stack([y, -y])
    multi = NoisyMLPRegressor(**FAST).fit(X, Y)
    assert multi.predict(X).shape == (60, 2)
    assert multi.n_outputs_ == 2


def test_dataframe_input_records_feature_names(circles):
    X, y = circles
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    clf = NoisyMLPClassifier(**{**FAST, "epochs": 1}).fit(frame, y)
    assert list(clf.feature_names_in_) == ["x0", "x1"]
    assert clf.n_features_in_ == 2
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


def test_validation_data_records_per_epoch_history(circles):
    X, y = circles
    clf = NoisyMLPClassifier(**FAST).fit(
        X[:30], y[:30], validation_data=(X[30:], y[30:])
    )
    assert set(clf.history_) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == FAST["epochs"] for values in clf.history_.values())


def test_validation_data_with_string_labels_is_encoded(circles):
    X, y = circles
    labels = np.where(y == 1, "inner", "outer")
    clf = NoisyMLPClassifier(**FAST).fit(
        X[:30], labels[:30], validation_data=(X[30:], labels[30:])
    )
    assert len(clf.history_["val_accuracy"]) == FAST["epochs"]


def test_routed_optimizer_parameters_reach_the_optimizer(circles):
    X, y = circles
    clf = NoisyMLPClassifier(
        **{**FAST, "epochs": 1}, optimizer="sgd", optimizer__momentum=0.5
    ).fit(X, y)
    assert type(clf.model_.optimizer).__name__ == "SGD"
    assert clf.model_.optimizer.momentum == pytest.approx(0.5)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.01)


def test_optimizer_instance_is_copied_per_fit(circles):
    X, y = circles
    optimizer = keras.optimizers.Adam()
    clf = NoisyMLPClassifier(**{**FAST, "epochs": 1}, optimizer=optimizer).fit(X, y)
    assert clf.model_.optimizer is not optimizer
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.01)


def test_callbacks_run_each_epoch(circles):
    X, y = circles

    class CountEpochs(keras.callbacks.Callback):
        count = 0

        def on_epoch_end(self, epoch, logs=None):
            type(self).count += 1

    NoisyMLPClassifier(**FAST, callbacks=[CountEpochs()]).fit(X, y)
    assert CountEpochs.count == FAST["epochs"]


def test_warm_start_continues_from_current_weights(circles):
    X, y = circles
    clf = NoisyMLPClassifier(**{**FAST, "warm_start": True}).fit(X, y)
    model = clf.model_
    weights = [w.copy() for w in model.get_weights()]
    clf.fit(X, y)
    assert clf.model_ is model
    assert not np.allclose(weights[0], model.get_weights()[0])
    cold = NoisyMLPClassifier(**FAST).fit(X, y)
    first_model = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not first_model


def test_partial_fit_trains_one_epoch_at_a_time(circles):
    X, y = circles
    clf = NoisyMLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X[y == 0], y[y == 0])
    assert len(clf.history_["loss"]) == 2
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X, y + 5)
    with pytest.raises(ValueError, match="not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1, 2])


def test_class_weight_and_sample_weight_change_training(circles):
    X, y = circles
    base = NoisyMLPClassifier(**FAST).fit(X, y).predict_proba(X)
    weighted = NoisyMLPClassifier(**FAST, class_weight={0: 1.0, 1: 10.0}).fit(X, y)
    assert weighted.predict_proba(X)[:, 1].mean() > base[:, 1].mean()
    balanced = NoisyMLPClassifier(**FAST, class_weight="balanced")
    balanced.fit(X[:60], y[:60])
    sample_weight = np.where(y == 1, 10.0, 1.0)
    by_sample = NoisyMLPClassifier(**FAST).fit(X, y, sample_weight=sample_weight)
    assert by_sample.predict_proba(X)[:, 1].mean() > base[:, 1].mean()
    with pytest.raises(ValueError, match="balanced"):
        balanced.partial_fit(X, y, classes=[0, 1])


def test_predictions_do_not_depend_on_row_order_or_batch(fitted):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(37, 2)).astype("float32")
    full = fitted.predict_proba(X)
    order = rng.permutation(37)
    np.testing.assert_array_equal(fitted.predict_proba(X[order]), full[order])
    np.testing.assert_array_equal(fitted.predict_proba(X[5:9]), full[5:9])


def test_routed_fit_parameters_reach_keras_fit(circles):
    X, y = circles
    clf = NoisyMLPClassifier(**FAST, fit__validation_split=0.2).fit(X, y)
    assert len(clf.history_["val_loss"]) == FAST["epochs"]


def test_a_bad_routed_optimizer_setting_is_named_and_keeps_the_fitted_model(circles):
    X, y = circles
    clf = NoisyMLPClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(optimizer__beta_1="not a number")
    with pytest.raises(ValueError, match="optimizer__beta_1"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
def test_the_html_repr_links_to_the_estimators_api_page(Estimator):
    # The "?" of scikit-learn's HTML representation, in a pipeline too.
    page = f"https://sknoise.readthedocs.io/en/stable/generated/sknoise.{Estimator.__name__}.html"
    assert f'href="{page}"' in Estimator()._repr_html_()
    assert (
        f'href="{page}"' in make_pipeline(StandardScaler(), Estimator())._repr_html_()
    )

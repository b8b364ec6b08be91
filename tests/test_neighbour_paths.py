"""Paths next to the tested ones: each is right or a clear error (issue 14).

Every test here failed on the code before its fix. The thread, stderr and
Keras-loop seeding paths are in ``test_threads.py``.
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor, _progress
from sknoise._backend import import_keras

keras = import_keras()

FAST = {"nodes": 8, "epochs": 3, "batch_size": 16, "random_state": 0}
rng = np.random.default_rng(0)
X = rng.normal(size=(48, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)
Y3 = np.column_stack([X[:, 0], X[:, 1], X[:, 0] * X[:, 2]])


def _weights(estimator):
    return [w.copy() for w in estimator.model_.get_weights()]


# -- 1. the number of regression outputs ----------------------------------
@pytest.mark.parametrize(
    "fitted, other", [(Y3, Y3[:, 0]), (Y3[:, 0], Y3), (Y3, Y3[:, :2])]
)
@pytest.mark.parametrize("how", ["partial_fit", "warm_start", "validation_data"])
def test_a_different_number_of_outputs_is_refused(fitted, other, how):
    reg = NoisyMLPRegressor(**FAST, warm_start=True).fit(X, fitted)
    before = _weights(reg)
    n_fitted = 1 if fitted.ndim == 1 else fitted.shape[1]
    n_other = 1 if other.ndim == 1 else other.shape[1]
    match = f"{n_other} outputs?, but .* {n_fitted} outputs?"
    with pytest.raises(ValueError, match=match):
        if how == "partial_fit":
            reg.partial_fit(X, other)
        elif how == "warm_start":
            reg.fit(X, other)
        else:
            reg.fit(X, fitted, validation_data=(X, other))
    for old, new in zip(before, reg.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


# -- 2. a continued fit and the optimizer ---------------------------------
def test_a_continued_fit_trains_with_the_new_learning_rate():
    first = NoisyMLPClassifier(**FAST, warm_start=True).fit(X, y)
    second = NoisyMLPClassifier(**FAST, warm_start=True).fit(X, y)
    second.set_params(learning_rate=0.1)
    first.fit(X, y)
    second.fit(X, y)
    rate = keras.ops.convert_to_numpy(second.model_.optimizer.learning_rate)
    assert float(rate) == pytest.approx(0.1)
    assert not np.array_equal(first.predict_proba(X), second.predict_proba(X))
    # The optimizer's state carried over: Adam's step count kept growing.
    steps = keras.ops.convert_to_numpy(second.model_.optimizer.iterations)
    assert int(steps) == 2 * FAST["epochs"] * 3


@pytest.mark.parametrize(
    "change, named",
    [
        ({"optimizer": "sgd"}, "optimizer"),
        ({"optimizer__beta_1": 0.5}, "optimizer__beta_1"),
        ({"optimizer": keras.optimizers.Adam(beta_2=0.9)}, "optimizer"),
    ],
)
def test_a_continued_fit_refuses_another_optimizer(change, named):
    clf = NoisyMLPClassifier(**FAST, warm_start=True).fit(X, y)
    before = _weights(clf)
    clf.set_params(**change)
    for call in (clf.fit, lambda X, y: clf.partial_fit(X, y)):
        with pytest.raises(ValueError, match=f"{named}.* changed"):
            call(X, y)
    for old, new in zip(before, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


# -- 3. an optimizer instance keeps its learning rate ---------------------
def test_an_optimizer_instance_keeps_its_learning_rate():
    optimizer = keras.optimizers.SGD(learning_rate=0.3, momentum=0.5)
    clf = NoisyMLPClassifier(**FAST, optimizer=optimizer).fit(X, y)
    config = clf.model_.optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(0.3)
    assert config["momentum"] == pytest.approx(0.5)
    # An explicit learning_rate wins over the instance's.
    clf.set_params(learning_rate=0.01).fit(X, y)
    assert clf.model_.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    # Names and classes train at 0.001 unless told otherwise, as before.
    for name in ("sgd", keras.optimizers.SGD):
        clf = NoisyMLPClassifier(**FAST, optimizer=name).fit(X, y)
        rate = clf.model_.optimizer.get_config()["learning_rate"]
        assert rate == pytest.approx(0.001)


# -- 4. interrupts ----------------------------------------------------------
class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def _interrupt_next_fit(clf, loop, monkeypatch):
    """Make the next fit raise KeyboardInterrupt in the middle of ``loop``."""
    if loop == "keras":
        clf.set_params(callbacks=[_Interrupt()])
        return

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_progress.Progress, "show", interrupted)


@pytest.mark.parametrize("loop", ["keras", "compiled"])
def test_an_interrupted_fresh_fit_leaves_the_estimator_unfitted(loop, monkeypatch):
    clf = NoisyMLPClassifier(**FAST)
    _interrupt_next_fit(clf, loop, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("loop", ["keras", "compiled"])
def test_an_interrupted_continued_fit_rolls_back(loop, monkeypatch):
    clf = NoisyMLPClassifier(**FAST, warm_start=True).fit(X, y)
    before, proba = _weights(clf), clf.predict_proba(X)
    _interrupt_next_fit(clf, loop, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    for old, new in zip(before, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    assert clf.n_iter_ == FAST["epochs"]


# -- 9 to 11. parameters that slipped through -----------------------------
@pytest.mark.parametrize(
    "params, match",
    [
        ({"callbacks__foo": 1}, "callbacks__foo"),
        ({"fit__foo": 1}, "fit__foo"),
        ({"epochs_": 50}, "epochs_"),
        ({"_nodes": 50}, "_nodes"),
        ({"model_": "x"}, "model_"),
        ({"optimizer__beta_1": "x"}, "optimizer__beta_1"),
        ({"optimizer__no_such_setting": 1}, "optimizer__no_such_setting"),
    ],
)
def test_unknown_or_unusable_parameters_are_named(params, match):
    clf = NoisyMLPClassifier(**FAST, **params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_a_parameter_shaped_like_a_fitted_attribute_is_not_fitted():
    with pytest.raises(NotFittedError):
        NoisyMLPClassifier(model_="x").predict(X)


# -- 12. weights ------------------------------------------------------------
@pytest.mark.parametrize(
    "class_weight", [{0: np.nan, 1: 1.0}, {0: -1.0, 1: 1.0}, {0: np.inf, 1: 1.0}]
)
def test_bad_class_weights_are_named(class_weight):
    clf = NoisyMLPClassifier(**FAST, class_weight=class_weight)
    with pytest.raises(ValueError, match="class_weight"):
        clf.fit(X, y)


@pytest.mark.parametrize(
    "sample_weight",
    [np.full(48, np.nan), -np.ones(48), np.full(48, np.inf), np.zeros(48)],
)
def test_bad_sample_weights_are_named(sample_weight):
    with pytest.raises(ValueError, match=r"(?i)sample.weight"):
        NoisyMLPClassifier(**FAST).fit(X, y, sample_weight=sample_weight)


def test_class_weights_that_zero_every_sample_are_refused():
    clf = NoisyMLPClassifier(**FAST, class_weight={0: 0.0, 1: 0.0})
    with pytest.raises(ValueError, match="weight 0"):
        clf.fit(X, y)


@pytest.mark.parametrize("site", ["input", "labels"])
def test_extreme_noise_fails_alike_on_both_backends_and_names_it(site):
    reg = NoisyMLPRegressor(**FAST, noise_site=site, noise_amount=1e30)
    with pytest.raises(ValueError, match="noise_amount"):
        reg.fit(X, Y3)


# -- 13. errors that say what to do (14, multilabel: test_everyday.py) ------
@pytest.mark.parametrize("loop", ["auto", "keras", "compiled"])
def test_step_noise_with_callbacks_is_unsupported_plainly(loop):
    clf = NoisyMLPClassifier(
        **FAST, noise_site="labels", callbacks=[_Interrupt()], training_loop=loop
    )
    with pytest.raises(ValueError, match="not supported") as error:
        clf.fit(X, y)
    assert "use training_loop=" not in str(error.value)

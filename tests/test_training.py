"""The compiled training loop: semantics of Keras fit, at compiled speed."""

import sys

import numpy as np
import pytest
from sklearn.datasets import make_circles

from sknoise import (
    NoisyMLPClassifier,
    NoisyMLPRegressor,
    _compiled,
    _keras_loop,
    _progress,
)
from sknoise._backend import import_keras

keras = import_keras()

FAST = {"nodes": 16, "epochs": 30, "batch_size": 16, "learning_rate": 0.01}


@pytest.fixture(scope="module")
def circles():
    X, y = make_circles(n_samples=200, noise=0.1, random_state=1)
    X = X.astype("float32")
    return X[:100], y[:100], X[100:], y[100:]


def evaluate_loss(clf, X, y):
    """Binary cross-entropy of the fitted network on (X, y), noise off."""
    proba = np.clip(clf.predict_proba(X)[:, 1], 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(proba) + (1 - y) * np.log(1 - proba)))


def test_default_fit_uses_compiled_loop(circles, monkeypatch):
    X, y, _, _ = circles

    def keras_loop(*args, **kwargs):
        raise AssertionError("the default fit ran Keras' fit")

    monkeypatch.setattr(_keras_loop, "train", keras_loop)
    before = _compiled.loop_cache.traces
    clf = NoisyMLPClassifier(**FAST, random_state=0).fit(X, y)
    assert _compiled.loop_cache.traces >= before
    assert clf.n_iter_ == FAST["epochs"]


@pytest.mark.parametrize("validation", [False, True])
def test_history_keys_and_lengths(circles, validation):
    X, y, X_val, y_val = circles
    clf = NoisyMLPClassifier(**FAST, random_state=0)
    clf.fit(X, y, validation_data=(X_val, y_val) if validation else None)
    expected = ["loss", "accuracy"]
    if validation:
        expected += ["val_loss", "val_accuracy"]
    assert list(clf.history_) == expected
    for values in clf.history_.values():
        assert len(values) == FAST["epochs"]
        assert all(np.isfinite(values))
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    if validation:
        # The last val_loss is the fitted model's loss on the validation set.
        assert clf.history_["val_loss"][-1] == pytest.approx(
            evaluate_loss(clf, X_val, y_val), rel=1e-3
        )


def test_history_of_regressor_and_multiclass():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    reg = NoisyMLPRegressor(**FAST, random_state=0)
    reg.fit(X, X @ [1.0, 2.0, 0.0], validation_data=(X, X @ [1.0, 2.0, 0.0]))
    assert list(reg.history_) == ["loss", "val_loss"]
    assert len(reg.history_["val_loss"]) == FAST["epochs"]
    clf = NoisyMLPClassifier(**FAST, random_state=0)
    clf.fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))
    assert list(clf.history_) == ["loss", "accuracy"]
    assert 0 <= min(clf.history_["accuracy"]) <= max(clf.history_["accuracy"]) <= 1


def test_early_stopping_stops_and_restores_best_weights(circles):
    X, y, X_val, y_val = circles
    clf = NoisyMLPClassifier(
        nodes=64,
        noise_amount=0.0,
        learning_rate=0.05,
        epochs=400,
        batch_size=100,
        early_stopping=True,
        n_iter_no_change=5,
        tol=0.0,
        random_state=0,
    )
    clf.fit(X, y, validation_data=(X_val, y_val))
    history = clf.history_["val_loss"]
    assert clf.n_iter_ == len(history) < 400
    best = int(np.argmin(history))
    # It stopped patience epochs after the best one ...
    assert len(history) == best + 1 + 5
    # ... and the network is the one of the best epoch.
    assert evaluate_loss(clf, X_val, y_val) == pytest.approx(history[best], rel=1e-3)


def test_early_stopping_holds_out_validation_fraction(circles):
    X, y, _, _ = circles
    clf = NoisyMLPClassifier(
        **{**FAST, "epochs": 200},
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X, y)
    assert "val_loss" in clf.history_
    assert clf.n_iter_ < 200


def test_early_stopping_on_training_accuracy(circles):
    X, _, _, _ = circles
    clf = NoisyMLPClassifier(
        **{**FAST, "epochs": 300},
        early_stopping=True,
        monitor="accuracy",
        n_iter_no_change=4,
        random_state=0,
    ).fit(X, X[:, 0] > 0)  # separable: the accuracy saturates
    assert "val_loss" not in clf.history_
    assert clf.n_iter_ < 300


def test_no_retrace_across_noise_learning_rate_and_data(circles):
    X, y, X_val, y_val = circles
    NoisyMLPClassifier(**FAST, noise_amount=0.1, random_state=0).fit(X, y)
    before = _compiled.loop_cache.traces
    for noise_amount, learning_rate, seed in [(0.2, 0.001, 1), (1.0, 0.1, 2)]:
        params = {**FAST, "learning_rate": learning_rate}
        clf = NoisyMLPClassifier(**params, noise_amount=noise_amount, random_state=seed)
        # Other values of the same shape: the swapped halves of the data.
        clf.fit(X_val, y_val)
    assert _compiled.loop_cache.traces == before


def test_epochs_do_not_retrace(circles):
    X, y, _, _ = circles
    NoisyMLPClassifier(**FAST, random_state=0).fit(X, y)
    before = _compiled.loop_cache.traces
    NoisyMLPClassifier(**{**FAST, "epochs": 7}, random_state=0).fit(X, y)
    assert _compiled.loop_cache.traces == before


@pytest.mark.parametrize("sizes", [(100, 99, 97), (30, 26, 25)])
def test_folds_of_nearby_sizes_share_a_compiled_loop(circles, sizes):
    # FAST has batches of 16: 100, 99 and 97 rows all make 7 batches; 30, 26
    # and 25 rows are padded to 32.
    X, y, X_val, y_val = circles
    params = {**FAST, "batch_size": 16 if sizes[0] == 100 else 32}
    first = NoisyMLPClassifier(**params, random_state=0)
    first.fit(X[: sizes[0]], y[: sizes[0]], validation_data=(X_val, y_val))
    before = _compiled.loop_cache.traces
    for n in sizes[1:]:
        clf = NoisyMLPClassifier(**params, random_state=0)
        clf.fit(X[:n], y[:n], validation_data=(X_val[:-3], y_val[:-3]))
        assert len(clf.history_["loss"]) == FAST["epochs"]
    assert _compiled.loop_cache.traces == before


def test_batch_sizes_beyond_the_data_share_a_compiled_loop(circles):
    # 64 and 128 on 30 rows are both one full batch: one program.
    X, y, _, _ = circles
    X, y = X[:30], y[:30]
    NoisyMLPClassifier(**{**FAST, "batch_size": 64}, random_state=0).fit(X, y)
    before = _compiled.loop_cache.traces
    NoisyMLPClassifier(**{**FAST, "batch_size": 128}, random_state=0).fit(X, y)
    assert _compiled.loop_cache.traces == before


def test_noise_amount_changes_training_in_the_compiled_loop(circles):
    X, y, _, _ = circles
    quiet = NoisyMLPClassifier(**FAST, noise_amount=0.01, random_state=0).fit(X, y)
    loud = NoisyMLPClassifier(**FAST, noise_amount=2.0, random_state=0).fit(X, y)
    # Same seed and initial weights; far noisier training ends far worse.
    assert loud.history_["loss"][-1] > quiet.history_["loss"][-1] + 0.05


def test_warm_start_continues_weights_and_epochs(circles):
    X, y, _, _ = circles
    clf = NoisyMLPClassifier(**FAST, warm_start=True, random_state=0).fit(X, y)
    first_loss = clf.history_["loss"][-1]
    weights = [w.copy() for w in clf.model_.get_weights()]
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model
    assert clf.n_iter_ == 2 * FAST["epochs"]
    assert len(clf.history_["loss"]) == 2 * FAST["epochs"]
    assert clf.history_["loss"][FAST["epochs"] - 1] == first_loss
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(weights, clf.model_.get_weights(), strict=True)
    )
    # Continued training starts where the first fit ended, not from scratch.
    assert clf.history_["loss"][FAST["epochs"]] < clf.history_["loss"][0]


def test_partial_fit_runs_one_epoch_per_call(circles):
    X, y, _, _ = circles
    clf = NoisyMLPClassifier(**FAST, random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=[0, 1])
    assert clf.n_iter_ == 3
    assert len(clf.history_["loss"]) == 3
    # The optimizer's state carries over: Adam's step counter advanced.
    steps_per_epoch = int(np.ceil(len(X) / FAST["batch_size"]))
    iterations = keras.ops.convert_to_numpy(clf.model_.optimizer.iterations)
    assert int(iterations) == 3 * steps_per_epoch


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_random_state_reproduces_fits(circles, estimator):
    X, y, X_test, _ = circles
    make = NoisyMLPClassifier if estimator == "classifier" else NoisyMLPRegressor
    first = make(**FAST, random_state=3).fit(X, y)
    second = make(**FAST, random_state=3).fit(X, y)
    other = make(**FAST, random_state=4).fit(X, y)
    np.testing.assert_array_equal(first.history_["loss"], second.history_["loss"])
    out = "predict_proba" if estimator == "classifier" else "predict"
    np.testing.assert_array_equal(
        getattr(first, out)(X_test), getattr(second, out)(X_test)
    )
    assert not np.array_equal(getattr(first, out)(X_test), getattr(other, out)(X_test))


@pytest.mark.parametrize(
    "optimizer, regularizer",
    [
        ("sgd", {}),
        ("adam", {}),
        # Penalties are layer losses and max-norm a Keras constraint: both
        # loops must add and apply them alike.
        ("adam", {"alpha": 1.0}),
        ("sgd", {"l1": 0.1, "max_norm": 0.3}),
    ],
)
def test_compiled_loop_takes_the_same_steps_as_keras_fit(optimizer, regularizer):
    # Without noise and with one batch per epoch nothing is random after the
    # initial weights, which the seed fixes: both loops must agree exactly.
    # The compiled loop pads the 60 rows to 64, which must weigh nothing.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    params = dict(
        nodes=8, epochs=5, batch_size=64, noise_amount=0.0, learning_rate=0.1,
        optimizer=optimizer, random_state=0, **regularizer,
    )  # fmt: skip
    stock = NoisyMLPClassifier(**params, training_loop="keras").fit(X, y)
    compiled = NoisyMLPClassifier(**params, training_loop="compiled").fit(X, y)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(
            compiled.history_[key], stock.history_[key], rtol=1e-5
        )
    for ours, theirs in zip(
        compiled.model_.get_weights(), stock.model_.get_weights(), strict=True
    ):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.slow
def test_compiled_and_keras_loops_reach_equivalent_accuracy(circles):
    X, y, X_test, y_test = circles
    scores = {"compiled": [], "keras": []}
    for seed in range(4):
        for loop in scores:
            clf = NoisyMLPClassifier(
                nodes=32,
                noise_amount=0.1,
                learning_rate=0.1,
                epochs=50,
                batch_size=50,
                training_loop=loop,
                random_state=seed,
            ).fit(X, y)
            scores[loop].append(clf.score(X_test, y_test))
    compiled, stock = np.mean(scores["compiled"]), np.mean(scores["keras"])
    # Both learn the circles (chance is 0.5) and do so equally well: over
    # seeds 0-7 each single fit scores 0.78-0.86 on either loop and backend.
    assert compiled > 0.7 and stock > 0.7
    assert abs(compiled - stock) < 0.05


def test_callbacks_fall_back_to_the_keras_loop(circles):
    X, y, _, _ = circles

    class CountEpochs(keras.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            CountEpochs.epochs += 1

    clf = NoisyMLPClassifier(**FAST, callbacks=[CountEpochs()], random_state=0)
    clf.fit(X, y)
    assert CountEpochs.epochs == FAST["epochs"]
    assert len(clf.history_["loss"]) == FAST["epochs"]
    assert clf.n_iter_ == FAST["epochs"]


def test_a_users_history_callback_does_not_add_up_across_fits(circles):
    # Keras reuses a History callback it is given and never clears it.
    X, y, _, _ = circles
    params = {**FAST, "epochs": 2, "warm_start": True, "random_state": 0}
    clf = NoisyMLPClassifier(**params, callbacks=[keras.callbacks.History()])
    clf.fit(X, y)
    clf.partial_fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 5
    assert len(clf.history_["loss"]) == len(clf.loss_curve_) == 5


def test_a_single_callback_instance_is_accepted(circles):
    X, y, _, _ = circles
    history = keras.callbacks.History()
    clf = NoisyMLPClassifier(**FAST, callbacks=history, random_state=0).fit(X, y)
    assert len(history.history["loss"]) == FAST["epochs"] == clf.n_iter_


def test_keras_loop_early_stopping(circles):
    X, y, X_val, y_val = circles
    clf = NoisyMLPClassifier(
        **{**FAST, "epochs": 300},
        noise_amount=0.0,
        early_stopping=True,
        n_iter_no_change=3,
        training_loop="keras",
        random_state=0,
    ).fit(X, y, validation_data=(X_val, y_val))
    assert clf.n_iter_ < 300
    best = min(clf.history_["val_loss"])
    assert evaluate_loss(clf, X_val, y_val) == pytest.approx(best, rel=1e-3)


def test_compiled_loop_refuses_callbacks(circles):
    X, y, _, _ = circles
    clf = NoisyMLPClassifier(
        **FAST, training_loop="compiled", callbacks=[keras.callbacks.History()]
    )
    with pytest.raises(ValueError, match="training_loop='compiled'"):
        clf.fit(X, y)


def test_regressor_refuses_accuracy_monitor():
    reg = NoisyMLPRegressor(**FAST, early_stopping=True, monitor="val_accuracy")
    with pytest.raises(ValueError, match="'monitor'"):
        reg.fit(np.ones((10, 2)), np.arange(10.0))


def _without_tqdm(monkeypatch):
    # An import of a module set to None in sys.modules raises ImportError.
    monkeypatch.setitem(sys.modules, "tqdm", None)


def test_verbose_2_prints_every_epoch(circles, capsys):
    X, y, _, _ = circles
    NoisyMLPClassifier(**FAST, verbose=2, random_state=0).fit(X, y)
    out = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" - ")[0] for line in out] == [
        f"Epoch {epoch}/{FAST['epochs']}" for epoch in range(1, FAST["epochs"] + 1)
    ]


def test_verbose_1_without_tqdm_prints_lines_while_the_fit_runs(
    circles, capsys, monkeypatch
):
    _without_tqdm(monkeypatch)
    X, y, _, _ = circles
    epochs = 3 * _progress.FIRST_CALL_EPOCHS
    NoisyMLPClassifier(**{**FAST, "epochs": epochs}, verbose=1).fit(X, y)
    out = capsys.readouterr().out.strip().splitlines()
    # The first compiled call is short, so a line comes before the fit ends.
    assert out[0].startswith(f"Epoch {_progress.FIRST_CALL_EPOCHS}/{epochs} - loss: ")
    assert out[-1].startswith(f"Epoch {epochs}/{epochs} - loss: ")


def test_verbose_1_shows_a_tqdm_bar(circles, capsys):
    pytest.importorskip("tqdm")
    X, y, _, _ = circles
    epochs = 3 * _progress.FIRST_CALL_EPOCHS
    NoisyMLPClassifier(**{**FAST, "epochs": epochs}, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{epochs}/{epochs}" in captured.err
    assert "loss=" in captured.err and "accuracy=" in captured.err


@pytest.mark.parametrize("early_stopping", [False, True])
def test_progress_does_not_change_the_fit(circles, capsys, early_stopping):
    X, y, _, _ = circles
    params = {**FAST, "epochs": 40, "early_stopping": early_stopping, "random_state": 0}
    silent = NoisyMLPClassifier(**params).fit(X, y)
    shown = NoisyMLPClassifier(**params, verbose=1).fit(X, y)
    assert shown.history_ == silent.history_
    shown_weights = shown.coefs_ + shown.intercepts_
    silent_weights = silent.coefs_ + silent.intercepts_
    for a, b in zip(shown_weights, silent_weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_short_last_batch_and_sample_weights(circles):
    X, y, _, _ = circles
    # 100 rows in batches of 32: three full batches and one of 4.
    weights = np.where(y == 1, 2.0, 0.5)
    clf = NoisyMLPClassifier(**{**FAST, "batch_size": 32}, random_state=0)
    clf.fit(X, y, sample_weight=weights)
    assert np.isfinite(clf.history_["loss"]).all()
    iterations = keras.ops.convert_to_numpy(clf.model_.optimizer.iterations)
    assert int(iterations) == 4 * FAST["epochs"]

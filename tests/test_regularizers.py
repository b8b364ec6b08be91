"""Every noise site, noise type and regularizer reaches the network or the
training step, and none of them reaches inference."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor, _compiled
from sknoise._backend import import_keras
from sknoise._layers import Dense, Dropout, GaussianNoise
from sknoise._noise import annealed_gradient_noise, noisy_target_loss

keras = import_keras()
ops = keras.ops

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3)).astype("float32")
y = (X[:, 0] + X[:, 1] > 0).astype(int)
FAST = {"nodes": 8, "epochs": 5, "random_state": 0}

# One configuration per new option; each must train, and predict
# deterministically.
CONFIGS = {
    "weights": {"noise_site": "weights"},
    "weights-multiplicative": {
        "noise_site": "weights",
        "noise_type": "multiplicative",
    },
    "gradients": {"noise_site": "gradients", "noise_amount": 0.01},
    "labels": {"noise_site": "labels"},
    "hidden-multiplicative": {"noise_site": "hidden", "noise_type": "multiplicative"},
    "alpha": {"alpha": 0.1, "noise_site": None},
    "l1": {"l1": 0.01, "noise_site": None},
    "dropout": {"dropout": 0.3, "noise_site": None},
    "max_norm": {"max_norm": 1.0, "noise_site": None},
}


def dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, Dense)]


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
@pytest.mark.parametrize("params", CONFIGS.values(), ids=CONFIGS.keys())
def test_inference_is_deterministic_and_fits_reproducible(Estimator, params):
    target = y if Estimator is NoisyMLPClassifier else X[:, 0]
    est = Estimator(**FAST, **params).fit(X, target)
    first = est.predict(X)
    np.testing.assert_array_equal(first, est.predict(X))
    # Predictions are the network with every noise and dropout layer off.
    raw = keras.ops.convert_to_numpy(est.model_(X, training=False))
    outputs, _ = est._predict_raw(X)
    np.testing.assert_allclose(outputs, raw, rtol=1e-6, atol=1e-6)
    # The training noise is seeded by random_state: a refit is identical.
    np.testing.assert_array_equal(clone(est).fit(X, target).predict(X), first)


def test_weight_noise_lives_in_every_dense_layer():
    clf = NoisyMLPClassifier(**{**FAST, "nodes": (8, 4)}, noise_site="weights").fit(
        X, y
    )
    layers = dense_layers(clf.model_)
    assert [layer.name for layer in layers] == ["hidden_1", "hidden_2", "output"]
    for layer in layers:
        assert float(layer.weight_noise.numpy()) == pytest.approx(0.1)
    assert not any(isinstance(layer, GaussianNoise) for layer in clf.model_.layers)


@pytest.mark.parametrize("noise_type", ["gaussian", "multiplicative"])
def test_weight_noise_perturbs_the_weights_of_a_training_call(noise_type):
    layer = Dense(4000, weight_noise=0.5, noise_type=noise_type, seed=1)
    ones = np.ones((1, 1), dtype="float32")
    clean = keras.ops.convert_to_numpy(layer(ones))  # builds; kernel + bias
    noisy = keras.ops.convert_to_numpy(layer(ones, training=True))
    weights = clean  # one input of 1: the output is kernel + bias
    offset = noisy - weights
    if noise_type == "gaussian":
        # kernel and bias each get N(0, 0.25): the sum has variance 0.5.
        assert np.std(offset) == pytest.approx(np.sqrt(0.5), rel=0.05)
    else:
        # The bias is 0, so only the kernel's multiplicative noise shows.
        kernel = layer.kernel.numpy()
        np.testing.assert_allclose(offset, offset * (kernel != 0), atol=1e-6)
        assert np.std(offset / kernel) == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize("noise_type", ["gaussian", "multiplicative"])
def test_noise_type_of_a_noise_layer(noise_type):
    layer = GaussianNoise(0.5, seed=3, noise_type=noise_type)
    inputs = np.full((200, 100), 2.0, dtype="float32")
    inputs[:, 0] = 0.0
    out = keras.ops.convert_to_numpy(layer(inputs, training=True))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(inputs, training=False)), inputs
    )
    spread = np.std(out[:, 1:])
    if noise_type == "gaussian":
        assert spread == pytest.approx(0.5, rel=0.05)
        assert np.std(out[:, 0]) > 0.4
    else:  # x * (1 + 0.5 eps): mean-one noise, scaled by |x|
        assert spread == pytest.approx(1.0, rel=0.05)
        assert np.mean(out[:, 1:]) == pytest.approx(2.0, abs=0.02)
        np.testing.assert_array_equal(out[:, 0], 0.0)


def test_gradient_noise_is_annealed():
    zeros = [ops.zeros((100, 100))]
    for step, eta in [(0, 0.04), (1000, 0.5)]:
        (noise,) = annealed_gradient_noise(zeros, eta, np.int64(step), np.uint32(7))
        expected = np.sqrt(eta / (1 + step) ** 0.55)
        assert np.std(ops.convert_to_numpy(noise)) == pytest.approx(expected, rel=0.03)


def test_gradient_noise_reaches_the_update():
    # One full-batch SGD step with learning rate 1: the noisy and the clean
    # fit differ by exactly the noise, of variance eta at step 0.
    params = dict(
        nodes=200, epochs=1, batch_size=60, optimizer="sgd", learning_rate=1.0,
        random_state=0, noise_amount=0.04,
    )  # fmt: skip
    clean = NoisyMLPClassifier(**params, noise_site=None).fit(X, y)
    noisy = NoisyMLPClassifier(**params, noise_site="gradients").fit(X, y)
    offsets = np.concatenate(
        [
            (a - b).ravel()
            for a, b in zip(
                noisy.model_.get_weights(), clean.model_.get_weights(), strict=True
            )
        ]
    )
    assert offsets.size > 1000
    assert np.std(offsets) == pytest.approx(0.2, rel=0.05)
    assert np.mean(offsets) == pytest.approx(0.0, abs=0.02)


def test_label_smoothing_losses_match_smoothed_targets():
    eps = 0.2
    binary_p = np.array([[0.9], [0.2], [0.6]], dtype="float32")
    binary_y = np.array([[1.0], [0.0], [1.0]], dtype="float32")
    smoothed = binary_y * (1 - eps) + eps / 2
    expected = -(smoothed * np.log(binary_p) + (1 - smoothed) * np.log(1 - binary_p))
    got = noisy_target_loss(
        keras.losses.binary_crossentropy, "binary_crossentropy",
        binary_y, binary_p, eps, None, "gaussian",
    )  # fmt: skip
    np.testing.assert_allclose(ops.convert_to_numpy(got), expected[:, 0], rtol=1e-5)

    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    labels = np.array([0, 2])
    target = np.eye(3)[labels] * (1 - eps) + eps / 3
    expected = -(target * np.log(proba)).sum(axis=1)
    got = noisy_target_loss(
        keras.losses.sparse_categorical_crossentropy,
        "sparse_categorical_crossentropy",
        labels, proba, eps, None, "gaussian",
    )  # fmt: skip
    np.testing.assert_allclose(ops.convert_to_numpy(got), expected, rtol=1e-5)


def test_label_smoothing_keeps_probabilities_off_the_extremes():
    Xb, yb = make_blobs(n_samples=60, centers=[[-3, -3], [3, 3]], random_state=0)
    params = dict(nodes=16, epochs=300, learning_rate=0.01, random_state=0)
    sharp = NoisyMLPClassifier(**params, noise_site=None).fit(Xb, yb)
    smooth = NoisyMLPClassifier(**params, noise_site="labels", noise_amount=0.2)
    smooth.fit(Xb, yb)
    assert sharp.predict_proba(Xb).max() > 0.99
    # The smoothed targets are 0.1 and 0.9: the loss is least there.
    assert smooth.predict_proba(Xb).max() < 0.95
    assert smooth.score(Xb, yb) == 1.0


def test_target_noise_of_a_regressor_shows_in_its_training_loss():
    # Constant targets: without noise the loss vanishes; with noise of
    # standard deviation 0.5 it cannot fall below the noise variance.
    target = np.zeros(60)
    params = dict(nodes=8, epochs=100, learning_rate=0.01, random_state=0)
    clean = NoisyMLPRegressor(**params, noise_site=None).fit(X, target)
    noisy = NoisyMLPRegressor(**params, noise_site="labels", noise_amount=0.5)
    noisy.fit(X, target)
    assert np.mean(clean.history_["loss"][-10:]) < 0.01
    assert np.mean(noisy.history_["loss"][-10:]) == pytest.approx(0.25, rel=0.3)


def test_penalties_are_layer_losses_scaled_like_scikit_learn():
    clf = NoisyMLPClassifier(**FAST, noise_site=None, alpha=0.3, l1=0.06, batch_size=20)
    clf.fit(X, y)
    for layer in dense_layers(clf.model_):
        assert float(layer.l2.numpy()) == pytest.approx(0.5 * 0.3 / 20)
        assert float(layer.l1.numpy()) == pytest.approx(0.06 / 20)
        kernel = layer.kernel.numpy()
        layer(np.zeros((1, kernel.shape[0]), dtype="float32"), training=True)
    expected = sum(
        0.5 * 0.3 / 20 * np.sum(layer.kernel.numpy() ** 2)
        + 0.06 / 20 * np.sum(np.abs(layer.kernel.numpy()))
        for layer in dense_layers(clf.model_)
    )
    assert sum(float(loss) for loss in clf.model_.losses) == pytest.approx(
        expected, rel=1e-5
    )


def test_penalties_are_scaled_by_the_rows_left_after_the_hold_out():
    # 60 rows, half held out for early stopping: the batch has 30 rows.
    clf = NoisyMLPClassifier(
        **FAST,
        noise_site=None,
        alpha=0.3,
        l1=0.06,
        batch_size=64,
        early_stopping=True,
        validation_fraction=0.5,
    ).fit(X, y)
    for layer in dense_layers(clf.model_):
        assert float(layer.l2.numpy()) == pytest.approx(0.5 * 0.3 / 30)
        assert float(layer.l1.numpy()) == pytest.approx(0.06 / 30)


@pytest.mark.parametrize("continue_fit", ["warm_start", "partial_fit"])
def test_a_continued_fit_trains_with_the_current_strengths(continue_fit):
    clf = NoisyMLPClassifier(
        **FAST,
        noise_site=("input", "hidden", "weights"),
        noise_amount=0.1,
        alpha=0.3,
        dropout=0.2,
        batch_size=20,
        warm_start=continue_fit == "warm_start",
    ).fit(X, y)
    clf.set_params(noise_amount=0.4, alpha=0.6, dropout=0.5)
    if continue_fit == "warm_start":
        clf.fit(X[:40], y[:40])
    else:
        clf.partial_fit(X[:10], y[:10])
    rows = 20 if continue_fit == "warm_start" else 10
    layers = clf.model_.layers
    noise = [layer for layer in layers if isinstance(layer, GaussianNoise)]
    drops = [layer for layer in layers if isinstance(layer, Dropout)]
    assert noise and drops
    assert all(float(layer.stddev.numpy()) == pytest.approx(0.4) for layer in noise)
    assert all(float(layer.rate.numpy()) == pytest.approx(0.5) for layer in drops)
    for layer in dense_layers(clf.model_):
        assert float(layer.weight_noise.numpy()) == pytest.approx(0.4)
        assert float(layer.l2.numpy()) == pytest.approx(0.5 * 0.6 / rows)


@pytest.mark.parametrize(
    "change, named",
    [
        ({"nodes": 4}, "nodes"),
        ({"dropout": 0.0}, "dropout"),
        ({"alpha": 0.0}, "alpha or l1"),
        ({"noise_type": "multiplicative"}, "noise_type"),
        ({"noise_site": "input"}, "noise_site"),
        ({"max_norm": 2.0}, "max_norm"),
    ],
)
def test_a_continued_fit_refuses_a_different_network(change, named):
    clf = NoisyMLPClassifier(**FAST, dropout=0.2, alpha=0.1, warm_start=True)
    clf.fit(X, y)
    weights = clf.model_.get_weights()
    clf.set_params(**change)
    with pytest.raises(ValueError, match=f"{named} changed"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match=f"{named} changed"):
        clf.partial_fit(X, y)
    for before, after in zip(weights, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # Without warm_start, the new network is built.
    clf.set_params(warm_start=False).fit(X, y)


@pytest.mark.parametrize("param", ["alpha", "l1"])
def test_penalties_shrink_the_weights(param):
    params = dict(nodes=16, epochs=200, learning_rate=0.01, random_state=0)
    free = NoisyMLPClassifier(**params, noise_site=None).fit(X, y)
    held = NoisyMLPClassifier(**params, noise_site=None, **{param: 1.0}).fit(X, y)

    def size(clf):
        return sum(
            np.abs(layer.kernel.numpy()).sum() for layer in dense_layers(clf.model_)
        )

    assert size(held) < 0.7 * size(free)


def test_dropout_layers_drop_and_rescale_in_training_only():
    clf = NoisyMLPClassifier(**{**FAST, "nodes": (8, 8)}, noise_site=None, dropout=0.25)
    clf.fit(X, y)
    names = [layer.name for layer in clf.model_.layers if isinstance(layer, Dropout)]
    assert names == ["dropout_1", "dropout_2"]
    layer = Dropout(0.25, seed=0)
    ones = np.ones((400, 100), dtype="float32")
    out = keras.ops.convert_to_numpy(layer(ones, training=True))
    assert np.mean(out == 0) == pytest.approx(0.25, abs=0.01)
    np.testing.assert_allclose(out[out != 0], 1 / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(ones)), ones)


def test_max_norm_constrains_every_unit_after_every_update():
    clf = NoisyMLPClassifier(
        nodes=(16, 16), epochs=50, learning_rate=0.05, random_state=0,
        noise_site=None, max_norm=0.5,
    )  # fmt: skip
    clf.fit(X, y)
    free = NoisyMLPClassifier(
        nodes=(16, 16), epochs=50, learning_rate=0.05, random_state=0,
        noise_site=None,
    ).fit(X, y)  # fmt: skip
    for layer, twin in zip(
        dense_layers(clf.model_), dense_layers(free.model_), strict=True
    ):
        assert isinstance(layer.kernel_constraint, keras.constraints.MaxNorm)
        norms = np.linalg.norm(layer.kernel.numpy(), axis=0)
        assert norms.max() <= 0.5 + 1e-5
        assert np.linalg.norm(twin.kernel.numpy(), axis=0).max() > 0.5


def test_strengths_rates_and_amounts_do_not_retrace():
    base = dict(FAST, noise_site="weights+labels", dropout=0.1, alpha=0.1)
    NoisyMLPClassifier(**base).fit(X, y)
    before = _compiled.loop_cache.traces
    for change in [
        {"noise_amount": 0.3},
        {"dropout": 0.5},
        {"alpha": 0.0, "l1": 0.2},
        {"learning_rate": 0.1},
    ]:
        NoisyMLPClassifier(**{**base, **change}).fit(X, y)
    assert _compiled.loop_cache.traces == before


@pytest.mark.parametrize("params", CONFIGS.values(), ids=CONFIGS.keys())
def test_new_options_survive_pickling(params):
    clf = NoisyMLPClassifier(**FAST, **params, warm_start=True).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # The copy continues exactly as the original: same variables, and the
    # noise and dropout streams go on where they were, not from the start.
    clf.fit(X, y)
    restored.fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("site", ["gradients", "labels"])
def test_step_sites_need_the_compiled_loop(site):
    with pytest.raises(ValueError, match="compiled training loop"):
        NoisyMLPClassifier(**FAST, noise_site=site, training_loop="keras").fit(X, y)
    callback = keras.callbacks.History()
    with pytest.raises(ValueError, match="compiled training loop"):
        NoisyMLPClassifier(**FAST, noise_site=site, callbacks=[callback]).fit(X, y)

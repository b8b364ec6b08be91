"""Golden results: restructuring must not change what a fit gives.

Each configuration is trained with a fixed seed, and its predictions,
``history_`` and epoch count are compared with values recorded from the code
when the test was written, one file per Keras backend in ``tests/golden/``.
A file holds a *reference* recording and, for other kinds of machine, exact
recordings of theirs, each with the :func:`tests._recordings.fingerprint` of
the machine and libraries it came from:

* where this machine's fingerprint is a recording's, the results must equal
  it bit for bit;
* elsewhere they must equal the reference to float32 rounding
  (``tests/_recordings.py``: XLA and BLAS round by the processor), which
  a change of behaviour still exceeds (see the tests at the end).

Re-record when a change is *meant* to change results (a new noise source, a
new weight initialisation), and say so in the commit message; this replaces
every recording with this machine's::

    python -m tests.test_golden            # TensorFlow
    KERAS_BACKEND=jax python -m tests.test_golden

To make the comparison exact on another kind of machine (a CI runner, say),
add its recording; it is refused unless its results equal the reference to
float32 rounding, so this can never hide a change of behaviour::

    python -m tests.test_golden --add-machine
    KERAS_BACKEND=jax python -m tests.test_golden --add-machine
"""

import argparse
import dataclasses
import io
import json
import pickle
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from sknoise._backend import import_keras
from sknoise._config import FitConfig
from sknoise.datasets import load_published_circles
from tests._recordings import differences, fingerprint

GOLDEN_DIR = Path(__file__).parent / "golden"


def _published():
    """The published hidden-noise setting, at fewer epochs."""
    X, y, X_test, _ = load_published_circles()
    clf = NoisyMLPClassifier(
        nodes=500, noise_amount=0.1, noise_site="hidden", epochs=300, random_state=0
    ).fit(X, y)
    return clf, X_test


def _multi_site():
    """Several layer and step sites, penalties, dropout, max-norm, 3 classes."""
    X, y = make_classification(
        n_samples=70, n_features=4, n_informative=3, n_redundant=0,
        n_classes=3, random_state=0,
    )  # fmt: skip
    clf = NoisyMLPClassifier(
        nodes=(16, 8),
        noise_amount=0.05,
        noise_site="input+hidden+weights+gradients+labels",
        noise_type="multiplicative",
        alpha=1e-3,
        l1=1e-4,
        dropout=0.1,
        max_norm=3.0,
        learning_rate=0.01,
        epochs=40,
        batch_size=16,
        random_state=1,
    ).fit(X[:50], y[:50], validation_data=(X[50:], y[50:]))
    return clf, X[50:]


def _regressor():
    """Two outputs, sample weights, activation and target noise, SGD."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(45, 3))
    y = np.column_stack([X @ [1.0, -2.0, 0.5], np.sin(X[:, 0])])
    reg = NoisyMLPRegressor(
        nodes=12,
        noise_amount=0.1,
        noise_site="activation+labels",
        optimizer="sgd",
        optimizer__momentum=0.9,
        learning_rate=0.01,
        epochs=40,
        batch_size=8,
        random_state=2,
    ).fit(X, y, sample_weight=rng.uniform(0.5, 2.0, size=45))
    return reg, X[:10]


def _early_stopping():
    """Early stopping on a held-out fraction, then a warm start and a
    partial_fit with changed strengths."""
    X, y = make_classification(n_samples=80, n_features=5, random_state=3)
    clf = NoisyMLPClassifier(
        nodes=32,
        noise_amount=0.2,
        noise_site="input+activation",
        learning_rate=0.05,
        epochs=300,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        class_weight={0: 1.0, 1: 2.0},
        random_state=3,
    ).fit(X, y)
    clf.set_params(warm_start=True, early_stopping=False, noise_amount=0.1, epochs=7)
    clf.fit(X, y)
    clf.partial_fit(X[:20], y[:20])
    return clf, X


def _keras_loop():
    """Keras' own fit, through scikeras, with a routed fit parameter."""
    X, y = make_classification(n_samples=40, n_features=3, n_informative=2,
                               n_redundant=0, random_state=4)  # fmt: skip
    clf = NoisyMLPClassifier(
        nodes=8,
        noise_amount=0.1,
        noise_site="input+hidden",
        training_loop="keras",
        epochs=5,
        batch_size=16,
        fit__shuffle=True,
        random_state=4,
    ).fit(X, y, validation_data=(X[:10], y[:10]))
    return clf, X


# Continued training after a save and a load: the network and its
# optimizer state must come back exactly as they were saved.
def _joblib_round_trip(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _skops_round_trip(estimator):
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(estimator)
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))


def _reloaded_warm_start():
    """The published setting saved with joblib, then a warm start and a
    partial_fit: Adam's moments and the epoch counter must come back."""
    X, y, X_test, _ = load_published_circles()
    clf = NoisyMLPClassifier(
        nodes=50, noise_amount=0.1, epochs=30, warm_start=True, random_state=5
    ).fit(X, y)
    clf = _joblib_round_trip(clf)
    clf.fit(X, y)
    clf.partial_fit(X[:10], y[:10])
    return clf, X_test


def _reloaded_twice_regressor():
    """SGD with momentum, pickled, pickled again before it was used, then
    continued with partial_fit at a changed amount."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(40, 3))
    y = X @ [0.5, -1.0, 2.0]
    reg = NoisyMLPRegressor(
        nodes=10,
        noise_site="input+weights",
        optimizer="sgd",
        optimizer__momentum=0.9,
        learning_rate=0.01,
        epochs=10,
        batch_size=8,
        random_state=6,
    ).fit(X, y)
    reg = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(reg))))
    reg.set_params(noise_amount=0.05)
    for _ in range(3):
        reg.partial_fit(X, y)
    return reg, X[:10]


def _reloaded_skops_multi_site():
    """Step sites, penalties and dropout, saved with skops, then a warm start."""
    X, y = make_classification(n_samples=50, n_features=4, random_state=7)
    clf = NoisyMLPClassifier(
        nodes=(12, 6),
        noise_amount=0.05,
        noise_site="hidden+gradients+labels",
        alpha=1e-3,
        dropout=0.1,
        learning_rate=0.01,
        epochs=15,
        batch_size=16,
        warm_start=True,
        random_state=7,
    ).fit(X, y)
    clf = _skops_round_trip(clf)
    clf.fit(X, y)
    return clf, X


def _reloaded_keras_loop():
    """Keras' own fit, saved with joblib, then a warm start in Keras' fit."""
    X, y = make_classification(n_samples=40, n_features=3, n_informative=2,
                               n_redundant=0, random_state=8)  # fmt: skip
    clf = NoisyMLPClassifier(
        nodes=8,
        training_loop="keras",
        epochs=4,
        batch_size=16,
        warm_start=True,
        random_state=8,
    ).fit(X, y)
    clf = _joblib_round_trip(clf)
    clf.fit(X, y)
    return clf, X


CONFIGURATIONS = {
    "published": _published,
    "multi_site": _multi_site,
    "regressor": _regressor,
    "early_stopping": _early_stopping,
    "keras_loop": _keras_loop,
    "reloaded_warm_start": _reloaded_warm_start,
    "reloaded_twice_regressor": _reloaded_twice_regressor,
    "reloaded_skops_multi_site": _reloaded_skops_multi_site,
    "reloaded_keras_loop": _reloaded_keras_loop,
}


def _results(name):
    """What a configuration gives: outputs, history and epoch count."""
    estimator, X = CONFIGURATIONS[name]()
    if hasattr(estimator, "predict_proba"):
        outputs = estimator.predict_proba(X)
    else:
        outputs = estimator.predict(X)
    return {
        "outputs": np.asarray(outputs, dtype=np.float64).tolist(),
        "history": {key: list(map(float, v)) for key, v in estimator.history_.items()},
        "n_iter": int(estimator.n_iter_),
    }


def _backend():
    return import_keras().backend.backend()


def _golden_path():
    return GOLDEN_DIR / f"{_backend()}.json"


def _recordings():
    """This backend's golden file: ``{"reference": ..., "machines": [...]}``,
    each recording ``{"fingerprint": ..., "results": {name: ...}}``."""
    return json.loads(_golden_path().read_text())


def _expected(recordings):
    """The recording to compare with here, and whether exactly: this
    machine's own if there is one, else the reference to float32 rounding."""
    here = fingerprint(_backend())
    for recording in [recordings["reference"], *recordings["machines"]]:
        if recording["fingerprint"] == here:
            return recording["results"], True
    return recordings["reference"]["results"], False


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_results_equal_the_recorded_ones(name):
    recorded, exact = _expected(_recordings())
    # JSON round-trips a float64 exactly, so equality here is bit equality.
    found = differences(_results(name), recorded[name], exact=exact)
    if exact:
        mode = "this machine's recording, bit for bit"
    else:
        mode = "the reference, recorded on another kind of machine, to float32 rounding"
    assert not found, f"{name} differs from {mode}:\n" + "\n".join(found[:10])


# The comparison itself: float32 roundings pass the tolerant mode only, and
# a one-line change of behaviour fails both.
def _perturbed(value, ulps):
    """``value`` with every float moved by ``ulps`` float32 units in the
    last place (as another processor's roundings would)."""
    if isinstance(value, dict):
        return {key: _perturbed(item, ulps) for key, item in value.items()}
    if isinstance(value, list):
        return [_perturbed(item, ulps) for item in value]
    if isinstance(value, float):
        return value + ulps * float(np.spacing(np.float32(value)))
    return value


def test_float32_roundings_pass_only_the_tolerant_comparison():
    reference = _recordings()["reference"]["results"]
    for name, recorded in reference.items():
        moved = _perturbed(recorded, ulps=4)
        assert differences(moved, recorded, exact=True), name
        assert not differences(moved, recorded, exact=False), name


@pytest.mark.parametrize("exact", [True, False])
def test_a_difference_reports_its_size(exact):
    found = differences(
        {"x": [1.0, 2.0, np.nan]}, {"x": [1.0, 2.5, np.nan]}, exact=exact
    )
    assert found == [
        f"result['x']: 1 of 3 values differ beyond "
        f"{'bit for bit' if exact else 'rtol=2e-05, atol=2e-06'} "
        "(largest difference 0.5)"
    ]
    only_nan = differences([np.nan], [1.0], exact=exact)
    assert only_nan[0].endswith("(largest difference: a NaN against a number)")


def _one_more_epoch(monkeypatch):
    from_estimator = FitConfig.from_estimator.__func__

    def longer(cls, *args, **kwargs):
        config = from_estimator(cls, *args, **kwargs)
        return dataclasses.replace(config, epochs=config.epochs + 1)

    monkeypatch.setattr(FitConfig, "from_estimator", classmethod(longer))


def _another_seed_derivation(monkeypatch):
    from sknoise import _seeds

    stream_seed = _seeds._stream_seed
    monkeypatch.setattr(
        _seeds, "_stream_seed", lambda seed, stream: stream_seed(seed, stream + 1)
    )


@pytest.mark.parametrize("change", [_one_more_epoch, _another_seed_derivation])
def test_a_change_of_behaviour_fails_both_comparisons(change, monkeypatch):
    change(monkeypatch)
    changed = _results("regressor")
    recordings = _recordings()
    for recording in [recordings["reference"], *recordings["machines"]]:
        recorded = recording["results"]["regressor"]
        assert differences(changed, recorded, exact=True)
        # The predictions alone give it away, not only a longer history.
        assert differences(changed["outputs"], recorded["outputs"], exact=False)


def record(add_machine=False):
    """Write this backend's golden file from the current code: anew, or
    with this machine's recording added (see the module docstring)."""
    results = {name: _results(name) for name in sorted(CONFIGURATIONS)}
    here = {"fingerprint": fingerprint(_backend()), "results": results}
    if not add_machine:
        recordings = {"reference": here, "machines": []}
    else:
        recordings = _recordings()
        reference = recordings["reference"]["results"]
        found = differences(results, reference, exact=False)
        if found:
            raise SystemExit(
                "not added: this machine's results differ from the reference "
                "beyond float32 rounding, a change of behaviour:\n"
                + "\n".join(found[:10])
            )
        recordings["machines"] = [
            recording
            for recording in recordings["machines"]
            if recording["fingerprint"] != here["fingerprint"]
        ] + [here]
    GOLDEN_DIR.mkdir(exist_ok=True)
    _golden_path().write_text(json.dumps(recordings, indent=1) + "\n")
    print(f"recorded {sorted(results)} in {_golden_path()}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Record the golden results.")
    parser.add_argument(
        "--add-machine",
        action="store_true",
        help="add this machine's exact results beside the reference",
    )
    record(add_machine=parser.parse_args().add_machine)

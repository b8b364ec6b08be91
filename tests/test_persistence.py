"""Saving and loading: every supported format, in this and a fresh process."""

import pickle
import subprocess
import sys
import textwrap

import cloudpickle
import joblib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)).astype("float32")
y = (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("Estimator", [NoisyMLPClassifier, NoisyMLPRegressor])
@pytest.mark.parametrize("module", [pickle, cloudpickle])
def test_unfitted_estimator_stays_unfitted(Estimator, module):
    restored = module.loads(module.dumps(Estimator(nodes=4, epochs=2)))
    assert restored.get_params()["nodes"] == 4
    with pytest.raises(NotFittedError):
        restored.predict(X)


def test_fitted_regressor_round_trips():
    reg = NoisyMLPRegressor(nodes=8, epochs=5, random_state=0).fit(X, X[:, 0])
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_restored_model_keeps_training(tmp_path):
    clf = NoisyMLPClassifier(nodes=8, epochs=5, warm_start=True, random_state=0)
    clf.fit(X, y)
    joblib.dump(clf, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    restored.fit(X, y)
    assert restored.n_iter_ == 10
    assert len(restored.history_["loss"]) == 10


def assert_fresh_process_predicts_alike(script, path, clf, tmp_path):
    """Run ``script`` in a fresh Python with the saved model's ``path``, the
    data's and the output's, and compare its probabilities with ``clf``'s."""
    np.save(tmp_path / "X.npy", X)
    out = tmp_path / "proba.npy"
    subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "X.npy"), str(out)],
        check=True,
        timeout=300,
    )
    np.testing.assert_array_equal(np.load(out), clf.predict_proba(X))


@pytest.mark.parametrize("fmt", ["pickle", "joblib", "cloudpickle"])
def test_loading_in_a_fresh_process_gives_identical_probabilities(tmp_path, fmt):
    clf = NoisyMLPClassifier(nodes=8, epochs=5, random_state=0).fit(X, y)
    path = tmp_path / "model.bin"
    module = {"pickle": pickle, "joblib": joblib, "cloudpickle": cloudpickle}[fmt]
    if fmt == "joblib":
        joblib.dump(clf, path)
    else:
        path.write_bytes(module.dumps(clf))
    script = textwrap.dedent(
        f"""
        import pickle, sys
        import joblib, numpy as np
        path, X = sys.argv[1], np.load(sys.argv[2])
        if {fmt!r} == "joblib":
            model = joblib.load(path)
        else:
            with open(path, "rb") as handle:
                model = pickle.load(handle)
        np.save(sys.argv[3], model.predict_proba(X))
        """
    )
    assert_fresh_process_predicts_alike(script, path, clf, tmp_path)


# ---------------------------------------------------------------------------
# skops: loading that runs no pickle, only the types the user trusts
# ---------------------------------------------------------------------------
# The sknoise types a fitted estimator's file holds, as docs/how_to.rst lists
# them: the estimator, its target encoder (Classifier, Multilabel or
# Regressor), and the plain data of the network's structure, seeds and
# NumPy inference weights.
SKOPS_TRUSTED = {
    NoisyMLPClassifier: [
        "sknoise._config.KeptState",
        "sknoise._config.NetworkStructure",
        "sknoise._config.Seeds",
        "sknoise._estimators.NoisyMLPClassifier",
        "sknoise._inference.InferenceNetwork",
        "sknoise._targets.ClassifierTargetEncoder",
    ],
    NoisyMLPRegressor: [
        "sknoise._config.KeptState",
        "sknoise._config.NetworkStructure",
        "sknoise._config.Seeds",
        "sknoise._estimators.NoisyMLPRegressor",
        "sknoise._inference.InferenceNetwork",
        "sknoise._targets.RegressorTargetEncoder",
    ],
}


def test_skops_asks_to_trust_exactly_the_documented_types():
    sio = pytest.importorskip("skops.io")
    from pathlib import Path

    how_to = (Path(__file__).parents[1] / "docs" / "how_to.rst").read_text()
    Y = np.c_[y, X[:, 1] > 0].astype(int)
    fits = [
        (NoisyMLPClassifier, y, SKOPS_TRUSTED[NoisyMLPClassifier]),
        (NoisyMLPRegressor, X[:, 0], SKOPS_TRUSTED[NoisyMLPRegressor]),
    ]
    multilabel = [
        name.replace("ClassifierTargetEncoder", "MultilabelTargetEncoder")
        for name in SKOPS_TRUSTED[NoisyMLPClassifier]
    ]
    fits.append((NoisyMLPClassifier, Y, multilabel))
    for Estimator, target, trusted in fits:
        model = Estimator(nodes=4, epochs=2, random_state=0).fit(X, target)
        data = sio.dumps(model)
        assert sio.get_untrusted_types(data=data) == trusted
        assert all(f'"{name}"' in how_to for name in trusted)
        with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
            sio.loads(data)


def test_skops_round_trip_in_a_fresh_process_predicts_identically(tmp_path):
    sio = pytest.importorskip("skops.io")
    clf = NoisyMLPClassifier(nodes=8, epochs=5, random_state=0).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import skops.io as sio
        model = sio.load(sys.argv[1], trusted={SKOPS_TRUSTED[NoisyMLPClassifier]!r})
        np.save(sys.argv[3], model.predict_proba(np.load(sys.argv[2])))
        """
    )
    assert_fresh_process_predicts_alike(script, path, clf, tmp_path)


def test_skops_loaded_model_keeps_training():
    sio = pytest.importorskip("skops.io")
    clf = NoisyMLPClassifier(nodes=8, epochs=5, warm_start=True, random_state=0)
    clf.fit(X, y)
    data = sio.dumps(clf)
    restored = sio.loads(data, trusted=SKOPS_TRUSTED[NoisyMLPClassifier])
    restored.fit(X, y)
    assert restored.n_iter_ == 10
    assert len(restored.history_["loss"]) == 10

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


@pytest.mark.parametrize("fmt", ["pickle", "joblib", "cloudpickle"])
def test_loading_in_a_fresh_process_gives_identical_probabilities(tmp_path, fmt):
    clf = NoisyMLPClassifier(nodes=8, epochs=5, random_state=0).fit(X, y)
    path = tmp_path / "model.bin"
    module = {"pickle": pickle, "joblib": joblib, "cloudpickle": cloudpickle}[fmt]
    if fmt == "joblib":
        joblib.dump(clf, path)
    else:
        path.write_bytes(module.dumps(clf))
    np.save(tmp_path / "X.npy", X)
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
    out = tmp_path / "proba.npy"
    subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "X.npy"), str(out)],
        check=True,
        timeout=300,
    )
    np.testing.assert_array_equal(np.load(out), clf.predict_proba(X))

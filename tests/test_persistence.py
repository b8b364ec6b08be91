"""Saving and loading: every supported format, in this and a fresh process."""

import ast
import io
import pickle
import re
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import cloudpickle
import joblib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from tests._recordings import assert_close_to_recording

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


def _saved_forms(estimator, tmp_path):
    """What pickle, joblib and skops write for ``estimator``, and its
    ``joblib.hash``. skops' own zip is not reproducible, for scikit-learn's
    estimators either: its entries carry the time of saving, its schema the
    ``id()`` of temporary objects, and its file names ``id()``s and uuids.
    What it writes for sknoise's state is compared: its entries' contents."""
    sio = pytest.importorskip("skops.io")
    joblib.dump(estimator, tmp_path / "model.joblib")
    with zipfile.ZipFile(io.BytesIO(sio.dumps(estimator))) as skops_file:
        skops_entries = sorted(
            skops_file.read(name)
            for name in skops_file.namelist()
            if name != "schema.json"
        )
    return {
        "pickle": pickle.dumps(estimator),
        "joblib": (tmp_path / "model.joblib").read_bytes(),
        "joblib.hash": joblib.hash(estimator),
        "skops entries": skops_entries,
    }


def test_the_same_model_saves_to_the_same_bytes(monkeypatch, tmp_path):
    models = [
        NoisyMLPClassifier(nodes=4, epochs=2, random_state=0).fit(X, y),
        NoisyMLPRegressor(nodes=4, epochs=2, random_state=0).fit(X, X[:, :2]),
    ]
    first = [_saved_forms(model, tmp_path) for model in models]
    # Saved again a day later by Python's clock, which times zip entries, and
    # in another second by the clocks Python cannot move: Keras' date_saved
    # (datetime.now) and HDF5's (the weights file's library).
    time.sleep(1.1)
    a_day_later = time.time() + 86400
    monkeypatch.setattr(time, "time", lambda: a_day_later)
    assert [_saved_forms(model, tmp_path) for model in models] == first


@pytest.mark.parametrize("damage", ["truncated", "a changed byte"])
def test_a_damaged_saved_network_says_so_and_what_to_do(damage):
    clf = NoisyMLPClassifier(nodes=4, epochs=2, warm_start=True, random_state=0)
    clf.fit(X, y)
    state = clf.__getstate__()
    archive = state["model_"]
    middle = len(archive) // 2
    if damage == "truncated":
        state["model_"] = archive[:middle]
    else:
        state["model_"] = (
            archive[:middle] + bytes([archive[middle] ^ 0xFF]) + archive[middle + 1 :]
        )
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.__setstate__(state)
    # Predictions do not need the network.
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    for use in (lambda: loaded.model_, lambda: loaded.fit(X, y)):
        with pytest.raises(ValueError, match="is damaged") as error:
            use()
        message = str(error.value)
        assert "saved training network (model_" in message
        assert "load the estimator from an intact copy" in message
    # A fresh fit does not need it.
    loaded.set_params(warm_start=False).fit(X, y)
    assert loaded.n_iter_ == 2


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
DOCS = Path(__file__).parents[1]
SKOPS_NAME = {
    NoisyMLPClassifier: "sknoise._estimators.NoisyMLPClassifier",
    NoisyMLPRegressor: "sknoise._estimators.NoisyMLPRegressor",
}


def documented_trusted_lists(path):
    """The ``trusted=[...]`` lists of the skops examples in ``path``."""
    lists = re.findall(r"trusted=(\[[^\]]*\])", path.read_text())
    return [ast.literal_eval(found) for found in lists]


@pytest.mark.parametrize("page", ["docs/how_to.rst", "README.md"])
def test_the_documented_trusted_lists_name_only_the_estimators(page):
    documented = documented_trusted_lists(DOCS / page)
    assert sorted(documented) == sorted([name] for name in SKOPS_NAME.values())


Y_MULTILABEL = np.c_[y, X[:, 1] > 0].astype(int)
Y_MULTICLASS = np.digitize(X[:, 0], [-0.5, 0.5])
SKOPS_FITS = {
    "binary-compiled": (NoisyMLPClassifier, y, "compiled"),
    "binary-keras": (NoisyMLPClassifier, y, "keras"),
    "multiclass-compiled": (NoisyMLPClassifier, Y_MULTICLASS, "compiled"),
    "multilabel-keras": (NoisyMLPClassifier, Y_MULTILABEL, "keras"),
    "regressor-compiled": (NoisyMLPRegressor, X[:, 0], "compiled"),
    "regressor-keras": (NoisyMLPRegressor, X[:, :2], "keras"),
}


@pytest.mark.parametrize("fit", list(SKOPS_FITS))
def test_skops_asks_to_trust_only_the_estimator(fit):
    sio = pytest.importorskip("skops.io")
    Estimator, target, loop = SKOPS_FITS[fit]
    model = Estimator(nodes=4, epochs=2, training_loop=loop, random_state=0)
    data = sio.dumps(model.fit(X, target))
    assert sio.get_untrusted_types(data=data) == [SKOPS_NAME[Estimator]]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)
    loaded = sio.loads(data, trusted=[SKOPS_NAME[Estimator]])
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    # Loaded, the private state is the same objects again: a second save
    # writes what the first did.
    assert sio.get_untrusted_types(data=sio.dumps(loaded)) == [SKOPS_NAME[Estimator]]


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
        model = sio.load(sys.argv[1], trusted=[{SKOPS_NAME[NoisyMLPClassifier]!r}])
        np.save(sys.argv[3], model.predict_proba(np.load(sys.argv[2])))
        """
    )
    assert_fresh_process_predicts_alike(script, path, clf, tmp_path)


def test_skops_loaded_model_keeps_training():
    sio = pytest.importorskip("skops.io")
    clf = NoisyMLPClassifier(nodes=8, epochs=5, warm_start=True, random_state=0)
    clf.fit(X, y)
    data = sio.dumps(clf)
    restored = sio.loads(data, trusted=[SKOPS_NAME[NoisyMLPClassifier]])
    restored.fit(X, y)
    assert restored.n_iter_ == 10
    assert len(restored.history_["loss"]) == 10


# skops files written by the code of commit 3258522, before the private state
# was saved as plain data (TensorFlow backend; the data and the predictions
# then in the .npz): they name sknoise's private types, and still load.
PREVIOUS_SKOPS = DOCS / "tests" / "data"
PREVIOUS_TRUSTED = [
    "sknoise._config.KeptState",
    "sknoise._config.NetworkStructure",
    "sknoise._config.Seeds",
    "sknoise._inference.InferenceNetwork",
]


@pytest.mark.parametrize(
    "Estimator, encoder",
    [
        (NoisyMLPClassifier, "sknoise._targets.ClassifierTargetEncoder"),
        (NoisyMLPRegressor, "sknoise._targets.RegressorTargetEncoder"),
    ],
)
def test_a_skops_file_with_the_private_types_still_loads(Estimator, encoder):
    sio = pytest.importorskip("skops.io")
    kind = "classifier" if Estimator is NoisyMLPClassifier else "regressor"
    path = PREVIOUS_SKOPS / f"{kind}_0.1.0.dev0_3258522.skops"
    expected = np.load(PREVIOUS_SKOPS / "skops_expected_0.1.0.dev0_3258522.npz")
    trusted = sorted([*PREVIOUS_TRUSTED, SKOPS_NAME[Estimator], encoder])
    assert sio.get_untrusted_types(file=path) == trusted
    model = sio.load(path, trusted=trusted)
    # Predicted on another machine: equal to float32 rounding (see
    # tests/_recordings.py).
    if kind == "classifier":
        assert_close_to_recording(model.predict_proba(expected["X"]), expected["proba"])
        target = expected["y"]
    else:
        assert_close_to_recording(model.predict(expected["X"]), expected["predict"])
        target = expected["y_reg"]
    # Saved again, it asks to trust the estimator alone.
    assert sio.get_untrusted_types(data=sio.dumps(model)) == [SKOPS_NAME[Estimator]]
    # warm_start=True: the continued fit checks the kept structure and seeds.
    model.fit(expected["X"], target)
    assert model.n_iter_ == 10

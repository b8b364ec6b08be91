"""Sparse X (scipy CSR and CSC, matrices and arrays): trained without
densifying, with the results of the same data dense; and sparse y, trained
on as the same targets dense."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from sknoise import NoisyMLPClassifier, NoisyMLPRegressor
from sknoise._backend import import_keras

FAST = {"nodes": 8, "epochs": 4, "batch_size": 16, "random_state": 0}
rng = np.random.default_rng(0)
# 60 rows of varied length (1 to 6 stored entries) over 40 features.
X_dense = np.zeros((60, 40))
for row in range(60):
    columns = rng.choice(40, size=rng.integers(1, 7), replace=False)
    X_dense[row, columns] = rng.uniform(0.1, 1.0, size=columns.size)
X_csr = sp.csr_matrix(X_dense)
y_class = (X_dense[:, :20].sum(axis=1) > X_dense[:, 20:].sum(axis=1)).astype(int)
y_reg = X_dense @ rng.normal(size=40)
# float32 training: the sparse first layer sums a row's products in another
# order than the dense matrix product.
RTOL = 1e-5
ATOL = 1e-6

ESTIMATORS = [(NoisyMLPClassifier, y_class), (NoisyMLPRegressor, y_reg)]
FORMATS = {
    "csr": sp.csr_matrix,
    "csc": sp.csc_matrix,
    "csr_array": sp.csr_array,
}


def _outputs(estimator, X):
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)
    return estimator.predict(X)


@pytest.mark.parametrize("Estimator, y", ESTIMATORS, ids=["classifier", "regressor"])
@pytest.mark.parametrize("to_sparse", FORMATS.values(), ids=FORMATS.keys())
def test_sparse_fit_predicts_as_the_same_data_dense(Estimator, y, to_sparse):
    dense = Estimator(**FAST).fit(X_dense, y)
    sparse = Estimator(**FAST).fit(to_sparse(X_dense), y)
    np.testing.assert_allclose(
        _outputs(sparse, to_sparse(X_dense)), _outputs(dense, X_dense), rtol=RTOL,
        atol=ATOL,
    )  # fmt: skip
    np.testing.assert_allclose(
        sparse.history_["loss"], dense.history_["loss"], rtol=RTOL
    )


@pytest.mark.parametrize("Estimator, y", ESTIMATORS, ids=["classifier", "regressor"])
def test_a_dense_fitted_model_predicts_sparse_x_and_back(Estimator, y):
    dense = Estimator(**FAST).fit(X_dense, y)
    sparse = Estimator(**FAST).fit(X_csr, y)
    for fitted in (dense, sparse):
        np.testing.assert_allclose(
            _outputs(fitted, X_csr), _outputs(fitted, X_dense), rtol=RTOL, atol=ATOL
        )
    assert dense.score(X_csr, y) == pytest.approx(dense.score(X_dense, y))


@pytest.mark.parametrize("Estimator, y", ESTIMATORS, ids=["classifier", "regressor"])
def test_sparse_validation_data_and_early_stopping(Estimator, y):
    params = {**FAST, "early_stopping": True, "n_iter_no_change": 2}
    dense = Estimator(**params).fit(
        X_dense[:40], y[:40], validation_data=(X_dense[40:], y[40:])
    )
    sparse = Estimator(**params).fit(
        X_csr[:40], y[:40], validation_data=(X_csr[40:], y[40:])
    )
    np.testing.assert_allclose(
        sparse.history_["val_loss"], dense.history_["val_loss"], rtol=RTOL
    )
    # Dense validation data with sparse X, and the early-stopping hold-out.
    mixed = Estimator(**params).fit(
        X_csr[:40], y[:40], validation_data=(X_dense[40:], y[40:])
    )
    np.testing.assert_allclose(
        mixed.history_["val_loss"], dense.history_["val_loss"], rtol=RTOL
    )
    held_dense = Estimator(**params).fit(X_dense, y)
    held_sparse = Estimator(**params).fit(X_csr, y)
    np.testing.assert_allclose(
        held_sparse.validation_scores_, held_dense.validation_scores_, rtol=RTOL
    )


def test_sparse_partial_fit_continues_as_dense():
    dense = NoisyMLPClassifier(**FAST)
    sparse = NoisyMLPClassifier(**FAST)
    for _ in range(3):
        dense.partial_fit(X_dense, y_class, classes=[0, 1])
        sparse.partial_fit(X_csr, y_class, classes=[0, 1])
    np.testing.assert_allclose(
        sparse.predict_proba(X_csr), dense.predict_proba(X_dense), rtol=RTOL,
        atol=ATOL,
    )  # fmt: skip
    assert sparse.n_iter_ == 3


def test_switching_between_sparse_and_dense_x_in_a_continued_fit_is_refused():
    clf = NoisyMLPClassifier(**FAST).partial_fit(X_csr, y_class, classes=[0, 1])
    with pytest.raises(ValueError, match="sparse X changed: True -> False"):
        clf.partial_fit(X_dense, y_class)
    reg = NoisyMLPRegressor(**FAST, warm_start=True).fit(X_dense, y_reg)
    with pytest.raises(ValueError, match="sparse X changed: False -> True"):
        reg.fit(X_csr, y_reg)


@pytest.mark.parametrize("Estimator, y", ESTIMATORS, ids=["classifier", "regressor"])
def test_sparse_x_in_the_keras_loop(Estimator, y):
    keras = import_keras()
    epochs = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: epochs.append(epoch)
    )
    params = {**FAST, "callbacks": [callback]}
    sparse = Estimator(**params).fit(
        X_csr[:40], y[:40], validation_data=(X_csr[40:], y[40:])
    )
    assert epochs == list(range(FAST["epochs"]))
    assert len(sparse.history_["val_loss"]) == FAST["epochs"]
    dense = Estimator(**FAST, training_loop="keras").fit(X_dense, y)
    sparse = Estimator(**FAST, training_loop="keras").fit(X_csr, y)
    np.testing.assert_allclose(
        _outputs(sparse, X_csr), _outputs(dense, X_dense), rtol=RTOL, atol=ATOL
    )


def test_a_pickled_sparse_fit_predicts_and_trains_on():
    clf = NoisyMLPClassifier(**FAST, warm_start=True).fit(X_csr, y_class)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X_csr), clf.predict_proba(X_csr))
    loaded.fit(X_csr, y_class)  # the loaded network takes sparse X still
    clf.fit(X_csr, y_class)
    np.testing.assert_allclose(
        loaded.predict_proba(X_csr), clf.predict_proba(X_csr), rtol=RTOL
    )


@pytest.mark.parametrize(
    "params",
    [
        {"noise_site": "hidden+activation+weights", "dropout": 0.2},
        {"alpha": 0.01, "l1": 0.001, "max_norm": 1.0},
        {"noise_site": "gradients+labels"},
    ],
    ids=["layer-noise-dropout", "penalties-max-norm", "step-noise"],
)
def test_regularizers_act_on_sparse_x_as_on_dense(params):
    dense = NoisyMLPClassifier(**FAST, **params).fit(X_dense, y_class)
    sparse = NoisyMLPClassifier(**FAST, **params).fit(X_csr, y_class)
    np.testing.assert_allclose(
        sparse.predict_proba(X_csr), dense.predict_proba(X_dense), rtol=RTOL,
        atol=ATOL,
    )  # fmt: skip


def test_multiplicative_input_noise_acts_on_the_stored_entries():
    # x * (1 + σε) is 0 wherever x is: the stored entries are all it moves.
    params = {**FAST, "noise_site": "input", "noise_type": "multiplicative"}
    noisy = NoisyMLPClassifier(**params, noise_amount=0.5).fit(X_csr, y_class)
    quiet = NoisyMLPClassifier(**params, noise_amount=0.0).fit(X_csr, y_class)
    assert not np.allclose(noisy.predict_proba(X_csr), quiet.predict_proba(X_csr))


def test_additive_input_noise_on_sparse_x_is_refused():
    clf = NoisyMLPClassifier(**FAST, noise_site="input+hidden")
    with pytest.raises(ValueError, match=r"'noise_site' parameter .* sparse X"):
        clf.fit(X_csr, y_class)
    assert not hasattr(clf, "n_iter_")
    clf.set_params(noise_amount=0.0).fit(X_csr, y_class)  # no noise, no refusal


def test_nan_in_sparse_x_is_reported():
    bad = X_csr.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        NoisyMLPClassifier(**FAST).fit(bad, y_class)
    clf = NoisyMLPClassifier(**FAST).fit(X_csr, y_class)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(bad)


def test_other_sparse_formats_are_converted():
    clf = NoisyMLPClassifier(**FAST).fit(X_csr.tocoo(), y_class)
    np.testing.assert_array_equal(
        clf.predict_proba(X_csr.tolil()), clf.predict_proba(X_csr)
    )


def _with_longest_row(n_entries):
    """X_csr with row 0 storing ``n_entries`` entries."""
    rows = X_csr.tolil()
    rows[0, :] = 0
    rows[0, :n_entries] = 0.5
    return rows.tocsr()


def test_sparse_fits_with_rows_of_nearby_lengths_share_a_compiled_loop():
    from sknoise._compiled import loop_cache

    assert np.diff(X_csr.indptr).max() == 6
    estimator = NoisyMLPClassifier(**FAST).fit(X_csr, y_class)
    traces = loop_cache.traces
    clone(estimator).fit(_with_longest_row(8), y_class)  # both padded to 8
    assert loop_cache.traces == traces
    clone(estimator).fit(_with_longest_row(9), y_class)
    assert loop_cache.traces == traces + 1


# ---------------------------------------------------------------------------
# Sparse y: a multilabel indicator matrix, or a regressor's outputs, as a
# scipy matrix or array. scikit-learn's MLPClassifier takes a sparse
# multilabel y and predicts sparse labels (its MLPRegressor fails on sparse
# y); sknoise trains on the same targets dense, and predicts the same.
# ---------------------------------------------------------------------------
Y_LABELS = np.column_stack([y_class, X_dense[:, 0] > 0, X_dense[:, 1] > 0.5])
Y_LABELS = Y_LABELS.astype(int)
Y_OUTPUTS = np.column_stack([y_reg, X_dense[:, :3].sum(axis=1)])
Y_FORMATS = {
    **FORMATS,
    "coo": sp.coo_matrix,
    "lil": sp.lil_matrix,
}
TARGETS = [(NoisyMLPClassifier, Y_LABELS), (NoisyMLPRegressor, Y_OUTPUTS)]


@pytest.mark.parametrize("Estimator, Y", TARGETS, ids=["multilabel", "multi-output"])
@pytest.mark.parametrize("to_sparse", Y_FORMATS.values(), ids=Y_FORMATS.keys())
@pytest.mark.parametrize("loop", ["compiled", "keras"])
def test_sparse_y_fits_as_the_same_y_dense(Estimator, Y, to_sparse, loop):
    dense = Estimator(**FAST, training_loop=loop).fit(X_dense, Y)
    sparse = Estimator(**FAST, training_loop=loop).fit(X_dense, to_sparse(Y))
    np.testing.assert_allclose(
        _outputs(sparse, X_dense), _outputs(dense, X_dense), rtol=RTOL, atol=ATOL
    )
    np.testing.assert_allclose(
        sparse.history_["loss"], dense.history_["loss"], rtol=RTOL
    )
    predicted = sparse.predict(X_dense)
    if Estimator is NoisyMLPRegressor:
        assert isinstance(predicted, np.ndarray)
        return
    np.testing.assert_array_equal(predicted.toarray(), dense.predict(X_dense))
    assert sparse.score(X_dense, to_sparse(Y)) == dense.score(X_dense, Y)


def test_sparse_multilabel_y_is_taken_and_predicted_as_scikit_learn_does():
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils.multiclass import check_classification_targets, type_of_target

    Y_csr = sp.csr_matrix(Y_LABELS)
    check_classification_targets(Y_csr)
    assert type_of_target(Y_csr) == "multilabel-indicator"
    reference = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.warns(UserWarning):  # scikit-learn's ConvergenceWarning
        reference.fit(X_dense, Y_csr)
    clf = NoisyMLPClassifier(**FAST).fit(X_dense, Y_csr)
    predicted, expected = clf.predict(X_dense), reference.predict(X_dense)
    assert type(predicted) is type(expected)
    assert predicted.shape == expected.shape
    assert isinstance(clf.predict_proba(X_dense), np.ndarray)
    np.testing.assert_array_equal(clf.classes_, reference.classes_)
    # A sparse y of one column is no multilabel target: scikit-learn refuses
    # it as dense data required, and so does sknoise.
    with pytest.raises(TypeError, match="Sparse data was passed for y"):
        reference.fit(X_dense, Y_csr[:, :1])
    with pytest.raises(TypeError, match="Sparse data was passed for y"):
        NoisyMLPClassifier(**FAST).fit(X_dense, Y_csr[:, :1])


@pytest.mark.parametrize("Estimator, Y", TARGETS, ids=["multilabel", "multi-output"])
def test_sparse_y_in_partial_fit_validation_data_and_the_hold_out(Estimator, Y):
    Y_csr = sp.csr_matrix(Y)
    dense, sparse = Estimator(**FAST), Estimator(**FAST)
    for _ in range(2):
        dense.partial_fit(X_dense, Y)
        sparse.partial_fit(X_dense, Y_csr)
    np.testing.assert_allclose(
        _outputs(sparse, X_dense), _outputs(dense, X_dense), rtol=RTOL, atol=ATOL
    )
    params = {**FAST, "early_stopping": True, "n_iter_no_change": 2}
    dense = Estimator(**params).fit(
        X_dense[:40], Y[:40], validation_data=(X_dense[40:], Y[40:])
    )
    sparse = Estimator(**params).fit(
        X_dense[:40], Y_csr[:40], validation_data=(X_dense[40:], Y_csr[40:])
    )
    np.testing.assert_allclose(
        sparse.history_["val_loss"], dense.history_["val_loss"], rtol=RTOL
    )
    held_dense = Estimator(**params).fit(X_dense, Y)
    held_sparse = Estimator(**params).fit(X_dense, Y_csr)
    np.testing.assert_allclose(
        held_sparse.validation_scores_, held_dense.validation_scores_, rtol=RTOL
    )


def test_a_pickled_sparse_y_fit_still_predicts_sparse_labels():
    clf = NoisyMLPClassifier(**FAST).fit(X_dense, sp.csr_matrix(Y_LABELS))
    loaded = pickle.loads(pickle.dumps(clf))
    assert sp.issparse(loaded.predict(X_dense))
    np.testing.assert_array_equal(
        loaded.predict(X_dense).toarray(), clf.predict(X_dense).toarray()
    )

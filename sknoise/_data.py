"""A fit's data: input checks, encoded targets, weights, validation data
and the early-stopping hold-out, as both training loops take them.

The estimator supplies the target hooks (``_target_validation``,
``_check_targets``, ``_weight_samples``) and its fitted target encoder;
the functions here do the rest.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import validate_data

from . import _rows
from ._backend import import_keras
from ._sklearn_compat import check_sample_weight
from ._targets import MultilabelTargetEncoder


class TrainingData(NamedTuple):
    """A fit's training data, as the network takes them: float features
    (an array, or a scipy CSR matrix: each loop converts sparse features to
    its network's inputs), encoded targets, per-sample weights (or None) and
    the encoded validation pair (or None)."""

    x: np.ndarray | sp.sparray | sp.spmatrix
    y: np.ndarray
    sample_weight: np.ndarray | None
    validation: tuple | None

    def entry_width(self):
        """Entries per row of a sparse network's padded pairs, one width for
        the training and the validation features (see
        :func:`sknoise._rows.entry_width`); 0 for dense features."""
        if not sp.issparse(self.x):
            return 0
        features = [self.x] + ([] if self.validation is None else [self.validation[0]])
        return _rows.entry_width(*features)


def check_inputs(estimator, X, y=None, *, reset=False, dtype=None):
    """Check X (and y) the scikit-learn way; set or check feature counts.

    X is converted to ``dtype``, by default Keras' float type, which a fit
    trains in. Sparse X stays sparse, as CSR (other formats, CSC among them,
    are converted once, here): training and predictions read it by rows and
    never densify it.
    """
    if dtype is None:
        dtype = np.dtype(import_keras().backend.floatx())
    checks = {"reset": reset, "dtype": dtype, "accept_sparse": "csr"}
    if y is None:
        return validate_data(estimator, X, **checks), None
    X, y = validate_data(estimator, X, y, **checks, **estimator._target_validation(y))
    estimator._check_targets(y)
    return X, y


def sample_weights(X, sample_weight):
    """Validated per-sample weights, or None."""
    if sample_weight is None:
        return None
    return check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )


def class_weighted(estimator, X, y_encoded, sample_weight):
    """A classifier's per-sample weights with ``class_weight`` folded in."""
    name = type(estimator).__name__
    if estimator.class_weight is None:
        return sample_weight
    if isinstance(estimator.target_encoder_, MultilabelTargetEncoder):
        raise ValueError(
            f"The 'class_weight' parameter of {name} must be None for "
            "multilabel targets, whose labels are not classes of one another."
        )
    classes = estimator.classes_
    indices = y_encoded.reshape(-1).astype(int)
    per_class = compute_class_weight(
        estimator.class_weight, classes=classes, y=classes[indices]
    )
    if not (np.isfinite(per_class).all() and (per_class >= 0).all()):
        raise ValueError(
            f"The 'class_weight' parameter of {name} must give every class a "
            f"finite, non-negative weight. Got {estimator.class_weight!r}."
        )
    weights = per_class[indices].astype(X.dtype)
    return weights if sample_weight is None else weights * sample_weight


def training_data(estimator, X, y, sample_weight, validation_data):
    """The encoded targets, weights and validation data of a fit; the
    validation features in the kind, sparse or dense, of ``X``."""
    y_encoded = estimator.target_encoder_.transform(y)
    sample_weight = estimator._weight_samples(X, y_encoded, sample_weight)
    if sample_weight is not None and not sample_weight.any():
        raise ValueError(
            "Every sample has weight 0 (sample_weight, times class_weight "
            "for a classifier): there is nothing to train on."
        )
    if validation_data is not None:
        validation_data = _encode_validation_data(estimator, validation_data)
        validation_data = (_like(validation_data[0], X), validation_data[1])
    return TrainingData(X, y_encoded, sample_weight, validation_data)


def _encode_validation_data(estimator, validation_data):
    try:
        X_val, y_val = validation_data
    except (TypeError, ValueError):
        raise ValueError(
            "validation_data must be a pair (X_val, y_val); got "
            f"{type(validation_data).__name__}."
        ) from None
    X_val, y_val = check_inputs(estimator, X_val, y_val, reset=False)
    return X_val, estimator.target_encoder_.transform(y_val)


def _like(X_val, X):
    """``X_val`` sparse if ``X`` is, else dense: the network takes one kind.

    Sparse validation data of a dense fit are densified: a fit that holds
    its training data dense can hold its (usually smaller) validation data
    dense too.
    """
    if sp.issparse(X):
        return X_val if sp.issparse(X_val) else sp.csr_matrix(X_val)
    return X_val.toarray() if sp.issparse(X_val) else X_val


def hold_out(data, validation_fraction, *, seed, encoder):
    """Split off ``validation_fraction`` of the data for early stopping,
    stratified by the encoded targets if the target ``encoder`` stratifies."""
    X, y_encoded, sample_weight, _ = data
    arrays = [X, y_encoded] + ([] if sample_weight is None else [sample_weight])
    try:
        parts = train_test_split(
            *arrays,
            test_size=validation_fraction,
            random_state=seed,
            stratify=y_encoded if encoder.stratify_ else None,
        )
    except ValueError as error:  # the data are valid: the split is not
        raise ValueError(
            _unsplittable(error, validation_fraction, y_encoded, encoder)
        ) from error
    X, X_val, y_encoded, y_val = parts[:4]
    sample_weight = parts[4] if sample_weight is not None else None
    return TrainingData(X, y_encoded, sample_weight, (X_val, y_val))


def _unsplittable(error, validation_fraction, y_encoded, encoder):
    """Why early stopping cannot hold out its validation rows, in the
    parameters' and the classes' terms, and what to change."""
    held = (
        f"early_stopping=True holds out validation_fraction={validation_fraction} "
        f"of the {y_encoded.shape[0]} samples"
    )
    instead = (
        "pass validation_data=(X_val, y_val) to score on instead, stop on the "
        "training loss with monitor='loss', or set early_stopping=False."
    )
    if not encoder.stratify_:
        return f"{held} to score each epoch, and that split fails: {error} " + (
            f"Change validation_fraction, or {instead}"
        )
    # scikit-learn names the classes by their encoded indices: say which
    # labels have a single sample, the usual cause.
    counts = np.bincount(y_encoded.reshape(-1).astype(int))
    single = [
        repr(label.item())
        for label, count in zip(encoder.classes_, counts, strict=False)
        if count == 1
    ]
    if single:
        which = "class " if len(single) == 1 else "classes "
        has = " has" if len(single) == 1 else " have"
        reason = which + ", ".join(single) + has + " a single sample"
    else:
        reason = str(error)
    return (
        f"{held}, stratified by class, to score each epoch, and that split "
        f"fails: {reason}. It needs 2 samples of every class, and held-out "
        "samples enough for one of each: add samples of the rarest classes or "
        f"raise validation_fraction; or {instead}"
    )

"""A fit's data as both training loops take them: weights, class weights,
the validation pair in the training data's kind, the early-stopping
hold-out. Plain values in, plain values out: the checks of X and y that
need the estimator (scikit-learn's ``validate_data``) are the estimator's
``_check_data``, and what its targets are, its ``_targets``.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight

from . import _rows
from ._sklearn_compat import check_sample_weight


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


def sample_weights(X, sample_weight):
    """Validated per-sample weights, or None."""
    if sample_weight is None:
        return None
    return check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )


def class_weighted(sample_weight, class_weight, classes, y_encoded, *, dtype,
                   estimator_name):  # fmt: skip
    """Per-sample weights (or None) with ``class_weight`` folded in, for the
    class indices ``y_encoded`` of ``classes``."""
    indices = y_encoded.reshape(-1).astype(int)
    per_class = compute_class_weight(class_weight, classes=classes, y=classes[indices])
    if not (np.isfinite(per_class).all() and (per_class >= 0).all()):
        raise ValueError(
            f"The 'class_weight' parameter of {estimator_name} must give every "
            f"class a finite, non-negative weight. Got {class_weight!r}."
        )
    weights = per_class[indices].astype(dtype)
    return weights if sample_weight is None else weights * sample_weight


def training_data(X, y_encoded, sample_weight, validation):
    """A fit's :class:`TrainingData`; ``validation`` is the checked and
    encoded pair (or None), made the kind, sparse or dense, of ``X``."""
    if sample_weight is not None and not sample_weight.any():
        raise ValueError(
            "Every sample has weight 0 (sample_weight, times class_weight "
            "for a classifier): there is nothing to train on."
        )
    if validation is not None:
        validation = (_like(validation[0], X), validation[1])
    return TrainingData(X, y_encoded, sample_weight, validation)


def validation_pair(validation_data):
    """``validation_data`` as ``(X_val, y_val)``, or raise saying what it
    must be."""
    try:
        X_val, y_val = validation_data
    except (TypeError, ValueError):
        raise ValueError(
            "validation_data must be a pair (X_val, y_val); got "
            f"{type(validation_data).__name__}."
        ) from None
    return X_val, y_val


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

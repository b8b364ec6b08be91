"""Translate scikit-learn targets to what the network trains on, and back.

Each encoder also decides the head of the network: its width, its output
activation and the Keras loss that goes with them. What differs between a
classifier's targets and a regressor's -- how scikit-learn validates them,
which kinds are taken, which encoder a fresh fit uses -- is one object per
estimator, its ``_targets`` (:class:`ClassifierTargets`,
:class:`RegressorTargets`), which the fit and the input checks read.

A 2-D target may be sparse (``validate_data`` passes it as CSR), as
scikit-learn's MLP takes a sparse multilabel ``y``: the encoders densify it,
since the network trains on dense targets and has as many outputs as ``y``
has columns.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._sklearn_compat import sparse_result

#: The key a classifier's metric is logged under in ``history_`` (Keras logs
#: ``metrics=["accuracy"]`` as "accuracy" whatever function it resolves to).
METRIC_KEY = "accuracy"


class ClassifierTargetEncoder(TransformerMixin, BaseEstimator):
    """Map class labels to the indices a sigmoid or softmax head predicts.

    Binary problems get one sigmoid unit and binary cross-entropy (the
    published setup); problems with more classes get a softmax over all
    classes and sparse categorical cross-entropy. Both log accuracy.

    Parameters
    ----------
    classes : array-like or None
        All classes of the problem. None takes the labels present in ``y``.
    """

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, y):
        self.classes_ = np.unique(y if self.classes is None else self.classes)
        if self.classes_.size < 2:
            # scikit-learn's MLPClassifier fits such a target; the docs list
            # this difference in these words (tests/test_validation.py).
            raise ValueError(
                "A classifier needs samples of at least 2 classes, but the data "
                f"contains only one class: {self.classes_[0].item()!r}. "
                "scikit-learn's MLPClassifier fits such a target and predicts "
                "that class everywhere; sknoise refuses it, as the network "
                "would learn nothing. Check that the target and any split of it "
                "keep every class (pass them all through `classes` to "
                "partial_fit), or predict the one class with "
                "sklearn.dummy.DummyClassifier."
            )
        self.n_classes_ = self.classes_.size
        binary = self.n_classes_ == 2
        self.n_outputs_ = 1 if binary else self.n_classes_
        self.output_activation_ = "sigmoid" if binary else "softmax"
        self.loss_ = (
            "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
        )
        # The per-sample function Keras' METRIC_KEY resolves to for this head.
        self.metric_ = "binary_accuracy" if binary else "sparse_categorical_accuracy"
        self.stratify_ = True
        return self

    def transform(self, y):
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(
                "y must be a 1-D array of class labels, as in the first fit; got "
                f"an array of shape {y.shape}."
            )
        try:
            indices = np.searchsorted(self.classes_, y)
        except TypeError:  # labels of another kind, e.g. ints against strings
            indices = np.zeros(y.shape, dtype=int)
            unseen = np.ones(y.shape, dtype=bool)
        else:
            indices = np.clip(indices, 0, self.n_classes_ - 1)
            unseen = self.classes_[indices] != y
        if np.any(unseen):
            unseen_labels = sorted({str(label) for label in y[unseen].tolist()})
            raise ValueError(
                f"y contains labels {unseen_labels} that are not among the classes "
                f"{list(self.classes_)} the estimator was initialised with. Pass "
                "every class through `classes` on the first call to partial_fit."
            )
        if self.n_classes_ == 2:
            return indices.astype("float32").reshape(-1, 1)
        return indices.astype("int32")

    def inverse_transform(self, raw, return_proba=False):
        """Turn network outputs into labels, or into class probabilities."""
        raw = np.asarray(raw, dtype=np.float64)
        if self.n_classes_ == 2:
            positive = raw.reshape(-1)
            proba = np.column_stack([1.0 - positive, positive])
        else:
            # The softmax was computed in float32; renormalise in float64 so
            # that rows sum to one to the precision scikit-learn expects.
            proba = raw / raw.sum(axis=1, keepdims=True)
        if return_proba:
            return proba
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata(self):
        """Fitted attributes to copy onto the estimator."""
        return {"classes_": self.classes_, "n_classes_": self.n_classes_}


class MultilabelTargetEncoder(TransformerMixin, BaseEstimator):
    """Pass a label indicator matrix to one sigmoid unit per label.

    Multilabel problems (several independent yes/no labels per sample, y a
    2-D 0/1 matrix) train with binary cross-entropy on each label, as
    scikit-learn's MLP does; a label is predicted where its probability
    exceeds 0.5.
    """

    #: Fitted on a sparse ``y``; predictions are then sparse, as
    #: scikit-learn's LabelBinarizer gives them. Files saved before sparse
    #: targets were supported do not set it: dense.
    sparse_input_ = False

    def fit(self, y):
        self.sparse_input_ = sp.issparse(y)
        y = _dense(y)
        self.n_outputs_ = y.shape[1]
        self.classes_ = np.arange(self.n_outputs_)
        self.output_activation_ = "sigmoid"
        self.loss_ = "binary_crossentropy"
        self.metric_ = "binary_accuracy"
        # A stratified hold-out would need every combination of labels twice.
        self.stratify_ = False
        return self

    def transform(self, y):
        y = _dense(y)
        if y.ndim != 2 or y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y must be a label indicator matrix with {self.n_outputs_} "
                f"columns, as in the first fit; got an array of shape {y.shape}."
            )
        return y.astype("float32")

    def inverse_transform(self, raw, return_proba=False):
        """Turn network outputs into label indicators, or probabilities."""
        proba = np.asarray(raw, dtype=np.float64)
        if return_proba:
            return proba
        labels = (proba > 0.5).astype(int)
        return sparse_result(sp.csr_array(labels)) if self.sparse_input_ else labels

    def get_metadata(self):
        """Fitted attributes to copy onto the estimator."""
        return {"classes_": self.classes_, "n_outputs_": self.n_outputs_}


class RegressorTargetEncoder(TransformerMixin, BaseEstimator):
    """Reshape regression targets to the 2-D float32 array Keras expects."""

    def fit(self, y):
        y = _dense(y)
        self.y_ndim_ = y.ndim
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.output_activation_ = "linear"
        self.loss_ = "mean_squared_error"
        self.metric_ = None
        self.stratify_ = False
        return self

    def transform(self, y):
        y = _dense(y).astype("float32")
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} output{'s' * (n_outputs != 1)}, but the "
                f"regressor was fitted with {self.n_outputs_} "
                f"output{'s' * (self.n_outputs_ != 1)}."
            )
        return y.reshape(-1, self.n_outputs_)

    def inverse_transform(self, raw):
        """Predictions as float64, 1-D when the model was fitted on 1-D ``y``."""
        raw = np.asarray(raw, dtype=np.float64)
        return raw.reshape(-1) if self.y_ndim_ == 1 else raw

    def get_metadata(self):
        """Fitted attributes to copy onto the estimator."""
        return {"n_outputs_": self.n_outputs_}


def _dense(y):
    """``y`` as an array, a sparse one densified."""
    return y.toarray() if sp.issparse(y) else np.asarray(y)


def is_multilabel(y):
    """Whether ``y`` is a label indicator matrix (dense or sparse)."""
    if sp.issparse(y):
        y = y.tocsr()  # type_of_target cannot index every format (COO)
    try:
        return type_of_target(y) == "multilabel-indicator"
    except ValueError:  # not a target at all: validate_data will say why
        return False


class ClassifierTargets:
    """A classifier's targets: binary, multiclass or multilabel-indicator
    ``y``, as scikit-learn's MLP takes."""

    def validation(self, y):
        """``validate_data``'s options for ``y``."""
        return {"multi_output": is_multilabel(y)}

    def check(self, y, estimator_name):
        """Raise unless ``y`` (validated) is a target this estimator takes."""
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"{estimator_name} supports binary, multiclass and "
                f"multilabel-indicator targets; got a target of type {kind!r}."
            )

    def encoder(self, classes, y):
        """The target encoder of a fresh fit on ``y`` (not fitted), with every
        class of the problem in ``classes`` (None: those of ``y``)."""
        if is_multilabel(y):
            return MultilabelTargetEncoder()
        return ClassifierTargetEncoder(classes=classes)


class RegressorTargets:
    """A regressor's targets: one or several numeric outputs."""

    def validation(self, y):
        """``validate_data``'s options for ``y``."""
        return {"multi_output": True, "y_numeric": True}

    def check(self, y, estimator_name):
        """Every numeric target is one (``validate_data`` checked that)."""

    def encoder(self, classes, y):
        """The target encoder of a fresh fit (not fitted)."""
        return RegressorTargetEncoder()

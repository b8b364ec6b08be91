"""The fitted attributes a successful fit records.

Beside sknoise's ``history_``, the estimators carry scikit-learn's MLP
attributes with their scikit-learn meanings, and the NumPy inference network
that predictions use (:mod:`._inference`).
"""

import numpy as np
from sklearn.base import is_classifier

from ._inference import InferenceNetwork

#: Fitted state beside the public attributes ending in "_": the NumPy
#: inference network, the kept structure, the seeds, and the saved network
#: of a loaded estimator that nothing has read yet.
PRIVATE_FITTED_STATE = frozenset({"_forward", "_kept", "_seeds", "_model_archive"})


def is_fitted_state(name):
    """Whether the attribute ``name`` is set by fitting (and so is deleted
    when a fresh fit fails)."""
    return name.endswith("_") or name in PRIVATE_FITTED_STATE


#: scikit-learn's names of the output activations (``out_activation_``).
SKLEARN_ACTIVATION = {
    "sigmoid": "logistic",
    "softmax": "softmax",
    "linear": "identity",
}


def record_fit(estimator, config, history, data):
    """Record a successful call's epochs on ``estimator``: the history,
    scikit-learn's MLP attributes and the inference network."""
    history_ = {
        key: estimator.history_.get(key, []) + values for key, values in history.items()
    }
    estimator.history_ = history_
    estimator.n_iter_ += len(history["loss"])
    estimator.t_ += len(history["loss"]) * data.x.shape[0]
    estimator.loss_curve_ = list(history_["loss"])
    output = estimator.target_encoder_.output_activation_
    estimator.out_activation_ = SKLEARN_ACTIVATION[output]
    if config.early_stopping is None:
        estimator.best_loss_ = min(estimator.loss_curve_)
        estimator.validation_scores_ = estimator.best_validation_score_ = None
    else:
        # scikit-learn's MLP: the held-out score, no best training loss.
        estimator.best_loss_ = None
        scores = (estimator.validation_scores_ or []) + _validation_scores(
            estimator, history, data
        )
        estimator.validation_scores_ = scores
        estimator.best_validation_score_ = max(scores, default=None)
    estimator._forward = InferenceNetwork.from_model(estimator.model_)


def _validation_scores(estimator, history, data):
    """Per-epoch validation scores with scikit-learn's meaning: accuracy for
    classifiers, R² for regressors (variance-weighted over several outputs,
    the R² the mean squared error determines)."""
    if data.validation is None:
        return []
    if is_classifier(estimator):
        return list(history["val_accuracy"])
    variance = float(np.var(data.validation[1], axis=0).mean())
    return [1.0 - loss / variance for loss in history["val_loss"]]

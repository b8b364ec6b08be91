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


def fitted_attributes(estimator, config, history, data):
    """The attributes a successful call's epochs give ``estimator``: the
    history so far, scikit-learn's MLP attributes and the inference network
    (as a dict of name to value; :mod:`._fit` sets them)."""
    history_ = {
        key: estimator.history_.get(key, []) + values for key, values in history.items()
    }
    n_epochs = len(history["loss"])
    loss_curve = list(history_["loss"])
    output = estimator.target_encoder_.output_activation_
    attributes = {
        "history_": history_,
        "n_iter_": estimator.n_iter_ + n_epochs,
        "t_": estimator.t_ + n_epochs * data.x.shape[0],
        "loss_curve_": loss_curve,
        "out_activation_": SKLEARN_ACTIVATION[output],
        "_forward": InferenceNetwork.from_model(estimator.model_),
    }
    if config.early_stopping is None:
        scores = None
        attributes["best_loss_"] = min(loss_curve)
    else:
        # scikit-learn's MLP: the held-out score, no best training loss.
        scores = (estimator.validation_scores_ or []) + _validation_scores(
            estimator, history, data
        )
        attributes["best_loss_"] = None
    attributes["validation_scores_"] = scores
    attributes["best_validation_score_"] = (
        None if scores is None else max(scores, default=None)
    )
    return attributes


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

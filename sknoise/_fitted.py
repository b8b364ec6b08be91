"""The fitted state: which objects a fit records, and how saved files hold
them -- the one owner of both.

A fitted estimator's state is its public attributes ending in "_", as
scikit-learn's, and the private objects of :data:`PRIVATE_FITTED_STATE`:

* a fit records them when it succeeds: :func:`fresh_state` as a fit starts
  afresh and :func:`fitted_attributes` as its epochs end (:mod:`._fit` sets
  both, and ``model_``, the network it builds);
* a failed fresh fit deletes every one of them (:func:`is_fitted_state`); a
  failed continued fit restores its network's and optimizer's variables and
  leaves the rest as it was (:func:`sknoise._fit.fit_or_roll_back`);
* a saved file holds them as :func:`saved_state` gives them, and loading
  restores them with :func:`loaded_state` (``__getstate__`` and
  ``__setstate__``): the training network ``model_`` as the bytes of a
  ``.keras`` archive, which :func:`read_network` loads back only when
  something reads ``model_`` (until then it waits in ``_model_archive``, and
  predictions need only ``_forward``); and the objects of
  :data:`SAVED_AS_PLAIN` as dicts, tuples, strings and arrays, which skops
  trusts without being asked, so that a user trusts the estimator's type
  alone and loading builds no type the file names beyond it. Files of
  earlier versions hold those objects themselves; they load as they are.

Beside sknoise's ``history_``, the estimators carry scikit-learn's MLP
attributes with their scikit-learn meanings.
"""

import dataclasses
import threading
from typing import NamedTuple

import numpy as np
from sklearn.base import is_classifier

from ._config import KeptState, NetworkStructure
from ._inference import InferenceNetwork
from ._seeds import Seeds
from ._targets import (
    ClassifierTargetEncoder,
    MultilabelTargetEncoder,
    RegressorTargetEncoder,
)

#: The private fitted objects, and what each is.
PRIVATE_FITTED_STATE = {
    "_forward": "the NumPy inference network (InferenceNetwork), which predictions use",
    "_kept": "what a continued fit must find unchanged (KeptState)",
    "_seeds": "the network's seeds (Seeds)",
    "_model_archive": "a loaded estimator's training network, as the bytes of "
    "a .keras archive, until model_ is read",
}


def is_fitted_state(name):
    """Whether the attribute ``name`` is fitted state (and so is deleted when
    a fresh fit fails)."""
    return name.endswith("_") or name in PRIVATE_FITTED_STATE


def fresh_state(config, kept, encoder, random_state):
    """The state a fit that starts afresh records before its epochs (the
    network, ``model_``, is built once the rows to train on are known)."""
    return {
        "_seeds": Seeds.from_random_state(random_state),
        "noise_sites_": config.noise_sites,
        "target_encoder_": encoder,
        **encoder.get_metadata(),
        "_kept": kept,
        "n_iter_": 0,
        "t_": 0,
        "history_": {},
        "validation_scores_": None,
    }


class Plain(NamedTuple):
    """How a saved file holds one fitted object: as plain data, rebuilt on
    loading."""

    to_plain: object
    from_plain: object


def _structure_to_plain(kept):
    structure = {
        field.name: getattr(kept.structure, field.name)
        for field in dataclasses.fields(NetworkStructure)
    }
    return {"structure": structure, "optimizer": kept.optimizer}


#: The target encoders by the name a saved state gives them: loading
#: builds one of these, whatever the file says.
TARGET_ENCODERS = {
    encoder.__name__: encoder
    for encoder in (
        ClassifierTargetEncoder,
        MultilabelTargetEncoder,
        RegressorTargetEncoder,
    )
}


def _encoder_to_plain(encoder):
    return {"type": type(encoder).__name__, "attributes": dict(encoder.__getstate__())}


def _encoder_from_plain(plain):
    encoder_type = TARGET_ENCODERS[plain["type"]]
    encoder = encoder_type.__new__(encoder_type)
    encoder.__setstate__(plain["attributes"])
    return encoder


#: The fitted objects a saved file holds as plain data, and how.
SAVED_AS_PLAIN = {
    "_forward": Plain(
        lambda forward: {"layers": list(forward.layers)},
        lambda plain: InferenceNetwork([tuple(layer) for layer in plain["layers"]]),
    ),
    "_kept": Plain(
        _structure_to_plain,
        lambda plain: KeptState(
            NetworkStructure(**plain["structure"]), plain["optimizer"]
        ),
    ),
    "_seeds": Plain(lambda seeds: seeds._asdict(), lambda plain: Seeds(**plain)),
    "target_encoder_": Plain(_encoder_to_plain, _encoder_from_plain),
}


def saved_state(state):
    """What a saved file holds of an estimator's ``state`` (its attributes;
    not changed): the network as the bytes of a ``.keras`` archive, and the
    objects of :data:`SAVED_AS_PLAIN` as plain data."""
    saved = dict(state)
    archive = saved.pop("_model_archive", None)
    if "model_" in saved:
        from ._network import model_to_bytes

        saved["model_"] = model_to_bytes(saved["model_"])
    elif archive is not None:
        saved["model_"] = archive
    for name, plain in SAVED_AS_PLAIN.items():
        if name in saved:
            saved[name] = plain.to_plain(saved[name])
    return saved


def loaded_state(saved):
    """The attributes to set on an estimator loaded from ``saved``, written
    by :func:`saved_state` or by an earlier version: the network's archive
    waits in ``_model_archive`` (see :func:`read_network`)."""
    state = dict(saved)
    for name, plain in SAVED_AS_PLAIN.items():
        # Earlier versions saved the objects themselves.
        if isinstance(state.get(name), dict):
            state[name] = plain.from_plain(state[name])
    if "model_" in state:
        state["_model_archive"] = state.pop("model_")
    return state


# Loading a saved network into ``model_`` happens once per estimator, even
# when threads read it at once.
_NETWORK_LOADING = threading.Lock()


def read_network(state):
    """``model_`` of the estimator whose attributes are ``state``, loaded
    from its archive if it is one still (in place); None if it has none."""
    with _NETWORK_LOADING:
        if "_model_archive" in state:
            from ._network import model_from_bytes

            state["model_"] = model_from_bytes(state["_model_archive"])
            del state["_model_archive"]
        return state.get("model_")


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

"""One call of ``fit`` or ``partial_fit``, from its configuration to the
recorded attributes: check the data, build or check the network, run the
epochs in the loop the configuration chose, check that they converged,
record them -- and undo all of it if any step raises.
"""

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from . import _data
from ._backend import check_training_backend, quiet_tensorflow, variable_to_numpy
from ._config import KeptState, check_continuation, divergence_hints
from ._fitted import fitted_attributes, fresh_state, is_fitted_state


def fit_or_roll_back(estimator, config, X, y, sample_weight, validation_data, *,
                     incremental, classes=None):  # fmt: skip
    """Train ``estimator``; if that raises, undo what the call did, then
    re-raise. Returns the estimator.

    A fresh fit replaces the network before training it, so after a failure
    or an interrupt the estimator must not answer ``predict`` with a network
    that was built, or half-trained, by the failed call: it is left
    unfitted. A failed continuation (``partial_fit``, ``warm_start``) is
    rolled back to the network and optimizer state it started from.
    """
    # Keras is loaded here, after validation; a backend sknoise cannot
    # train on is refused before anything is built.
    check_training_backend()
    from ._network import check_optimizer

    # Before anything changes: a bad routed optimizer setting leaves a
    # fitted estimator as it was, and is reported by name rather than deep
    # inside a traced training step.
    check_optimizer(config.optimizer, type(estimator).__name__)
    continuing = (
        incremental or estimator.warm_start
    ) and estimator.__sklearn_is_fitted__()
    if continuing:
        model = estimator.model_
        saved = [
            variable_to_numpy(v) for v in model.variables + model.optimizer.variables
        ]
    try:
        _train(estimator, config, X, y, sample_weight, validation_data,
               continuing=continuing, classes=classes)  # fmt: skip
    except BaseException:  # KeyboardInterrupt too: never keep half a fit
        if continuing:
            variables = model.variables + model.optimizer.variables
            for variable, value in zip(variables, saved, strict=True):
                variable.assign(value)
        else:
            for attr in [a for a in vars(estimator) if is_fitted_state(a)]:
                delattr(estimator, attr)
        raise
    return estimator


def _train(estimator, config, X, y, sample_weight, validation_data, *,
           continuing, classes):  # fmt: skip
    """Validate the data, build or check the network, and run the epochs."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the "
            "target y is None."
        )
    X, y = estimator._check_data(X, y, reset=not continuing)
    if continuing:
        encoder = estimator.target_encoder_
    else:
        encoder = estimator._targets.encoder(classes, y).fit(y)
    kept = KeptState(
        config.structure(X.shape[1], encoder, sparse_input=sp.issparse(X)),
        config.optimizer.kept_settings(),
    )
    if continuing:
        check_continuation(estimator._kept, kept)
    else:
        _start_fresh(estimator, config, kept, encoder)
    data = _training_data(estimator, config, encoder, X, y, sample_weight,
                          validation_data)  # fmt: skip
    if config.holds_out:
        data = _data.hold_out(
            data,
            config.validation_fraction,
            seed=estimator._seeds.layers,
            encoder=encoder,
        )
    plan = _plan(estimator, config, kept.structure, data, fresh=not continuing)
    with quiet_tensorflow():
        if config.training_loop == "compiled":
            from . import _compiled as trainer
        else:
            from . import _keras_loop as trainer  # imports scikeras: only here
        history = trainer.train(plan)
    _check_converged(estimator, config, history, data)
    vars(estimator).update(fitted_attributes(estimator, config, history, data))


def _training_data(estimator, config, encoder, X, y, sample_weight,
                   validation_data):  # fmt: skip
    """The fit's :class:`~sknoise._data.TrainingData`: its encoded targets,
    weights (class weights folded in) and the checked, encoded validation
    pair."""
    y_encoded = encoder.transform(y)
    weights = _data.sample_weights(X, sample_weight)
    if config.class_weight is not None:
        config.check_class_weight(encoder)
        weights = _data.class_weighted(
            weights,
            config.class_weight,
            encoder.classes_,
            y_encoded,
            dtype=X.dtype,
            estimator_name=config.estimator_name,
        )
    validation = None
    if validation_data is not None:
        X_val, y_val = estimator._check_data(*_data.validation_pair(validation_data))
        validation = (X_val, encoder.transform(y_val))
    return _data.training_data(X, y_encoded, weights, validation)


class TrainingPlan(NamedTuple):
    """One call's training, worked out once: what either loop's
    ``train(plan)`` takes (``_compiled.train``, ``_keras_loop.train``).

    Attributes
    ----------
    model : keras.Model
        The compiled network, holding this call's settings; trained in place.
    config : FitConfig
        The fit's epochs, batch size, step noise, early stopping, verbosity.
    structure : NetworkStructure
        The network's structure.
    strengths : Strengths
        The setting variables' values, for the rows trained on.
    encoder : ClassifierTargetEncoder or RegressorTargetEncoder
        The fitted target encoder: it names the loss and the metric.
    data : TrainingData
        The rows trained on (after any hold-out) and the validation pair.
    first_epoch : int
        Epochs the network was already trained: a continued fit's shuffles
        do not repeat earlier ones.
    seeds : Seeds
        The fit's seeds.
    """

    model: object
    config: object
    structure: object
    strengths: object
    encoder: object
    data: object
    first_epoch: int
    seeds: object


def _start_fresh(estimator, config, kept, encoder):
    """Set up a fresh fit: seeds, target encoding, counters (the network is
    built by :func:`_plan`, once the rows to train on are known)."""
    # A network loaded with the estimator, not yet read, is replaced: free
    # its archive now rather than at the next save.
    vars(estimator).pop("_model_archive", None)
    vars(estimator).update(fresh_state(config, kept, encoder, estimator.random_state))


def _plan(estimator, config, structure, data, *, fresh):
    """This call's :class:`TrainingPlan`: a fresh fit builds its network;
    every call sets the amounts, penalties (scaled by the rows trained on)
    and learning rate it trains with."""
    from ._network import build_network, make_optimizer, set_strengths

    strengths = config.strengths(n_samples=data.x.shape[0])
    if fresh:
        estimator.model_ = build_network(
            structure,
            strengths,
            encoder=estimator.target_encoder_,
            optimizer=make_optimizer(config.optimizer),
            seed=estimator._seeds.layers,
        )
    set_strengths(estimator.model_, strengths, config.optimizer)
    return TrainingPlan(
        model=estimator.model_,
        config=config,
        structure=structure,
        strengths=strengths,
        encoder=estimator.target_encoder_,
        data=data,
        first_epoch=estimator.n_iter_,
        seeds=estimator._seeds,
    )


def _check_converged(estimator, config, history, data):
    """Raise if training diverged, rather than keep a network of NaNs."""
    losses = np.asarray(history["loss"], dtype=float)
    weights = [variable_to_numpy(v) for v in estimator.model_.weights]
    if np.isfinite(losses).all() and all(np.isfinite(w).all() for w in weights):
        return
    bad = np.flatnonzero(~np.isfinite(losses))
    when = f" (first at epoch {bad[0] + 1})" if bad.size else ""
    hints = divergence_hints(
        config,
        largest_feature=float(abs(data.x).max()),  # sparse X too
        largest_weight=(
            0.0 if data.sample_weight is None else float(data.sample_weight.max())
        ),
    )
    raise ValueError(
        f"Training diverged: the loss or the weights of {type(estimator).__name__} "
        f"became NaN or infinite{when}. Likely causes: {hints}."
    )

"""A fit's epochs in the compiled loop, one compiled call at a time."""

import numpy as np

from .. import _early_stopping
from .._backend import import_keras
from .._network import build_network, make_optimizer
from .._progress import Progress
from .._rows import pad_inputs, pad_rows
from .._seeds import as_word
from .cache import loop_cache, signature_of
from .program import (
    EPOCHS_PER_CALL,
    LoopData,
    LoopState,
    Params,
    Schedule,
    TracedStepNoise,
    keras_own,
)

ops = import_keras().ops


def train(plan):
    """Train ``plan.model`` in place with the compiled loop.

    Parameters
    ----------
    plan : sknoise._fit.TrainingPlan
        The call's network (built, compiled, holding its settings), data,
        configuration and seeds. ``plan.first_epoch`` keys each epoch's
        shuffle, so that a continued fit does not repeat earlier orders;
        ``plan.seeds`` seeds the shuffles and the training-step noise.

    Returns
    -------
    history : dict of str to list of float
        Per-epoch logs of the epochs run.
    """
    model, config, data, seeds = plan.model, plan.config, plan.data, plan.seeds
    signature = signature_of(plan)

    def build():
        # The loop's private network: its structure and optimizer
        # configuration matter, its values do not (it is given the trained
        # network's at each call).
        optimizer = make_optimizer(config.optimizer)
        return build_network(
            plan.structure,
            plan.strengths,
            encoder=plan.encoder,
            optimizer=optimizer,
            seed=0,
        )

    loop = loop_cache.get(signature, build, cacheable=keras_own(model.optimizer))
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    loop_data = _loop_data(data, signature)
    noise = TracedStepNoise(
        # Values, not part of the signature: any amount reuses the loop.
        labels=np.float32(config.step_noise.labels),
        gradients=np.float32(config.step_noise.gradients),
        seed=as_word(seeds.noise),
    )
    state = _initial_state(model, plan.first_epoch)
    stopping = config.early_stopping
    schedule = Schedule(
        n_epochs=None,
        shuffle_seed=as_word(seeds.shuffle),
        patience=np.int32(1 if stopping is None else stopping.patience),
        tol=np.float32(0.0 if stopping is None else stopping.tol),
    )
    keys = signature.history_keys
    state, rows = _run_calls(loop, state, loop_data, noise, schedule, config, keys)
    _write_back(model, state, restore_best=stopping is not None)
    return {key: [row[i] for row in rows] for i, key in enumerate(keys)}


def _run_calls(loop, state, loop_data, noise, schedule, config, keys):
    """Call the compiled loop until ``config.epochs`` epochs have run or
    early stopping stops, showing progress between calls. Returns the last
    state and the logs of every epoch run (rows in the order of ``keys``)."""
    progress = Progress(
        config.verbose, config.epochs, keys, longest_call=EPOCHS_PER_CALL
    )
    rows = []
    try:
        while len(rows) < config.epochs and not bool(state.stopping.stopped):
            n_epochs = progress.next_call(config.epochs - len(rows))
            schedule = schedule._replace(n_epochs=np.int32(n_epochs))
            n_run, state, history = loop.run(state, loop_data, noise, schedule)
            chunk = np.asarray(ops.convert_to_numpy(history))[: int(n_run)]
            progress.show(chunk)
            rows.extend(chunk.tolist())
    finally:
        progress.close()
    return state, rows


def _loop_data(data, signature):
    """The data padded to the signature's rows (padding weighs nothing);
    sparse features as the network's padded pairs."""
    n_samples = data.x.shape[0]
    dtype = data.x.dtype
    weight = (
        np.ones(n_samples, dtype=dtype)
        if data.sample_weight is None
        else np.asarray(data.sample_weight, dtype=dtype)
    )
    n_padded = signature.n_padded
    loop_data = LoopData(
        x=pad_inputs(data.x, n_padded, signature.entry_width),
        y=pad_rows(data.y, n_padded),
        weight=pad_rows(weight, n_padded),
        n_samples=np.int32(n_samples),
    )
    if data.validation is None:
        return loop_data
    x_val, y_val = data.validation
    n_validation = signature.n_validation
    return loop_data._replace(
        x_val=pad_inputs(x_val, n_validation, signature.entry_width),
        y_val=pad_rows(y_val, n_validation),
        n_validation=np.int32(x_val.shape[0]),
    )


def _initial_state(model, first_epoch):
    """The loop's state before the first epoch of this call."""

    # Tensors, not variables: on TensorFlow a variable argument would be
    # traced apart from the tensors the loop returns.
    def values(variables):
        return [ops.convert_to_tensor(v) for v in variables]

    params = Params(
        values(model.trainable_variables),
        values(model.non_trainable_variables),
        values(model.optimizer.variables),
    )
    return LoopState(
        params, np.int32(first_epoch), _early_stopping.init(params.trainable)
    )


def _write_back(model, state, *, restore_best):
    """Give the model the trained values (the best epoch's, with early
    stopping) and its optimizer the new state."""
    params = state.params
    trainable = state.stopping.best if restore_best else params.trainable
    groups = [
        (model.trainable_variables, trainable),
        (model.non_trainable_variables, params.non_trainable),
        (model.optimizer.variables, params.optimizer),
    ]
    for variables, values in groups:
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)

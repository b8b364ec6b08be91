"""The compiled training loop: many epochs in one call to the backend.

Keras' ``fit`` pays tens of milliseconds of Python and dispatch overhead per
epoch; the published experiments (5000 epochs on 30 points) are made of
almost nothing else. This module runs up to ``EPOCHS_PER_CALL`` whole epochs
inside one compiled program instead -- ``jax.jit`` on JAX, ``tf.function``
with XLA on TensorFlow -- with the semantics of Keras ``fit`` for sknoise's
networks:

* mini-batches of ``batch_size`` rows, reshuffled every epoch (the last batch
  may be short; its loss is the mean over its own rows, as in Keras);
* the model's optimizer with its state; layers, losses, metrics and the
  optimizer's update are Keras' own (``model.stateless_call`` and
  ``optimizer.stateless_apply`` on JAX; on TensorFlow, whose optimizers have
  no stateless form, the loop updates the variables of a private copy of the
  network in place);
* fresh noise at every step (the noise layers' seed generators advance),
  and the training-step noise sites: noisy targets ("labels") and annealed
  gradient noise ("gradients"), keyed by the optimizer's step count;
* the losses layers add (weight penalties);
* per-epoch ``loss`` and metric (training-mode forward passes, as Keras logs
  them) and ``val_*`` entries when validation data are given;
* optional early stopping: stop once the monitored quantity has not improved
  by ``tol`` for ``patience`` epochs, then restore the best weights.

The compiled function is pure: it takes the variables' values and returns
new ones (:mod:`._compiled_loop`). It is built once per *training
signature* -- the network structure, the optimizer's static configuration, the
loss, the batch and data shapes -- and kept in :data:`loop_cache`, so fits
that differ only in data values, ``noise_amount``, ``learning_rate``,
penalty strengths or dropout rate (all held in variables or passed as
values) reuse it without tracing again; ``loop_cache.traces`` counts the
traces, for tests.
"""

import collections
import threading
from dataclasses import dataclass

import numpy as np

from . import _early_stopping
from ._backend import import_keras
from ._compiled_loop import (
    EPOCHS_PER_CALL,
    CompiledLoop,
    LoopData,
    LoopState,
    Params,
    Schedule,
    StepNoiseValues,
)
from ._network import build_network
from ._rows import ROW_BUCKET, pad_rows, padded_rows, round_up
from ._targets import METRIC_KEY

keras = import_keras()
ops = keras.ops


class LoopCache:
    """The compiled loops alive, by training signature, and a trace count.

    At most ``size`` loops are kept; the least recently used is dropped.
    Thread-safe: concurrent fits of one signature share one loop.
    """

    def __init__(self, size=16):
        self.size = size
        self.traces = 0
        self._loops = collections.OrderedDict()
        self._lock = threading.Lock()

    def _count_trace(self):
        self.traces += 1

    def get(self, signature, build):
        """The loop for ``signature``; if new, made with a network from
        ``build`` (see :class:`CompiledLoop`)."""
        with self._lock:
            loop = self._loops.pop(signature, None)
            if loop is None:
                loop = CompiledLoop(signature, build, on_trace=self._count_trace)
            self._loops[signature] = loop
            while len(self._loops) > self.size:
                self._loops.popitem(last=False)
        return loop


#: The process's compiled loops.
loop_cache = LoopCache()


@dataclass(frozen=True)
class TrainingSignature:
    """Everything static about a fit: one compiled loop per distinct value.

    Attributes
    ----------
    structure : NetworkStructure
        The network's structure (not its values).
    optimizer : str
        The optimizer's class and configuration, learning rate excepted.
    loss, metric : str or None
        Keras names of the per-sample loss and metric functions.
    n_rows, n_features : int
        Shape of the training data as padded (see :func:`padded_rows`).
    y_shape : tuple of int
        Shape of the padded encoded targets.
    batch_size : int
        Rows per step, at most ``n_rows``.
    n_validation : int
        Rows of padded validation data; 0 when there are none.
    monitor : str or None
        History key watched by early stopping; None disables it.
    backend : str
        The Keras backend.
    label_noise, gradient_noise : bool
        Whether the step perturbs the targets, or the gradients.
    noise_type : str
        How target noise is applied to regression targets.
    """

    structure: object
    optimizer: str
    loss: str
    metric: str | None
    n_rows: int
    n_features: int
    y_shape: tuple
    batch_size: int
    n_validation: int
    monitor: str | None
    backend: str
    label_noise: bool = False
    gradient_noise: bool = False
    noise_type: str = "gaussian"

    @property
    def history_keys(self):
        keys = ["loss"] + ([METRIC_KEY] if self.metric else [])
        return keys + ["val_" + key for key in keys] * bool(self.n_validation)


def optimizer_signature(optimizer):
    """The optimizer's static configuration, as a hashable string.

    The learning rate is left out when it is a float: Keras keeps it in a
    variable, so its value does not reach the traced computation.
    """
    config = optimizer.get_config()
    config.pop("name", None)
    if isinstance(config.get("learning_rate"), float):
        config.pop("learning_rate")
    return f"{type(optimizer).__module__}.{type(optimizer).__qualname__}{config!r}"


def train(model, config, structure, encoder, data, *, first_epoch, seeds):
    """Train a compiled Keras ``model`` in place with the compiled loop.

    Parameters
    ----------
    model : keras.Model
        A built model compiled with its optimizer; its variables, and its
        optimizer's, are updated in place.
    config : FitConfig
        The fit's epochs, batch size, step noise, early stopping, verbosity.
    structure : NetworkStructure
        The model's structure: part of the compiled loop's cache key.
    encoder : ClassifierTargetEncoder or RegressorTargetEncoder
        Names the per-sample loss and metric.
    data : TrainingData
        Training data and optional validation data, scored after every
        epoch with noise off.
    first_epoch : int
        Number of epochs the model was already trained; it keys the epoch's
        shuffle, so that a continued fit does not repeat earlier orders.
    seeds : Seeds
        Seeds of the per-epoch shuffles and of the training-step noise.

    Returns
    -------
    history : dict of str to list of float
        Per-epoch logs of the epochs run.
    """
    signature = _signature(model, config, structure, encoder, data)

    def build():
        optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
        return build_network(
            structure,
            config.strengths(len(data.y)),
            encoder=encoder,
            optimizer=optimizer,
            seed=0,
        )

    loop = loop_cache.get(signature, build)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    loop_data = _loop_data(data, signature)
    noise = StepNoiseValues(
        # Values, not part of the signature: any amount reuses the loop.
        labels=np.float32(config.step_noise.labels),
        gradients=np.float32(config.step_noise.gradients),
        seed=np.uint32(seeds.noise % 2**32),
    )
    state = _initial_state(model, first_epoch)
    stopping = config.early_stopping
    schedule = Schedule(
        n_epochs=None,
        shuffle_seed=np.uint32(seeds.shuffle % 2**32),
        patience=np.int32(1 if stopping is None else stopping.patience),
        tol=np.float32(0.0 if stopping is None else stopping.tol),
    )
    keys = signature.history_keys
    rows = []
    while len(rows) < config.epochs and not bool(state.stopping.stopped):
        n_epochs = min(EPOCHS_PER_CALL, config.epochs - len(rows))
        schedule = schedule._replace(n_epochs=np.int32(n_epochs))
        n_run, state, history = loop.run(state, loop_data, noise, schedule)
        chunk = np.asarray(ops.convert_to_numpy(history))[: int(n_run)]
        _report(chunk, keys, len(rows), config.epochs, config.verbose)
        rows.extend(chunk.tolist())
    _write_back(model, state, restore_best=stopping is not None)
    return {key: [row[i] for row in rows] for i, key in enumerate(keys)}


def _signature(model, config, structure, encoder, data):
    """The fit's training signature: the compiled loop's cache key."""
    n_samples = data.x.shape[0]
    n_rows = padded_rows(n_samples, config.batch_size)
    n_validation = 0 if data.validation is None else len(data.validation[0])
    stopping = config.early_stopping
    return TrainingSignature(
        structure=structure,
        optimizer=optimizer_signature(model.optimizer),
        loss=encoder.loss_,
        metric=encoder.metric_,
        n_rows=n_rows,
        n_features=data.x.shape[1],
        y_shape=(n_rows, *data.y.shape[1:]),
        # The effective batch: 64 and 128 on 60 rows are the same program.
        batch_size=min(config.batch_size, n_rows),
        n_validation=round_up(n_validation, ROW_BUCKET),
        monitor=None if stopping is None else stopping.monitor,
        backend=keras.backend.backend(),
        label_noise=config.step_noise.labels > 0,
        gradient_noise=config.step_noise.gradients > 0,
        noise_type=config.step_noise.noise_type,
    )


def _loop_data(data, signature):
    """The data padded to the signature's rows (padding weighs nothing)."""
    n_samples = data.x.shape[0]
    dtype = data.x.dtype
    weight = (
        np.ones(n_samples, dtype=dtype)
        if data.sample_weight is None
        else np.asarray(data.sample_weight, dtype=dtype)
    )
    n_rows = signature.n_rows
    loop_data = LoopData(
        x=pad_rows(data.x, n_rows),
        y=pad_rows(data.y, n_rows),
        weight=pad_rows(weight, n_rows),
        n_samples=np.int32(n_samples),
    )
    if data.validation is None:
        return loop_data
    x_val, y_val = (pad_rows(part, signature.n_validation) for part in data.validation)
    return loop_data._replace(
        x_val=x_val, y_val=y_val, n_validation=np.int32(len(data.validation[0]))
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


def _report(chunk, keys, done, epochs, verbose):
    """Print progress for the epochs of one compiled call."""
    if not verbose or not len(chunk):
        return
    shown = range(len(chunk)) if verbose >= 2 else [len(chunk) - 1]
    for i in shown:
        logs = " - ".join(
            f"{key}: {value:.4f}" for key, value in zip(keys, chunk[i], strict=True)
        )
        print(f"Epoch {done + i + 1}/{epochs} - {logs}")

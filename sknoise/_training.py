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
new ones. It is built once per *training signature* -- the architecture, the
optimizer's static configuration, the loss, the batch and data shapes -- and
cached, so fits that differ only in data values, ``noise_amount``,
``learning_rate``, penalty strengths or dropout rate (all held in variables
or passed as values) reuse it without tracing again.
``trace_count()`` reports how often a loop was traced, for tests.
"""

import collections
import threading
from dataclasses import dataclass

import numpy as np

from ._backend import import_keras
from ._noise import annealed_gradient_noise, noisy_target_loss, step_seed
from ._random import uniform

keras = import_keras()
ops = keras.ops

#: Epochs run by one call of the compiled function; longer fits make
#: several calls. It sizes the per-call history buffer, and is not part of
#: the traced signature of a fit, so ``epochs`` can vary freely.
EPOCHS_PER_CALL = 1000
#: Data without whole batches to pad to are padded to a multiple of this.
ROW_BUCKET = 8
# Compiled loops kept alive at once (least recently used ones are dropped).
_CACHE_SIZE = 16

_cache = collections.OrderedDict()
_cache_lock = threading.Lock()
_traces = 0


def trace_count():
    """Number of times a compiled training loop has been traced so far."""
    return _traces


@dataclass(frozen=True)
class TrainingSignature:
    """Everything static about a fit: one compiled loop per distinct value.

    Attributes
    ----------
    architecture : tuple
        Hashable description of the network's structure (not its values).
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

    architecture: tuple
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
        keys = ["loss"] + ([self.metric_key] if self.metric else [])
        return keys + ["val_" + key for key in keys] * bool(self.n_validation)

    @property
    def metric_key(self):
        # Keras logs ``metrics=["accuracy"]`` as "accuracy" whatever function
        # it resolves to.
        return "accuracy"


def padded_rows(n_samples, batch_size):
    """Rows the compiled loop trains on, padded with rows of weight 0.

    The loop is compiled for a number of rows, not of samples, so that data
    sets of nearby sizes -- the folds of a cross-validation -- share one
    compiled loop: whole batches when there are several, else a multiple of
    ``ROW_BUCKET`` rows (at most ``batch_size``).
    """
    if n_samples > batch_size:
        return round_up(n_samples, batch_size)
    return min(batch_size, round_up(n_samples, ROW_BUCKET))


def round_up(n, multiple):
    """The smallest multiple of ``multiple`` that is at least ``n``."""
    return -(-n // multiple) * multiple


def pad_rows(array, n_rows):
    """``array`` with rows of zeros appended up to ``n_rows`` rows."""
    array = np.asarray(array)
    padding = [(0, n_rows - len(array))] + [(0, 0)] * (array.ndim - 1)
    return np.pad(array, padding)


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


def _compile(function):
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    import tensorflow as tf

    # XLA: plain graph mode dispatches each of the loop's small ops separately.
    return tf.function(function, jit_compile=True)


class _CompiledLoop:
    """The compiled epochs for one :class:`TrainingSignature`.

    It holds a structural copy of the network and of its optimizer, whose
    ``stateless_call`` / ``stateless_apply`` are traced with the values of
    whichever model is being trained.
    """

    def __init__(self, signature, model):
        self.signature = signature
        self.model = keras.models.clone_model(model)
        self.optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
        self.optimizer.build(self.model.trainable_variables)
        # The step count keys the training-step noise (and anneals gradient
        # noise); find it among the optimizer's variables.
        paths = [variable.path for variable in self.optimizer.variables]
        self.iteration_index = paths.index(self.optimizer.iterations.path)
        # The per-sample functions: ``keras.metrics.get`` would return a
        # stateful Metric object, whose running mean spans epochs.
        self.loss_fn = getattr(keras.losses, signature.loss)
        self.metric_fn = (
            getattr(keras.metrics, signature.metric) if signature.metric else None
        )
        self.stateful = signature.backend != "jax"
        self.run = _compile(self._run)

    # -- pieces of one epoch ---------------------------------------------
    def _scores(self, y, predictions, label_noise=None):
        """Per-sample loss and metric values.

        ``label_noise`` is ``(amount, seed)`` to score the loss against noisy
        targets; the metric always sees the true ones.
        """
        if label_noise is None:
            losses = self.loss_fn(y, predictions)
        else:
            amount, seed = label_noise
            losses = noisy_target_loss(
                self.loss_fn,
                self.signature.loss,
                y,
                predictions,
                amount,
                seed,
                self.signature.noise_type,
            )
        losses = ops.reshape(losses, (-1,))
        if self.metric_fn is None:
            return losses, ops.zeros_like(losses)
        metric = ops.cast(self.metric_fn(y, predictions), losses.dtype)
        return losses, ops.reshape(metric, (-1,))

    def _batch_loss(self, trainable, non_trainable, x, y, weight, n_rows, label_noise):
        predictions, non_trainable, penalties = self.model.stateless_call(
            trainable, non_trainable, x, training=True, return_losses=True
        )
        losses, metric = self._scores(y, predictions, label_noise)
        loss = ops.sum(losses * weight) / n_rows
        # Layer losses (weight penalties) are added once per step, as Keras'
        # fit adds them.
        for penalty in penalties:
            loss = loss + ops.cast(penalty, loss.dtype)
        return loss, (non_trainable, ops.sum(metric * weight))

    def _variables(self):
        return (
            self.model.trainable_variables,
            self.model.non_trainable_variables,
            self.optimizer.variables,
        )

    def _read(self):
        # ``convert_to_tensor`` reads now, after the updates above it; a
        # TensorFlow variable handed on as it is would be read when used.
        return tuple(
            [ops.convert_to_tensor(v) for v in group] for group in self._variables()
        )

    def _write(self, state):
        values = (state["trainable"], state["non_trainable"], state["optimizer"])
        for group, group_values in zip(self._variables(), values, strict=True):
            for variable, value in zip(group, group_values, strict=True):
                variable.assign(value)

    def _update(self, params, x, y, weight, n_rows, data):
        """One optimizer step: the new values, the loss and the metric sum."""
        trainable, non_trainable, optimizer_vars = params
        sig = self.signature
        step = optimizer_vars[self.iteration_index]
        label_noise = None
        if sig.label_noise:
            label_noise = (data["label_noise"], step_seed(data["noise_seed"], 0, step))
        if self.stateful:
            import tensorflow as tf

            with tf.GradientTape() as tape:
                tape.watch(trainable)
                loss, (_, metric) = self._batch_loss(
                    trainable, non_trainable, x, y, weight, n_rows, label_noise
                )
            grads = tape.gradient(loss, trainable)
            if sig.gradient_noise:
                grads = annealed_gradient_noise(
                    grads, data["gradient_noise"], step, data["noise_seed"]
                )
            # ``params`` always equal the copy's variables (see ``_run``), so
            # these are the gradients at the variables' values. The forward
            # pass above was stateless: advance the noise seeds by hand.
            self.optimizer.apply(grads, self.model.trainable_variables)
            for variable, value in zip(
                self.model.non_trainable_variables, _, strict=True
            ):
                variable.assign(value)
            return (*self._read(), loss, metric)
        import jax

        (loss, (non_trainable, metric)), grads = jax.value_and_grad(
            self._batch_loss, has_aux=True
        )(trainable, non_trainable, x, y, weight, n_rows, label_noise)
        if sig.gradient_noise:
            grads = annealed_gradient_noise(
                grads, data["gradient_noise"], step, data["noise_seed"]
            )
        trainable, optimizer_vars = self.optimizer.stateless_apply(
            optimizer_vars, grads, trainable
        )
        return trainable, non_trainable, optimizer_vars, loss, metric

    def _epoch(self, state, data, shuffle_seed):
        sig = self.signature
        x, y, weight = data["x"], data["y"], data["weight"]
        batch = sig.batch_size
        n_steps = sig.n_rows // batch
        # The real rows come first; the padding after them weighs nothing.
        n_samples = data["n_samples"]
        n_real = ops.cast(n_samples, x.dtype)
        params = (state["trainable"], state["non_trainable"], state["optimizer"])
        if n_steps == 1:
            # One batch holds all rows: their order cannot change the step.
            *params, loss, metric_sum = self._update(params, x, y, weight, n_real, data)
            loss_sum = loss * n_real
        else:
            seed = ops.stack([shuffle_seed, ops.cast(state["epoch"], "uint32")])
            # Shuffle the real rows and keep the padding last: its keys, in
            # [2, 3), sort after every real row's.
            position = ops.arange(sig.n_rows, dtype="int32")
            keys = uniform((sig.n_rows,), seed) + 2.0 * ops.cast(
                position >= n_samples, "float32"
            )
            order = ops.cast(ops.argsort(keys), "int32")
            # The short last batch is a mean over its real rows, as in Keras.
            real = ops.cast(position < n_samples, x.dtype)

            def step(index, carry):
                *params, loss_sum, metric_sum = carry
                rows = ops.slice(order, (index * batch,), (batch,))
                mask = ops.slice(real, (index * batch,), (batch,))
                n_rows = ops.sum(mask)
                *params, loss, metric = self._update(
                    params,
                    ops.take(x, rows, axis=0),
                    ops.take(y, rows, axis=0),
                    ops.take(weight, rows, axis=0) * mask,
                    n_rows,
                    data,
                )
                return (*params, loss_sum + loss * n_rows, metric_sum + metric)

            zero = ops.zeros((), dtype=x.dtype)
            *params, loss_sum, metric_sum = ops.fori_loop(
                0, n_steps, step, (*params, zero, zero)
            )
        trainable, non_trainable, optimizer_vars = params
        logs = [loss_sum / n_real]
        if self.metric_fn is not None:
            logs.append(metric_sum / ops.sum(weight))
        if sig.n_validation:
            predictions, _ = self.model.stateless_call(
                trainable, non_trainable, data["x_val"], training=False
            )
            losses, metric = self._scores(data["y_val"], predictions)
            n_val = data["n_validation"]
            real = ops.cast(ops.arange(sig.n_validation) < n_val, losses.dtype)
            n_val = ops.cast(n_val, losses.dtype)
            logs.append(ops.sum(losses * real) / n_val)
            if self.metric_fn is not None:
                logs.append(ops.sum(metric * real) / n_val)
        state = {
            **state,
            "trainable": trainable,
            "non_trainable": non_trainable,
            "optimizer": optimizer_vars,
            "epoch": state["epoch"] + 1,
        }
        return state, ops.stack(logs)

    def _watch(self, state, logs, patience, tol):
        """Early-stopping bookkeeping after an epoch."""
        keys = self.signature.history_keys
        monitor = self.signature.monitor
        value = logs[keys.index(monitor)]
        # Losses improve downwards, accuracies upwards.
        score = -value if monitor.endswith("accuracy") else value
        improved = score < state["best_score"] - tol
        best = [
            ops.where(improved, new, old)
            for new, old in zip(state["trainable"], state["best"], strict=True)
        ]
        wait = ops.where(improved, 0, state["wait"] + 1)
        return {
            **state,
            "best": best,
            "best_score": ops.where(improved, score, state["best_score"]),
            "wait": wait,
            "stopped": wait >= patience,
        }

    def _run(self, state, data, n_epochs, shuffle_seed, patience, tol):
        """Run up to ``n_epochs`` epochs (or until early stopping)."""
        global _traces
        _traces += 1  # Python runs this body only while tracing.
        if self.stateful:
            self._write(state)
        n_keys = len(self.signature.history_keys)
        history = ops.zeros((EPOCHS_PER_CALL, n_keys), dtype="float32")

        def keep_going(index, state, history):
            return ops.logical_and(index < n_epochs, ops.logical_not(state["stopped"]))

        def one_epoch(index, state, history):
            state, logs = self._epoch(state, data, shuffle_seed)
            if self.signature.monitor is not None:
                state = self._watch(state, logs, patience, tol)
            history = ops.slice_update(
                history, (index, 0), ops.cast(logs, "float32")[None]
            )
            return index + 1, state, history

        index = ops.zeros((), dtype="int32")
        return ops.while_loop(keep_going, one_epoch, (index, state, history))


def _get_loop(signature, model):
    with _cache_lock:
        loop = _cache.pop(signature, None)
        if loop is None:
            loop = _CompiledLoop(signature, model)
        _cache[signature] = loop
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return loop


def train(
    model,
    *,
    architecture,
    loss,
    metric,
    x,
    y,
    sample_weight=None,
    validation_data=None,
    epochs,
    batch_size,
    first_epoch=0,
    shuffle_seed=0,
    early_stopping=None,
    label_noise=0.0,
    gradient_noise=0.0,
    noise_type="gaussian",
    noise_seed=0,
    verbose=0,
):
    """Train a compiled Keras ``model`` in place with the compiled loop.

    Parameters
    ----------
    model : keras.Model
        A built model compiled with its optimizer; its variables, and its
        optimizer's, are updated in place.
    architecture : tuple
        Hashable description of the model's structure, equal for any two
        models that :func:`sknoise._architecture.build_mlp` builds alike.
    loss : str
        Keras name of the per-sample loss, e.g. "binary_crossentropy".
    metric : str or None
        Keras name of the per-sample metric logged as "accuracy", or None.
    x, y : ndarray
        Training data, as the model takes them.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample loss weights.
    validation_data : tuple (x_val, y_val) or None
        Scored after every epoch, with noise off.
    epochs : int
        Epochs to run (fewer if early stopping triggers).
    batch_size : int
        Rows per step.
    first_epoch : int, default=0
        Number of epochs the model was already trained; it keys the epoch's
        shuffle, so that a continued fit does not repeat earlier orders.
    shuffle_seed : int, default=0
        Seed of the per-epoch shuffles.
    early_stopping : dict or None
        ``{"monitor": key, "patience": int, "tol": float}``; None disables it.
    label_noise : float, default=0.0
        ε of label smoothing (classifiers) or σ of the target noise
        (regressors); 0 leaves the targets alone.
    gradient_noise : float, default=0.0
        η, the initial variance of annealed gradient noise; 0 for none.
    noise_type : {"gaussian", "multiplicative"}, default="gaussian"
        How target noise acts on regression targets.
    noise_seed : int, default=0
        Seed of the training-step noise.
    verbose : int, default=0
        0 silent; 1 one line per call of the compiled loop; 2 one line per
        epoch (printed after each call).

    Returns
    -------
    history : dict of str to list of float
        Per-epoch logs of the epochs run.
    """
    n_samples = x.shape[0]
    n_rows = padded_rows(n_samples, batch_size)
    n_validation = 0 if validation_data is None else len(validation_data[0])
    validation_rows = round_up(n_validation, ROW_BUCKET)
    signature = TrainingSignature(
        architecture=architecture,
        optimizer=optimizer_signature(model.optimizer),
        loss=loss,
        metric=metric,
        n_rows=n_rows,
        n_features=x.shape[1],
        y_shape=(n_rows, *y.shape[1:]),
        # The effective batch: 64 and 128 on 60 rows are the same program.
        batch_size=min(batch_size, n_rows),
        n_validation=validation_rows,
        monitor=None if early_stopping is None else early_stopping["monitor"],
        backend=keras.backend.backend(),
        label_noise=label_noise > 0,
        gradient_noise=gradient_noise > 0,
        noise_type=noise_type,
    )
    loop = _get_loop(signature, model)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    dtype = x.dtype
    weight = (
        np.ones(n_samples, dtype=dtype)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=dtype)
    )
    data = {
        "x": pad_rows(x, n_rows),
        "y": pad_rows(y, n_rows),
        "weight": pad_rows(weight, n_rows),
        "n_samples": np.int32(n_samples),
        # Values, not part of the signature: any amount reuses the loop.
        "label_noise": np.float32(label_noise),
        "gradient_noise": np.float32(gradient_noise),
        "noise_seed": np.uint32(noise_seed % 2**32),
    }
    if validation_data is not None:
        data["x_val"], data["y_val"] = (
            pad_rows(part, validation_rows) for part in validation_data
        )
        data["n_validation"] = np.int32(n_validation)

    # Tensors, not variables: on TensorFlow a variable argument would be
    # traced apart from the tensors the loop returns.
    def values(variables):
        return [ops.convert_to_tensor(v) for v in variables]

    trainable = values(model.trainable_variables)
    state = {
        "trainable": trainable,
        "non_trainable": values(model.non_trainable_variables),
        "optimizer": values(model.optimizer.variables),
        "epoch": np.int32(first_epoch),
        "best": trainable,
        "best_score": np.float32(np.inf),
        "wait": np.int32(0),
        "stopped": np.bool_(False),
    }
    settings = early_stopping or {"patience": 1, "tol": 0.0}
    patience = np.int32(settings["patience"])
    tol = np.float32(settings["tol"])
    seed = np.uint32(shuffle_seed % 2**32)
    keys = signature.history_keys
    rows = []
    while len(rows) < epochs and not bool(state["stopped"]):
        n_epochs = np.int32(min(EPOCHS_PER_CALL, epochs - len(rows)))
        n_run, state, history = loop.run(state, data, n_epochs, seed, patience, tol)
        chunk = np.asarray(ops.convert_to_numpy(history))[: int(n_run)]
        _report(chunk, keys, len(rows), epochs, verbose)
        rows.extend(chunk.tolist())
    final = state["best"] if early_stopping is not None else state["trainable"]
    for variable, value in zip(model.trainable_variables, final, strict=True):
        variable.assign(value)
    for variable, value in zip(
        model.non_trainable_variables, state["non_trainable"], strict=True
    ):
        variable.assign(value)
    for variable, value in zip(
        model.optimizer.variables, state["optimizer"], strict=True
    ):
        variable.assign(value)
    return {key: [row[i] for row in rows] for i, key in enumerate(keys)}


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

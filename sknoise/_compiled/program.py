"""The compiled epochs of one training signature (see :mod:`.cache`).

:class:`CompiledLoop` holds a structural copy of a network and of its
optimizer and traces, once, a pure function that runs up to
``EPOCHS_PER_CALL`` epochs: it takes the variables' values and returns new
ones. What one optimizer step does, and how the function is compiled,
differ by backend: :mod:`.on_jax` (stateless apply, ``jax.jit``, compiled
programs kept on disk) or :mod:`.on_tensorflow` (in place on the private
copy, ``tf.function`` with XLA), chosen once, when this module is imported.
The traced function passes small named tuples: :class:`Params`,
:class:`LoopState`, :class:`LoopData`, :class:`TracedStepNoise` and
:class:`Schedule`.
"""

import threading
from typing import NamedTuple

from .. import _early_stopping
from .._backend import import_keras
from .._noise import noisy_target_loss
from .._random import uniform
from .._seeds import shuffle_words, step_words

keras = import_keras()
ops = keras.ops
if keras.backend.backend() == "jax":
    from . import on_jax as on_backend
else:
    from . import on_tensorflow as on_backend

#: Epochs run by one call of the compiled function; longer fits make
#: several calls. It sizes the per-call history buffer, and is not part of
#: the traced signature of a fit, so ``epochs`` can vary freely.
EPOCHS_PER_CALL = 1000


class Params(NamedTuple):
    """The values of a network's and its optimizer's variables."""

    trainable: list
    non_trainable: list
    optimizer: list


class LoopState(NamedTuple):
    """What the epochs carry: the values, the epoch count, early stopping."""

    params: Params
    epoch: object
    stopping: _early_stopping.EarlyStoppingState


class LoopData(NamedTuple):
    """Padded training data (real rows first) and optional validation data.

    ``x`` and ``x_val`` are what the network takes: an array, or for sparse
    data the dict of padded pairs (:func:`sknoise._rows.padded_entries`).
    """

    x: object
    y: object
    weight: object
    n_samples: object
    x_val: object = None
    y_val: object = None
    n_validation: object = None


class TracedStepNoise(NamedTuple):
    """Amounts and seed of the training-step noise, as traced values."""

    labels: object
    gradients: object
    seed: object


class Schedule(NamedTuple):
    """Epochs to run in this call, the shuffle seed and early stopping's
    patience and tolerance."""

    n_epochs: object
    shuffle_seed: object
    patience: object
    tol: object


class PrivateNetwork(NamedTuple):
    """The loop's structural copy of a network and what is made from it:
    the optimizer, where its step count sits among its variables, and the
    backend's ``(prepare, update)`` step functions (see
    :func:`.on_jax.make_step`)."""

    model: object
    iteration_index: int
    prepare_step: object
    update_step: object

    @classmethod
    def from_model(cls, model, batch_loss, *, gradient_noise):
        optimizer = model.optimizer
        optimizer.build(model.trainable_variables)
        # The step count keys the training-step noise (and anneals gradient
        # noise); find it among the optimizer's variables.
        paths = [variable.path for variable in optimizer.variables]
        variables = (
            model.trainable_variables,
            model.non_trainable_variables,
            optimizer.variables,
        )
        prepare_step, update_step = on_backend.make_step(
            optimizer, batch_loss, variables=variables, gradient_noise=gradient_noise
        )
        return cls(
            model, paths.index(optimizer.iterations.path), prepare_step, update_step
        )


class CompiledLoop:
    """The compiled epochs for one :class:`~.cache.TrainingSignature`.

    ``on_trace`` is called each time Python runs the traced body, i.e. each
    time the backend traces (compiles) it. ``build`` returns a new network
    of the signature's structure, compiled with a new optimizer of the
    signature's configuration, for the loop's stateless calls: their values
    do not matter, the loop is given the trained network's and optimizer's.
    It is called when a trace first needs the network (see :attr:`private`),
    where the backend may load compiled loops (a loop loaded from the
    compilation cache is never traced), and at once elsewhere. ``cacheable``
    is :func:`.on_jax.compile_loop`'s.
    """

    def __init__(self, signature, build, on_trace, *, cacheable):
        self.signature = signature
        self._build = build
        self._private = None
        self._building = threading.Lock()
        # The per-sample functions: ``keras.metrics.get`` would return a
        # stateful Metric object, whose running mean spans epochs.
        self.loss_fn = getattr(keras.losses, signature.loss)
        self.metric_fn = (
            getattr(keras.metrics, signature.metric) if signature.metric else None
        )
        self.on_trace = on_trace
        self.run = on_backend.compile_loop(self._run, signature, cacheable=cacheable)
        if not on_backend.LOADS_COMPILED_LOOPS:
            # Every process traces: build now, outside the trace (TensorFlow
            # traces a function that creates variables twice).
            self.private  # noqa: B018

    @property
    def private(self):
        """The loop's :class:`PrivateNetwork`, built at first use."""
        with self._building:
            if self._private is None:
                # Not keras.models.clone_model: it serialises every layer,
                # and Keras' serialisation imports TensorFlow whenever
                # installed, 3 to 4 s of a first fit on JAX, which otherwise
                # never needs it.
                self._private = PrivateNetwork.from_model(
                    self._build(),
                    self.batch_loss,
                    gradient_noise=self.signature.gradient_noise,
                )
            return self._private

    # -- one step ----------------------------------------------------------
    def scores(self, y, predictions, label_noise=None):
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
        if len(metric.shape) > 1:
            # Per label (multilabel; a binary head has one): the sample's
            # accuracy is the mean over its labels, as Keras' metric takes.
            metric = ops.mean(metric, axis=-1)
        return losses, ops.reshape(metric, (-1,))

    def batch_loss(self, trainable, non_trainable, x, y, weight, n_real, label_noise):
        """A step's loss (with layer penalties) and, as aux, the new
        non-trainable values and the weighted metric sum."""
        predictions, non_trainable, penalties = self.private.model.stateless_call(
            trainable, non_trainable, x, training=True, return_losses=True
        )
        losses, metric = self.scores(y, predictions, label_noise)
        loss = ops.sum(losses * weight) / n_real
        # Layer losses (weight penalties) are added once per step, as Keras'
        # fit adds them.
        for penalty in penalties:
            loss = loss + ops.cast(penalty, loss.dtype)
        return loss, (non_trainable, ops.sum(metric * weight))

    def _update(self, params, x, y, weight, n_real, noise):
        """One optimizer step: the new values, the loss and the metric sum."""
        step = params.optimizer[self.private.iteration_index]
        label_noise = None
        if self.signature.label_noise:
            label_noise = (noise.labels, step_words(noise.seed, 0, step))
        batch = (x, y, weight, n_real)
        return self.private.update_step(params, batch, label_noise, noise, step)

    # -- one epoch ---------------------------------------------------------
    def _train_epoch(self, params, data, noise, shuffle_seed, epoch):
        """An epoch's steps: the new values and the summed loss and metric."""
        batch = self.signature.batch_size
        n_steps = self.signature.n_padded // batch
        n_real = ops.cast(data.n_samples, data.weight.dtype)
        if n_steps == 1:
            # One batch holds all rows: their order cannot change the step.
            params, loss, metric_sum = self._update(
                params, data.x, data.y, data.weight, n_real, noise
            )
            return params, loss * n_real, metric_sum
        order, real = self._shuffle(data, shuffle_seed, epoch)

        def step(index, carry):
            params, loss_sum, metric_sum = carry
            rows = ops.slice(order, (index * batch,), (batch,))
            mask = ops.slice(real, (index * batch,), (batch,))
            n_in_batch = ops.sum(mask)
            params, loss, metric = self._update(
                params,
                keras.tree.map_structure(lambda x: ops.take(x, rows, axis=0), data.x),
                ops.take(data.y, rows, axis=0),
                ops.take(data.weight, rows, axis=0) * mask,
                n_in_batch,
                noise,
            )
            return params, loss_sum + loss * n_in_batch, metric_sum + metric

        zero = ops.zeros((), dtype=data.weight.dtype)
        return ops.fori_loop(0, n_steps, step, (params, zero, zero))

    def _shuffle(self, data, shuffle_seed, epoch):
        """This epoch's row order, and which of those rows are real."""
        n_padded = self.signature.n_padded
        seed = shuffle_words(shuffle_seed, epoch)
        # Shuffle the real rows and keep the padding last: its keys, in
        # [2, 3), sort after every real row's.
        position = ops.arange(n_padded, dtype="int32")
        keys = uniform((n_padded,), seed) + 2.0 * ops.cast(
            position >= data.n_samples, "float32"
        )
        order = ops.cast(ops.argsort(keys), "int32")
        # The short last batch is a mean over its real rows, as in Keras.
        return order, ops.cast(position < data.n_samples, data.weight.dtype)

    def _validation_logs(self, params, data):
        """Loss (and metric) of the validation rows, noise off."""
        predictions, _ = self.private.model.stateless_call(
            params.trainable, params.non_trainable, data.x_val, training=False
        )
        losses, metric = self.scores(data.y_val, predictions)
        real = ops.cast(
            ops.arange(self.signature.n_validation) < data.n_validation, losses.dtype
        )
        n_val = ops.cast(data.n_validation, losses.dtype)
        logs = [ops.sum(losses * real) / n_val]
        if self.metric_fn is not None:
            logs.append(ops.sum(metric * real) / n_val)
        return logs

    def _epoch(self, state, data, noise, schedule):
        """One epoch: the new state and the epoch's logs."""
        params, loss_sum, metric_sum = self._train_epoch(
            state.params, data, noise, schedule.shuffle_seed, state.epoch
        )
        logs = [loss_sum / ops.cast(data.n_samples, data.weight.dtype)]
        if self.metric_fn is not None:
            logs.append(metric_sum / ops.sum(data.weight))
        if self.signature.n_validation:
            logs += self._validation_logs(params, data)
        logs = ops.stack(logs)
        stopping = state.stopping
        monitor = self.signature.monitor
        if monitor is not None:
            stopping = _early_stopping.update(
                stopping,
                logs[self.signature.history_keys.index(monitor)],
                params.trainable,
                maximise=monitor.endswith("accuracy"),
                patience=schedule.patience,
                tol=schedule.tol,
            )
        return LoopState(params, state.epoch + 1, stopping), logs

    # -- one call ----------------------------------------------------------
    def _run(self, state, data, noise, schedule):
        """Run up to ``schedule.n_epochs`` epochs (or until early stopping)."""
        self.on_trace()  # Python runs this body only while tracing.
        self.private.prepare_step(state.params)
        n_keys = len(self.signature.history_keys)
        history = ops.zeros((EPOCHS_PER_CALL, n_keys), dtype="float32")

        def keep_going(index, state, history):
            return ops.logical_and(
                index < schedule.n_epochs, ops.logical_not(state.stopping.stopped)
            )

        def one_epoch(index, state, history):
            state, logs = self._epoch(state, data, noise, schedule)
            history = ops.slice_update(
                history, (index, 0), ops.cast(logs, "float32")[None]
            )
            return index + 1, state, history

        index = ops.zeros((), dtype="int32")
        return ops.while_loop(keep_going, one_epoch, (index, state, history))


def keras_own(optimizer):
    """Whether ``optimizer`` and its learning-rate schedule are Keras' own
    classes: a compiled program that runs a user's class may change with
    the user's code, which no cache key can see."""
    own = [type(optimizer)]
    rate = getattr(optimizer, "_learning_rate", None)
    if not isinstance(rate, keras.Variable):  # a schedule or a function
        own.append(type(rate))
    return all(cls.__module__.startswith("keras.") for cls in own)

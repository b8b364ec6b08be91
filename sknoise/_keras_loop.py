"""Keras' own ``fit``, through scikeras: the loop for Keras callbacks.

sknoise trains in its compiled loop (:mod:`sknoise._compiled`) unless the
user's settings need Keras' ``fit`` -- callbacks, or routed ``fit__*`` and
``callbacks__*`` parameters. Then this module runs the epochs through a
scikeras ``BaseWrapper`` around the estimator's network. It is the only
module that imports scikeras (0.13, no longer maintained), and it is imported
only when this path runs.
"""

import contextlib
import functools
import random
import threading

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import FunctionTransformer

from . import _early_stopping
from ._backend import import_keras, import_scikeras_wrappers, variable_to_numpy
from ._rows import padded_entries
from ._seeds import keras_loop_seed

keras = import_keras()


# Keras' fit shuffles arrays with global random state and takes no seed:
# NumPy's global generator on JAX (and the other non-TensorFlow backends),
# TensorFlow's global seed on TensorFlow, read when fit builds its tf.data
# pipeline. A seeded fit holds this lock while that state is its own.
_GLOBAL_RANDOM_STATE = threading.RLock()


# Where Keras' fit draws its batch order, by backend, decided once: on
# TensorFlow its tf.data pipeline reads TensorFlow's global seed as fit
# builds it; on the others each epoch's order comes from NumPy's global
# generator.
_SHUFFLES_FROM_TENSORFLOW = keras.backend.backend() == "tensorflow"


@contextlib.contextmanager
def _seeded(seed, step):
    """Seed Keras' fit (batch shuffling) without touching the user's state.

    For the block, the global state the backend's shuffling reads is seeded
    from ``seed`` and ``step``, the optimizer's step count when the call
    starts -- both saved with the model, so that a restored copy continues
    as the original does, and each call shuffles afresh -- under a lock, so
    that fits in several threads do not seed each other's; afterwards the
    user's state is back exactly as it was. ``seed=None`` leaves Keras to
    its global state, as ``random_state=None`` does everywhere.
    """
    if seed is None:
        yield
        return
    call_seed = keras_loop_seed(seed, step, 0)
    if _SHUFFLES_FROM_TENSORFLOW:
        seeding = _tensorflow_global_seed(call_seed)
    else:
        seeding = _numpy_global_seed(call_seed)
    with _GLOBAL_RANDOM_STATE, seeding:
        yield


class _SeedEachEpoch(keras.callbacks.Callback):
    """Seed NumPy's global generator as each epoch begins (non-TensorFlow
    backends), from ``seed``, ``step`` and the epoch.

    Keras draws an epoch's shuffle from it right after ``on_epoch_begin``.
    Seeded per epoch, the order depends on nothing else: not on how many
    draws Keras made before, one more when it first trains a restored model.
    Runs inside :func:`_seeded`, which gives the user's state back.
    """

    def __init__(self, seed, step):
        super().__init__()
        self.seed = seed
        self.step = step

    def on_epoch_begin(self, epoch, logs=None):
        np.random.seed(keras_loop_seed(self.seed, self.step, epoch + 1))  # noqa: NPY002


@contextlib.contextmanager
def _numpy_global_seed(seed):
    # The legacy global generator is exactly the state to give back.
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


@contextlib.contextmanager
def _tensorflow_global_seed(seed):
    """TensorFlow's global seed is ``seed`` in the block, the user's after.

    Set on the eager context directly: ``tf.random.set_seed`` also clears
    TensorFlow's kernel cache, which restarts the sequences of the user's
    random ops, so their state could not be given back.
    """
    from tensorflow.python.eager import context

    eager = context.context()
    saved = eager._seed, getattr(eager, "_rng", None)
    eager._seed, eager._rng = seed, random.Random(seed)
    try:
        yield
    finally:
        eager._seed, eager._rng = saved


class EarlyStoppingCallback(keras.callbacks.Callback):
    """Early stopping with the compiled loop's rule (:mod:`._early_stopping`).

    Restores the trainable weights of the best epoch when training ends.
    """

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def _trainable(self):
        return [variable_to_numpy(v) for v in self.model.trainable_variables]

    def on_train_begin(self, logs=None):
        self.state = _early_stopping.init(self._trainable())

    def on_epoch_end(self, epoch, logs=None):
        rule = self.rule
        self.state = _early_stopping.update(
            self.state,
            np.float32(logs[rule.monitor]),
            self._trainable(),
            maximise=rule.monitor.endswith("accuracy"),
            patience=rule.patience,
            tol=np.float32(rule.tol),
        )
        if bool(self.state.stopped):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for variable, value in zip(
            self.model.trainable_variables, self.state.best, strict=True
        ):
            variable.assign(value)


def _packed(pairs):
    """A sparse network's padded pairs as one (n_rows, 2, width) float64
    array, which scikeras validates and slices as it does X (float64 holds
    every int32 column index exactly); :func:`_unpacked` undoes it."""
    return np.stack([pairs["index"], pairs["value"]], axis=1).astype(np.float64)


def _unpacked(packed):
    return {
        "index": packed[:, 0].astype(np.int32),
        "value": packed[:, 1].astype(keras.backend.floatx()),
    }


@functools.cache  # one class for the process, not one per fit
def _sparse_engine(wrappers):
    """scikeras' wrapper for a sparse network: the X it is given is
    :func:`_packed`, its feature encoder hands Keras the pairs."""

    class PairInputWrapper(wrappers.BaseWrapper):
        @property
        def feature_encoder(self):
            return FunctionTransformer(_unpacked)

    return PairInputWrapper


def _keras_inputs(data):
    """Training X as scikeras takes it, and the validation pair as Keras'
    fit does: sparse features as the padded pairs of one width."""
    if not sp.issparse(data.x):
        return data.x, data.validation
    width = data.entry_width()
    x = _packed(padded_entries(data.x, data.x.shape[0], width))
    if data.validation is None:
        return x, None
    x_val, y_val = data.validation
    return x, (padded_entries(x_val, x_val.shape[0], width), y_val)


def train(plan):
    """Run ``plan.config.epochs`` epochs of Keras' fit on ``plan.model``, in
    place, shuffled from ``plan.seeds.layers``.

    ``plan`` is a :class:`sknoise._fit.TrainingPlan`. Returns the per-epoch
    history of this call, as Keras logs it.
    """
    model, config, data, seed = plan.model, plan.config, plan.data, plan.seeds.layers
    callbacks = list(config.callbacks)
    if config.early_stopping is not None:
        callbacks.append(EarlyStoppingCallback(config.early_stopping))
    step = int(variable_to_numpy(model.optimizer.iterations))
    if seed is not None and not _SHUFFLES_FROM_TENSORFLOW:
        # Last, so that the user's callbacks cannot draw between this
        # seeding and the shuffle.
        callbacks.append(_SeedEachEpoch(seed, step))
    # No random_state for scikeras: its seeding context switches on
    # TensorFlow's global op determinism, which made fits fail at random
    # ("Random ops require a seed"); ``_seeded`` seeds the fit instead.
    wrappers = import_scikeras_wrappers()
    engine_type = (
        _sparse_engine(wrappers) if sp.issparse(data.x) else wrappers.BaseWrapper
    )
    engine = engine_type(
        model=model,
        batch_size=config.batch_size,
        verbose=config.verbose,
        callbacks=callbacks or None,
        epochs=config.epochs,
        **config.keras_fit_params,
    )
    x, validation = _keras_inputs(data)
    with _seeded(seed, step):
        engine.fit(
            x, data.y, sample_weight=data.sample_weight, validation_data=validation
        )
    logs = {key: list(values) for key, values in engine.history_.items()}
    # Keras logs into a History callback the user passed, if any, and never
    # clears its logs: keep this call's epochs only.
    history = next(
        (c for c in callbacks if isinstance(c, keras.callbacks.History)), None
    )
    if history is not None:
        logs = {
            key: values[len(values) - len(history.epoch) :]
            for key, values in logs.items()
        }
    return logs

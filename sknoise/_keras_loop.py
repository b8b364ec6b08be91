"""Keras' own ``fit``, through scikeras: the loop for Keras callbacks.

sknoise trains in its compiled loop (:mod:`sknoise._training`) unless the
user's settings need Keras' ``fit`` -- callbacks, or routed ``fit__*`` and
``callbacks__*`` parameters. Then this module runs the epochs through a
scikeras ``BaseWrapper`` around the estimator's network. It is the only
module that imports scikeras (0.13, no longer maintained), and it is imported
only when this path runs.
"""

import contextlib
import random
import threading

import numpy as np
from scikeras.wrappers import BaseWrapper

from . import _early_stopping
from ._backend import import_keras

keras = import_keras()


# Keras' fit shuffles arrays with global random state and takes no seed:
# NumPy's global generator on JAX (and the other non-TensorFlow backends),
# TensorFlow's global seed on TensorFlow, read when fit builds its tf.data
# pipeline. A seeded fit holds this lock while that state is its own.
_GLOBAL_RANDOM_STATE = threading.RLock()


@contextlib.contextmanager
def _seeded(seed):
    """Seed Keras' fit (batch shuffling) without touching the user's state.

    For the block, the global state the backend's shuffling reads is seeded
    with ``seed``, under a lock, so that fits in several threads do not seed
    each other's; afterwards the user's state is back exactly as it was.
    ``seed=None`` leaves Keras to its global state, as ``random_state=None``
    does everywhere.
    """
    if seed is None:
        yield
        return
    if keras.backend.backend() == "tensorflow":
        seeding = _tensorflow_global_seed(seed)
    else:
        seeding = _numpy_global_seed(seed)
    with _GLOBAL_RANDOM_STATE, seeding:
        yield


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

    def __init__(self, settings):
        super().__init__()
        self.settings = settings

    def _trainable(self):
        return [keras.ops.convert_to_numpy(v) for v in self.model.trainable_variables]

    def on_train_begin(self, logs=None):
        self.state = _early_stopping.init(self._trainable())

    def on_epoch_end(self, epoch, logs=None):
        settings = self.settings
        self.state = _early_stopping.update(
            self.state,
            np.float32(logs[settings.monitor]),
            self._trainable(),
            maximise=settings.monitor.endswith("accuracy"),
            patience=settings.patience,
            tol=np.float32(settings.tol),
        )
        if bool(self.state.stopped):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        for variable, value in zip(
            self.model.trainable_variables, self.state.best, strict=True
        ):
            variable.assign(value)


def train(model, config, data, *, seed):
    """Run ``config.epochs`` epochs of Keras' fit on ``model``, in place.

    ``data`` is a :class:`sknoise._training.TrainingData`. Returns the
    per-epoch history of this call, as Keras logs it.
    """
    callbacks = list(config.callbacks)
    if config.early_stopping is not None:
        callbacks.append(EarlyStoppingCallback(config.early_stopping))
    # No random_state for scikeras: its seeding context switches on
    # TensorFlow's global op determinism, which made fits fail at random
    # ("Random ops require a seed"); ``_seeded`` seeds the fit instead.
    engine = BaseWrapper(
        model=model,
        batch_size=config.batch_size,
        verbose=config.verbose,
        callbacks=callbacks or None,
        epochs=config.epochs,
        **config.keras_fit_params,
    )
    with _seeded(seed):
        engine.fit(
            data.x,
            data.y,
            sample_weight=data.sample_weight,
            validation_data=data.validation,
        )
    return {key: list(values) for key, values in engine.history_.items()}

"""Import Keras (and scikeras) without TensorFlow's start-up chatter.

TensorFlow 2.21 writes a handful of informational lines straight to the
process's stderr file descriptor: while it is imported, when it first looks
for devices, and when XLA compiles for the first time. They come from its C++
logging, which ``TF_CPP_MIN_LOG_LEVEL`` alone controls, and the library must
not set environment variables for its user. Instead, stderr is captured at
the file-descriptor level at those moments only, each once per process and
under a lock: the first :func:`import_keras` (the import and the device
query), and the first :func:`quiet_tensorflow` block on TensorFlow, which
compiles a trivial XLA function before the fit's own program. The
known-benign lines are dropped and everything else is written back, so real
warnings and errors still reach the user.

``import sknoise`` imports none of this; it registers a post-import hook on
``keras`` (:mod:`._registration`), which registers sknoise's layers whenever
Keras is imported, by sknoise's first fit or by the user.

The lock order. A thread that waits for a lock while holding another must
take them in this order, outer first, or two threads can wait for each
other forever (the first fit against a loaded estimator's ``model_`` did):

1. ``_keras_loop._GLOBAL_RANDOM_STATE``, held through a Keras-loop fit,
   user callbacks included (which may fit or read ``model_``);
2. ``_fitted._NETWORK_LOADING`` and ``_compiled.cache.LoopCache._lock``;
3. Python's import locks of sknoise's lazily imported modules
   (``_network``, ``_compiled``, ``_keras_loop``);
4. ``_ONCE``, this module's, held for the one-time start-up below, which
   imports Keras, its backend and scikeras;
5. Python's import locks of those, and innermost that of ``_layers``, which
   the post-import hook imports inside whoever's ``import keras``.

Hence the two rules that keep it: nothing run inside an import of Keras
(the hook, ``_layers``) takes a lock of sknoise's or imports Keras --
``_layers`` takes the module from ``sys.modules``, where it is by then, and
imports only modules ``import sknoise`` has loaded -- and every other
importer of ``_layers`` (``_network``) calls :func:`import_keras` first.
Code holding ``_ONCE`` takes none of levels 1 to 3.

Otherwise nothing here touches the process's streams: fits may run in
threads, and what the user's code writes to stderr during a fit goes out at
once. (Doing the XLA warm-up at import instead would cost about 0.1 s but
would start TensorFlow's runtime, after which ``tf.config.threading`` and
device settings can no longer be changed.)
"""

import contextlib
import importlib.util
import logging
import os
import re
import sys
import tempfile
import threading

import numpy as np

from . import _threads

# Lines TensorFlow prints on every import on a CPU-only machine. Each pattern
# is matched against one line of the captured output.
_BENIGN_LINES = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"^I\d{4} .*\] oneDNN custom operations are on"),
    re.compile(r"^I\d{4} .*\] Could not find cuda drivers on your machine"),
    re.compile(r"^I\d{4} .*\] This TensorFlow binary is optimized to use available"),
    re.compile(r"^To enable the following instructions: .* rebuild TensorFlow"),
    # tf.data: TensorFlow's own graph carries an attribute its runtime does
    # not know, and TensorFlow ignores it. Seen at the first Keras fit with
    # earlier builds; 2.21 does not print it there, and fits are no longer
    # captured, so it is dropped only inside the start-up captures.
    re.compile(r"^E\d{4} .*\] NodeDef mentions attribute use_unbounded_threadpool"),
    # XLA, when it compiles for the first time (see _initialise_xla_quietly).
    re.compile(r"^I\d{4} .*\] XLA service .* initialized for platform Host"),
    re.compile(r"^I\d{4} .*\]   StreamExecutor \[\d+\]: Host, Default Version"),
    re.compile(r"^I\d{4} .*\] disabling MLIR crash reproducer"),
    re.compile(r"^I\d{4} .*\] Compiled cluster using XLA!"),
)
# Only expected, hence only dropped, when the same capture also reported that
# the machine has no CUDA driver at all.
_NO_DRIVER = re.compile(r"Could not find cuda drivers on your machine")
_CUINIT_FAILURE = re.compile(r"^E\d{4} .*\] failed call to cuInit")


def filter_tensorflow_noise(text):
    """Return ``text`` without TensorFlow's known start-up lines."""
    no_driver = bool(_NO_DRIVER.search(text))
    kept = []
    for line in text.splitlines(keepends=True):
        if any(pattern.search(line) for pattern in _BENIGN_LINES):
            continue
        if no_driver and _CUINIT_FAILURE.search(line):
            continue
        kept.append(line)
    return "".join(kept)


class _RetracingFilter(logging.Filter):
    """Drop TensorFlow's tf.function retracing warning, in one thread.

    Every fit builds a new network, so Keras traces a new training function
    per fit by design; in a grid search TensorFlow then warns about "excessive
    retracing", advice that does not apply and that the user cannot act on.
    Records logged by other threads pass: they are not sknoise's.
    """

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record):
        return (
            threading.get_ident() != self.thread
            or "triggered tf.function retracing" not in record.getMessage()
        )


@contextlib.contextmanager
def _filtered_stderr_descriptor():
    """Capture fd 2, then replay it through :func:`filter_tensorflow_noise`.

    Descriptor 2 whatever ``sys.stderr`` is (a redirection, a notebook's
    stream, one without a descriptor, None): C++ logging writes there. It
    swaps the process-wide descriptor: only ever call it holding ``_ONCE``,
    for one-time start-up work.
    """
    _flush_stderr()
    try:
        saved_fd = os.dup(2)
    except OSError:  # descriptor 2 is closed: nothing can be printed
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            capture.seek(0)
            remainder = filter_tensorflow_noise(
                capture.read().decode("utf-8", errors="replace")
            )
            if remainder:
                _replay(remainder)


# sys.stderr is None under pythonw, with ``2>&-`` and in some services; it
# may also lack a method or fail (a closed descriptor, a broken pipe, a
# user's stream). Starting Keras quietly must not make a fit fail on that,
# as scikit-learn's fits do not: hence these two catch whatever it raises.


def _flush_stderr():
    """Flush ``sys.stderr``, so that what it holds is written outside the
    capture."""
    try:
        sys.stderr.flush()
    except Exception:  # None, no flush, or a stream that fails
        pass


def _replay(text):
    """Write captured ``text`` where it was going: through ``sys.stderr``,
    so that a redirection of the user's receives it, else to descriptor 2
    itself, else nowhere (it is closed)."""
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    except Exception:  # None, or a stream that fails
        pass
    data = text.encode("utf-8", errors="replace")
    try:
        while data:
            data = data[os.write(2, data) :]
    except OSError:
        pass


# Guards the one-time start-up work below, so that a first use from several
# threads at once captures stderr once, not in overlapping swaps.
_ONCE = threading.RLock()
#: Whether sknoise's own quiet start-up of Keras (import_keras) has run.
_started = False
_xla_ready = False


def import_keras():
    """Import and return ``keras``, quietly the first time.

    The backend is whatever the user selected with ``KERAS_BACKEND`` (or
    Keras' own configuration); this function never chooses one. The first
    call also starts TensorFlow on its backend; registering sknoise's
    layers is the import hook's (:mod:`._registration`).
    """
    global _started
    if not _started:
        with _ONCE:
            if not _started:
                _start_keras_quietly()
                _started = True
    import keras  # imported: a look-up (it waits for an import under way)

    return keras


#: The Keras backends sknoise trains on: the compiled loop, the Keras loop's
#: seeding and the noise source are written and tested for these.
TRAINING_BACKENDS = ("tensorflow", "jax")


def check_training_backend():
    """Raise unless Keras runs on one of :data:`TRAINING_BACKENDS`.

    Called as a fit starts, before anything is built or trained: on another
    backend a fit would fail late and obscurely, or train on NaNs. Loaded
    estimators predict on any backend (predictions are NumPy's).
    """
    backend = import_keras().backend.backend()
    if backend not in TRAINING_BACKENDS:
        supported = ", ".join(repr(name) for name in TRAINING_BACKENDS)
        setting = os.environ.get("KERAS_BACKEND")
        source = (
            "KERAS_BACKEND is not set, so from ~/.keras/keras.json"
            if setting is None
            else f"KERAS_BACKEND={setting!r}"
        )
        raise RuntimeError(
            f"sknoise trains on the Keras backends {supported} only, but Keras runs "
            f"on {backend!r} ({source}). Set the environment variable "
            "KERAS_BACKEND to one of them before Keras is first imported: Keras "
            "reads it once per process. Fitted estimators predict on any "
            "backend; only training needs a supported one."
        )


def _start_keras_quietly():
    """Import Keras and start its backend, quietly and with the process's
    thread limit (:mod:`._threads`)."""
    global _tensorflow_started
    limit = _threads.thread_limit()
    with _filtered_stderr_descriptor(), _threads.limited_xla_threads(limit) as flagged:
        import keras

        backend = keras.backend.backend()
        if backend == "jax" and flagged:
            import jax

            # XLA reads its flags as it makes the CPU client. Only under a
            # limit: a client's threads make forking the process unsafe,
            # and importing Keras alone does not make one.
            jax.devices()
        elif backend == "tensorflow":
            _threads.limit_tensorflow_threads(limit)
            _start_tensorflow()
            _tensorflow_started = True
    _threads.applied_limit = limit


def _start_tensorflow():
    import tensorflow as tf

    # The first device query is what prints the cuInit failure on a machine
    # without CUDA; do it now, inside the filter.
    tf.config.list_physical_devices()


_tensorflow_started = False
_scikeras_wrappers = None


def start_tensorflow_quietly():
    """Import TensorFlow, if installed, once and under the filter.

    On the TensorFlow backend :func:`import_keras` has done it. On another
    backend ``import sknoise`` leaves TensorFlow out, but Keras imports it
    (when installed) the first time it serialises a layer -- to clone, save
    or load a network -- and scikeras imports it: callers about to do that
    call this first, so that its start-up lines are filtered then.
    """
    global _tensorflow_started
    if _tensorflow_started:
        return
    import_keras()
    with _ONCE:
        if not _tensorflow_started:
            if importlib.util.find_spec("tensorflow") is not None:
                with _filtered_stderr_descriptor():
                    _start_tensorflow()
            _tensorflow_started = True


def variable_to_numpy(variable):
    """A Keras variable's value, as a NumPy array of its own.

    ``np.array(variable)`` -- and so Keras' ``convert_to_numpy(variable)``,
    and ``variable.numpy()`` on JAX -- makes NumPy 2 warn (a
    DeprecationWarning) that the variable's ``__array__`` takes no ``copy``
    keyword. The backend's array, ``variable.value``, converts silently; the
    copy keeps the result valid whatever the backend does with its buffer.
    """
    return np.asarray(variable.value).copy()


def optimizer_config(optimizer):
    """``optimizer.get_config()``, with TensorFlow started quietly first: the
    configuration of a user's optimizer instance may serialise a
    learning-rate schedule, and Keras' serialisation imports TensorFlow."""
    start_tensorflow_quietly()
    return optimizer.get_config()


def import_scikeras_wrappers():
    """Import and return ``scikeras.wrappers``, quietly the first time."""
    global _scikeras_wrappers
    if _scikeras_wrappers is None:
        start_tensorflow_quietly()
        with _ONCE:
            if _scikeras_wrappers is None:
                with _filtered_stderr_descriptor():
                    import scikeras.wrappers

                _scikeras_wrappers = scikeras.wrappers
    return _scikeras_wrappers


def _tanh(x):
    import tensorflow as tf

    return tf.math.tanh(x)


def _initialise_xla_quietly():
    """On TensorFlow, compile a trivial function with XLA, once, under the
    filter: XLA (and, for ``tanh``, MLIR) log their one-time start-up lines
    then rather than at the fit's own compilation, where they would have to
    be captured for the whole fit."""
    global _xla_ready
    if _xla_ready:
        return
    with _ONCE:
        if _xla_ready:
            return
        if import_keras().backend.backend() == "tensorflow":
            import tensorflow as tf

            # TensorFlow's XLA reads its flags at its first compilation.
            limit = _threads.thread_limit()
            with _filtered_stderr_descriptor(), _threads.limited_xla_threads(limit):
                try:
                    tf.function(_tanh, jit_compile=True, autograph=False)(
                        tf.constant(0.0)
                    )
                except Exception:
                    # Only a warm-up: where XLA cannot compile, the fit's
                    # own compilation reports why.
                    pass
        _xla_ready = True


@contextlib.contextmanager
def quiet_tensorflow():
    """Silence TensorFlow's known-benign output during a fit in this thread.

    On TensorFlow the first call does the one-time XLA warm-up (see the
    module docstring); then only log records are filtered -- the retracing
    warning, when this thread logs it -- and the process's streams are left
    alone, so blocks may run in several threads at once. On another backend
    a compiled fit never needs TensorFlow, and this does not start it: the
    paths that do (Keras' serialisation, scikeras) call
    :func:`start_tensorflow_quietly` themselves.
    """
    _initialise_xla_quietly()
    tensorflow_logger = logging.getLogger("tensorflow")
    retracing_filter = _RetracingFilter()
    tensorflow_logger.addFilter(retracing_filter)
    try:
        yield
    finally:
        tensorflow_logger.removeFilter(retracing_filter)

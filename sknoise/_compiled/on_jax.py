"""The compiled loop on JAX: its optimizer step and its compilation.

The step is pure, with Keras' stateless call and apply. The loop is
compiled ahead of its first call and kept on disk
(:mod:`sknoise._compilation_cache`), so that a later process with the same
training signature loads it instead of tracing and compiling it again.
"""

import pickle
import threading

import jax
from jax.experimental import serialize_executable

from .. import _compilation_cache
from .._backend import import_keras
from .._noise import annealed_gradient_noise

#: A loop's compiled program may come from disk, untraced.
LOADS_COMPILED_LOOPS = True


def make_step(optimizer, batch_loss, *, variables, gradient_noise):
    """The step functions of a compiled loop, as ``(prepare, update)``.

    Parameters
    ----------
    optimizer : keras.optimizers.Optimizer
        The loop's built optimizer; only its stateless apply is used.
    batch_loss : callable
        ``batch_loss(trainable, non_trainable, x, y, weight, n_real,
        label_noise)`` returns the step's loss and, as aux, the new
        non-trainable values and the weighted metric sum.
    variables : tuple of lists
        The loop's private variables; JAX steps read none.
    gradient_noise : bool
        Whether the step adds annealed noise to the gradients.

    Returns
    -------
    prepare : callable
        ``prepare(params)``, run once per traced call: nothing on JAX.
    update : callable
        ``update(params, batch, label_noise, noise, step)`` with ``batch``
        ``(x, y, weight, n_real)``, ``label_noise`` None or ``(amount,
        seed)``, ``noise`` the step-noise values and ``step`` the optimizer's
        step count; returns the new ``Params``, the loss and the metric sum.
    """
    del variables  # the values are passed in and returned

    def prepare(params):
        pass

    def update(params, batch, label_noise, noise, step):
        (loss, (non_trainable, metric)), grads = jax.value_and_grad(
            batch_loss, has_aux=True
        )(params.trainable, params.non_trainable, *batch, label_noise)
        if gradient_noise:
            grads = annealed_gradient_noise(grads, noise.gradients, step, noise.seed)
        trainable, optimizer_values = optimizer.stateless_apply(
            params.optimizer, grads, params.trainable
        )
        return type(params)(trainable, non_trainable, optimizer_values), loss, metric

    return prepare, update


def compile_loop(function, signature, *, cacheable):
    """``function``, the loop's epochs, compiled at its first call.

    Parameters
    ----------
    function : callable
        The loop's pure epochs, ``function(state, data, noise, schedule)``.
    signature : TrainingSignature
        Everything static about the program: with the facts of
        :func:`sknoise._compilation_cache.entry_key`, its key on disk.
    cacheable : bool
        Whether the program may be kept on disk: False when it runs code
        the key cannot see change, such as a user's optimizer class.

    Returns
    -------
    callable
        Called like ``function``.
    """
    return _Executable(jax.jit(function), repr(signature) if cacheable else None)


class _Executable:
    """A jitted loop whose first call loads its compiled program from disk
    or compiles it (and keeps it there); later calls run it directly."""

    def __init__(self, jitted, program):
        self.jitted = jitted
        self.program = program
        self.compiled = None
        self._lock = threading.Lock()

    def __call__(self, *args):
        if self.program is None:
            return self.jitted(*args)
        if self.compiled is None:
            with self._lock:  # fits in threads compile a signature once
                if self.compiled is None:
                    self.compiled = self._load_or_compile(args)
        return self.compiled(*args)

    def _load_or_compile(self, args):
        key = _compilation_cache.entry_key(self.program, _backend_facts())
        payload = _compilation_cache.load(key)
        if payload is not None:
            try:
                return serialize_executable.deserialize_and_load(*pickle.loads(payload))
            except Exception:  # another jaxlib's entry: compile anew
                pass
        compiled = self.jitted.lower(*args).compile()
        _compilation_cache.store(
            key, pickle.dumps(serialize_executable.serialize(compiled))
        )
        return compiled


def _backend_facts():
    """What else JAX's program depends on: the device it compiles for and
    the numeric settings of JAX and Keras."""
    keras = import_keras()
    device = jax.devices()[0]
    return (
        device.platform,
        device.device_kind,
        jax.config.jax_enable_x64,
        jax.config.jax_default_matmul_precision,
        keras.backend.floatx(),
        keras.config.dtype_policy().name,
    )

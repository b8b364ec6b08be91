"""The compiled loop on TensorFlow: its optimizer step and its compilation.

TensorFlow's Keras optimizers have no stateless form, so the compiled loop
keeps a private copy of the network and its optimizer (see
:class:`~.program.CompiledLoop`), writes the values it is given into it when
a call starts, and updates it in place; every step then reads the values
back, so the loop still passes values, as on JAX. The loop is compiled by
``tf.function`` with XLA, in each process anew (see
:mod:`sknoise._compilation_cache` for why nothing is kept on disk).
"""

import tensorflow as tf

from .._backend import import_keras
from .._noise import annealed_gradient_noise

ops = import_keras().ops
#: Every process traces and compiles its loops (see the module docstring).
LOADS_COMPILED_LOOPS = False


def make_step(optimizer, batch_loss, *, variables, gradient_noise):
    """The step functions of a compiled loop, as ``(prepare, update)``.

    Arguments and results as in :func:`.step_jax.make_step`; here
    ``variables`` -- the private copy's trainable, non-trainable and
    optimizer variables -- are written by ``prepare`` and updated in place
    by every step.
    """
    trainable_variables, non_trainable_variables, _ = variables

    def prepare(params):
        for group, values in zip(variables, params, strict=True):
            for variable, value in zip(group, values, strict=True):
                variable.assign(value)

    def update(params, batch, label_noise, noise, step):
        with tf.GradientTape() as tape:
            tape.watch(params.trainable)
            loss, (non_trainable, metric) = batch_loss(
                params.trainable, params.non_trainable, *batch, label_noise
            )
        grads = tape.gradient(loss, params.trainable)
        if gradient_noise:
            grads = annealed_gradient_noise(grads, noise.gradients, step, noise.seed)
        # ``params`` always equal the copy's variables (see ``prepare``), so
        # these are the gradients at the variables' values. The forward pass
        # above was stateless: advance the noise seeds by hand.
        optimizer.apply(grads, trainable_variables)
        for variable, value in zip(non_trainable_variables, non_trainable, strict=True):
            variable.assign(value)
        # ``convert_to_tensor`` reads now, after the updates above; a variable
        # handed on as it is would be read when used.
        values = [[ops.convert_to_tensor(v) for v in group] for group in variables]
        return type(params)(*values), loss, metric

    return prepare, update


def compile_loop(function, signature, *, cacheable):
    """``function``, the loop's epochs, compiled with XLA at its first call.

    ``signature`` and ``cacheable`` are :func:`.on_jax.compile_loop`'s; no
    compiled program outlives the process here.
    """
    del signature, cacheable
    # XLA: plain graph mode dispatches each of the loop's small ops
    # separately. No AutoGraph: the loop's control flow is Keras' ops
    # already, and converting every function it calls only slows each trace.
    return tf.function(function, jit_compile=True, autograph=False)

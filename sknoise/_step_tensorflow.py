"""One training step on TensorFlow, in place on the loop's private copy.

TensorFlow's Keras optimizers have no stateless form, so the compiled loop
keeps a private copy of the network and its optimizer (see
:class:`~._compiled_loop.CompiledLoop`), writes the values it is given into
it when a call starts, and updates it in place; every step then reads the
values back, so the loop still passes values, as on JAX.
"""

import tensorflow as tf

from ._backend import import_keras
from ._noise import annealed_gradient_noise

ops = import_keras().ops


def _variables(loop):
    return (
        loop.model.trainable_variables,
        loop.model.non_trainable_variables,
        loop.optimizer.variables,
    )


def prepare(loop, params):
    """Write ``params`` into the private copy's variables."""
    for group, values in zip(_variables(loop), params, strict=True):
        for variable, value in zip(group, values, strict=True):
            variable.assign(value)


def update(loop, params, batch, label_noise, noise, step):
    """One optimizer step on ``batch``; returns the new ``Params``, the
    loss and the metric sum (arguments as in ``_step_jax.update``)."""
    with tf.GradientTape() as tape:
        tape.watch(params.trainable)
        loss, (non_trainable, metric) = loop.batch_loss(
            params.trainable, params.non_trainable, *batch, label_noise
        )
    grads = tape.gradient(loss, params.trainable)
    if loop.signature.gradient_noise:
        grads = annealed_gradient_noise(grads, noise.gradients, step, noise.seed)
    # ``params`` always equal the copy's variables (see ``prepare``), so
    # these are the gradients at the variables' values. The forward pass
    # above was stateless: advance the noise seeds by hand.
    loop.optimizer.apply(grads, loop.model.trainable_variables)
    for variable, value in zip(
        loop.model.non_trainable_variables, non_trainable, strict=True
    ):
        variable.assign(value)
    # ``convert_to_tensor`` reads now, after the updates above; a variable
    # handed on as it is would be read when used.
    values = [[ops.convert_to_tensor(v) for v in group] for group in _variables(loop)]
    return type(params)(*values), loss, metric

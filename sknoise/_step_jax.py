"""One training step on JAX: pure, with Keras' stateless call and apply."""

import jax

from ._noise import annealed_gradient_noise


def prepare(loop, params):
    """Nothing to do: JAX steps read no variables."""


def update(loop, params, batch, label_noise, noise, step):
    """One optimizer step on ``batch``; returns the new ``Params``, the
    loss and the metric sum.

    ``loop`` is the :class:`~._compiled_loop.CompiledLoop`; ``batch`` is
    ``(x, y, weight, n_rows)``; ``label_noise`` is None or ``(amount,
    seed)``; ``noise`` the step-noise values; ``step`` the optimizer's step
    count.
    """
    (loss, (non_trainable, metric)), grads = jax.value_and_grad(
        loop.batch_loss, has_aux=True
    )(params.trainable, params.non_trainable, *batch, label_noise)
    if loop.signature.gradient_noise:
        grads = annealed_gradient_noise(grads, noise.gradients, step, noise.seed)
    trainable, optimizer = loop.optimizer.stateless_apply(
        params.optimizer, grads, params.trainable
    )
    return type(params)(trainable, non_trainable, optimizer), loss, metric

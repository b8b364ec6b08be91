"""One training step on JAX: pure, with Keras' stateless call and apply."""

import jax

from .._noise import annealed_gradient_noise


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

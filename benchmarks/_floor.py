"""The hand-written compiled loop the speed benchmarks hold sknoise against.

The published network (one hidden layer, relu, a sigmoid output), hidden
noise, full-batch Adam, written directly on the backend: what a compiled
training loop costs with nothing of Keras or sknoise around it, the floor
sknoise's own loop is measured against (``speed.py``) and the batched
program is measured with (``batched_folds.py``). Its noise comes from
sknoise's counter-based source, ``sknoise._random.standard_normal``: the
documented private seam the benchmarks use (``docs/architecture.rst``), so
that the floor draws the same deviates at the same cost.
"""

import typing

import numpy as np

#: The published setting's width and hidden-noise amount.
NODES = 500
NOISE = 0.1


def _initial_parameters(n_features, nodes=NODES, seed=0):
    rng = np.random.default_rng(seed)
    limit1 = np.sqrt(6 / (n_features + nodes))
    limit2 = np.sqrt(6 / (nodes + 1))
    return [
        rng.uniform(-limit1, limit1, (n_features, nodes)).astype("float32"),
        np.zeros(nodes, "float32"),
        rng.uniform(-limit2, limit2, (nodes, 1)).astype("float32"),
        np.zeros(1, "float32"),
    ]


def floor_runner(data, noise_source, nodes=NODES, folds=1, seed=7):
    """The hand-written compiled loop; ``noise_source`` "sknoise", "backend"
    or None (no noise), drawn with ``seed``.

    ``folds`` > 1 (JAX only) trains that many copies of the network, each
    on its own rows and noise (fold ``k`` with ``seed + k``), as one
    vectorised program (``jax.vmap``): ``data`` then holds one training set
    per fold, stacked.
    """
    import keras

    X, y, _, _ = data
    y = y.astype("float32")[..., None]
    params = _initial_parameters(X.shape[-1], nodes)
    if keras.backend.backend() == "jax":
        ops = _jax_operations(noise_source, folds)
    else:
        ops = _tensorflow_operations(noise_source, folds)
    compiled = ops.compile(_adam_loop(ops, noise_source))
    if folds > 1:
        params = [np.stack([w] * folds) for w in params]
    zeros = [np.zeros_like(w) for w in params]
    # One noise stream per fold.
    seeds = np.arange(seed, seed + folds, dtype="int32")
    seeds = seeds if folds > 1 else seeds[0]

    def run(epochs):
        """Train for ``epochs``; returns the trained weights, as NumPy
        arrays (converting waits for the result)."""
        out = compiled(params, zeros, zeros, np.int32(epochs), X, y, seeds)
        return [keras.ops.convert_to_numpy(w) for w in out[0]]

    return run


class _FloorOperations(typing.NamedTuple):
    """What the hand-written loop needs from a backend: its NumPy-like
    namespace, normal deviates, gradients, a loop and a compiler."""

    xp: object
    normal: object
    grad: object
    loop: object
    compile: object


def _jax_operations(noise_source, folds):
    import jax
    import jax.numpy as xp

    from sknoise._random import standard_normal

    def normal(shape, step, seed):
        if noise_source == "sknoise":
            return standard_normal(shape, xp.stack([seed, step]))
        return jax.random.normal(jax.random.fold_in(jax.random.key(seed), step), shape)

    def grad(loss, p, *args):
        return jax.grad(loss)(p, *args)

    def loop(n, body, state):
        return jax.lax.fori_loop(0, n, body, state)

    def compile_(function):
        if folds == 1:
            return jax.jit(function)
        # Everything per fold but the epoch count.
        return jax.jit(jax.vmap(function, in_axes=(0, 0, 0, None, 0, 0, 0)))

    return _FloorOperations(xp, normal, grad, loop, compile_)


def _tensorflow_operations(noise_source, folds):
    import tensorflow as tf
    import tensorflow.experimental.numpy as xp

    from sknoise._random import standard_normal

    if folds != 1:
        raise ValueError("folds > 1 needs JAX's vmap")

    def normal(shape, step, seed):
        if noise_source == "sknoise":
            return standard_normal(shape, tf.stack([seed, step]))
        return tf.random.stateless_normal(shape, tf.stack([seed, step]))

    def grad(loss, p, *args):
        with tf.GradientTape() as tape:
            tape.watch(p)
            value = loss(p, *args)
        return tape.gradient(value, p)

    def loop(n, body, state):
        return tf.while_loop(
            lambda i, *_: i < n,
            lambda i, *s: (i + 1, *body(i, s)),
            (tf.constant(0), *state),
        )[1:]

    def compile_(function):
        return tf.function(function, jit_compile=True)

    return _FloorOperations(xp, normal, grad, loop, compile_)


def _adam_loop(ops, noise_source):
    """``train(p, m, v, n_epochs, X, y, seed)``: full-batch Adam on the
    one-hidden-layer network, with hidden noise unless ``noise_source`` is
    None."""
    xp = ops.xp

    def loss(p, step, X, y, seed):
        w1, b1, w2, b2 = p
        pre = X @ w1 + b1
        if noise_source is not None:
            pre = pre + NOISE * ops.normal(pre.shape, step, seed)
        logits = xp.maximum(pre, 0) @ w2 + b2
        return xp.mean(xp.logaddexp(0.0, logits) - y * logits)

    def train(p, m, v, n_epochs, X, y, seed):
        def body(i, state):
            p, m, v = state
            g = ops.grad(loss, p, i, X, y, seed)
            t = xp.asarray(i + 1, "float32")
            m = [0.9 * a + 0.1 * b for a, b in zip(m, g, strict=True)]
            v = [0.999 * a + 0.001 * b * b for a, b in zip(v, g, strict=True)]
            scale = 0.001 * xp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            p = [
                w - scale * a / (xp.sqrt(b) + 1e-7)
                for w, a, b in zip(p, m, v, strict=True)
            ]
            return p, m, v

        return ops.loop(n_epochs, body, (p, m, v))

    return train

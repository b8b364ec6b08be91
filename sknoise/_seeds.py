"""Every random stream of a fit, derived from ``random_state`` here alone.

``random_state`` becomes :class:`Seeds`, three seeds saved with the model
(:meth:`Seeds.from_random_state`); each consumer's seed or key is derived
from one of them by a function of this module, in the order a fit uses them:

``layers``
    * each layer of the network, in build order (:func:`layer_seeds`): its
      initial weights (``_layers.GlorotUniform``) and the generator of its
      noise or dropout (a ``keras.random.SeedGenerator``, which advances at
      every training call, so that every step draws anew);
    * the early-stopping hold-out (``train_test_split``'s ``random_state``);
    * the Keras loop's batch order: each call of Keras' ``fit`` and each of
      its epochs from the seed and the optimizer's step count
      (:func:`keras_loop_seed`).
``shuffle``
    the compiled loop's batch order: epoch ``e``'s is drawn from the words
    ``(shuffle, e)`` (:func:`shuffle_words`).
``noise``
    the compiled loop's training-step noise: stream ``k`` (0 for the targets,
    ``i + 1`` for the gradient of the ``i``-th variable) at optimizer step
    ``t`` from the words ``(noise + k, t)`` (:func:`step_words`).

The two stream seeds enter the compiled loop as 32-bit words
(:func:`as_word`). None (``random_state=None``) leaves every consumer to
fresh entropy, as in scikit-learn.

Changing any of these changes every seeded result: the golden tests
(``tests/test_golden.py``) pin them.
"""

from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state


class Seeds(NamedTuple):
    """The seeds of one network: layers, batch shuffles and step noise."""

    layers: int | None
    shuffle: int
    noise: int

    @classmethod
    def from_random_state(cls, random_state):
        if random_state is None or isinstance(random_state, Integral):
            seed = random_state
        else:
            seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        return cls(seed, _stream_seed(seed, 1), _stream_seed(seed, 2))


def _stream_seed(seed, stream):
    """A seed for random stream number ``stream``, derived from ``seed``."""
    entropy = None if seed is None else [seed, stream]
    return int(np.random.default_rng(entropy).integers(2**32))


def layer_seeds(seed):
    """The seeds of a network's layers, in build order: an endless iterator
    (of None, for ``seed`` None)."""
    rng = np.random.default_rng(seed)
    while True:
        yield None if seed is None else int(rng.integers(2**31 - 1))


def as_word(seed):
    """A stream seed as the 32-bit word the compiled loop takes."""
    return np.uint32(seed % 2**32)


def shuffle_words(shuffle_seed, epoch):
    """The words epoch ``epoch``'s batch order is drawn from (traced)."""
    from ._backend import import_keras

    ops = import_keras().ops
    return ops.stack([shuffle_seed, ops.cast(epoch, "uint32")])


def step_words(seed, stream, step):
    """The words of noise stream ``stream`` at training step ``step``
    (traced)."""
    from ._backend import import_keras

    ops = import_keras().ops
    return ops.stack(
        [
            ops.cast(seed, "uint32") + ops.cast(stream, "uint32"),
            ops.cast(step, "uint32"),
        ]
    )


def keras_loop_seed(*words):
    """A 32-bit seed mixed from non-negative integers: the Keras loop's,
    from the layers' seed, the optimizer's step count and 0 for a call or
    ``epoch + 1`` for an epoch."""
    return int(np.random.SeedSequence([int(w) for w in words]).generate_state(1)[0])

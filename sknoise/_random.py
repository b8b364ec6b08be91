"""A cheap counter-based random source for training-time noise and shuffling.

Every training step of the published setup draws 15,000 Gaussian numbers
(30 rows x 500 units) and almost nothing else: the backends' own generators
(Threefry on JAX, Philox on TensorFlow) then cost several times the
arithmetic of the step. Noise injection needs numbers that are independent
and correctly distributed, not cryptographically strong ones, so sknoise
draws them from a stateless hash instead:

* **bits**: each element's 32 bits are ``mix(mix(index) ^ key)``, where
  ``index`` is the element's position in the array, ``key`` is derived from
  the two seed words (a seed and a step counter, as kept by a
  ``keras.random.SeedGenerator``) and ``mix`` is the ``lowbias32`` integer
  finaliser (C. Wellons, "Hash function prospector", 2018), a bijection of
  ``uint32`` with low bias. Distinct steps give distinct keys, so every step
  sees fresh numbers.
* **normal deviates**: the top 16 bits pick one of 65,536 equally likely
  bins of the standard normal distribution; the deviate is the bin's
  conditional mean. The table is rescaled to unit variance, so mean 0 and
  variance 1 are exact, the kurtosis is 3 to four decimals, and the tails
  stop at about 4.3 standard deviations (a normal deviate exceeds that once
  in 60,000 draws).

On this project's 2-core CPU a step's 15,000 deviates cost about a sixth of
JAX's ``jax.random.normal`` (see ``benchmarks/speed.py``). The statistical
checks live in ``tests/test_random.py``.
"""

import functools

import numpy as np
from scipy.special import ndtri

from ._backend import import_keras

_TABLE_BITS = 16
_GOLDEN = 0x9E3779B9  # 2**32 / golden ratio, odd: step keys never repeat


@functools.cache
def _normal_table():
    """Conditional means of 2**16 equal-probability bins of N(0, 1)."""
    n_bins = 2**_TABLE_BITS
    edges = ndtri(np.arange(n_bins + 1) / n_bins)
    density = np.exp(-0.5 * edges**2) / np.sqrt(2 * np.pi)
    # E[Z | a < Z < b] = (pdf(a) - pdf(b)) / P(a < Z < b), P = 1 / n_bins.
    means = (density[:-1] - density[1:]) * n_bins
    means -= means.mean()
    return (means / np.sqrt(np.mean(means**2))).astype("float32")


def _mix(x, ops):
    """The ``lowbias32`` finaliser on a uint32 tensor."""
    x = ops.bitwise_xor(x, ops.right_shift(x, 16))
    x = ops.multiply(x, ops.cast(0x7FEB352D, "uint32"))
    x = ops.bitwise_xor(x, ops.right_shift(x, 15))
    x = ops.multiply(x, ops.cast(0x846CA68B, "uint32"))
    return ops.bitwise_xor(x, ops.right_shift(x, 16))


def random_bits(shape, seed):
    """Uniform uint32 bits of ``shape`` for the two seed words ``seed``.

    Parameters
    ----------
    shape : tuple of int or scalar tensors
        Shape of the result, e.g. ``keras.ops.shape(x)``; TensorFlow graphs
        may leave dimensions to be known only at run time.
    seed : tensor of shape (2,)
        Integer seed words, e.g. ``SeedGenerator.next()``: a seed and a step
        counter.

    Returns
    -------
    tensor of dtype uint32
    """
    ops = import_keras().ops
    words = ops.cast(seed, "uint32")
    golden = ops.cast(_GOLDEN, "uint32")
    key = _mix(_mix(words[0] + golden, ops) + words[1] * golden, ops)
    size = 1
    for dim in shape:
        size = size * dim
    index = ops.cast(ops.reshape(ops.arange(size, dtype="int32"), shape), "uint32")
    return _mix(ops.bitwise_xor(_mix(index, ops), key), ops)


def standard_normal(shape, seed, dtype="float32"):
    """Standard normal deviates of ``shape`` (see the module docstring).

    Parameters
    ----------
    shape : tuple of int or scalar tensors
        Shape of the result, as for :func:`random_bits`.
    seed : tensor of shape (2,)
        Integer seed words, e.g. ``SeedGenerator.next()``.
    dtype : str, default="float32"
        Floating dtype of the result.

    Returns
    -------
    tensor of ``dtype``
    """
    ops = import_keras().ops
    bins = ops.right_shift(random_bits(shape, seed), 32 - _TABLE_BITS)
    table = ops.convert_to_tensor(_normal_table(), dtype=dtype)
    return ops.take(table, ops.cast(bins, "int32"))


def uniform(shape, seed, dtype="float32"):
    """Uniform deviates in [0, 1) of ``shape`` (24 random bits each)."""
    ops = import_keras().ops
    top = ops.cast(ops.right_shift(random_bits(shape, seed), 8), dtype)
    return top * (1.0 / 2**24)

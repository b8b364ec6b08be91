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
* **normal deviates**: by inversion, gather-free. One bit gives the sign;
  the top 23 give ``p = (2m + 1) / 2**25``, the midpoint of one of 2**23
  equal-probability bins of the upper half, and the deviate is
  ``Phi^-1(1 - p)`` (``Phi`` the normal distribution function). With
  ``r = sqrt(-ln p)``, that is ``(r - sqrt(ln 2))`` times a ratio of two
  quartics in ``r`` (a least-squares rational fit, re-derived by the
  tests, within 6e-7 relative with its float32 coefficients), with
  ``ln p`` from the float exponent of ``2m + 1`` and a polynomial of
  degree 8 for its mantissa. Evaluated in
  float32, every one of the 2**23 magnitudes is within 1.3e-6 of its exact
  quantile (a few float32 roundings). The deviates are thus the normal
  distribution discretised into 2**24 equally likely values: mean 0 exactly,
  variance 1 to 2e-7, and tails to 5.42 standard deviations (the 2**-25
  quantile, which a normal deviate exceeds once in 17 million draws).

Only elementwise arithmetic, so the backends' compilers fuse it into the
step; its cost beside the rest of a step is measured in
``benchmarks/speed.py``. The statistical checks live in
``tests/test_random.py``.
"""

import numpy as np

from ._backend import import_keras

_GOLDEN = 0x9E3779B9  # 2**32 / golden ratio, odd: step keys never repeat


# Phi^-1(1 - p) for p in [2**-25, 1/2] is (root - _ROOT_LOW) times a ratio of
# two quartics in s = (root - _ROOT_MID) / _ROOT_HALF, which runs over
# [-1, 1], where root = sqrt(-ln p); ascending powers. See the tests for their
# derivation.
_ROOT_LOW = 0.8325546111576977  # sqrt(ln 2): p = 1/2, the deviate 0
_ROOT_MID, _ROOT_HALF = 2.497663736343384, 1.6651092767715454
_QUANTILE_NUMERATOR = (
    1.73300039768219,
    3.0631518363952637,
    1.9381563663482666,
    0.5127018690109253,
    0.04663800820708275,
)
_QUANTILE_DENOMINATOR = (
    1.0,
    1.8602522611618042,
    1.2417739629745483,
    0.34647059440612793,
    0.03296403959393501,
)
# ln(1 + f) for f in [0, 1), ascending powers.
_LOG1P = (
    9.0998810264864e-08,
    0.9999914765357971,
    -0.4998010993003845,
    0.33133363723754883,
    -0.23918966948986053,
    0.16478179395198822,
    -0.09231223165988922,
    0.03441787511110306,
    -0.006074745673686266,
)
_MAGNITUDE_BITS = 23
_FLOAT32_EXPONENT_BIAS = 127
_FLOAT32_MANTISSA_BITS = 23


def _polynomial(coefficients, x):
    """Horner's rule: sum of ``coefficients[k] * x**k``."""
    result = coefficients[-1]
    for coefficient in coefficients[-2::-1]:
        result = result * x + coefficient
    return result


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
        Floating dtype of the result (computed in float32).

    Returns
    -------
    tensor of ``dtype``
    """
    return _normal_from_bits(random_bits(shape, seed), dtype)


def _normal_from_bits(bits, dtype="float32"):
    """The deviates for given uint32 ``bits``: the sign from the lowest bit,
    the magnitude from the top 23."""
    ops = import_keras().ops
    # 2m + 1 for the top 23 bits m: below 2**24, so exact in float32.
    top = ops.cast(ops.right_shift(bits, 32 - _MAGNITUDE_BITS - 1), "int32")
    odd = ops.cast(ops.bitwise_or(top, 1), "float32")
    # ln(2m + 1) from its float exponent and mantissa (in [1, 2)).
    word = ops.view(odd, "int32")
    exponent = ops.right_shift(word, _FLOAT32_MANTISSA_BITS)
    mantissa_bits = ops.bitwise_and(word, 2**_FLOAT32_MANTISSA_BITS - 1)
    one = ops.view(ops.convert_to_tensor(1.0, "float32"), "int32")
    mantissa = ops.view(ops.bitwise_or(mantissa_bits, one), "float32")
    # -ln p = (magnitude bits + 2) ln 2 - ln(2m + 1).
    powers_of_two = (_MAGNITUDE_BITS + 2 + _FLOAT32_EXPONENT_BIAS) - exponent
    minus_log_p = ops.cast(powers_of_two, "float32") * np.float32(np.log(2))
    minus_log_p = minus_log_p - _polynomial(_LOG1P, mantissa - 1.0)
    root = ops.sqrt(minus_log_p)
    scaled = (root - _ROOT_MID) * (1.0 / _ROOT_HALF)
    sign = 1.0 - 2.0 * ops.cast(ops.bitwise_and(bits, 1), "float32")
    # Ending in a division matters for speed, not only accuracy: XLA
    # duplicates cheap elementwise work into every consumer of the noise (the
    # forward pass and the gradient each recomputed the hash and polynomial)
    # but keeps one copy of a division and reads its result.
    numerator = sign * (root - _ROOT_LOW) * _polynomial(_QUANTILE_NUMERATOR, scaled)
    deviates = numerator / _polynomial(_QUANTILE_DENOMINATOR, scaled)
    return ops.cast(deviates, dtype)


def uniform(shape, seed, dtype="float32"):
    """Uniform deviates in [0, 1) of ``shape`` (24 random bits each)."""
    ops = import_keras().ops
    top = ops.cast(ops.right_shift(random_bits(shape, seed), 8), dtype)
    return top * (1.0 / 2**24)

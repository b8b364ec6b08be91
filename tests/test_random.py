"""Statistics of sknoise's counter-based noise source, and its noise layer."""

import keras  # before sknoise._layers, which needs Keras imported first
import numpy as np
import pytest
from numpy.polynomial import polynomial
from scipy import stats
from scipy.special import ndtri

from sknoise import _random
from sknoise._layers import GaussianNoise
from sknoise._random import random_bits, standard_normal, uniform


def draws(function, shape, seed_word, n_steps):
    """``n_steps`` consecutive steps of a generator, stacked."""
    return np.stack(
        [
            keras.ops.convert_to_numpy(
                function(shape, keras.ops.convert_to_tensor([seed_word, step], "int32"))
            )
            for step in range(n_steps)
        ]
    ).astype(np.float64)


@pytest.fixture(scope="module")
def normal_draws():
    # 40 steps of a (100, 500) layer: 2,000,000 deviates.
    return draws(standard_normal, (100, 500), seed_word=7, n_steps=40)


def test_standard_normal_moments(normal_draws):
    z = normal_draws.ravel()
    n = z.size
    # Each bound is about five standard errors of the sample moment.
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(np.mean(z**3)) < 5 * np.sqrt(15 / n)
    assert abs(np.mean(z**4) - 3) < 5 * np.sqrt(96 / n)


def test_standard_normal_distribution(normal_draws):
    sample = normal_draws.ravel()[:200_000]
    assert stats.kstest(sample, "norm").pvalue > 1e-3
    # The outermost deviate is the 2**-25 quantile, 5.42 sd; in 2,000,000
    # draws about 14 pass 4.5 sd.
    assert 4.5 < np.abs(normal_draws).max() <= 5.4200001


def test_standard_normal_tails():
    # 20 steps of a (1000, 1000) layer: about 1,270 deviates beyond 4 sd and
    # 136 beyond 4.5 sd are expected; each count within four standard errors.
    beyond = {4.0: 0, 4.5: 0}
    for step in range(20):
        seed = keras.ops.convert_to_tensor([5, step], "int32")
        z = np.abs(keras.ops.convert_to_numpy(standard_normal((1000, 1000), seed)))
        for threshold in beyond:
            beyond[threshold] += int(np.count_nonzero(z > threshold))
    for threshold, count in beyond.items():
        expected = 20 * 1000 * 1000 * 2 * stats.norm.sf(threshold)
        assert abs(count - expected) < 4 * np.sqrt(expected), (threshold, count)


def normal_from_every_magnitude(sign):
    """The deviate of each of the 2**23 magnitudes, with the given sign bit."""
    bits = np.arange(2**23, dtype=np.uint32) << 9 | sign
    deviates = _random._normal_from_bits(keras.ops.convert_to_tensor(bits))
    return keras.ops.convert_to_numpy(deviates).astype(np.float64)


def test_normal_transform_is_the_quantile_of_every_bin():
    positive = normal_from_every_magnitude(sign=0)
    # Magnitude m is the midpoint quantile of bin m of the upper half, to a
    # few float32 roundings.
    exact = -ndtri((2.0 * np.arange(2**23) + 1) / 2**25)
    np.testing.assert_allclose(positive, exact, rtol=0, atol=1.3e-6)
    np.testing.assert_array_equal(normal_from_every_magnitude(sign=1), -positive)
    # The discretised distribution itself, each value equally likely.
    assert np.mean(positive**2) == pytest.approx(1, abs=3e-7)
    assert np.mean(positive**4) == pytest.approx(3, abs=1e-5)


def test_normal_transform_coefficients_are_their_fits():
    # ln(1 + f) on [0, 1): least squares, degree 8.
    fraction = np.linspace(0, 1, 400_001)
    log1p = polynomial.polyfit(fraction, np.log1p(fraction), 8)
    np.testing.assert_allclose(_random._LOG1P, log1p, rtol=1e-5, atol=1e-9)
    # The quantile over root = sqrt(-ln p), p in [2**-25, 1/2], divided by
    # (root - sqrt(ln 2)): a smooth function, fitted by a ratio of quartics
    # in s (root mapped onto [-1, 1]), by linearised least squares
    # reweighted with the denominator (Sanathanan and Koerner's iteration).
    low, high = np.sqrt(np.log(2)), np.sqrt(25 * np.log(2))
    mid, half = (low + high) / 2, (high - low) / 2
    assert (_random._ROOT_LOW, _random._ROOT_MID, _random._ROOT_HALF) == (
        pytest.approx(low),
        pytest.approx(mid),
        pytest.approx(half),
    )
    root = np.linspace(low, high, 20_001)
    quantile = -ndtri(np.exp(-(root**2)))
    slope = np.empty_like(root)
    slope[1:] = quantile[1:] / (root[1:] - low)
    slope[0] = low / stats.norm.pdf(0)  # the limit at p = 1/2
    s = (root - mid) / half
    powers = np.vander(s, 5, increasing=True)
    weight = np.ones_like(s)
    for _ in range(10):
        design = np.hstack([powers, -slope[:, None] * powers[:, 1:]])
        solution = np.linalg.lstsq(design / weight[:, None], slope / weight)[0]
        numerator, denominator = solution[:5], np.r_[1.0, solution[5:]]
        weight = polynomial.polyval(s, denominator)
    kept = polynomial.polyval(s, _random._QUANTILE_NUMERATOR) / polynomial.polyval(
        s, _random._QUANTILE_DENOMINATOR
    )
    # float32 coefficients: within 6e-7 (the fit itself, 1e-9).
    np.testing.assert_allclose(kept, slope, rtol=6e-7)
    np.testing.assert_allclose(_random._QUANTILE_NUMERATOR, numerator, rtol=1e-5)
    np.testing.assert_allclose(_random._QUANTILE_DENOMINATOR, denominator, rtol=1e-5)


def test_random_bits_are_balanced_and_seeded():
    bits = draws(random_bits, (1000,), seed_word=3, n_steps=20).astype(np.uint64)
    # Every bit position is set about half the time.
    ones = np.array([np.mean((bits >> k) & 1) for k in range(32)])
    assert np.all(np.abs(ones - 0.5) < 5 * np.sqrt(0.25 / bits.size))
    again = draws(random_bits, (1000,), seed_word=3, n_steps=20)
    other = draws(random_bits, (1000,), seed_word=4, n_steps=20)
    np.testing.assert_array_equal(bits, again)
    assert np.mean(bits == other) < 0.001


def test_uniform_range_and_moments():
    u = draws(uniform, (1000,), seed_word=11, n_steps=50).ravel()
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_noise_layer_adds_fresh_noise_in_training_only():
    layer = GaussianNoise(0.5, seed=1)
    x = np.zeros((64, 32), dtype="float32")
    inference = keras.ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_array_equal(inference, x)
    first = keras.ops.convert_to_numpy(layer(x, training=True))
    second = keras.ops.convert_to_numpy(layer(x, training=True))
    assert not np.array_equal(first, second)
    assert np.std(first) == pytest.approx(0.5, rel=0.1)


def test_noise_layer_stddev_is_a_variable_and_round_trips():
    layer = GaussianNoise(0.3, seed=2, name="noise")
    layer.build((None, 4))
    assert not layer.stddev.trainable
    restored = GaussianNoise.from_config(layer.get_config())
    assert restored.initial_stddev == pytest.approx(0.3)
    assert restored.seed == 2

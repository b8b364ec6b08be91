"""Statistics of sknoise's counter-based noise source, and its noise layer."""

import numpy as np
import pytest
from scipy import stats

from sknoise._backend import import_keras
from sknoise._layers import GaussianNoise
from sknoise._random import random_bits, standard_normal, uniform

keras = import_keras()


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
    # The tails are cut at the outermost bin's mean, about 4.4 sd.
    assert 4.0 < np.abs(normal_draws).max() < 4.5


def test_standard_normal_independent_across_steps_and_units(normal_draws):
    bound = 5 / np.sqrt(normal_draws[:-1].size)
    across_steps = np.corrcoef(normal_draws[:-1].ravel(), normal_draws[1:].ravel())
    across_units = np.corrcoef(
        normal_draws[..., :-1].ravel(), normal_draws[..., 1:].ravel()
    )
    across_rows = np.corrcoef(normal_draws[:, :-1].ravel(), normal_draws[:, 1:].ravel())
    for matrix in (across_steps, across_units, across_rows):
        assert abs(matrix[0, 1]) < bound
    # Squares too: dependence in scale would not show in plain correlations.
    squares = normal_draws**2
    assert abs(np.corrcoef(squares[:-1].ravel(), squares[1:].ravel())[0, 1]) < bound


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

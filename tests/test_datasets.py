"""sknoise.datasets: the published split and the two synthetic problems."""

import numpy as np
import pytest
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split

from sknoise.datasets import load_published_circles, make_blobs_pair, make_ring


def test_published_circles_splits():
    X, y = make_circles(n_samples=100, noise=0.1, random_state=1)
    X_train, y_train, X_test, y_test = load_published_circles()
    np.testing.assert_allclose(X_train, X[:30], rtol=1e-6)
    np.testing.assert_array_equal(y_test, y[30:])
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.7, random_state=42)
    X_train, y_train, X_test, y_test = load_published_circles("train_test_split")
    np.testing.assert_allclose(X_train, X_tr, rtol=1e-6)
    np.testing.assert_allclose(X_test, X_te, rtol=1e-6)
    np.testing.assert_array_equal(y_train, y_tr)
    np.testing.assert_array_equal(y_test, y_te)
    assert X_train.dtype == np.float32


def test_unknown_split_names_the_parameter():
    with pytest.raises(ValueError, match="'split' parameter"):
        load_published_circles("last30")


def test_blobs_pair_centres_and_spread():
    X, y = make_blobs_pair(4000, random_state=0)
    assert X.shape == (4000, 2) and np.bincount(y).tolist() == [2000, 2000]
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == 1].std(axis=0), [1, 1], atol=0.05)


def test_ring_surrounds_the_blob():
    X, y = make_ring(4000, radius=5.0, random_state=0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [0, 0], atol=0.1)
    assert radius[y == 1].mean() == pytest.approx(5.0, abs=0.2)
    assert radius[y == 0].mean() < 1.5
    # Evenly spaced in angle: the ring's centre of mass is the origin.
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [0, 0], atol=0.1)


@pytest.mark.parametrize("make", [make_blobs_pair, make_ring])
def test_generators_are_seeded_and_validated(make):
    np.testing.assert_array_equal(
        make(50, random_state=3)[0], make(50, random_state=3)[0]
    )
    assert not np.array_equal(make(50, random_state=3)[0], make(50, random_state=4)[0])
    assert make(7, random_state=0)[1].tolist() == [0, 0, 0, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="'n_samples' parameter"):
        make(1)
